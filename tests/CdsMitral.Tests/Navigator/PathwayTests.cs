using System.Text.Json;
using System.Text.RegularExpressions;
using CdsMitral.Content;
using CdsMitral.Navigator;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Samples;
using CdsMitral.Tests.Support;

using static CdsMitral.Tests.Navigator.NavigatorFixtures;

namespace CdsMitral.Tests.Navigator;

/// <summary>Every result of the Navigator's pathway, from the sample patients' snapshots (the same snapshot and rules the
/// cards use) and the clinician's answers; and what each step shows.</summary>
public sealed partial class PathwayTests
{
    private static PathwayView Run(string sample, NavigatorAnswers? answers = null) =>
        NavigatorPathway.Evaluate(Sample(sample), answers ?? None(), Now);

    private static string AllText(PathwayView view) => JsonSerializer.Serialize(new
    {
        Steps = view.Steps.Select(s => new { s.Title, s.Asks, s.Finding, s.Evidence, s.Values, Questions = s.Questions.Select(q => q.Question.Text) }),
        view.Outcome,
        view.Attested,
    }, Relaxed);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // ---- COAPT-like ----

    [Fact]
    public void TheCoaptProfileSampleWithEveryAnswerGivenEndsWithTheCoaptLikeReferralAndNothingLeftToConfirm()
    {
        var view = Run("coapt-profile", Full());
        Assert.Equal(PathwayResult.CoaptLikeReferToHeartValveTeam, view.Result);
        Assert.Equal("COAPT-like profile: refer to the Heart Valve Team", view.Outcome.Title);
        Assert.Empty(view.Outcome.StillToConfirm);
        Assert.Contains(view.Outcome.Because, b => b.StartsWith("LVEF 32 %", StringComparison.Ordinal) && b.Contains("Observation/", StringComparison.Ordinal));
        // The same evidence statement as the COAPT-like card (decision 22: both guidelines' grades for severe MR).
        Assert.Contains(CdsMitral.Clinical.Evidence.TeerGradesSevere, view.Outcome.Evidence, StringComparison.Ordinal);
        Assert.Contains(view.Outcome.Because, b => b.Contains("attested by Practitioner/dr-a on 2026-11-21", StringComparison.Ordinal));
    }

    [Fact]
    public void WhatTheClinicianLeavesUnansweredBeyondTheRecordIsListedForTheTeamToConfirm()
    {
        var view = Run("coapt-profile", Full() with { TeeAnatomy = TeeAnswer.NotDone, SurgicalRisk = null, RvFunction = RvFunctionAnswer.Unknown, HfHospitalisationOrRaisedNp = null });
        Assert.Equal(PathwayResult.CoaptLikeReferToHeartValveTeam, view.Result);
        Assert.Equal(4, view.Outcome.StillToConfirm.Count);
        Assert.Contains("Valve anatomy suitable for TEER on transoesophageal echo", view.Outcome.StillToConfirm);
    }

