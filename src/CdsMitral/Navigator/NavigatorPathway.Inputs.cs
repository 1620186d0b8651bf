using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;
using Q = CdsMitral.Navigator.NavigatorQuestions;

namespace CdsMitral.Navigator;

// What the pathway takes as each input: the record where it is definite, else the clinician's attested answer
// (the mechanism, the acute setting, each GDMT pillar, the NYHA class), with where it came from.
public static partial class NavigatorPathway
{
    // ---- the mechanism: the record when it is definite, else the clinician's answer, else the presumption ----

    private sealed record EffectiveMech(MechanismKind Kind, string? Subtype, bool Attested, string Text);

    private static bool RecordIsDefinite(ClinicalSnapshot s) =>
        s.Mechanism.Kind == MechanismKind.Primary || (s.Mechanism.Kind == MechanismKind.Secondary && !s.Mechanism.Presumed);

    private static EffectiveMech EffectiveMechanism(ClinicalSnapshot s, NavigatorAnswers a)
    {
        if (RecordIsDefinite(s))
        {
            return new(s.Mechanism.Kind, s.Mechanism.Subtype, false, $"MR {s.Mechanism.Label}, {s.Mechanism.Basis}");
        }
        if (a.Mechanism is { } answer)
        {
            var display = Q.Get(Q.Mechanism).AnswerDisplay(a)!;
            var (kind, subtype) = answer switch
            {
                MechanismAnswer.Primary => (MechanismKind.Primary, (string?)null),
                MechanismAnswer.Rheumatic => (MechanismKind.Primary, "rheumatic"),
                MechanismAnswer.SecondaryVentricular => (MechanismKind.Secondary, "ventricular"),
                _ => (MechanismKind.Secondary, "atrial"),
            };
            return new(kind, subtype, true, $"MR mechanism {display.ToLowerInvariant()}, {a.Provenance} (record: {s.Mechanism.Basis})");
        }
        return new(s.Mechanism.Kind, s.Mechanism.Subtype, false, Capitalise(s.Mechanism.Basis));
    }

    // ---- the setting, and what the clinician has answered ----

    /// <summary>Decision 19: a record that shows shock or circulatory support in progress is the acute setting, as the cards
    /// treat it, unless the clinician attests otherwise.</summary>
    private static bool Acute(ClinicalSnapshot s, NavigatorAnswers a) => a.AcuteSevereMrCriticallyIll ?? s.AcuteSetting.Count > 0;

    private static string Answered(NavigatorAnswers a, string linkId) =>
        Q.Get(linkId).AnswerDisplay(a) is { } d ? $"{d} ({a.Provenance})" : "not answered yet";

    // ---- GDMT by pillar: confirmed, a gap, or not yet confirmed ----

    private enum PillarState { Confirmed, Gap, Unconfirmed }

    private static PillarState State(ClinicalSnapshot s, NavigatorAnswers a, GdmtClass pillar) => a.Pillar(pillar) switch
    {
        PillarAnswer.MaximallyTolerated or PillarAnswer.ContraindicatedOrNotTolerated => PillarState.Confirmed,
        PillarAnswer.NotYetOptimised => PillarState.Gap,
        _ => s.Gdmt.Missing.Contains(pillar) ? PillarState.Gap : PillarState.Unconfirmed,
    };

    /// <summary>Each pillar not yet optimised (attested) or with no recognised drug on record and no answer, and CRT
    /// indicated but not in place, in words with their provenance.</summary>
    private static List<string> GdmtGaps(ClinicalSnapshot s, NavigatorAnswers a)
    {
        var gaps = new List<string>();
        foreach (var pillar in Enum.GetValues<GdmtClass>())
        {
            if (State(s, a, pillar) != PillarState.Gap)
            {
                continue;
            }
            gaps.Add(a.Pillar(pillar) == PillarAnswer.NotYetOptimised
                ? $"{GdmtStatus.Name(pillar)} not yet optimised ({a.Provenance})"
                : $"no {(s.Gdmt.Unrecognised.Count > 0 ? "recognised " : "")}{GdmtStatus.Name(pillar)} on record");
        }
        if (a.Crt == CrtAnswer.IndicatedNotInPlace)
        {
            gaps.Add($"CRT indicated, not in place ({a.Provenance})");
        }
        return gaps;
    }

    // ---- symptoms: the NYHA class answered, else a current one on record ----

    private static string Roman(decimal c) => c switch { 1 => "I", 2 => "II", 3 => "III", _ => "IV" };

    /// <summary>The clinician's NYHA class, else a current one on record, with where it came from.</summary>
    private static (NyhaAnswer? Class, string Text) EffectiveNyha(ClinicalSnapshot s, NavigatorAnswers a) =>
        a.Nyha is { } n ? (n, $"NYHA {n} ({a.Provenance})")
        : s.NyhaClass is { IsCurrent: true } r ? ((NyhaAnswer)(int)r.Value, $"NYHA {Roman(r.Value)} ({r.DateText}, {r.Source})")
        : (null, "no NYHA class given or current on record");
}
