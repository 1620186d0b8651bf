using System.Text.Json.Nodes;
using CdsMitral.Rules;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Clinical;

/// <summary>The thirteen decisions of 2026-11-28 (clinical-logic.md), one region each, on records shaped as EHRs send them.
/// Each test failed on the rules as they were before the decisions.</summary>
public sealed class DecisionTests
{
    private static readonly Terminology.Terminology T = Terminology.Terminology.Embedded;
    private const string Day = "2026-10-01";
    private const string RxOid = "urn:oid:2.16.840.1.113883.6.88";

    private static ClinicalSnapshot Snap(Chart chart) => new SnapshotBuilder(T, new ClinicalOptions()).Build(chart.Record(), ServiceFactory.Today);

    private static Evaluation PatientView(Chart chart) => SecondaryMrRules.EvaluatePatientView(Snap(chart));

    private static Evaluation OrderSelect(Chart chart, JsonObject order) =>
        SecondaryMrRules.EvaluateOrderSelect(Snap(chart), Orders.Classify([$"ServiceRequest/{order["id"]}"],
            System.Text.Json.JsonSerializer.SerializeToElement(Chart.Bundle([order], "collection")), T, "p1"));

    /// <summary>The consideration a rule gave, with its detail as the clinician reads it (rendered, escapes gone).</summary>
    private static Consideration Card(Evaluation e, string ruleId) =>
        e.Considerations.Single(c => c.Rule.Id == ruleId) is var c ? c with { Detail = CardText.Of(c.Detail) } : null!;

    /// <summary>Severe secondary MR in the COAPT-like window: LVEF 32 %, LVESD 58 mm, PASP 45 mmHg.</summary>
    private static Chart Coapt(string? mechanism = "secondary-ventricular") =>
        new Chart().Mr("severe", Day, mechanism).Lvef(32, Day).Lvesd(58, Day).Pasp(45, Day);

    private static JsonObject Request(string rxcui, string display, string system = Chart.RxNorm, string intent = "order", bool? doNotPerform = null, string id = "mr-1")
    {
        var r = new JsonObject
        {
            ["resourceType"] = "MedicationRequest", ["id"] = id, ["status"] = "active", ["intent"] = intent,
            ["medicationCodeableConcept"] = Chart.Concept(system, rxcui, display),
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        };
        if (doNotPerform is { } dnp)
        {
            r["doNotPerform"] = dnp;
        }
        return r;
    }

    private static Chart WithBeta(Chart c) => c.Medication("200031", "carvedilol 6.25 MG Oral Tablet");

    // ---- 1. RxNorm, every form ----