    [Fact]
    public void LowSurgicalRiskAndUnsuitableAnatomyAreNotedForTheTeamNotTurnedIntoAVerdict()
    {
        var view = Run("coapt-profile", Full() with { SurgicalRisk = SurgicalRiskAnswer.Low, TeeAnatomy = TeeAnswer.NotSuitable });
        Assert.Equal(PathwayResult.CoaptLikeReferToHeartValveTeam, view.Result);
        // Decision 25: in secondary MR, low surgical risk does not make surgery the standard.
        Assert.Contains(view.Outcome.Notes, n => n.Contains("surgery is weighed mainly when CABG is planned", StringComparison.Ordinal));
        Assert.DoesNotContain(view.Outcome.Notes, n => n.Contains("standard", StringComparison.Ordinal));
        Assert.Contains(view.Outcome.Notes, n => n.StartsWith("Valve anatomy not suitable", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("dq-lvesd-in-cm")]
    [InlineData("dq-lvef-fraction")]
    [InlineData("dq-entered-in-error")]
    [InlineData("periop-secondary-mr")]
    public void EverySampleWhoseCardIsCoaptLikeIsCoaptLikeOnThePathwayToo(string sample) =>
        Assert.Equal(PathwayResult.CoaptLikeReferToHeartValveTeam, Run(sample, Full()).Result);

    // ---- GDMT first ----

    [Fact]
    public void TheGdmtGapSampleGoesToOptimiseGdmtFirstAsItsCardSays()
    {
        var view = Run("coapt-gdmt-gap");
        Assert.Equal(PathwayResult.OptimiseGdmtFirst, view.Result);
        Assert.Contains("GDMT: no MRA on record", view.Outcome.Because);
        Assert.Contains("GDMT: no SGLT2 inhibitor on record", view.Outcome.Because);
        Assert.Equal(CdsMitral.Clinical.Evidence.GdmtFirst, view.Outcome.Evidence);
    }

    [Fact]
    public void APillarAttestedAsNotYetOptimisedSendsAFullRegimenBackToGdmtFirstWithItsProvenance()
    {
        var view = Run("coapt-profile", Full() with { Mra = PillarAnswer.NotYetOptimised });
        Assert.Equal(PathwayResult.OptimiseGdmtFirst, view.Result);
        Assert.Contains("GDMT: MRA not yet optimised (attested by Practitioner/dr-a on 2026-11-21)", view.Outcome.Because);
    }

    [Fact]
    public void CrtIndicatedButNotInPlaceIsPartOfOptimisingFirst() =>
        Assert.Equal(PathwayResult.OptimiseGdmtFirst, Run("coapt-profile", Full() with { Crt = CrtAnswer.IndicatedNotInPlace }).Result);

    [Fact]
    public void APillarMissingFromTheRecordButAttestedAsContraindicatedIsNoLongerAGap() =>
        Assert.Equal(PathwayResult.CoaptLikeReferToHeartValveTeam,
            Run("coapt-gdmt-gap", Full() with { Mra = PillarAnswer.ContraindicatedOrNotTolerated, Sglt2Inhibitor = PillarAnswer.ContraindicatedOrNotTolerated }).Result);

    // ---- outside the range ----

    [Fact]
    public void TheDilatedVentricleSampleIsOutsideTheRangeInTheCardsWords()
    {
        var view = Run("outside-range-lvesd", Full());
        Assert.Equal(PathwayResult.OutsideCoaptLikeRange, view.Result);
        Assert.StartsWith("LVESD 74 mm is above 70 mm.", view.Outcome.Wording, StringComparison.Ordinal);
        Assert.Contains("advanced heart-failure therapies may be relevant", view.Outcome.Wording, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("may still consider intervention", view.Outcome.Wording, StringComparison.Ordinal);
    }

    [Fact]
    public void AValueOutsideTheRangeDecidesEvenWhenAnotherIsMissingAndTheMissingOneIsFlagged()
    {
        var view = Run("outside-range-pasp-gap");
        Assert.Equal(PathwayResult.OutsideCoaptLikeRange, view.Result);
        var lvesd = view.Step(StepIds.Window)!.Values.Single(v => v.Name == "LVESD");
        Assert.Equal(ValueStatus.Missing, lvesd.Status);
        Assert.True(lvesd.IsFlagged);
    }

    // ---- atrial or preserved EF ----

    [Fact]
    public void AMechanismTheRecordCannotGiveIsAskedAndAnAtrialAnswerWithPreservedEfGivesTheAtrialResult()
    {
        Assert.Equal(PathwayResult.NotEnoughInformation, Run("mechanism-unknown").Result);
        var view = Run("mechanism-unknown", None() with { Mechanism = MechanismAnswer.SecondaryAtrial });
        Assert.Equal(PathwayResult.AtrialOrPreservedEfSecondaryMr, view.Result);
        Assert.Contains("rhythm control and heart-failure treatment come first", view.Outcome.Wording, StringComparison.Ordinal);
        Assert.Contains(view.Outcome.Because, b => b.Contains("secondary, atrial, attested by Practitioner/dr-a", StringComparison.Ordinal));
        Assert.Contains("atrial-and-preserved-ef-secondary-mr", view.Outcome.ContentSlugs);
    }

    [Fact]
    public void AVentricularAnswerWithAnLvefAboveFiftyIsStillPreservedEf() =>
        Assert.Equal(PathwayResult.AtrialOrPreservedEfSecondaryMr, Run("mechanism-unknown", None() with { Mechanism = MechanismAnswer.SecondaryVentricular }).Result);

    // ---- primary ----

    [Fact]
    public void PrimaryMrFromTheRecordIsADifferentPathwayAndTheMechanismIsNotAsked()
    {
        var view = Run("silent-primary-mr", Full());
        Assert.Equal(PathwayResult.PrimaryMr, view.Result);
        Assert.Empty(view.Step(StepIds.Mechanism)!.Questions);
    }

    [Theory]
    [InlineData(MechanismAnswer.Primary)]
    [InlineData(MechanismAnswer.Rheumatic)]
    public void PrimaryOrRheumaticAsTheClinicianJudgesItGivesThePrimaryResult(MechanismAnswer answer) =>
        Assert.Equal(PathwayResult.PrimaryMr, Run("mechanism-unknown", None() with { Mechanism = answer }).Result);

    [Fact]
    public void APresumedMechanismIsFlaggedAndTheClinicianMayConfirmIt()
    {
        var view = Run("coapt-gdmt-gap");
        var step = view.Step(StepIds.Mechanism)!;
        Assert.Equal(ValueStatus.Presumed, step.Values[0].Status);
        Assert.Equal(NavigatorQuestions.Mechanism, Assert.Single(step.Questions).Question.LinkId);
    }

    // ---- acute ----

    [Fact]
    public void AcuteSevereMrInTheCriticallyIllOverridesEverythingAndPointsToTheCriticalCareContent()
    {
        var view = Run("coapt-profile", Full() with { AcuteSevereMrCriticallyIll = true });
        Assert.Equal(PathwayResult.AcuteSevereMrCriticallyIll, view.Result);
        Assert.Equal(["acute-severe-mr-critically-ill"], view.Outcome.ContentSlugs);
    }

    // ---- not enough information ----

    [Fact]
    public void TheFullRegimenSampleBeforeAnyAnswerAsksForDosesAndSymptomsAndUsesTheRecordedNyha()
    {
        var view = Run("coapt-profile");
        Assert.Equal(PathwayResult.NotEnoughInformation, view.Result);
        Assert.Contains(view.Outcome.Because, b => b.StartsWith("GDMT: confirm maximally tolerated dose", StringComparison.Ordinal));
        Assert.Contains("Symptoms: whether they persist despite GDMT", view.Outcome.Because);
        Assert.DoesNotContain("Symptoms: the NYHA class now", view.Outcome.Because);
        var nyha = view.Step(StepIds.Symptoms)!.Questions.Single(q => q.Question.LinkId == NavigatorQuestions.Nyha);
        Assert.Equal("III", nyha.Suggested);
        Assert.Null(nyha.Answer);
    }

    [Fact]
    public void AStaleEchoIsFlaggedWithItsDateAndLeavesNotEnoughInformation()
    {
        var view = Run("stale-echo", Full());
        Assert.Equal(PathwayResult.NotEnoughInformation, view.Result);
        var lvef = view.Step(StepIds.Window)!.Values.Single(v => v.Name == "LVEF");
        Assert.Equal(ValueStatus.Stale, lvef.Status);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", lvef.DateText);
        Assert.Contains(view.Outcome.Because, b => b.Contains("older than 12 months", StringComparison.Ordinal));
    }

    [Fact]
    public void AnImplausibleValueIsShownAsNotUsableAndNotUsed()
    {
        var view = Run("dq-implausible-pasp", Full());
        Assert.Equal(PathwayResult.NotEnoughInformation, view.Result);
        Assert.Equal(ValueStatus.NotUsable, view.Step(StepIds.Window)!.Values.Single(v => v.Name == "PASP").Status);
    }

    [Fact]
    public void NoEchoAtAllIsNotEnoughInformation() =>
        Assert.Equal(PathwayResult.NotEnoughInformation, Run("silent-no-echo", Full()).Result);

    // ---- MR not significant, no persistent symptoms ----

    [Fact]
    public void MildMrIsOutsideTheInterventionPathway() =>
        Assert.Equal(PathwayResult.MrNotSignificant, Run("silent-mild-mr", Full()).Result);

    [Fact]
    public void AMildGradeFromLongAgoIsNotEnoughToSayTheMrIsNotSignificant()
    {
        var chart = new Chart().Mr("mild", "2024-06-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var view = NavigatorPathway.Evaluate(SnapshotOf(chart), Full(), Now);
        Assert.Equal(PathwayResult.NotEnoughInformation, view.Result);
        Assert.Contains(view.Outcome.Because, b => b.StartsWith("MR severity: latest assessment (mild) is from 2024-06-01", StringComparison.Ordinal));
    }

    [Fact]
    public void AfterTeerEveryResultSaysTheVentricleIsStillTreatedAsBefore()
    {
        var view = Run("post-teer", Full());
        Assert.Equal(PathwayResult.MrNotSignificant, view.Result);
        Assert.Contains(view.Outcome.Notes, n => n.StartsWith("Prior TEER (", StringComparison.Ordinal) && n.Contains("not the ventricle", StringComparison.Ordinal));
        Assert.Contains("why-teer-does-not-fix-the-ventricle", view.Outcome.ContentSlugs);
    }

    [Fact]
    public void NyhaClassOneOrSymptomsThatDoNotPersistGiveContinueAndReassess()
    {
        Assert.Equal(PathwayResult.NoPersistentSymptoms, Run("coapt-profile", Full() with { Nyha = NyhaAnswer.I }).Result);
        Assert.Equal(PathwayResult.NoPersistentSymptoms, Run("coapt-profile", Full() with { SymptomsPersistDespiteGdmt = false }).Result);
    }

    // ---- what every view keeps to ----

    [Fact]
    public void ProportionateOrDisproportionateMrIsShownAsContextAndNeverChangesTheResult()
    {
        const string day = "2026-10-01";
        Chart Base() => new Chart().Mr("severe", day, "secondary-ventricular").Lvef(32, day).Lvesd(58, day).Pasp(45, day).FullGdmt();
        var without = NavigatorPathway.Evaluate(SnapshotOf(Base()), Full(), Now);
        var proportionate = NavigatorPathway.Evaluate(SnapshotOf(Base().Eroa(0.2m, day).Lvedv(260, day)), Full(), Now);
        var disproportionate = NavigatorPathway.Evaluate(SnapshotOf(Base().Eroa(0.6m, day).Lvedv(150, day)), Full(), Now);
        Assert.Equal(JsonSerializer.Serialize(without.Outcome), JsonSerializer.Serialize(proportionate.Outcome));
        Assert.Equal(JsonSerializer.Serialize(without.Outcome), JsonSerializer.Serialize(disproportionate.Outcome));
        Assert.Empty(without.Step(StepIds.Context)!.Values);
        Assert.All(proportionate.Step(StepIds.Context)!.Values, v => Assert.Equal(ValueStatus.ContextOnly, v.Status));
    }

    public static TheoryData<string> Samples() => [.. SamplePatients.All.Select(p => p.Name)];

    [Theory]
    [MemberData(nameof(Samples))]
    public void EveryStepOfEverySampleLinksAnExistingContentPageNamesItsEvidenceAndNothingSaysQualifies(string sample)
    {
        foreach (var answers in new[] { None(), Full() })
        {
            var view = Run(sample, answers);
            // Decision 28: the acute setting (from the record, unless the clinician says otherwise) goes straight to its result.
            Assert.Equal(view.Result == PathwayResult.AcuteSevereMrCriticallyIll ? [StepIds.Setting] : StepIds.All, view.Steps.Select(s => s.Id));
            Assert.All(view.Steps, s =>
            {
                Assert.NotNull(ContentCatalog.Embedded.Find(s.ContentSlug));
                Assert.False(string.IsNullOrWhiteSpace(s.Evidence));
                Assert.All(s.Values, v => Assert.True(v.Status is ValueStatus.Missing or ValueStatus.NotUsable || v.Source.Length > 0, $"{s.Id}: {v.Name} has no source"));
            });
            Assert.All(view.Outcome.ContentSlugs, slug => Assert.NotNull(ContentCatalog.Embedded.Find(slug)));
            Assert.DoesNotMatch(NoVerdictWords(), AllText(view));
        }
    }

    /// <summary>One source of truth: on every sample the pathway lands where the patient-view cards point.</summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void ThePathwayAgreesWithThePatientViewCardsOfEverySample(string sample)
    {
        var cards = Rules.SecondaryMrRules.EvaluatePatientView(Sample(sample)).FiredRuleIds.ToHashSet();
        var unanswered = Run(sample).Result;
        var answered = Run(sample, Full()).Result;
        if (Rules.SecondaryMrRules.Silence(Sample(sample)) is not null)
        {
            // A deceased patient or a minor: the cards say nothing and offer no Navigator, which has no result for the case
            // yet (issue 23). What the pathway must not do is walk them to a referral unasked.
            Assert.NotEqual(PathwayResult.CoaptLikeReferToHeartValveTeam, unanswered);
        }
        else if (cards.Contains("smr-acute-setting"))
        {
            // Decision 19: the record's acute setting is the pathway's too, unless the clinician attests otherwise.
            Assert.Equal(PathwayResult.AcuteSevereMrCriticallyIll, unanswered);
        }
        else if (cards.Contains("smr-gdmt-gap"))
        {
            Assert.Equal(PathwayResult.OptimiseGdmtFirst, unanswered);
        }
        else if (cards.Contains("smr-outside-range"))
        {
            Assert.Contains(answered, new[] { PathwayResult.OutsideCoaptLikeRange, PathwayResult.AtrialOrPreservedEfSecondaryMr });
        }
        else if (cards.Contains("smr-coapt-profile"))
        {
            Assert.Equal(PathwayResult.CoaptLikeReferToHeartValveTeam, answered);
        }
        else if (cards.Contains("smr-data-gaps"))
        {
            Assert.Equal(PathwayResult.NotEnoughInformation, answered);
        }
        else
        {
            Assert.Contains(answered, new[] { PathwayResult.PrimaryMr, PathwayResult.MrNotSignificant, PathwayResult.NotEnoughInformation });
            Assert.DoesNotContain(answered, new[] { PathwayResult.CoaptLikeReferToHeartValveTeam, PathwayResult.OutsideCoaptLikeRange });
        }
    }

    [GeneratedRegex(@"qualif|eligib|should have|must have", RegexOptions.IgnoreCase)]
    private static partial Regex NoVerdictWords();

    [Fact]
    public void EveryAnswerIsListedAsAttestedWithWhoAndWhen()
    {
        var view = Run("coapt-profile", Full());
        Assert.Equal(NavigatorQuestions.All.Count - 1, view.Attested.Count); // the mechanism is recorded, so not asked or answered
        Assert.All(view.Attested, a => Assert.Equal("attested by Practitioner/dr-a on 2026-11-21", a.Provenance));
        var posted = Run("coapt-profile", Full() with { Mechanism = MechanismAnswer.Primary });
        Assert.Equal(PathwayResult.CoaptLikeReferToHeartValveTeam, posted.Result); // the recorded mechanism stands
        Assert.DoesNotContain(posted.Attested, a => a.LinkId == NavigatorQuestions.Mechanism);
    }

    [Fact]
    public void TheNavigatorSourcesHoldNoThresholdOfTheirOwn()
    {
        // Every clinical number lives in Clinical/Thresholds.cs; the pathway reads it from there (or from Criteria).
        foreach (var file in Directory.GetFiles(Repo.PathOf("src", "CdsMitral", "Navigator"), "*.cs"))
        {
            var code = File.ReadAllText(file);
            Assert.DoesNotMatch(@"(?<![\w.])(15|20|40|50|70)(?![\w.])", code);
        }
    }

    [Fact]
    public void HostileTextInTheRecordReachesTheViewAsPlainDataAndChangesNothing()
    {
        const string day = "2026-10-01";
        const string hostile = "<script>alert(1)</script>\"><img src=x onerror=alert(2)> QUALIFIES";
        var chart = new Chart().Mr("severe", day, "secondary-ventricular", id: "mr<b>1").Lvef(32, day, id: "ef\"><script>").Lvesd(58, day).Pasp(45, day)
            .Medication("200033", hostile).Medication("1656340", "sacubitril / valsartan").Medication("313096", "spironolactone")
            .Medication("1545658", "empagliflozin").Condition(Chart.Snomed, "703272007", hostile);
        var view = NavigatorPathway.Evaluate(SnapshotOf(chart), Full() with { AttestedBy = hostile }, Now);
        Assert.Equal(PathwayResult.CoaptLikeReferToHeartValveTeam, view.Result);
        Assert.Contains(view.Step(StepIds.Gdmt)!.Values, v => v.Value == hostile);
        Assert.Contains(view.Step(StepIds.Window)!.Values, v => v.Source == "Observation/ef\"><script>");
    }

    /// <summary>Decision 28: answering "acute" at step 1 leaves no chronic GDMT, symptom or TEE step, and the result names
    /// first-line acute therapy; decision 27: a missing MR grade cannot be judged, and an empty search is not an absence.</summary>
    [Fact]
    public void TheAcuteAnswerGoesStraightToItsResultAndAMissingGradeCannotBeJudged()
    {
        var acute = Run("coapt-profile", None() with { AcuteSevereMrCriticallyIll = true });
        Assert.Equal([StepIds.Setting], acute.Steps.Select(s => s.Id));
        Assert.Null(acute.NextStepId(StepIds.Setting));
        Assert.Contains("vasodilators only where blood pressure allows", acute.Outcome.Wording, StringComparison.Ordinal);
        var fromRecord = Run("acute-shock-ecmo");
        Assert.Equal(PathwayResult.AcuteSevereMrCriticallyIll, fromRecord.Result);
        Assert.Equal("yes", fromRecord.Steps[0].Questions[0].Suggested);
        // The clinician may say the record's shock is over: then the chronic pathway applies.
        Assert.NotEqual(PathwayResult.AcuteSevereMrCriticallyIll, Run("acute-shock-ecmo", Full()).Result);

        var noEcho = Run("silent-no-echo");
        var severity = noEcho.Step(StepIds.Severity)!;
        Assert.Contains("cannot be judged", severity.Finding, StringComparison.Ordinal);
        Assert.DoesNotContain("not met", severity.Finding, StringComparison.Ordinal);
        Assert.Contains(severity.Values, v => v.Value == "none found in the EHR's answer");
        Assert.DoesNotContain(noEcho.Steps.SelectMany(s => s.Values), v => v.Value.Contains("none on record", StringComparison.Ordinal));
    }

    /// <summary>Decision 30: the perioperative question and "procedural success is not clinical success" in the results.</summary>
    [Fact]
    public void TheResultsAskThePerioperativeQuestionAndSayProceduralSuccessIsNotClinicalSuccess()
    {
        var coapt = Run("coapt-profile", Full());
        Assert.Contains(coapt.Outcome.Notes, n => n.Contains(CdsMitral.Clinical.Evidence.PeriopQuestion, StringComparison.Ordinal));
        Assert.Contains(CdsMitral.Clinical.Evidence.ProceduralSuccess, coapt.Outcome.Notes);
        Assert.Contains("perioperative-secondary-mr", coapt.Outcome.ContentSlugs);
        Assert.Contains(CdsMitral.Clinical.Evidence.ProceduralSuccess, Run("post-teer", Full()).Outcome.Notes);
        Assert.DoesNotContain(Run("silent-primary-mr", Full()).Outcome.Notes, n => n.Contains(CdsMitral.Clinical.Evidence.PeriopQuestion, StringComparison.Ordinal));
    }
}
