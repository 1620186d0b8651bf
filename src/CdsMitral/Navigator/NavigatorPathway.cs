using CdsMitral.Clinical;
using CdsMitral.Rules;
using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;
using Q = CdsMitral.Navigator.NavigatorQuestions;

namespace CdsMitral.Navigator;

/// <summary>
/// The Secondary MR Intervention Navigator's pathway: the snapshot the cards read, judged by the same criteria and
/// thresholds (<see cref="Criteria"/>, <see cref="Thresholds"/>), with the clinician's attested answers as further
/// inputs, each labelled with who gave it and when. Split by idea: the inputs the record or the clinician give
/// (<c>.Inputs.cs</c>), the eight steps (<c>.Steps.cs</c>), the result (<c>.Result.cs</c>) and its names
/// (<c>.ResultNames.cs</c>). Pure: no HTTP, no clock.
/// </summary>
public static partial class NavigatorPathway
{
    /// <summary>The evidence each step and result names: the statements the cards and pages make (<see cref="Clinical.Evidence"/>).</summary>
    internal static class Evidence
    {
        public static string Coapt(ClinicalSnapshot s) => s.Mr is { Grade: >= Thresholds.SevereMrGrade }
            ? $"{Clinical.Evidence.TeerGradesSevere} {Clinical.Evidence.Coapt5Year}"
            : $"{Clinical.Evidence.ModerateSevere} {Clinical.Evidence.Coapt5Year} {Clinical.Evidence.ReshapeHf2}";

        public const string Gdmt = Clinical.Evidence.GdmtFirst;
        public const string TrialContrast = Clinical.Evidence.TrialContrast;
        public const string Proportionate = Clinical.Evidence.Proportionate;
        public const string Acute = Clinical.Evidence.AcuteBasis;
        public const string Mechanism = Clinical.Evidence.Mechanism;
        public const string Severity = Clinical.Evidence.Severity;
        public const string Symptoms = Clinical.Evidence.Symptoms;
        public const string HeartTeam = Clinical.Evidence.HeartTeam;
        public const string Preserved = Clinical.Evidence.TrialPopulations;
    }

    public static PathwayView Evaluate(ClinicalSnapshot snapshot, NavigatorAnswers answers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(answers);
        var s = snapshot;
        var mech = EffectiveMechanism(s, answers);
        var steps = new List<PathwayStep>
        {
            SettingStep(s, answers),
            MechanismStep(s, answers, mech),
            SeverityStep(s),
            GdmtStep(s, answers),
            SymptomsStep(s, answers),
            WindowStep(s),
            BeyondRecordStep(answers),
            ContextStep(s),
        };
        if (Acute(s, answers))
        {
            // Decision 28: the acute branch goes straight to its result; the chronic GDMT, symptom and TEE steps do not apply.
            steps = [steps[0]];
        }
        // A mechanism answer counts only where the record leaves the mechanism open (the question is not shown otherwise).
        var attested = Q.All
            .Where(q => q.AnswerCode(answers) is not null && (q.LinkId != Q.Mechanism || !RecordIsDefinite(s)))
            .Select(q => new AttestedAnswer(q.LinkId, q.Text, q.AnswerCode(answers)!, q.AnswerDisplay(answers)!, answers.Provenance))
            .ToList();
        var notes = s.Findings.Select(f => $"{f.Measure} {f.Source} {f.Problem}")
            .Concat(s.Unavailable.Select(u => $"{Capitalise(u)} could not be retrieved; what depends on them may be incomplete"))
            .Concat(s.Notes)
            .ToList();
        return new PathwayView(now, answers, steps, attested, WithPerioperative(WithPriorIntervention(s, Decide(s, answers, mech))), notes);
    }
}
