using CdsMitral.Navigator;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Samples;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Navigator;

/// <summary>The snapshots and clinician answers the Navigator tests share.</summary>
internal static class NavigatorFixtures
{
    public static readonly DateTimeOffset Now = ServiceFactory.Today;

    public static ClinicalSnapshot SnapshotOf(Chart chart) =>
        new SnapshotBuilder(Terminology.Terminology.Embedded, new ClinicalOptions()).Build(chart.Record(), Now);

    public static ClinicalSnapshot Sample(string name) => SnapshotOf(SamplePatients.All.Single(p => p.Name == name).Chart);

    public static NavigatorAnswers None(string user = "Practitioner/dr-a") => NavigatorAnswers.None(user, Now);

    /// <summary>Everything a clinician would answer for a symptomatic patient on a full, maximally tolerated regimen
    /// (the mechanism is left to the record).</summary>
    public static NavigatorAnswers Full(string user = "Practitioner/dr-a") => None(user) with
    {
        AcuteSevereMrCriticallyIll = false,
        BetaBlocker = PillarAnswer.MaximallyTolerated,
        RaasInhibitor = PillarAnswer.MaximallyTolerated,
        Mra = PillarAnswer.MaximallyTolerated,
        Sglt2Inhibitor = PillarAnswer.MaximallyTolerated,
        Crt = CrtAnswer.NotIndicated,
        Nyha = NyhaAnswer.III,
        SymptomsPersistDespiteGdmt = true,
        HfHospitalisationOrRaisedNp = YesNoUnknown.Yes,
        TeeAnatomy = TeeAnswer.Suitable,
        SurgicalRisk = SurgicalRiskAnswer.High,
        RvFunction = RvFunctionAnswer.Normal,
    };
}