    [Fact]
    public void BrandedEntrestoAndJardianceCountAsTheirPillars()
    {
        var chart = WithBeta(Coapt()).Medication("1656346", "sacubitril 24 MG / valsartan 26 MG Oral Tablet [Entresto]")
            .Medication("1545664", "empagliflozin 10 MG Oral Tablet [Jardiance]").Medication("313096", "spironolactone 25 MG Oral Tablet");
        var e = PatientView(chart);
        Assert.Equal(["smr-coapt-profile"], e.FiredRuleIds);
        Assert.Contains("All four GDMT classes", Card(e, "smr-coapt-profile").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AnRxNormCodeUnderItsOidCountsLikeTheUri()
    {
        var chart = WithBeta(Coapt()).Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin")
            .Add(Request("313096", "spironolactone 25 MG Oral Tablet", RxOid));
        Assert.DoesNotContain("smr-gdmt-gap", PatientView(chart).FiredRuleIds);
    }

    // ---- 2. Never claim an absence the record does not show ----

    [Fact]
    public void AnUnclassifiableMedicationMakesTheSummarySayNoRecognisedClass()
    {
        var uncoded = new JsonObject
        {
            ["resourceType"] = "MedicationStatement", ["id"] = "ms-text", ["status"] = "active",
            ["medicationCodeableConcept"] = new JsonObject { ["text"] = "Spironolact 25mg tab (outside pharmacy)" },
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        };
        var chart = WithBeta(Coapt()).Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin").Add(uncoded);
        var card = Card(PatientView(chart), "smr-gdmt-gap");
        Assert.Contains("no recognised MRA", card.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("no MRA", card.Summary, StringComparison.Ordinal);
        Assert.Contains("Spironolact 25mg tab (outside pharmacy) (MedicationStatement/ms-text): no code", card.Detail, StringComparison.Ordinal);
    }

    // ---- 3. Medication references ----

    [Fact]
    public void AMedicationReferenceIsResolvedFromTheRecord()
    {
        var request = Request("x", "x");
        request.Remove("medicationCodeableConcept");
        request["medicationReference"] = new JsonObject { ["reference"] = "Medication/eplerenone-25" };
        var medication = new JsonObject { ["resourceType"] = "Medication", ["id"] = "eplerenone-25", ["code"] = Chart.Concept(Chart.RxNorm, "351256", "eplerenone 25 MG Oral Tablet") };
        var chart = WithBeta(Coapt()).Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin").Add(request).Add(medication);
        var s = Snap(chart);
        Assert.Equal(["MedicationRequest/mr-1"], s.Gdmt.ByClass[GdmtClass.Mra].Select(u => u.Source));
        Assert.Equal(["smr-coapt-profile"], SecondaryMrRules.EvaluatePatientView(s).FiredRuleIds);
    }

    [Fact]
    public void AnUnresolvedReferenceIsNamedAndTheAbsenceIsOnlyOfARecognisedDrug()
    {
        var request = Request("x", "x");
        request.Remove("medicationCodeableConcept");
        request["medicationReference"] = new JsonObject { ["reference"] = "Medication/not-here", ["display"] = "Inspra 25 mg" };
        var chart = WithBeta(Coapt()).Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin").Add(request);
        var card = Card(PatientView(chart), "smr-gdmt-gap");
        Assert.Contains("no recognised MRA", card.Summary, StringComparison.Ordinal);
        Assert.Contains("(MedicationRequest/mr-1): reference not resolved", card.Detail, StringComparison.Ordinal);
    }

    // ---- 4. Which medication records count as on board ----

    [Theory]
    [InlineData("plan", null, "planned")]
    [InlineData("proposal", null, "proposed")]
    [InlineData("order", true, "do not give")]
    public void PlansProposalsAndDoNotPerformRequestsDoNotCountAndAreNamed(string intent, bool? doNotPerform, string named)
    {
        var chart = WithBeta(Coapt()).Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin")
            .Add(Request("313096", "spironolactone 25 MG Oral Tablet", intent: intent, doNotPerform: doNotPerform));
        var card = Card(PatientView(chart), "smr-gdmt-gap");
        Assert.Contains("no MRA on record", card.Summary, StringComparison.Ordinal);
        Assert.Contains($"spironolactone 25 MG Oral Tablet (MedicationRequest/mr-1): {named}", card.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("order")]
    [InlineData("original-order")]
    [InlineData("instance-order")]
    [InlineData("filler-order")]
    [InlineData("reflex-order")]
    public void OrderIntentsCountAsOnBoard(string intent)
    {
        var chart = WithBeta(Coapt()).Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin")
            .Add(Request("313096", "spironolactone 25 MG Oral Tablet", intent: intent, doNotPerform: false));
        Assert.DoesNotContain("smr-gdmt-gap", PatientView(chart).FiredRuleIds);
    }

    // ---- 5. Comparators ----

    private static JsonObject Comparator(string comparator, decimal value, string unit, string code) =>
        new() { ["valueQuantity"] = new JsonObject { ["comparator"] = comparator, ["value"] = value, ["unit"] = unit, ["system"] = Chart.Ucum, ["code"] = code } };

    [Fact]
    public void LvefBelowTwentyRecordedAsAComparatorIsOutsideTheRangeNotTwenty()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Observation(Chart.Loinc, "18043-0", Day, Comparator("<", 20, "%", "%"))
            .Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        var e = PatientView(chart);
        Assert.Equal(["smr-outside-range"], e.FiredRuleIds);
        Assert.Contains("LVEF <20 % (2026-10-01) is below 20 %", Card(e, "smr-outside-range").Summary, StringComparison.Ordinal);
        Assert.Contains("LVEF: <20 % on 2026-10-01", Card(e, "smr-outside-range").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void PaspAboveSeventyRecordedAsAComparatorIsOutsideTheRange()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(32, Day).Lvesd(58, Day)
            .Observation(Chart.Loinc, "8440-0", Day, Comparator(">", 70, "mmHg", "mm[Hg]")).FullGdmt();
        Assert.Equal(["smr-outside-range"], PatientView(chart).FiredRuleIds);
    }

    [Fact]
    public void AComparatorThatStraddlesTheRangeCannotBeJudgedAndIsAGap()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Observation(Chart.Loinc, "18043-0", Day, Comparator("<", 25, "%", "%"))
            .Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        var e = PatientView(chart);
        Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
        Assert.Contains("cannot be judged within 20–50 %", Card(e, "smr-data-gaps").Detail, StringComparison.Ordinal);
        var coapt = e.Outcomes.Single(o => o.RuleId == "smr-coapt-profile");
        Assert.Equal(CdsMitral.Clinical.Verdict.CannotJudge, coapt.Criteria!.Single(c => c.Name.StartsWith("LVEF", StringComparison.Ordinal)).Verdict);
    }

    [Fact]
    public void AComparatorWhollyInsideTheRangeMeetsTheCriterion()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(32, Day).Lvesd(58, Day)
            .Observation(Chart.Loinc, "8440-0", Day, Comparator("<", 40, "mmHg", "mm[Hg]")).FullGdmt();
        var card = Card(PatientView(chart), "smr-coapt-profile");
        Assert.Contains("PASP <40 mmHg", card.Summary, StringComparison.Ordinal);
    }

    // ---- 6. Same date means the same calendar date ----

    [Fact]
    public void AMethodSpecificLvefBeatsTheGenericCodeFromTheSameDayWhateverTheTimes()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt()
            .Observation(Chart.Loinc, "10230-1", "2026-10-01T16:30:00-04:00", Chart.Quantity(55, "%"), id: "generic")
            .Observation(Chart.Loinc, "18043-0", "2026-10-01T09:10:00-04:00", Chart.Quantity(35, "%"), id: "biplane");
        var s = Snap(chart);
        Assert.Equal("Observation/biplane", s.Lvef!.Source);
        Assert.Equal(35, s.Lvef.Value);
    }

    [Fact]
    public void TwoDifferentValuesOnTheSameDateWithoutTimesConflictAndAreAGap()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(35, Day, id: "a").Lvef(55, Day, id: "b").Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        var e = PatientView(chart);
        Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
        var detail = Card(e, "smr-data-gaps").Detail;
        Assert.Contains("Observation/a", detail, StringComparison.Ordinal);
        Assert.Contains("Observation/b", detail, StringComparison.Ordinal);
        Assert.Contains("conflicting", detail, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoDifferentValuesOnTheSameDateWithTimesAreOrderedByTime()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvesd(58, Day).Pasp(45, Day).FullGdmt()
            .Lvef(55, "2026-10-01T08:00:00Z", id: "early").Lvef(35, "2026-10-01T11:00:00Z", id: "late");
        Assert.Equal("Observation/late", Snap(chart).Lvef!.Source);
    }

    // ---- 7. Panels ----

    [Fact]
    public void EchoValuesCarriedAsPanelComponentsAreRead()
    {
        static JsonObject Component(string code, decimal value, string unit, string ucum) => new()
        {
            ["code"] = Chart.Concept(Chart.Loinc, code),
            ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = unit, ["system"] = Chart.Ucum, ["code"] = ucum },
        };
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").FullGdmt()
            .Observation(Chart.Loinc, "34552-0", Day, new JsonObject(), id: "echo-panel",
                component: new JsonArray(Component("18043-0", 32, "%", "%"), Component("29438-9", 58, "mm", "mm"), Component("8440-0", 45, "mmHg", "mm[Hg]")));
        var e = PatientView(chart);
        Assert.Equal(["smr-coapt-profile"], e.FiredRuleIds);
        Assert.Contains("Observation/echo-panel.component[0]", Card(e, "smr-coapt-profile").Inputs);
    }

