using System.Text.Json.Nodes;
using CdsMitral.Rules;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Clinical;

/// <summary>The decisions of 2026-12-07 (clinical-logic.md, 14–25), one region each, on records shaped as EHRs send them.
/// Each test failed on the rules as they were before the decisions. The realistic charts 51–59 run the same cases through
/// prefetch and through a FHIR server.</summary>
public sealed class CardiologistReviewTests
{
    private static readonly Terminology.Terminology T = Terminology.Terminology.Embedded;
    private const string Day = "2026-10-01";

    private static ClinicalSnapshot Snap(Chart chart) => new SnapshotBuilder(T, new ClinicalOptions()).Build(chart.Record(), ServiceFactory.Today);

    private static Evaluation PatientView(Chart chart) => SecondaryMrRules.EvaluatePatientView(Snap(chart));

    private static Evaluation Orders(Chart chart, string hook, params JsonObject[] drafts)
    {
        var bundle = System.Text.Json.JsonSerializer.SerializeToElement(Chart.Bundle(drafts, "collection"));
        var selections = hook == CdsMitral.Hooks.Hook.OrderSelect ? drafts.Select(d => $"ServiceRequest/{d["id"]}").ToList() : [];
        return SecondaryMrRules.Evaluate(new RuleContext(Snap(chart), hook, Rules.Orders.Classify(selections, bundle, T, chart.PatientId)));
    }

    private static Consideration Card(Evaluation e, string ruleId) =>
        e.Considerations.Single(c => c.Rule.Id == ruleId) is var c ? c with { Detail = CardText.Of(c.Detail) } : null!;

    /// <summary>Severe MR in the COAPT-like window on full GDMT; the mechanism as given.</summary>
    private static Chart Coapt(string? mechanism = "secondary-ventricular") =>
        new Chart().Mr("severe", Day, mechanism).Lvef(32, Day).Lvesd(58, Day).Pasp(45, Day).FullGdmt();

    private static Chart Reversed(Chart chart)
    {
        var reversed = new Chart(chart.PatientId);
        foreach (var r in chart.Resources.Reverse())
        {
            reversed.Add(r);
        }
        return reversed;
    }

    // ---- 14. The answer never depends on the order of resources; disagreeing mechanisms of one date conflict ----

    private static Chart TwoMechanisms(string first, string second) =>
        new Chart().Mr("severe", Day, first, id: "mr-a").Mr("severe", Day, second, id: "mr-b").Lvef(32, Day).Lvesd(58, Day).Pasp(45, Day).FullGdmt();

