using CdsMitral.Fhir;
using CdsMitral.Terminology;

namespace CdsMitral.Snapshot;

// Prior mitral procedures: TEER, surgical repair, replacement.
public sealed partial class SnapshotBuilder
{
    private MitralProcedure? ReadMitralProcedure(RawResource r)
    {
        if (!r.Json.Is("status"u8, "completed") || r.Json.Child("code"u8) is not { } code || ProcedureKind(code) is not { } kind)
        {
            return null;
        }
        var date = r.Json.RecordedDate("performedDateTime"u8) ?? r.Json.Child("performedPeriod"u8)?.RecordedDate("start"u8);
        return new MitralProcedure(kind, FhirRead.Label(code) ?? "mitral procedure", date?.Value, r.Key, date?.Precision ?? DatePrecision.Day);
    }

    /// <summary>Temporary mechanical circulatory support in progress: a sign of the acute setting (decision 19).</summary>
    private AcuteFinding? ReadCirculatorySupport(RawResource r)
    {
        if (!r.Json.Is("status"u8, "in-progress") || r.Json.Child("code"u8) is not { } code || !_t.Matches(Vs.MechanicalCirculatorySupport, code))
        {
            return null;
        }
        var since = r.Json.RecordedDate("performedDateTime"u8) ?? r.Json.Child("performedPeriod"u8)?.RecordedDate("start"u8);
        return new AcuteFinding(FhirRead.Label(code) ?? "mechanical circulatory support", r.Key, Support: true, since?.Value, since?.Precision ?? DatePrecision.Day);
    }

    private MitralProcedureKind? ProcedureKind(System.Text.Json.JsonElement code) =>
        _t.Matches(Vs.TeerProcedures, code) ? MitralProcedureKind.Teer
        : _t.Matches(Vs.MitralSurgicalRepair, code) ? MitralProcedureKind.SurgicalRepair
        : _t.Matches(Vs.MitralReplacement, code) ? MitralProcedureKind.Replacement
        : null;
}