    // ---- 8. Unit spellings ----

    [Theory]
    [InlineData("percent", "MM", "mm Hg")]
    [InlineData("%", "mm", "MMHG")]
    public void UnitTextIsUnderstoodInAnyCaseWithoutAUcumCode(string lvefUnit, string lvesdUnit, string paspUnit)
    {
        static JsonObject Text(decimal value, string unit) => new() { ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = unit } };
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").FullGdmt()
            .Observation(Chart.Loinc, "18043-0", Day, Text(32, lvefUnit)).Observation(Chart.Loinc, "29438-9", Day, Text(58, lvesdUnit))
            .Observation(Chart.Loinc, "8440-0", Day, Text(45, paspUnit));
        Assert.Equal(["smr-coapt-profile"], PatientView(chart).FiredRuleIds);
    }

    [Fact]
    public void AnUnknownUnitTextStaysUnknown()
    {
        var chart = new Chart().Observation(Chart.Loinc, "8440-0", Day, new JsonObject { ["valueQuantity"] = new JsonObject { ["value"] = 45, ["unit"] = "kPa" } });
        var s = Snap(chart);
        Assert.Null(s.Pasp);
        Assert.Contains(s.Findings, f => f.Problem.Contains("'kPa'", StringComparison.Ordinal));
    }

    // ---- 9. Diagnoses ----

    [Theory]
    [InlineData("differential")]
    [InlineData("provisional")]
    [InlineData("unconfirmed")]
    [InlineData("refuted")]
    public void ATentativeCardiomyopathyNeitherPresumesAMechanismNorMakesAGdmtGap(string verification)
    {
        var condition = new JsonObject
        {
            ["resourceType"] = "Condition", ["id"] = "dcm",
            ["clinicalStatus"] = Chart.Concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
            ["verificationStatus"] = Chart.Concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification),
            ["code"] = Chart.Concept(Chart.Snomed, "399020009", "Dilated cardiomyopathy"),
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        };
        var chart = new Chart().Mr("severe", Day).Lvef(55, Day).Lvesd(45, Day).Pasp(40, Day).Add(condition);
        var e = PatientView(chart);
        Assert.Equal(["smr-data-gaps"], e.FiredRuleIds);
        Assert.Contains("not presumable", Card(e, "smr-data-gaps").Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void AConditionWithoutAClinicalStatusDoesNotCountAndIsNamed()
    {
        var condition = new JsonObject
        {
            ["resourceType"] = "Condition", ["id"] = "af",
            ["code"] = Chart.Concept(Chart.Snomed, "49436004", "Atrial fibrillation"),
            ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
        };
        var s = Snap(new Chart().Mr("severe", Day).Add(condition));
        Assert.Empty(s.AtrialFibrillation);
        Assert.Contains(s.Findings, f => f.Source == "Condition/af" && f.Problem.Contains("no clinical status", StringComparison.Ordinal));
    }

    // ---- 10. Rheumatic MR is primary ----

    [Theory]
    [InlineData("http://hl7.org/fhir/sid/icd-10-cm", "I05.1", "Rheumatic mitral insufficiency")]
    [InlineData("http://hl7.org/fhir/sid/icd-10-cm", "I08.0", "Rheumatic disorders of both mitral and aortic valves")]
    public void RheumaticMitralRegurgitationIsPrimaryAndGetsNoSecondaryCard(string system, string code, string display)
    {
        var chart = Coapt(mechanism: null).Condition(system, code, display);
        var e = PatientView(chart);
        Assert.Equal(Snapshot.MechanismKind.Primary, Snap(chart).Mechanism.Kind);
        Assert.Empty(e.Considerations);
    }

    // ---- 11. is tested in RuleTests: SignificantSecondaryMrWithLvefAboveFiftyGetsTheOutsideRangeCardNotTheCoaptCard ----

    [Fact]
    public void WithLvefAboveFiftyOnlyAConfirmedHfrefOrCardiomyopathyDiagnosisMakesAGdmtGap()
    {
        var preserved = new Chart().Mr("severe", Day, "secondary-atrial").Lvef(58, Day).Lvesd(40, Day).Pasp(40, Day);
        Assert.Equal(["smr-outside-range"], PatientView(preserved).FiredRuleIds);
        var withDcm = new Chart().Mr("severe", Day, "secondary-atrial").Lvef(58, Day).Lvesd(40, Day).Pasp(40, Day)
            .Condition(Chart.Snomed, "399020009", "Dilated cardiomyopathy");
        Assert.Equal(["smr-gdmt-gap", "smr-outside-range"], PatientView(withDcm).FiredRuleIds);
    }

    // ---- 12. Post-TEER and perioperative framing do not depend on the mechanism ----

    [Fact]
    public void PostTeerFramingFiresAfterRepairOfPrimaryMrWithoutSayingSecondary()
    {
        var chart = new Chart().Mr("moderate", Day, "primary").Lvef(38, Day).PriorTeer("2025-03-14");
        var e = PatientView(chart);
        Assert.Equal(["smr-post-teer"], e.FiredRuleIds);
        var card = Card(e, "smr-post-teer");
        Assert.DoesNotContain("secondary", card.Summary + card.Detail, StringComparison.OrdinalIgnoreCase);
        var periop = OrderSelect(chart, Requests.SurgeryOrder());
        Assert.Equal(["smr-periop"], periop.FiredRuleIds);
        Assert.DoesNotContain("secondary", Card(periop, "smr-periop").Summary + Card(periop, "smr-periop").Detail, StringComparison.OrdinalIgnoreCase);
    }

    // ---- 13. Dates are shown with the precision recorded ----

    [Fact]
    public void APartialDateIsShownAsRecorded()
    {
        var chart = new Chart().Mr("severe", "2026-10", "secondary-ventricular").Lvef(32, "2026-10").Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        var card = Card(PatientView(chart), "smr-coapt-profile");
        Assert.Contains("LVEF: 32 % on 2026-10 (", card.Detail, StringComparison.Ordinal);
        Assert.Contains("MR severity: severe on 2026-10 (", card.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("2026-10-01 (Observation/p1-obs-1)", card.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ADateWithATimeIsShownOnTheCalendarDateItWasRecordedOn()
    {
        var chart = new Chart().Mr("severe", Day, "secondary-ventricular").Lvef(32, "2026-10-01T22:30:00-05:00").Lvesd(58, Day).Pasp(45, Day).FullGdmt();
        Assert.Contains("LVEF: 32 % on 2026-10-01 (", Card(PatientView(chart), "smr-coapt-profile").Detail, StringComparison.Ordinal);
    }
}