    [Theory]
    [InlineData("secondary-ventricular", "primary")]
    [InlineData("primary", "secondary-ventricular")]
    [InlineData("secondary-ventricular", "secondary-atrial")]
    public void TwoMechanismStatementsOfOneDateThatDisagreeAreAConflictInEitherOrder(string first, string second)
    {
        foreach (var chart in new[] { TwoMechanisms(first, second), Reversed(TwoMechanisms(first, second)) })
        {
            var e = PatientView(chart);
            Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
            var card = Card(e, "smr-data-gaps");
            Assert.Contains("mechanism recorded inconsistently", card.Summary, StringComparison.Ordinal);
            Assert.Contains("(Observation/mr-a)", card.Detail, StringComparison.Ordinal);
            Assert.Contains("(Observation/mr-b)", card.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AcrossDatesTheNewestMechanismStatementStands()
    {
        var chart = new Chart().Mr("severe", "2025-11-20", "primary", id: "old").Mr("severe", Day, "secondary-ventricular", id: "new")
            .Lvef(32, Day).Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        Assert.Equal(MechanismKind.Secondary, Snap(chart).Mechanism.Kind);
        Assert.Equal(["smr-coapt-profile"], PatientView(Reversed(chart)).FiredRuleIds);
    }

    [Fact]
    public void EqualValuesOfOneMomentCiteTheSameSourceWhateverTheirOrder()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(32, Day, id: "lvef-b").Lvef(32, Day, id: "lvef-a").Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        Assert.Equal("Observation/lvef-a", Snap(chart).Lvef!.Source);
        Assert.Equal("Observation/lvef-a", Snap(Reversed(chart)).Lvef!.Source);
    }

    // ---- 15. Most recent across dates is by instant when both carry a time ----

    [Fact]
    public void TwoLvefsInDifferentTimeZonesAreOrderedByWhenTheyWereMeasured()
    {
        // 23:30 at -10:00 on the 14th is 09:30 UTC on the 15th: 3.5 hours after 01:00 at -05:00 on the 15th.
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt()
            .Lvef(32, "2026-10-15T01:00:00-05:00", id: "local").Lvef(18, "2026-10-14T23:30:00-10:00", id: "outside");
        Assert.Equal("Observation/outside", Snap(chart).Lvef!.Source);
        Assert.Equal(["smr-outside-range"], PatientView(chart).FiredRuleIds);
    }

    [Fact]
    public void WhenOneValueHasNoTimeTheCalendarDateAsRecordedDecides()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt()
            .Lvef(32, "2026-10-15", id: "date-only").Lvef(18, "2026-10-14T23:30:00-10:00", id: "timed");
        Assert.Equal("Observation/date-only", Snap(chart).Lvef!.Source);
    }

    // ---- 16. An amendment wins ----

    [Fact]
    public void AnAmendedValueAtTheSameInstantReplacesTheFinalOne()
    {
        const string at = "2026-10-01T10:05:00-05:00";
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt()
            .Lvef(40, at, id: "final").Lvef(18, at, status: "amended", id: "amended");
        foreach (var c in new[] { chart, Reversed(chart) })
        {
            Assert.Equal("Observation/amended", Snap(c).Lvef!.Source);
            Assert.DoesNotContain(Snap(c).Findings, f => f.Problem.Contains("conflicting", StringComparison.Ordinal));
        }
        Assert.Equal(["smr-outside-range"], PatientView(chart).FiredRuleIds);
    }

    [Fact]
    public void ACorrectedValueOnTheSameDateWithoutTimesReplacesTheFinalOne()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt()
            .Lvef(40, Day, id: "final").Lvef(35, Day, status: "corrected", id: "corrected");
        Assert.Equal("Observation/corrected", Snap(chart).Lvef!.Source);
    }

