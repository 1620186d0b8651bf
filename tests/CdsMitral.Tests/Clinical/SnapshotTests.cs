using CdsMitral.Snapshot;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Clinical;

/// <summary>From resources to one value per measure: units, plausibility, status, dates, provenance, mechanism, GDMT.</summary>
public sealed class SnapshotTests
{
    private static readonly DateTimeOffset Today = ServiceFactory.Today;

    private static ClinicalSnapshot Snap(Chart chart, int staleAfterMonths = 12, params string[] unavailable) =>
        new SnapshotBuilder(Terminology.Terminology.Embedded, new ClinicalOptions(staleAfterMonths)).Build(chart.Record(unavailable), Today);

    [Fact]
    public void AnLvefGivenAsAFractionIsReadAsAPercentage()
    {
        var s = Snap(new Chart().Lvef(0.35m, "2026-10-01", unit: "1"));
        Assert.Equal(35m, s.Lvef!.Value);
        var noUnit = Snap(new Chart().Lvef(0.4m, "2026-10-01", unit: null));
        Assert.Equal(40m, noUnit.Lvef!.Value);
    }

    [Fact]
    public void AnLvesdInCentimetresIsConvertedToMillimetres()
    {
        Assert.Equal(58m, Snap(new Chart().Lvesd(5.8m, "2026-10-01", unit: "cm")).Lvesd!.Value);
    }

