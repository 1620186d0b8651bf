using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CdsMitral.Cards;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Snapshot;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Generated;

/// <summary>
/// docs/card-review.md: every card the rules can produce, once per distinct wording, each with the chart that gives it, so
/// that a cardiologist can read the whole product's text in one sitting (issue 22, item 5). The scenarios below walk every
/// wording branch of every rule; two scenarios whose cards differ only in numbers, dates and resource ids are one wording.
/// Regenerate with <c>CDSMITRAL_WRITE_GOLDEN=1 dotnet test tests/CdsMitral.Tests --filter "FullyQualifiedName~Generated"</c>:
/// the test fails whenever a wording changes and the page does not.
/// </summary>
public sealed partial class CardReviewTests
{
    private static readonly Terminology.Terminology T = Terminology.Terminology.Embedded;
    private static readonly HookEvaluation Pipeline =
        new(new SnapshotBuilder(T, new ClinicalOptions()), new CardBuilder(T, Content.ContentCatalog.Embedded), T);
    private const string D = "2026-10-01";

    /// <summary>One chart the reviewer reads, in words, and what it is run through.</summary>
    private sealed record Scenario(string Chart, Chart Record, string Hook = Hook.PatientView, JsonObject[]? Orders = null);

    private static Chart Mr(string grade = "severe", string? mechanism = "secondary-ventricular") => new Chart().Mr(grade, D, mechanism);

    private static Chart Window(Chart c, decimal lvef = 32, decimal lvesd = 58, decimal pasp = 45) => c.Lvef(lvef, D).Lvesd(lvesd, D).Pasp(pasp, D);

    private static Chart Carvedilol(Chart c) => c.Medication("200031", "carvedilol 6.25 MG Oral Tablet");

    private static Chart ThreePillars(Chart c) =>
        Carvedilol(c).Medication("1656340", "sacubitril 24 MG / valsartan 26 MG Oral Tablet").Medication("313096", "spironolactone 25 MG Oral Tablet");

    private static JsonObject Teer() => Requests.TeerOrder();

    private static JsonObject Cabg() => Requests.ServiceRequest("cabg-1", "http://www.ama-assn.org/go/cpt", "33533", "Coronary artery bypass, using arterial graft(s); single arterial graft", category: "387713003");

    private static JsonObject Cholecystectomy() =>
        Requests.ServiceRequest("surgery-1", Chart.Snomed, "38102005", "Cholecystectomy", category: "387713003");

    private static JsonObject Comparator(string comparator, decimal value) =>
        new() { ["valueQuantity"] = new JsonObject { ["comparator"] = comparator, ["value"] = value, ["unit"] = "%", ["system"] = Chart.Ucum, ["code"] = "%" } };

