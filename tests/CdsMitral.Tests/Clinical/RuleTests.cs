using CdsMitral.Rules;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Clinical;

/// <summary>One test (at least) for every branch of the seven considerations in clinical-logic.md.</summary>
public sealed class RuleTests
{
    private static readonly Terminology.Terminology T = Terminology.Terminology.Embedded;

    private static ClinicalSnapshot Snap(Chart chart, params string[] unavailable) =>
        new SnapshotBuilder(T, new ClinicalOptions()).Build(chart.Record(unavailable), ServiceFactory.Today);

    private static Evaluation PatientView(Chart chart) => SecondaryMrRules.EvaluatePatientView(Snap(chart));

    private static Evaluation OrderSelect(Chart chart, params System.Text.Json.Nodes.JsonObject[] selected)
    {
        var drafts = System.Text.Json.JsonSerializer.SerializeToElement(Chart.Bundle(selected, "collection"));
        var selections = selected.Select(o => $"{o["resourceType"]}/{o["id"]}").ToList();
        return SecondaryMrRules.EvaluateOrderSelect(Snap(chart), Orders.Classify(selections, drafts, T, "p1"));
    }

    private static Chart SevereSecondary(decimal lvef = 32, decimal lvesd = 58, decimal pasp = 45, string date = "2026-10-01") =>
        new Chart().Mr("severe", date, "secondary-ventricular").Lvef(lvef, date).Lvesd(lvesd, date).Pasp(pasp, date);

    /// <summary>The consideration a rule gave, with its detail as the clinician reads it (rendered, escapes gone).</summary>
    private static Consideration Fired(Evaluation e, string ruleId) =>
        e.Considerations.Single(c => c.Rule.Id == ruleId) is var c ? c with { Detail = CardText.Of(c.Detail) } : null!;

    // ---- 1. COAPT-like profile ----

    [Fact]
    public void ACoaptLikePatientOnFullGdmtGetsOnlyTheCoaptCard()
    {
        var e = PatientView(SevereSecondary().FullGdmt());
        Assert.Equal(["smr-coapt-profile"], e.FiredRuleIds);
        var card = Fired(e, "smr-coapt-profile");
        Assert.Equal("info", card.Indicator);
        Assert.Equal("Severe secondary MR, LVEF 32 %, LVESD 58 mm, PASP 45 mmHg (2026-10-01): consider Heart Valve Team review", card.Summary);
        Assert.True(card.SuggestHeartTeamReview);
        // Decision 22: the grade is quoted for severe MR, and both guidelines are named where they differ.
        Assert.Contains("class 2a in the 2020 ACC/AHA valve guideline and class I (level A) in the 2025 ESC/EACTS", card.Detail, StringComparison.Ordinal);
        Assert.Contains("COAPT at 5 years", card.Detail, StringComparison.Ordinal);
        Assert.Contains("All four GDMT classes", card.Detail, StringComparison.Ordinal);
        Assert.Contains("this is not an indication", card.Detail, StringComparison.Ordinal);
        Assert.Equal(8, e.Outcomes.Count);
    }

    [Theory]
    [InlineData(20, 70, 70)]
    [InlineData(50, 15, 10)]
    public void TheCoaptRangeIncludesItsBoundaries(decimal lvef, decimal lvesd, decimal pasp)
    {
        Assert.Contains("smr-coapt-profile", PatientView(SevereSecondary(lvef, lvesd, pasp).FullGdmt()).FiredRuleIds);
    }