    [Fact]
    public void TwoAmendmentsThatDisagreeStillConflict()
    {
        const string at = "2026-10-01T10:05:00-05:00";
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt()
            .Lvef(40, at, status: "amended", id: "a").Lvef(18, at, status: "corrected", id: "b");
        Assert.Null(Snap(chart).Lvef);
        Assert.Equal(["smr-data-gaps"], PatientView(chart).FiredRuleIds);
        Assert.Contains("LVEF conflicting on 2026-10-01", Card(PatientView(chart), "smr-data-gaps").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAmendmentDoesNotBeatALaterMeasurement()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt()
            .Lvef(18, "2026-10-01T09:00:00Z", status: "amended", id: "early").Lvef(32, "2026-10-01T11:00:00Z", id: "late");
        Assert.Equal("Observation/late", Snap(chart).Lvef!.Source);
    }

    // ---- 17. A valueRange is an interval; a number in valueString is text ----

    private static JsonObject Range(decimal? low, decimal? high)
    {
        var range = new JsonObject();
        if (low is { } l)
        {
            range["low"] = new JsonObject { ["value"] = l, ["unit"] = "%", ["system"] = Chart.Ucum, ["code"] = "%" };
        }
        if (high is { } h)
        {
            range["high"] = new JsonObject { ["value"] = h, ["unit"] = "%", ["system"] = Chart.Ucum, ["code"] = "%" };
        }
        return new JsonObject { ["valueRange"] = range };
    }

    private static Chart LvefAs(JsonObject value) =>
        new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt().Observation(Chart.Loinc, "18043-0", Day, value, id: "lvef");

    [Fact]
    public void AnLvefRangeWhollyInsideTheWindowMeetsItAndIsShownAsRecorded()
    {
        var e = PatientView(LvefAs(Range(35, 40)));
        Assert.Equal(["smr-coapt-profile"], e.FiredRuleIds);
        Assert.Contains("LVEF 35–40 %", Card(e, "smr-coapt-profile").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void AnLvefRangeThatStraddlesTheWindowCannotBeJudged()
    {
        var e = PatientView(LvefAs(Range(45, 55)));
        Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
        Assert.Contains("LVEF cannot be judged (45–55 %)", Card(e, "smr-data-gaps").Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10, 15, "LVEF 10–15 % (2026-10-01) is below 20 %")]
    [InlineData(null, 15, "LVEF <=15 % (2026-10-01) is below 20 %")]
    [InlineData(55, null, "LVEF >=55 % (2026-10-01) is above 50 %")]
    public void AnLvefRangeWhollyOutsideTheWindowIsOutside(int? low, int? high, string named)
    {
        var e = PatientView(LvefAs(Range(low, high)));
        Assert.Contains(named, Card(e, "smr-outside-range").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void ANumberWrittenAsTextIsNamedAndNotUsed()
    {
        var e = PatientView(LvefAs(new JsonObject { ["valueString"] = "35-40%" }));
        Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
        var card = Card(e, "smr-data-gaps");
        Assert.Contains("LVEF recorded as text", card.Summary, StringComparison.Ordinal);
        Assert.Contains("recorded as text: '35-40%'", card.Detail, StringComparison.Ordinal);
    }

    // ---- 18. No cards for a deceased patient or one under 18 ----

    [Theory]
    [InlineData(true, null)]
    [InlineData(null, "2026-11-19T04:12:00-05:00")]
    public void ADeceasedPatientGetsNoCardAndEveryOutcomeSaysWhy(bool? deceased, string? on)
    {
        var e = PatientView(Coapt().Patient("1948-02-11", deceased, on));
        Assert.Empty(e.Considerations);
        Assert.All(e.Outcomes, o => Assert.Contains("recorded as deceased (Patient/p1", o.Reason, StringComparison.Ordinal));
        Assert.Empty(Orders(Coapt().Patient(deceased: true), CdsMitral.Hooks.Hook.OrderSign, Requests.TeerOrder()).Considerations);
    }

    [Fact]
    public void AnAlivePatientStillGetsCards() =>
        Assert.Equal(["smr-coapt-profile"], PatientView(Coapt().Patient("1948-02-11", deceased: false)).FiredRuleIds);

    [Theory]
    [InlineData("2010-03-02", false)] // 16
    [InlineData("2008-11-22", false)] // 18 tomorrow
    [InlineData("2008-11-21", true)] // 18 today
    [InlineData("2008", true)] // 18 if born on 1 January: not certainly a minor
    [InlineData("2009", false)] // 17 at most
    [InlineData(null, true)] // a missing birth date does not block
    public void UnderEighteenOnTheHooksDateGetsNoCard(string? born, bool cards)
    {
        var e = PatientView(Coapt().Patient(born));
        Assert.Equal(cards, e.Considerations.Count > 0);
        if (!cards)
        {
            Assert.Contains("under 18 on 2026-11-21", e.Outcomes[0].Reason, StringComparison.Ordinal);
        }
    }

    // ---- 19. The acute setting ----

    private static Chart Shock(Chart chart) => chart.Condition(Chart.Snomed, "89138009", "Cardiogenic shock");

    [Fact]
    public void CardiogenicShockReplacesTheChronicCardsWithOneAcuteCard()
    {
        var e = PatientView(Shock(Coapt().Medication("200031", "carvedilol")));
        Assert.Equal(["smr-acute-setting"], e.FiredRuleIds);
        var card = Card(e, "smr-acute-setting");
        Assert.Equal("info", card.Indicator);
        Assert.Contains("stabilisation and the shock team come first", card.Summary, StringComparison.Ordinal);
        Assert.Equal(["acute-severe-mr-critically-ill"], card.ContentSlugs);
        Assert.Contains(e.Outcomes, o => o.RuleId == "smr-coapt-profile" && o.Reason.Contains("stands back for smr-acute-setting", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("233573008", "in-progress", true)]
    [InlineData("399217008", "in-progress", true)]
    [InlineData("33990", "in-progress", true)]
    [InlineData("233573008", "completed", false)]
    public void MechanicalSupportInProgressIsTheAcuteSetting(string code, string status, bool acute)
    {
        var system = code.StartsWith('3') && code.Length == 5 ? "http://www.ama-assn.org/go/cpt" : Chart.Snomed;
        var e = PatientView(Coapt().Procedure(system, code, "support", Day, status));
        Assert.Equal(acute ? ["smr-acute-setting"] : ["smr-coapt-profile"], e.FiredRuleIds);
    }

    [Fact]
    public void AProvisionalShockDiagnosisIsNotTheAcuteSetting()
    {
        var chart = Coapt();
        chart.Add(new JsonObject
        {
            ["resourceType"] = "Condition", ["id"] = "shock",
            ["clinicalStatus"] = Chart.Concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
            ["verificationStatus"] = Chart.Concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "provisional"),
            ["code"] = Chart.Concept("http://hl7.org/fhir/sid/icd-10-cm", "R57.0", "Cardiogenic shock"),
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        });
        Assert.Equal(["smr-coapt-profile"], PatientView(chart).FiredRuleIds);
    }

    [Fact]
    public void OnAnOrderTheAcuteCardReplacesTheOrderCards()
    {
        var e = Orders(Shock(new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(32, Day)), CdsMitral.Hooks.Hook.OrderSelect, Requests.TeerOrder());
        Assert.Equal(["smr-acute-setting"], e.FiredRuleIds);
    }

    [Fact]
    public void PrimaryMrInShockGetsNoSecondaryMrCard() =>
        Assert.Empty(PatientView(Shock(Coapt("primary"))).Considerations);

    // ---- 20. order-sign and order-select read only this patient's drafts ----

    [Fact]
    public void ADraftOfAnotherPatientIsIgnoredAndNamedInTheOutcomes()
    {
        var e = Orders(Coapt(), CdsMitral.Hooks.Hook.OrderSign, Requests.TeerOrder(patientId: "someone-else"));
        Assert.Empty(e.Considerations);
        var orderTeer = e.Outcomes.Single(o => o.RuleId == "smr-order-teer");
        Assert.Contains("ignored: ServiceRequest/teer-1 (its subject is Patient/someone-else, not the patient in context)", orderTeer.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("active")]
    [InlineData("entered-in-error")]
    [InlineData("completed")]
    public void AnOrderThatIsNotADraftIsIgnored(string status)
    {
        var order = Requests.TeerOrder();
        order["status"] = status;
        foreach (var hook in new[] { CdsMitral.Hooks.Hook.OrderSign, CdsMitral.Hooks.Hook.OrderSelect })
        {
            var e = Orders(Coapt(), hook, order);
            Assert.Empty(e.Considerations);
            Assert.Contains($"status is {status}, not draft", e.Outcomes.Single(o => o.RuleId == "smr-order-teer").Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AnAbsoluteSubjectReferenceToThisPatientCounts()
    {
        var order = Requests.TeerOrder();
        order["subject"] = new JsonObject { ["reference"] = "https://ehr.example.org/fhir/Patient/p1" };
        Assert.Equal(["smr-order-teer"], Orders(Coapt(), CdsMitral.Hooks.Hook.OrderSign, order).FiredRuleIds);
    }

    // ---- 21. GDMT first, in the summary; the body never reads as eligibility ----

    [Fact]
    public void TheCoaptCardLeadsWithGdmtAndSaysItIsNotAnIndication()
    {
        var card = Card(PatientView(new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(32, Day).Lvesd(58, Day).Pasp(45, Day)
            .Medication("200031", "carvedilol").Medication("1656340", "sacubitril/valsartan").Medication("313096", "spironolactone")), "smr-coapt-profile");
        Assert.Equal("Severe secondary MR, LVEF 32 %, LVESD 58 mm, PASP 45 mmHg: optimise GDMT (no SGLT2i on record), then consider Heart Valve Team review", card.Summary);
        Assert.Contains("The recorded values fall inside the COAPT trial window (LVEF 20–50 %, LVESD ≤ 70 mm, PASP ≤ 70 mmHg); this is not an indication", card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("matches", card.Detail, StringComparison.OrdinalIgnoreCase);
    }

    // ---- 22. Grades only where they apply ----

    [Fact]
    public void ModerateSevereMrCarriesNoGradeAndAsksToConfirmSeverity()
    {
        var chart = new Chart().Mr("moderate-severe", Day, "secondary-ventricular").Lvef(32, Day).Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        var card = Card(PatientView(chart), "smr-coapt-profile");
        Assert.Contains(": confirm severity, then consider Heart Valve Team review", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("class 2a", card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("class I", card.Detail, StringComparison.Ordinal);
        Assert.Contains("the graded recommendations concern severe MR", card.Detail, StringComparison.Ordinal);
        Assert.Contains("RESHAPE-HF2 (Anker, NEJM 2024)", card.Detail, StringComparison.Ordinal);
    }

    // ---- 23. Say why, precisely ----

    [Theory]
    [InlineData("stale", "LVEF stale since 2024-05-02")]
    [InlineData("implausible", "LVEF implausible (120 %)")]
    [InlineData("conflicting", "LVEF conflicting on 2026-10-01")]
    [InlineData("comparator", "LVEF cannot be judged (<25 %)")]
    [InlineData("missing", "LVEF not found")]
    public void TheDataGapSummaryNamesTheReasonForEachMeasure(string reason, string said)
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        _ = reason switch
        {
            "stale" => chart.Lvef(32, "2024-05-02"),
            "implausible" => chart.Lvef(120, Day),
            "conflicting" => chart.Lvef(32, Day).Lvef(40, Day),
            "comparator" => chart.Observation(Chart.Loinc, "18043-0", Day, new JsonObject { ["valueQuantity"] = new JsonObject { ["comparator"] = "<", ["value"] = 25, ["unit"] = "%", ["system"] = Chart.Ucum, ["code"] = "%" } }),
            _ => chart,
        };
        var card = Card(PatientView(chart), "smr-data-gaps");
        Assert.Contains(said, card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("missing or out of date", card.Summary, StringComparison.Ordinal);
        Assert.EndsWith("the COAPT-like profile cannot be judged", card.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void APresumedMechanismIsSaidNotBracketed()
    {
        var card = Card(PatientView(Coapt(mechanism: null)), "smr-coapt-profile");
        Assert.StartsWith("Severe MR, presumed secondary,", card.Summary, StringComparison.Ordinal);
    }

    // ---- 24. Framing cards carry no eligibility ranges; orders by short labels; the record's own facts ----

    [Fact]
    public void FramingCardsShowValuesWithoutTheCoaptRange()
    {
        var chart = new Chart().PriorTeer("2025-06-01").Mr("moderate", Day, "secondary-ventricular").Lvef(35, Day).Lvesd(60, Day).Pasp(40, Day);
        Assert.DoesNotContain("COAPT-like range", Card(PatientView(chart), "smr-post-teer").Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("COAPT-like range", Card(Orders(chart, CdsMitral.Hooks.Hook.OrderSelect, Requests.SurgeryOrder()), "smr-periop").Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("COAPT-like range", Card(Orders(Coapt(), CdsMitral.Hooks.Hook.OrderSelect, Requests.TeerOrder()), "smr-order-teer").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void OrderSignSaysOrderBeingSignedNeverSelected()
    {
        var e = Orders(Coapt(), CdsMitral.Hooks.Hook.OrderSign, Requests.SurgeryOrder(), Requests.TeerOrder());
        foreach (var card in e.Considerations.Select(c => Card(e, c.Rule.Id)))
        {
            Assert.DoesNotContain("Selected", card.Summary + card.Detail, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("being signed", card.Detail, StringComparison.Ordinal);
        }
        Assert.StartsWith("Signing TEER:", Card(e, "smr-order-teer").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void KnownProceduresGetShortLabelsAndLongNamesAreCutAtAWord()
    {
        var cabg = Requests.ServiceRequest("cabg-1", "http://www.ama-assn.org/go/cpt", "33533", "Coronary artery bypass, using arterial graft(s); single arterial graft", category: "387713003");
        Assert.StartsWith("CABG with severe secondary MR", Card(Orders(Coapt(), CdsMitral.Hooks.Hook.OrderSelect, cabg), "smr-periop").Summary, StringComparison.Ordinal);
        var longName = Requests.ServiceRequest("surg-2", Chart.Snomed, "80146002", "Laparoscopic percutaneous cholecystectomy with intraoperative cholangiography", category: "387713003");
        var summary = Card(Orders(Coapt(), CdsMitral.Hooks.Hook.OrderSelect, longName), "smr-periop").Summary;
        Assert.StartsWith("Laparoscopic percutaneous… with", summary, StringComparison.Ordinal);
        var replacement = Requests.ServiceRequest("tmvr-1", Chart.Snomed, "1287654009", "Transcatheter replacement of mitral valve bioprosthesis");
        Assert.StartsWith("Ordering TMVR:", Card(Orders(Coapt(), CdsMitral.Hooks.Hook.OrderSelect, replacement), "smr-order-teer").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void SevereMrAfterATeerNamesTheTeerOnBothCards()
    {
        var chart = Coapt().PriorTeer("2025-03-14");
        var e = PatientView(chart);
        Assert.Equal(["smr-coapt-profile", "smr-post-teer"], e.FiredRuleIds);
        var coapt = Card(e, "smr-coapt-profile");
        Assert.StartsWith("Severe secondary MR after TEER (2025-03-14)", coapt.Summary, StringComparison.Ordinal);
        Assert.Contains("this MR is residual or recurrent after it. Redo TEER, transcatheter mitral valve replacement and surgery are separate questions", coapt.Detail, StringComparison.Ordinal);
        Assert.Contains("residual or recurrent severe MR", Card(e, "smr-post-teer").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void AnMrAssessmentMadeBeforeTheTeerDoesNotDescribeTheValveNow()
    {
        var e = PatientView(Coapt().PriorTeer("2026-10-20"));
        Assert.Equal(["smr-data-gaps", "smr-post-teer"], e.FiredRuleIds);
        Assert.Equal("TEER on 2026-10-20; the last MR grade (severe, 2026-10-01) predates it: no later echo on record", Card(e, "smr-data-gaps").Summary);
        var post = Card(e, "smr-post-teer");
        Assert.DoesNotContain("residual", post.Summary, StringComparison.Ordinal);
        Assert.Contains("The latest MR grade (severe, 2026-10-01, Observation/p1-obs-1) is from before the procedure", post.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void NyhaOneOnRecordIsItsOwnLineNotACannotShowBullet()
    {
        var card = Card(PatientView(Coapt().Nyha("LA28404-4", Day)), "smr-coapt-profile");
        Assert.Contains("NYHA I on 2026-10-01", card.Detail, StringComparison.Ordinal);
        Assert.Contains("COAPT enrolled NYHA II to ambulatory IV", card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Persistent symptoms", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void FinerenoneIsNamedAsNotAnHfrefMraPillarAndDoesNotHedgeTheAbsence()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(32, Day).Lvesd(58, Day).Pasp(45, Day)
            .Medication("200031", "carvedilol").Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin")
            .Medication("2562816", "finerenone 10 MG Oral Tablet");
        var card = Card(PatientView(chart), "smr-gdmt-gap");
        // The absence is of an HFrEF MRA, with finerenone named, never a plain "no MRA" (finerenone is one; the clinical review).
        Assert.Contains("no HFrEF MRA on record (finerenone is not an HFrEF MRA)", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("no MRA", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("recognised", card.Summary, StringComparison.Ordinal);
        Assert.Contains("Non-steroidal MRA (finerenone): not an HFrEF MRA pillar", card.Detail, StringComparison.Ordinal);
        Assert.Contains("would replace it, not join it", card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("not recognised", card.Detail, StringComparison.Ordinal);
        var coapt = Card(PatientView(chart), "smr-coapt-profile");
        Assert.Contains("finerenone is not one", coapt.Summary, StringComparison.Ordinal);
        Assert.Contains("Non-steroidal MRA (finerenone)", coapt.Detail, StringComparison.Ordinal);
    }

    // ---- The clinical review of 2026-12-07 (docs/card-review.md read by a cardiologist) ----

    [Fact]
    public void ACodedMedicationThatIsNoGdmtDrugDoesNotMakeAnAbsenceUncertain()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(32, Day).Lvesd(58, Day).Pasp(45, Day)
            .Medication("200031", "carvedilol").Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin")
            .Medication("310429", "furosemide 20 MG Oral Tablet").Medication("617312", "atorvastatin 40 MG Oral Tablet");
        var card = Card(PatientView(chart), "smr-gdmt-gap");
        Assert.Contains("no MRA on record", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("recognised", card.Summary + card.Detail, StringComparison.Ordinal);
        // A coded drug whose name is a GDMT drug the ValueSets lack, and an uncoded one, still hedge (decision 2).
        var unknownEplerenone = chart.Medication("999999999", "eplerenone 12.5 MG Oral Tablet");
        Assert.Contains("no recognised MRA on record", Card(PatientView(unknownEplerenone), "smr-gdmt-gap").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCardsNeverQuoteAGradeTheRecordDoesNotSupport()
    {
        string Detail(Chart chart) => Card(PatientView(chart), "smr-coapt-profile").Detail;
        Assert.Contains("class 2a", Detail(Coapt()), StringComparison.Ordinal);
        // A presumed mechanism, an atrial one, NYHA I: no grade, and the summary says what to confirm.
        var presumed = Card(PatientView(Coapt(mechanism: null)), "smr-coapt-profile");
        Assert.Contains("confirm mechanism, then consider Heart Valve Team review", presumed.Summary, StringComparison.Ordinal);
        Assert.Contains("primary MR with LV dysfunction follows the surgical pathway", presumed.Detail, StringComparison.Ordinal);
        var atrial = Card(PatientView(Coapt("secondary-atrial")), "smr-coapt-profile");
        Assert.Contains("rhythm and heart-failure treatment first", atrial.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("consider Heart Valve Team review", atrial.Summary, StringComparison.Ordinal);
        var nyhaOne = Card(PatientView(Coapt().Nyha("LA28404-4", Day)), "smr-coapt-profile");
        Assert.Contains("confirm symptoms (NYHA I on record)", nyhaOne.Summary, StringComparison.Ordinal);
        foreach (var detail in new[] { presumed.Detail, atrial.Detail, nyhaOne.Detail, Detail(Coapt().PriorTeer("2025-03-14")) })
        {
            Assert.DoesNotContain("class 2a", detail, StringComparison.Ordinal);
            Assert.DoesNotContain("class I (level A)", detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AfterATeerTheCardSaysNothingOfTheTrialWindowAndAsksForTheAnatomyAfterTheClip()
    {
        var card = Card(PatientView(Coapt().PriorTeer("2025-03-14")), "smr-coapt-profile");
        Assert.DoesNotContain("fall inside the COAPT trial window", card.Detail, StringComparison.Ordinal);
        Assert.Contains("Anatomy after the procedure", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void CabgWithSignificantSecondaryMrAsksAboutMitralSurgeryAtTheSameOperationNotWhetherToWait()
    {
        var cabg = Requests.ServiceRequest("cabg-1", "http://www.ama-assn.org/go/cpt", "33533", "CABG, arterial", category: "387713003");
        var card = Card(Orders(Coapt(), CdsMitral.Hooks.Hook.OrderSelect, cabg), "smr-periop");
        Assert.Contains("Heart Valve Team to weigh mitral surgery at the same operation", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("wait", card.Summary + card.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void OtherSurgeryAfterRepairWithAPreservedLvefSpeaksOfTheValveNotAnHfrefSubstrate()
    {
        var chart = new Chart().PriorTeer("2025-06-01").Mr("mild", Day).Lvef(62, Day);
        var card = Card(Orders(chart, CdsMitral.Hooks.Hook.OrderSelect, Requests.SurgeryOrder()), "smr-periop");
        Assert.Contains("check residual MR, mitral gradient and RV function before surgery", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("HFrEF", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("wait", card.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData(null, "Ordering TEER: no MR grade found in the record; confirm MR severity and mechanism on a current echo")]
    [InlineData("mild", "Ordering TEER: the latest MR grade is mild (2026-10-01); confirm severity before intervention")]
    public void ATeerOrderWithoutSignificantMrOnRecordSaysSoInTheSummary(string? grade, string summary)
    {
        var chart = grade is null ? new Chart() : new Chart().Mr(grade, Day, "secondary-ventricular").Lvef(32, Day);
        Assert.Equal(summary, Card(Orders(chart, CdsMitral.Hooks.Hook.OrderSelect, Requests.TeerOrder()), "smr-order-teer").Summary);
    }

    [Fact]
    public void TheAcuteCardGivesVasodilatorsOnlyWhereBloodPressureAllowsAndDatesTheShock()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(25, Day);
        chart.Add(new JsonObject
        {
            ["resourceType"] = "Condition", ["id"] = "shock",
            ["clinicalStatus"] = Chart.Concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
            ["verificationStatus"] = Chart.Concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
            ["code"] = Chart.Concept(Chart.Snomed, "89138009", "Cardiogenic shock"),
            ["onsetDateTime"] = "2026-11-19T22:40:00-05:00",
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        });
        var card = Card(PatientView(chart), "smr-acute-setting");
        Assert.StartsWith("Cardiogenic shock (since 2026-11-19) and severe MR (2026-10-01)", card.Summary, StringComparison.Ordinal);
        Assert.Contains("vasodilators only where blood pressure allows", card.Detail, StringComparison.Ordinal);
    }

    // ---- 25. Surgery versus TEER by mechanism ----

    [Fact]
    public void SecondaryMrCardsNeverSaySurgeryIsTheStandard()
    {
        var card = Card(PatientView(Coapt()), "smr-coapt-profile");
        Assert.Contains("in secondary MR surgery is weighed mainly when CABG is planned", card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("standard", card.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("better option", card.Detail, StringComparison.OrdinalIgnoreCase);
    }
}