    private static IEnumerable<Scenario> Scenarios()
    {
        const string window = "LVEF 32 %, LVESD 58 mm, PASP 45 mmHg";
        yield return new($"Severe ventricular secondary MR, {window}; all four GDMT classes", Window(Mr()).FullGdmt());
        yield return new($"Severe ventricular secondary MR, {window}; no SGLT2 inhibitor", Window(ThreePillars(Mr())));
        yield return new($"Severe ventricular secondary MR, {window}; only carvedilol", Window(Carvedilol(Mr())));
        yield return new($"Severe MR, mechanism not recorded, {window}; all four GDMT classes", Window(Mr(mechanism: null)).FullGdmt());
        yield return new($"Moderate-severe ventricular secondary MR, {window}; all four GDMT classes", Window(Mr("moderate-severe")).FullGdmt());
        yield return new($"Moderate-severe ventricular secondary MR, {window}; no SGLT2 inhibitor", Window(ThreePillars(Mr("moderate-severe"))));
        yield return new($"Severe ventricular secondary MR, {window}, NYHA I; all four GDMT classes", Window(Mr()).FullGdmt().Nyha("LA28404-4", D));
        yield return new($"Severe ventricular secondary MR, {window}, EROA 0.45 cm², LVEDV 190 mL; all four GDMT classes", Window(Mr()).FullGdmt().Eroa(0.45m, D).Lvedv(190, D));
        yield return new($"TEER on 2025-03-14; severe ventricular secondary MR on a later echo, {window}; all four GDMT classes", Window(Mr()).FullGdmt().PriorTeer("2025-03-14"));
        yield return new($"TEER on 2026-10-20, after the echo that showed severe MR, {window}; all four GDMT classes", Window(Mr()).FullGdmt().PriorTeer("2026-10-20"));
        yield return new($"Severe ventricular secondary MR, {window}; metoprolol without its salt, and the other three classes",
            Window(Mr()).Medication("6918", "metoprolol").Medication("1656340", "sacubitril/valsartan").Medication("313096", "spironolactone").Medication("1488574", "dapagliflozin"));
        yield return new($"Severe ventricular secondary MR, {window}; finerenone instead of an MRA",
            Window(Mr()).Medication("200031", "carvedilol").Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin").Medication("2562816", "finerenone 10 MG Oral Tablet"));
        yield return new($"Severe ventricular secondary MR, {window}; spironolactone only planned, and an uncoded outside-pharmacy drug",
            Window(Mr()).Medication("200031", "carvedilol").Medication("1656340", "sacubitril/valsartan").Medication("1488574", "dapagliflozin")
                .Add(Planned("313096", "spironolactone 25 MG Oral Tablet")).Add(Uncoded("Inspra 25mg (outside pharmacy)")));
        yield return new("Severe ventricular secondary MR, LVEF 15 %, LVESD 58 mm, PASP 45 mmHg; all four GDMT classes", Window(Mr(), lvef: 15).FullGdmt());
        yield return new("Severe ventricular secondary MR, LVEF 32 %, LVESD 74 mm, PASP 45 mmHg; all four GDMT classes", Window(Mr(), lvesd: 74).FullGdmt());
        yield return new("Severe ventricular secondary MR, LVEF 32 %, LVESD 58 mm, PASP 75 mmHg; all four GDMT classes", Window(Mr(), pasp: 75).FullGdmt());
        yield return new("Severe atrial secondary MR, LVEF 60 %, LVESD 40 mm, PASP 40 mmHg", Window(Mr(mechanism: "secondary-atrial"), 60, 40, 40));
        yield return new("Severe ventricular secondary MR, LVEF 15 %, LVESD 74 mm, PASP 75 mmHg; all four GDMT classes", Window(Mr(), 15, 74, 75).FullGdmt());
        yield return new("Severe ventricular secondary MR, no LVEF, LVESD or PASP on record; all four GDMT classes", Mr().FullGdmt());
        yield return new("Severe ventricular secondary MR, LVEF from 2024, LVESD 58 mm, PASP 45 mmHg; all four GDMT classes", Mr().Lvef(32, "2024-05-02").Lvesd(58, D).Pasp(45, D).FullGdmt());
        yield return new("Severe ventricular secondary MR, LVEF 120 % (implausible), LVESD 58 mm, PASP 45 mmHg; all four GDMT classes", Window(Mr(), lvef: 120).FullGdmt());
        yield return new("Severe ventricular secondary MR, two LVEFs (32 % and 40 %) on one date without times, LVESD 58 mm, PASP 45 mmHg; all four GDMT classes",
            Mr().Lvef(32, D).Lvef(40, D).Lvesd(58, D).Pasp(45, D).FullGdmt());
        yield return new("Severe ventricular secondary MR, LVEF \"<25 %\", LVESD 58 mm, PASP 45 mmHg; all four GDMT classes",
            Mr().Observation(Chart.Loinc, "18043-0", D, Comparator("<", 25)).Lvesd(58, D).Pasp(45, D).FullGdmt());
        yield return new("Severe ventricular secondary MR, LVEF written as text \"35-40%\", LVESD 58 mm, PASP 45 mmHg; all four GDMT classes",
            Mr().Observation(Chart.Loinc, "18043-0", D, new JsonObject { ["valueString"] = "35-40%" }).Lvesd(58, D).Pasp(45, D).FullGdmt());
        yield return new("Severe MR, mechanism not recorded, LVEF 58 %, LVESD 42 mm, PASP 38 mmHg, no diagnosis that explains it", Window(Mr(mechanism: null), 58, 42, 38));
        yield return new($"Two MR assessments of one echo, one primary and one secondary; {window}; all four GDMT classes",
            Window(new Chart().Mr("severe", D, "primary").Mr("severe", D, "secondary-ventricular")).FullGdmt());
        yield return new("Severe secondary MR from 2024, LVEF 32 %, LVESD 58 mm, PASP 45 mmHg current; all four GDMT classes",
            Window(new Chart().Mr("severe", "2024-05-02", "secondary-ventricular")).FullGdmt());
        yield return new("TEER on 2025-06-01; mild MR; LVEF 35 %", new Chart().PriorTeer("2025-06-01").Mr("mild", D, "secondary-ventricular").Lvef(35, D).FullGdmt());
        yield return new("Surgical mitral repair in 2024 for primary MR; moderate MR; LVEF 40 %",
            new Chart().Procedure(Chart.Snomed, "384641003", "Repair of mitral valve", "2024-03-01").Mr("moderate", D, "primary").Lvef(40, D));
        yield return new($"Severe ventricular secondary MR, {window}; all four GDMT classes; TEER ordered", Window(Mr()).FullGdmt(), Hook.OrderSelect, [Teer()]);
        yield return new("No MR assessment on record; TEER ordered", new Chart(), Hook.OrderSelect, [Teer()]);
        yield return new("Severe MR, mechanism not recorded, LVEF 58 %, no LVESD or PASP; TEER ordered", Mr(mechanism: null).Lvef(58, D), Hook.OrderSelect, [Teer()]);
        yield return new($"Severe ventricular secondary MR, {window}; only carvedilol; TEER ordered", Window(Carvedilol(Mr())), Hook.OrderSelect, [Teer()]);
        yield return new("Severe ventricular secondary MR, LVEF 32 %, LVESD 74 mm, PASP 45 mmHg; all four GDMT classes; TEER and a cholecystectomy being signed",
            Window(Mr(), lvesd: 74).FullGdmt(), Hook.OrderSign, [Teer(), Cholecystectomy()]);
        yield return new("Severe ventricular secondary MR, LVEF 32 %, no LVESD or PASP; all four GDMT classes; TEER ordered", Mr().Lvef(32, D).FullGdmt(), Hook.OrderSelect, [Teer()]);
        yield return new($"Severe ventricular secondary MR, {window}; all four GDMT classes; CABG ordered", Window(Mr()).FullGdmt(), Hook.OrderSelect, [Cabg()]);
        yield return new("TEER on 2025-06-01; mild MR; LVEF 35 %; a cholecystectomy ordered",
            new Chart().PriorTeer("2025-06-01").Mr("mild", D).Lvef(35, D).FullGdmt(), Hook.OrderSelect, [Cholecystectomy()]);
        yield return new($"Severe ventricular secondary MR, {window}; only carvedilol; CABG and a cholecystectomy being signed",
            Window(Carvedilol(Mr())), Hook.OrderSign, [Cabg(), Cholecystectomy()]);
        yield return new("Severe ventricular secondary MR, LVEF 25 %; cardiogenic shock on record", Mr().Lvef(25, D).Condition(Chart.Snomed, "89138009", "Cardiogenic shock"));
        yield return new("Severe ventricular secondary MR, LVEF 25 %; intra-aortic balloon pump in progress",
            Mr().Lvef(25, D).Procedure(Chart.Snomed, "399217008", "Intra-aortic balloon pump", D, "in-progress"));
        yield return new("Severe ventricular secondary MR, LVEF 25 %; cardiogenic shock and VA-ECMO in progress; TEER ordered",
            Mr().Lvef(25, D).Condition(Chart.Snomed, "89138009", "Cardiogenic shock").Procedure(Chart.Snomed, "786451004", "VA-ECMO", D, "in-progress"), Hook.OrderSelect, [Teer()]);
    }

    /// <summary>Charts on which the service says nothing, and why, for the reviewer to check the silence too.</summary>
    private static IEnumerable<Scenario> Silences()
    {
        const string window = "LVEF 32 %, LVESD 58 mm, PASP 45 mmHg";
        yield return new($"Severe ventricular secondary MR, {window}; the patient recorded as deceased", Window(Mr()).FullGdmt().Patient("1948-02-11", deceasedOn: "2026-11-19"));
        yield return new($"Severe ventricular secondary MR, {window}; a 16-year-old", Window(Mr()).FullGdmt().Patient("2010-03-02"));
        yield return new($"Severe primary MR, {window}", Window(Mr(mechanism: "primary")));
        yield return new("Mild secondary MR, LVEF 40 %", Mr("mild").Lvef(40, D));
        yield return new($"Severe ventricular secondary MR, {window}; a TEER order of another patient being signed", Window(Mr()).FullGdmt(), Hook.OrderSign, [Requests.TeerOrder(patientId: "someone-else")]);
    }

    private static JsonObject Planned(string rxcui, string display) => new()
    {
        ["resourceType"] = "MedicationRequest", ["id"] = "planned-1", ["status"] = "active", ["intent"] = "plan",
        ["medicationCodeableConcept"] = Chart.Concept(Chart.RxNorm, rxcui, display), ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
    };

    private static JsonObject Uncoded(string text) => new()
    {
        ["resourceType"] = "MedicationStatement", ["id"] = "uncoded-1", ["status"] = "active",
        ["medicationCodeableConcept"] = new JsonObject { ["text"] = text }, ["subject"] = new JsonObject { ["reference"] = "Patient/p1" },
    };

    private static HookOutcome Run(Scenario s)
    {
        var orders = s.Orders ?? [];
        var context = new HookContext("Practitioner/example", "p1", null, s.Hook == Hook.OrderSelect ? orders.Select(o => $"ServiceRequest/{o["id"]}").ToList() : [],
            orders.Length == 0 ? null : System.Text.Json.JsonSerializer.SerializeToElement(Chart.Bundle(orders, "collection")));
        return Pipeline.Evaluate(s.Hook, context, s.Record.Record(), ServiceFactory.Today, "https://cds.example.org", Guid.NewGuid);
    }

    /// <summary>The wording without what changes from chart to chart: numbers, dates and resource references.</summary>
    private static string Wording(Card card) => Variable().Replace($"{card.Summary}\n{card.Detail}", "#");

    [GeneratedRegex(@"(Observation|MedicationRequest|MedicationStatement|Condition|Procedure|ServiceRequest|Patient)/[A-Za-z0-9\-.]+(\.component\[\d+\])?|\d+(\.\d+)?")]
    private static partial Regex Variable();

    [Fact]
    public void TheReviewPageShowsEveryWordingOfEveryCardWithTheChartThatGivesIt()
    {
        var seen = new Dictionary<string, (int Number, List<string> Charts)>(StringComparer.Ordinal);
        var byRule = SecondaryMrRules.All.ToDictionary(r => r.Id, _ => new List<(int Number, Scenario Scenario, Card Card)>());
        var number = 0;
        foreach (var scenario in Scenarios())
        {
            var outcome = Run(scenario);
            Assert.True(outcome.Cards.Count > 0, $"no card for \"{scenario.Chart}\"");
            foreach (var card in outcome.Cards)
            {
                var rule = HookEvaluation.RuleOf(card);
                if (seen.TryGetValue($"{rule}\n{Wording(card)}", out var earlier))
                {
                    earlier.Charts.Add(scenario.Chart);
                    continue;
                }
                seen[$"{rule}\n{Wording(card)}"] = (++number, [scenario.Chart]);
                byRule[rule].Add((number, scenario, card));
            }
        }
        Assert.All(byRule, r => Assert.True(r.Value.Count > 0, $"no scenario gives {r.Key}"));

        var md = new StringBuilder();
        md.Append("# Every card, for clinical review\n\n")
            .Append("<!-- Generated by tests/CdsMitral.Tests/Generated/CardReviewTests.cs (service clock 2026-11-21); do not edit. Regenerate: ")
            .Append("CDSMITRAL_WRITE_GOLDEN=1 dotnet test tests/CdsMitral.Tests --filter \"FullyQualifiedName~Generated\" -->\n\n")
            .Append($"Rule set {SecondaryMrRules.RuleSetVersion}. Each card the rules can produce, once per distinct wording (cards that differ only in ")
            .Append("numbers, dates and resource ids are one wording), with the chart that gives it. Read the **summary** first, as it appears alone ")
            .Append("in an EHR side panel; the detail below it is what opens on a click. Where the same wording comes from other charts, they are listed. ")
            .Append("The thresholds are in `src/CdsMitral/Clinical/Thresholds.cs` and every evidence statement in `src/CdsMitral/Clinical/Evidence.cs`; ")
            .Append("[clinical-logic.md](clinical-logic.md) says where each was read.\n");
        foreach (var rule in SecondaryMrRules.All)
        {
            md.Append($"\n## `{rule.Id}` {rule.Title} (version {rule.Version})\n");
            foreach (var (n, scenario, card) in byRule[rule.Id])
            {
                var others = seen[$"{rule.Id}\n{Wording(card)}"].Charts.Skip(1).ToList();
                md.Append($"\n### {n}. {scenario.Chart}\n\n")
                    .Append($"*{scenario.Hook}*{(scenario.Orders is { Length: > 0 } o ? $", orders: {string.Join(", ", o.Select(x => (string?)x["code"]?["text"]))}" : "")} · `{card.Indicator}`\n\n")
                    .Append($"**Summary:** {card.Summary}\n\n")
                    .Append(string.Join("\n", (card.Detail ?? "").Split('\n').Select(line => line.Length == 0 ? ">" : $"> {line}"))).Append('\n');
                if (others.Count > 0)
                {
                    md.Append($"\nThe same wording: {string.Join("; ", others)}.\n");
                }
            }
        }
        md.Append("\n## Silence\n\nThese charts give no card; the audit record of the call says why.\n\n");
        foreach (var scenario in Silences())
        {
            var outcome = Run(scenario);
            Assert.Empty(outcome.Cards);
            var why = SecondaryMrRules.Silence(outcome.Snapshot) ?? outcome.Evaluation.Outcomes.First(o => o.Criteria is { Count: > 0 }).Reason;
            md.Append($"- {scenario.Chart} (*{scenario.Hook}*): {why}\n");
        }
        GeneratedFiles.Check("docs/card-review.md", md.ToString().TrimEnd() + "\n");
    }
}