    [Fact]
    public void ModerateSevereMrIsSignificantAndModerateIsNot()
    {
        var ms = new Chart().Mr("moderate-severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        Assert.StartsWith("Moderate-severe secondary MR", Fired(PatientView(ms), "smr-coapt-profile").Summary, StringComparison.Ordinal);
        var moderate = new Chart().Mr("moderate", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01");
        Assert.Empty(PatientView(moderate).Considerations);
    }

    [Fact]
    public void ACoaptProfileWithAPresumedMechanismSaysItIsPresumed()
    {
        var chart = new Chart().Mr("severe", "2026-10-01").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var card = Fired(PatientView(chart), "smr-coapt-profile");
        Assert.StartsWith("Severe MR, presumed secondary, LVEF 32 %", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("(presumed)", card.Summary, StringComparison.Ordinal);
        Assert.Contains("presumed secondary because LVEF is 32 %", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ACoaptProfileWithAGdmtGapShowsBothCardsAndSaysGdmtComesFirst()
    {
        var e = PatientView(SevereSecondary().Medication("200031", "carvedilol 6.25 MG Oral Tablet"));
        Assert.Equal(["smr-coapt-profile", "smr-gdmt-gap"], e.FiredRuleIds);
        // Decision 21: the summary leads with GDMT, and the referral comes after it.
        var coapt = Fired(e, "smr-coapt-profile");
        Assert.Equal("Severe secondary MR, LVEF 32 %: optimise GDMT (no ARNI/ACEi/ARB, MRA or SGLT2 inhibitor on record), then consider Heart Valve Team review", coapt.Summary);
        // With a GDMT gap the grades are not quoted: they assume optimised GDMT (the clinical review of 2026-12-07).
        Assert.Contains(CdsMitral.Clinical.Evidence.GradesWithheld, coapt.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("class 2a", coapt.Detail, StringComparison.Ordinal);
        var one = Fired(PatientView(SevereSecondary().Medication("200031", "carvedilol").Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin")), "smr-coapt-profile");
        Assert.Equal("Severe secondary MR, LVEF 32 %, LVESD 58 mm, PASP 45 mmHg: optimise GDMT (no MRA on record), then consider Heart Valve Team review", one.Summary);
        Assert.Contains("GDMT first:", coapt.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AStaleMrAssessmentBlocksTheCoaptCardAndIsAGap()
    {
        var chart = new Chart().Mr("severe", "2025-06-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var e = PatientView(chart);
        Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
        Assert.Contains("MR severity: latest assessment (severe) is from 2025-06-01", Fired(e, "smr-data-gaps").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void SignificantSecondaryMrWithLvefAboveFiftyGetsTheOutsideRangeCardNotTheCoaptCard()
    {
        // Decision 11 of 2026-11-28: LVEF above 50 % is outside the COAPT-like range; atrial or preserved-EF wording.
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-atrial").Lvef(60, "2026-10-01").Lvesd(40, "2026-10-01").Pasp(40, "2026-10-01").FullGdmt();
        var e = PatientView(chart);
        Assert.Equal(["smr-outside-range"], e.FiredRuleIds);
        var card = Fired(e, "smr-outside-range");
        Assert.Equal("info", card.Indicator);
        Assert.Contains("LVEF 60 % (2026-10-01) is above 50 %", card.Summary, StringComparison.Ordinal);
        Assert.Contains("atrial or preserved-EF secondary MR", card.Detail, StringComparison.Ordinal);
        Assert.Contains("may still consider intervention", card.Detail, StringComparison.Ordinal);
        Assert.Contains(e.Outcomes, o => o.RuleId == "smr-coapt-profile" && o.Reason.Contains("not within 20–50 %", StringComparison.Ordinal));
    }

    // ---- 2. GDMT first ----

    [Fact]
    public void AGdmtGapNamesTheMissingClasses()
    {
        var e = PatientView(SevereSecondary().Medication("200031", "carvedilol").Medication("313096", "spironolactone"));
        var card = Fired(e, "smr-gdmt-gap");
        Assert.Equal("warning", card.Indicator);
        Assert.Contains("no ARNI/ACEi/ARB or SGLT2 inhibitor on record", card.Summary, StringComparison.Ordinal);
        Assert.Contains("Mineralocorticoid", "Mineralocorticoid", StringComparison.Ordinal);
        Assert.Contains("ARNI/ACEi/ARB: none on record", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AmbiguousMetoprololIsAGapAndTheCardAsksWhichSalt()
    {
        var chart = SevereSecondary().Medication("6918", "metoprolol").Medication("1656340", "sacubitril/valsartan").Medication("313096", "spironolactone").Medication("1488574", "dapagliflozin");
        var card = Fired(PatientView(chart), "smr-gdmt-gap");
        // Decision 24: the absence is of a recognised beta-blocker, and the summary says why.
        Assert.Contains("no recognised evidence-based beta-blocker (metoprolol, salt not stated) on record", card.Summary, StringComparison.Ordinal);
        Assert.Contains("tartrate is not", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void NoGdmtCardWithAPreservedEjectionFractionAndNoHfrefDiagnosis()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-atrial").Lvef(60, "2026-10-01").Lvesd(40, "2026-10-01").Pasp(40, "2026-10-01");
        var e = PatientView(chart);
        Assert.DoesNotContain("smr-gdmt-gap", e.FiredRuleIds);
        Assert.Contains(e.Outcomes, o => o.RuleId == "smr-gdmt-gap" && o.Reason.Contains("no HFrEF or cardiomyopathy diagnosis", StringComparison.Ordinal));
    }

    [Fact]
    public void AnHfrefDiagnosisKeepsTheGdmtCardWhenLvefIsMissing()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Condition(Chart.Snomed, "703272007", "Heart failure with reduced ejection fraction");
        Assert.Contains("smr-gdmt-gap", PatientView(chart).FiredRuleIds);
    }

    // ---- 3. Outside the COAPT-like range ----

    // Decision 23: each value outside the range is explained on its own; the MITRA-FR contrast and advanced therapies only
    // for a very low LVEF, pulmonary hypertension only for PASP.
    [Theory]
    [InlineData(15, 58, 45, "LVEF 15 % (2026-10-01) is below 20 %", "Advanced heart-failure therapies", "pulmonary hypertension")]
    [InlineData(15, 58, 45, "LVEF 15 % (2026-10-01) is below 20 %", "MITRA-FR (Obadia, NEJM 2018) enrolled", "dilated beyond")]
    [InlineData(32, 74, 45, "LVESD 74 mm (2026-10-01) is above 70 mm", "dilated beyond COAPT's limit", "Advanced heart-failure")]
    [InlineData(32, 74, 45, "LVESD 74 mm (2026-10-01) is above 70 mm", "proportionate to the LV size", "MITRA-FR (Obadia, NEJM 2018) enrolled")]
    [InlineData(32, 58, 75, "PASP 75 mmHg (2026-10-01) is above 70 mmHg", "type of pulmonary hypertension", "MITRA-FR")]
    [InlineData(32, 58, 75, "PASP 75 mmHg (2026-10-01) is above 70 mmHg", "a COAPT exclusion", "Advanced heart-failure")]
    public void EachValueOutsideTheRangeIsNamedAndExplainedOnItsOwn(decimal lvef, decimal lvesd, decimal pasp, string named, string explained, string notSaid)
    {
        var e = PatientView(SevereSecondary(lvef, lvesd, pasp).FullGdmt());
        Assert.Equal(["smr-outside-range"], e.FiredRuleIds);
        var card = Fired(e, "smr-outside-range");
        Assert.Contains(named, card.Summary, StringComparison.Ordinal);
        Assert.Contains(explained, card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(notSaid, card.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AnLvefAboveTheRangeSpeaksOfNoHfrefOrAdvancedTherapy()
    {
        var card = Fired(PatientView(new Chart().Mr("severe", "2026-10-01", "secondary-atrial").Lvef(60, "2026-10-01").Lvesd(40, "2026-10-01").Pasp(40, "2026-10-01")), "smr-outside-range");
        Assert.DoesNotContain("advanced heart-failure", card.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("HFrEF", card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("MITRA-FR (Obadia, NEJM 2018) enrolled", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AnOutOfRangeValueAndAMissingOneGiveBothTheRangeAndTheGapCards()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(74, "2026-10-01").FullGdmt();
        Assert.Equal(["smr-outside-range", "smr-data-gaps"], PatientView(chart).FiredRuleIds);
    }

    [Fact]
    public void EroaAndLvedvAreShownAsContextNeverAsACriterion()
    {
        var chart = SevereSecondary(lvesd: 74).FullGdmt().Eroa(0.45m, "2026-10-01").Lvedv(210, "2026-10-01");
        var card = Fired(PatientView(chart), "smr-outside-range");
        Assert.Contains("Context: EROA 0.45 cm²", card.Detail, StringComparison.Ordinal);
        Assert.Contains("it is context, never a criterion", card.Detail, StringComparison.Ordinal);
    }

    // ---- 4. Data gaps ----

    [Fact]
    public void SignificantMrWithNoEchoMeasurementsNamesEachMissingValue()
    {
        var card = Fired(PatientView(new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").FullGdmt()), "smr-data-gaps");
        Assert.Equal("info", card.Indicator);
        Assert.Equal("Severe secondary MR on record (2026-10-01); LVEF, LVESD and PASP not found: the COAPT-like profile cannot be judged", card.Summary);
        Assert.Contains("LVEF: none found in the EHR's answer", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AStaleValueIsAGapShownWithItsDate()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2024-05-02").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var card = Fired(PatientView(chart), "smr-data-gaps");
        Assert.Contains("LVEF: latest is 32 % from 2024-05-02, older than 12 months", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnusableValueIsAGapThatSaysWhy()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(580, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        var card = Fired(PatientView(chart), "smr-data-gaps");
        Assert.Contains("LVESD: none usable", card.Detail, StringComparison.Ordinal);
        Assert.Contains("outside the plausible range", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AMechanismThatCannotBePresumedIsAGap()
    {
        var chart = new Chart().Mr("severe", "2026-10-01").Lvef(55, "2026-10-01").Lvesd(45, "2026-10-01").Pasp(40, "2026-10-01");
        var e = PatientView(chart);
        Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
        Assert.Contains("MR mechanism: mechanism not recorded and not presumable", Fired(e, "smr-data-gaps").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AConflictingMechanismIsAGapAndNoOtherCardGuesses()
    {
        var chart = SevereSecondary().FullGdmt().Condition(Chart.Snomed, "409712001", "Mitral valve prolapse");
        var e = PatientView(chart);
        Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
        Assert.Contains("recorded as primary", Fired(e, "smr-data-gaps").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void APresumedMechanismIsNotAGap()
    {
        var chart = new Chart().Mr("severe", "2026-10-01").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt();
        Assert.DoesNotContain("smr-data-gaps", PatientView(chart).FiredRuleIds);
    }

    // ---- 5. Post-TEER framing ----

    [Fact]
    public void APriorTeerWithLvefBelowFiftyFramesThePatientAsHfref()
    {
        var chart = new Chart().PriorTeer("2025-06-01").Mr("mild", "2026-10-01", "secondary-ventricular").Lvef(35, "2026-10-01").FullGdmt();
        var e = PatientView(chart);
        Assert.Equal(["smr-post-teer"], e.FiredRuleIds);
        Assert.Equal("Prior TEER (2025-06-01) and LVEF 35 % (2026-10-01): the ventricle is unchanged; still evaluate and treat the heart failure", Fired(e, "smr-post-teer").Summary);
    }

    [Fact]
    public void APriorTeerWithANormalLvefGivesNoCard()
    {
        Assert.Empty(PatientView(new Chart().PriorTeer("2025-06-01").Mr("mild", "2026-10-01").Lvef(55, "2026-10-01")).Considerations);
    }

    [Fact]
    public void APriorSurgicalRepairAlsoGetsThePostRepairFraming()
    {
        var chart = new Chart().Procedure(Chart.Snomed, "384641003", "Repair of mitral valve", "2024-03-01").Lvef(40, "2026-10-01");
        Assert.StartsWith("Prior mitral repair", Fired(PatientView(chart), "smr-post-teer").Summary, StringComparison.Ordinal);
    }

    // ---- silence ----

    [Fact]
    public void RecordedPrimaryMrGetsNoSecondaryMrCards()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "primary").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01");
        var e = PatientView(chart);
        Assert.Empty(e.Considerations);
        Assert.All(e.Outcomes.Where(o => o.RuleId is "smr-coapt-profile" or "smr-gdmt-gap" or "smr-outside-range" or "smr-data-gaps"),
            o => Assert.Contains("primary", o.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void MildMrGetsNoCard()
    {
        Assert.Empty(PatientView(new Chart().Mr("mild", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01")).Considerations);
    }

    [Fact]
    public void NoEchoAtAllGetsNoCard()
    {
        Assert.Empty(PatientView(new Chart().Medication("200031", "carvedilol")).Considerations);
    }

    // ---- 6. Order-select: mitral intervention ----

    [Fact]
    public void OrderingTeerNeverShowsTheCoaptCard()
    {
        var e = OrderSelect(SevereSecondary().FullGdmt(), Requests.TeerOrder());
        Assert.Equal(["smr-order-teer"], e.FiredRuleIds);
        Assert.Contains("treats the leak, not the ventricle", Fired(e, "smr-order-teer").Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void OrderingTeerWithAnLvesdAboveTheRangeSaysSoForTheOrder()
    {
        var e = OrderSelect(SevereSecondary(lvesd: 74).FullGdmt(), Requests.TeerOrder());
        Assert.Equal(["smr-outside-range"], e.FiredRuleIds);
        Assert.Equal("Ordering TEER: LVESD 74 mm (2026-10-01) is above 70 mm, LV dilated beyond COAPT's limit; TEER benefit less established", Fired(e, "smr-outside-range").Summary);
    }

    [Fact]
    public void OrderingTeerWithAGdmtGapAndMissingDataGivesBothOrderCards()
    {
        var e = OrderSelect(new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01"), Requests.TeerOrder());
        Assert.Equal(["smr-gdmt-gap", "smr-data-gaps"], e.FiredRuleIds);
        Assert.All(e.Considerations, c => Assert.StartsWith("Ordering ", c.Summary, StringComparison.Ordinal));
    }

    [Fact]
    public void OrderingMitralReplacementCountsAsAMitralIntervention()
    {
        var order = Requests.ServiceRequest("mvr-1", Chart.Snomed, "53059001", "Replacement of mitral valve");
        Assert.Equal(["smr-order-teer"], OrderSelect(SevereSecondary().FullGdmt(), order).FiredRuleIds);
    }

    [Fact]
    public void OrderingTeerWithNoMrOnRecordSaysSo()
    {
        var card = Fired(OrderSelect(new Chart(), Requests.TeerOrder()), "smr-order-teer");
        Assert.Contains("No MR severity assessment was found", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void OrderingTeerForRecordedPrimaryMrGivesNoCard()
    {
        Assert.Empty(OrderSelect(new Chart().Mr("severe", "2026-10-01", "primary"), Requests.TeerOrder()).Considerations);
    }

    // ---- 7. Order-select: other surgery ----

    [Fact]
    public void OtherSurgeryWithSignificantSecondaryMrGetsOnlyThePerioperativeCard()
    {
        var e = OrderSelect(SevereSecondary().Medication("200031", "carvedilol"), Requests.SurgeryOrder());
        Assert.Equal(["smr-periop"], e.FiredRuleIds);
        var card = Fired(e, "smr-periop");
        Assert.Equal("Appendectomy with severe secondary MR, LVEF 32 % (2026-10-01): risk sits in the HFrEF substrate; could surgery wait while HF is optimised?", card.Summary);
        Assert.Contains("Could elective surgery wait while heart failure is optimised?", card.Detail, StringComparison.Ordinal);
        Assert.Contains("Order selected: Appendectomy (ServiceRequest/surg-1)", card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("COAPT-like range", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherSurgeryAfterTeerCarriesThePostTeerMessage()
    {
        var e = OrderSelect(new Chart().PriorTeer("2025-06-01").Mr("mild", "2026-10-01").Lvef(35, "2026-10-01"), Requests.SurgeryOrder());
        var card = Fired(e, "smr-periop");
        Assert.StartsWith("Appendectomy after TEER (2025-06-01), LVEF 35 % (2026-10-01)", card.Summary, StringComparison.Ordinal);
        Assert.Contains("does not make the ventricle normal", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void OtherSurgeryWithoutSecondaryMrOrTeerGetsNoCard()
    {
        Assert.Empty(OrderSelect(new Chart().Mr("mild", "2026-10-01").Lvef(60, "2026-10-01"), Requests.SurgeryOrder()).Considerations);
    }

    [Fact]
    public void AnOrderUnrelatedToTheValveOrSurgeryGetsNoCard()
    {
        var mri = Requests.ServiceRequest("mri-1", Chart.Loinc, "24590-2", "MR Brain");
        Assert.Empty(OrderSelect(SevereSecondary(), mri).Considerations);
    }

    [Fact]
    public void OnlySelectedOrdersAreConsideredNotEveryDraft()
    {
        var drafts = System.Text.Json.JsonSerializer.SerializeToElement(Chart.Bundle([Requests.TeerOrder(), Requests.ServiceRequest("mri-1", Chart.Loinc, "24590-2", "MR Brain")], "collection"));
        var e = SecondaryMrRules.EvaluateOrderSelect(Snap(SevereSecondary()), Orders.Classify(["ServiceRequest/mri-1"], drafts, T, "p1"));
        Assert.Empty(e.Considerations);
    }

    [Fact]
    public void EveryRuleReportsAnOutcomeOnEveryHook()
    {
        var ids = SecondaryMrRules.All.Select(r => r.Id).Order().ToList();
        Assert.Equal(ids, PatientView(new Chart()).Outcomes.Select(o => o.RuleId).Order());
        Assert.Equal(ids, OrderSelect(new Chart(), Requests.TeerOrder()).Outcomes.Select(o => o.RuleId).Order());
    }
}