    [Fact]
    public void AValueInAnUnknownUnitIsNotUsedAndIsNamed()
    {
        var s = Snap(new Chart().Lvesd(2.3m, "2026-10-01", unit: "[in_i]"));
        Assert.Null(s.Lvesd);
        Assert.Contains(s.Findings, f => f.Measure == "LVESD" && f.Problem.Contains("[in_i]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(4, "LVEF")]
    [InlineData(95, "LVEF")]
    public void AnImplausibleLvefIsNotUsedAndTheOlderPlausibleOneIs(decimal implausible, string measure)
    {
        var s = Snap(new Chart().Lvef(35, "2026-06-01", id: "good").Lvef(implausible, "2026-10-01", id: "bad"));
        Assert.Equal("Observation/good", s.Lvef!.Source);
        Assert.Contains(s.Findings, f => f.Measure == measure && f.Source == "Observation/bad" && f.Problem.Contains("plausible range 5–90", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(14, 101)]
    public void LvesdOutsideFifteenToOneHundredMillimetresIsImplausible(decimal low, decimal high)
    {
        Assert.Null(Snap(new Chart().Lvesd(low, "2026-10-01")).Lvesd);
        Assert.Null(Snap(new Chart().Lvesd(high, "2026-10-01")).Lvesd);
        Assert.NotNull(Snap(new Chart().Lvesd(15, "2026-10-01")).Lvesd);
        Assert.NotNull(Snap(new Chart().Lvesd(100, "2026-10-01")).Lvesd);
    }

    [Fact]
    public void PaspOutsideTenToOneHundredFiftyIsImplausible()
    {
        Assert.Null(Snap(new Chart().Pasp(9, "2026-10-01")).Pasp);
        Assert.Null(Snap(new Chart().Pasp(151, "2026-10-01")).Pasp);
        Assert.Equal(150m, Snap(new Chart().Pasp(150, "2026-10-01")).Pasp!.Value);
    }

    [Fact]
    public void AnEnteredInErrorValueIsIgnoredAndSaidSo()
    {
        var s = Snap(new Chart().Lvef(35, "2026-06-01", id: "real").Lvef(15, "2026-10-01", status: "entered-in-error", id: "wrong"));
        Assert.Equal(35m, s.Lvef!.Value);
        Assert.Contains(s.Findings, f => f.Source == "Observation/wrong" && f.Problem.Contains("entered-in-error", StringComparison.Ordinal));
    }

    [Fact]
    public void APreliminaryValueIsUsedOnlyWhenNothingFinalExists()
    {
        Assert.Equal(35m, Snap(new Chart().Lvef(35, "2026-06-01").Lvef(25, "2026-10-01", status: "preliminary")).Lvef!.Value);
        var onlyPreliminary = Snap(new Chart().Lvef(25, "2026-10-01", status: "preliminary"));
        Assert.Equal(25m, onlyPreliminary.Lvef!.Value);
        Assert.Contains(onlyPreliminary.Findings, f => f.Problem.Contains("preliminary", StringComparison.Ordinal));
    }

    [Fact]
    public void TheNewestValueWinsWhateverOrderTheResourcesCameIn()
    {
        var s = Snap(new Chart().Lvef(30, "2026-10-01T08:00:00+02:00", id: "newest").Lvef(45, "2026-10-01T07:30:00Z", id: "older").Lvef(50, "2025-12-01", id: "oldest"));
        // 08:00+02:00 is 06:00Z: earlier than 07:30Z, so "older" is the newest despite its text sorting first.
        Assert.Equal("Observation/older", s.Lvef!.Source);
    }

    [Fact]
    public void AMethodSpecificLvefIsPreferredToTheGenericCodeOnTheSameDate()
    {
        var s = Snap(new Chart().Lvef(40, "2026-10-01", code: "10230-1", id: "generic").Lvef(32, "2026-10-01", code: "79991-6", id: "biplane"));
        Assert.Equal("Observation/biplane", s.Lvef!.Source);
    }

    [Fact]
    public void AValueOlderThanTheWindowIsStaleButKeptWithItsDate()
    {
        var s = Snap(new Chart().Lvef(35, "2025-11-01"));
        Assert.True(s.Lvef!.IsStale);
        Assert.Null(s.CurrentLvef);
        Assert.False(Snap(new Chart().Lvef(35, "2025-11-01"), staleAfterMonths: 24).Lvef!.IsStale);
    }

    [Fact]
    public void AValueDatedInTheFutureIsNotUsed()
    {
        var s = Snap(new Chart().Lvef(35, "2027-03-01"));
        Assert.Null(s.Lvef);
        Assert.Contains(s.Findings, f => f.Problem.Contains("future", StringComparison.Ordinal));
    }

    [Fact]
    public void AResourceOfAnotherPatientIsIgnored()
    {
        var chart = new Chart().Observation(Chart.Loinc, "18043-0", "2026-10-01", Chart.Quantity(35, "%"), subject: "Patient/someone-else");
        var s = Snap(chart);
        Assert.Null(s.Lvef);
        Assert.Contains(s.Findings, f => f.Problem.Contains("Patient/someone-else", StringComparison.Ordinal));
    }

    [Fact]
    public void NullsInsideFhirArraysAreDroppedNotFatal()
    {
        // Found by the fuzz test: "coding": [null] reached the terminology as a null record.
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01")
            .Condition(Chart.Snomed, "49436004", "Atrial fibrillation");
        chart.Resources[0]["code"]!["coding"]!.AsArray().Insert(0, null);
        chart.Resources[0]["component"]!.AsArray().Add(null);
        chart.Resources[2]["code"]!["coding"]!.AsArray().Add(null);
        var s = Snap(chart);
        Assert.Equal(4, s.Mr!.Grade);
        Assert.Single(s.AtrialFibrillation);
    }

    [Fact]
    public void AResourceThatIsNotReadableAsR4IsNamedNotFatal()
    {
        var chart = new Chart().Lvef(35, "2026-10-01");
        chart.Resources[0]["code"] = "not a CodeableConcept";
        var s = Snap(chart);
        Assert.Null(s.Lvef);
        Assert.Contains(s.Findings, f => f.Problem.Contains("not readable", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("valueQuantity", "value", "\"35\"")]
    [InlineData("valueQuantity", "value", "1e400")]
    [InlineData("valueQuantity", "unit", "[\"%\"]")]
    [InlineData("code", "coding", "{\"system\":\"http://loinc.org\",\"code\":\"18043-0\"}")]
    [InlineData(null, "effectiveDateTime", "20261001")]
    [InlineData(null, "status", "{\"code\":\"final\"}")]
    public void AnObservationWithAMemberOfTheWrongTypeIsNamedAndNotUsed(string? parent, string member, string json)
    {
        var chart = new Chart().Lvef(35, "2026-10-01", id: "odd");
        var target = parent is null ? chart.Resources[0] : chart.Resources[0][parent]!.AsObject();
        target[member] = System.Text.Json.Nodes.JsonNode.Parse(json);
        var s = Snap(chart);
        Assert.Null(s.Lvef);
        Assert.Contains(s.Findings, f => f.Source == "Observation/odd" && f.Problem == "is not readable as FHIR R4; ignored");
    }

    [Fact]
    public void AStatusOrCodingSystemOfTheWrongTypeMakesItsResourceUnreadableNotSilentlyInactive()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular", id: "mr").Lvef(30, "2026-10-01")
            .Medication("200031", "carvedilol 6.25 MG Oral Tablet", id: "bb");
        chart.Resources[2]["status"] = 1;
        chart.Resources[0]["component"]![0]!["code"]!["coding"]![0]!["system"] = 7;
        var s = Snap(chart);
        Assert.Null(s.Mr);
        Assert.Contains(GdmtClass.BetaBlocker, s.Gdmt.Missing);
        foreach (var source in new[] { "Observation/mr", "MedicationRequest/bb" })
        {
            Assert.Contains(s.Findings, f => f.Source == source && f.Problem == "is not readable as FHIR R4; ignored");
        }
    }

    [Theory]
    [InlineData("2026-10-01")]
    [InlineData("2024-02-29")]
    [InlineData("2023-02-29")]
    [InlineData("2026-13-01")]
    [InlineData("2026-00-10")]
    [InlineData("2026-04-31")]
    [InlineData("0000-01-01")]
    [InlineData("9999-12-31")]
    [InlineData("2026/10/01")]
    [InlineData("2026-1-011")]
    [InlineData("2026-10-0a")]
    [InlineData("2026-10-01T")]
    [InlineData("2026-10")]
    public void APlainDateReadWithoutAllocatingMatchesTheGeneralParser(string text)
    {
        var fast = Fhir.FhirDate.TryParseDay(System.Text.Encoding.UTF8.GetBytes(text), out var day);
        Assert.Equal(Fhir.FhirDate.Parse(text), fast ? day : text.Length == 10 ? null : Fhir.FhirDate.Parse(text));
    }

    [Fact]
    public void AMedicationConditionOrProcedureThatIsNotReadableIsNamedRatherThanSilentlyDropped()
    {
        var chart = new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(30, "2026-10-01")
            .Medication("200031", "carvedilol 6.25 MG Oral Tablet", id: "bb")
            .Condition(Chart.Snomed, "49436004", "Atrial fibrillation", id: "af")
            .Procedure(Chart.Snomed, "459691000124101", "Transcatheter mitral valve repair", "2025-06-01", id: "teer");
        chart.Resources[2]["medicationCodeableConcept"]!["coding"] = "200031";
        chart.Resources[3]["clinicalStatus"] = "active";
        chart.Resources[4]["code"]!["coding"]!.AsArray().Insert(0, 42);
        var s = Snap(chart);
        Assert.Contains(GdmtClass.BetaBlocker, s.Gdmt.Missing);
        Assert.Empty(s.AtrialFibrillation);
        Assert.Null(s.PriorTeerOrRepair);
        foreach (var source in new[] { "MedicationRequest/bb", "Condition/af", "Procedure/teer" })
        {
            Assert.Contains(s.Findings, f => f.Source == source && f.Problem == "is not readable as FHIR R4; ignored");
        }
    }

    [Theory]
    [InlineData("severe", 4)]
    [InlineData("moderate-severe", 3)]
    [InlineData("moderate", 2)]
    [InlineData("mild", 1)]
    public void MrSeverityIsReadFromTheSnomedQualifier(string severity, int grade)
    {
        var s = Snap(new Chart().Mr(severity, "2026-10-01"));
        Assert.Equal(grade, s.Mr!.Grade);
        Assert.Equal(grade >= 3, s.SignificantMr);
    }

    [Fact]
    public void MrSeverityIsReadFromAnIntegerGrade()
    {
        Assert.Equal(3, Snap(new Chart().MrGrade(3, "2026-10-01")).Mr!.Grade);
        Assert.Null(Snap(new Chart().MrGrade(7, "2026-10-01")).Mr);
    }

    [Fact]
    public void MrSeverityInFreeTextIsNotInterpreted()
    {
        var s = Snap(new Chart().Observation(Chart.Snomed, "48724000", "2026-10-01", new() { ["valueString"] = "severe (4+)" }));
        Assert.Null(s.Mr);
        Assert.Contains(s.Findings, f => f.Problem.Contains("free text", StringComparison.Ordinal));
    }

    [Fact]
    public void TheLatestMrAssessmentCountsEvenIfAnOlderOneWasWorse()
    {
        Assert.Equal(1, Snap(new Chart().Mr("severe", "2025-12-01").Mr("mild", "2026-10-01")).Mr!.Grade);
    }

    [Fact]
    public void ARecordedMechanismIsTakenAsRecorded()
    {
        var s = Snap(new Chart().Mr("severe", "2026-10-01", "secondary-atrial"));
        Assert.Equal(MechanismKind.Secondary, s.Mechanism.Kind);
        Assert.False(s.Mechanism.Presumed);
        Assert.Equal("atrial", s.Mechanism.Subtype);
    }

    [Fact]
    public void MitralProlapseOnRecordMakesTheMrPrimary()
    {
        var s = Snap(new Chart().Mr("severe", "2026-10-01").Lvef(35, "2026-10-01").Condition(Chart.Snomed, "409712001", "Mitral valve prolapse"));
        Assert.Equal(MechanismKind.Primary, s.Mechanism.Kind);
    }

    [Fact]
    public void PrimaryAndSecondaryBothRecordedIsConflictingNotGuessed()
    {
        var s = Snap(new Chart().Mr("severe", "2026-10-01", "secondary-ventricular").Condition(Chart.Snomed, "409712001", "Mitral valve prolapse"));
        Assert.Equal(MechanismKind.Conflicting, s.Mechanism.Kind);
        Assert.Contains("primary", s.Mechanism.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnrecordedMechanismIsPresumedSecondaryWhenLvefIsBelowFifty()
    {
        var s = Snap(new Chart().Mr("severe", "2026-10-01").Lvef(45, "2026-10-01"));
        Assert.True(s.Mechanism is { Kind: MechanismKind.Secondary, Presumed: true });
        Assert.Contains("LVEF is 45 %", s.Mechanism.Basis, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("49436004", "Atrial fibrillation")]
    [InlineData("703272007", "Heart failure with reduced ejection fraction")]
    [InlineData("399020009", "Dilated cardiomyopathy")]
    public void AnUnrecordedMechanismIsPresumedSecondaryFromAQualifyingCondition(string code, string display)
    {
        var s = Snap(new Chart().Mr("severe", "2026-10-01").Lvef(60, "2026-10-01").Condition(Chart.Snomed, code, display));
        Assert.True(s.Mechanism is { Kind: MechanismKind.Secondary, Presumed: true });
        Assert.Contains(display, s.Mechanism.Basis, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInactiveConditionDoesNotSupportThePresumption()
    {
        var s = Snap(new Chart().Mr("severe", "2026-10-01").Lvef(60, "2026-10-01").Condition(Chart.Snomed, "49436004", "Atrial fibrillation", clinicalStatus: "resolved"));
        Assert.Equal(MechanismKind.Unknown, s.Mechanism.Kind);
    }

    [Fact]
    public void WithoutLowLvefOrAConditionTheMechanismIsUnknown()
    {
        Assert.Equal(MechanismKind.Unknown, Snap(new Chart().Mr("severe", "2026-10-01").Lvef(55, "2026-10-01")).Mechanism.Kind);
    }

    [Fact]
    public void AStaleLvefDoesNotSupportThePresumption()
    {
        Assert.Equal(MechanismKind.Unknown, Snap(new Chart().Mr("severe", "2026-10-01").Lvef(30, "2024-01-01")).Mechanism.Kind);
    }

    [Fact]
    public void GdmtIsClassifiedByRxNormProductAndIngredientFromStatementsAndRequests()
    {
        var s = Snap(new Chart()
            .Medication("200031", "carvedilol 6.25 MG Oral Tablet", "MedicationStatement")
            .Medication("29046", "lisinopril")
            .Medication("9997", "spironolactone", "MedicationStatement")
            .Medication("1545653", "empagliflozin"));
        Assert.Empty(s.Gdmt.Missing);
    }

    [Fact]
    public void InactiveMedicationsDoNotCount()
    {
        var s = Snap(new Chart().Medication("200031", "carvedilol", status: "stopped").Medication("9997", "spironolactone", "MedicationStatement", status: "completed"));
        Assert.Equal(4, s.Gdmt.Missing.Count);
    }

    [Fact]
    public void MetoprololWithoutItsSaltIsAmbiguousNotABetaBlocker()
    {
        var s = Snap(new Chart().Medication("6918", "metoprolol"));
        Assert.Contains(GdmtClass.BetaBlocker, s.Gdmt.Missing);
        Assert.Single(s.Gdmt.AmbiguousBetaBlocker);
    }

    [Fact]
    public void FinerenoneIsNotCountedAsAnHfrefMra()
    {
        Assert.Contains(GdmtClass.Mra, Snap(new Chart().Medication("2562816", "finerenone 10 MG Oral Tablet")).Gdmt.Missing);
    }

    [Fact]
    public void AContainedMedicationIsResolved()
    {
        var chart = new Chart().Add(new System.Text.Json.Nodes.JsonObject
        {
            ["resourceType"] = "MedicationRequest",
            ["id"] = "mr-contained",
            ["status"] = "active",
            ["intent"] = "order",
            ["contained"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
            {
                ["resourceType"] = "Medication", ["id"] = "med1", ["code"] = Chart.Concept(Chart.RxNorm, "313096", "spironolactone 25 MG Oral Tablet"),
            }),
            ["medicationReference"] = new System.Text.Json.Nodes.JsonObject { ["reference"] = "#med1" },
            ["subject"] = new System.Text.Json.Nodes.JsonObject { ["reference"] = "Patient/p1" },
        });
        Assert.DoesNotContain(GdmtClass.Mra, Snap(chart).Gdmt.Missing);
    }

    [Fact]
    public void ACompletedTeerIsAPriorMitralProcedureAndAPlannedOneIsNot()
    {
        Assert.Equal(MitralProcedureKind.Teer, Snap(new Chart().PriorTeer("2025-06-01")).PriorTeerOrRepair!.Kind);
        Assert.Null(Snap(new Chart().Procedure(Chart.Snomed, "459691000124101", "TEER", "2026-12-01", status: "preparation")).PriorTeerOrRepair);
    }

    [Fact]
    public void EveryValueCarriesItsResourceAndDate()
    {
        var s = Snap(new Chart().Lvef(35, "2026-10-01", id: "e1").Mr("severe", "2026-09-30", id: "m1"));
        Assert.Equal(("Observation/e1", "2026-10-01"), (s.Lvef!.Source, s.Lvef.DateText));
        Assert.Equal(("Observation/m1", "2026-09-30"), (s.Mr!.Source, s.Mr.DateText));
    }
}
