using System.Text.Json.Nodes;
using System.Xml.Linq;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Integration;

/// <summary>cdsmitral replay, as a process over an export on disk: the cards it says each patient would get are the cards
/// the service gives that patient, however the export orders and splits its lines; and its report adds up.</summary>
[Slow]
public sealed class ReplayTests
{
    private static string NewFolder() => Path.Combine(Path.GetTempPath(), "cdsmitral-replay-tests", Guid.NewGuid().ToString("N"));

    private static Dictionary<string, string[]> Rows(string csv) =>
        File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToDictionary(c => c[0], c => c);

    [Fact]
    public async Task EverySampleGetsFromReplayTheCardsTheServiceGivesItEvenFromAShuffledSplitExport()
    {
        // Each sample patient's resources as written (for 2026-11-21), shuffled and dealt over two files per type, with a
        // Practitioner that names no patient: a $export promises no order.
        var export = NewFolder();
        Directory.CreateDirectory(export);
        var lines = Directory.GetFiles(Repo.PathOf("samples", "patients"), "*.json")
            .SelectMany(f => JsonNode.Parse(File.ReadAllText(f))!["entry"]!.AsArray().Select(e => e!["resource"]!))
            .Select(r => ((string)r["resourceType"]!, r.ToJsonString()))
            .Append(("Practitioner", """{"resourceType":"Practitioner","id":"dr-1"}"""))
            .OrderBy(_ => Random.Shared.Next()).ToList();
        for (var i = 0; i < lines.Count; i++)
        {
            await File.AppendAllTextAsync(Path.Combine(export, $"{lines[i].Item1}.{i % 2}.ndjson"), lines[i].Item2 + "\n");
        }
        var report = NewFolder();
        var run = await CliProcess.RunAsync("replay", export, "--out", report, "--as-of", "2026-11-21");
        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        Assert.Contains("1 resources named no patient", run.Output, StringComparison.Ordinal);
        var replayed = Rows(Path.Combine(report, "patients.csv"));

        await using var service = new ServiceFactory(); // its clock reads 2026-11-21
        var samples = Directory.GetFiles(Repo.PathOf("samples", "requests"), "*.patient-view.prefetch.json");
        Assert.Equal(samples.Length, replayed.Count);
        foreach (var file in samples)
        {
            var request = JsonNode.Parse(await File.ReadAllTextAsync(file))!.AsObject();
            var answer = await service.PostAsync(Requests.PatientViewId, request);
            Assert.Equal(200, answer.Status);
            var patient = (string)request["context"]!["patientId"]!;
            var expected = string.Join(';', answer.Cards.Select(c => $"{c["source"]!["topic"]!["code"]}:{c["indicator"]}"));
            Assert.True(replayed.ContainsKey(patient), $"{patient} is not in the replay");
            Assert.Equal((Path.GetFileName(file), expected), (Path.GetFileName(file), replayed[patient][3].Trim('"')));
        }
    }

    [Fact]
    public async Task AGeneratedPopulationIsReplayedAndTheReportAddsUp()
    {
        var export = NewFolder();
        var made = await CliProcess.RunAsync("population", export, "--patients", "400", "--seed", "3");
        Assert.True(made.ExitCode == 0, made.Error);
        Assert.Contains("400 patients", made.Output, StringComparison.Ordinal);
        var again = await CliProcess.RunAsync("population", export, "--patients", "10");
        Assert.Equal(2, again.ExitCode); // not over a population already there
        Assert.Contains("not empty", again.Error, StringComparison.Ordinal);

        var report = NewFolder();
        var run = await CliProcess.RunAsync("replay", export, "--out", report);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("patients/s", run.Output, StringComparison.Ordinal);
        var patients = Rows(Path.Combine(report, "patients.csv"));
        Assert.Equal(400, patients.Count);
        var withCards = patients.Values.Count(p => p[3].Length > 0);
        Assert.InRange(withCards, 1, 399); // the samples mix charts with and without cards

        var rules = File.ReadAllLines(Path.Combine(report, "rules.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(withCards.ToString(System.Globalization.CultureInfo.InvariantCulture), rules.Single(r => r[0] == "any card")[3]);
        foreach (var rule in rules.Where(r => r[0] != "any card"))
        {
            var shown = patients.Values.Count(p => p[3].Split(';').Any(c => c.StartsWith(rule[0] + ":", StringComparison.Ordinal)));
            Assert.Equal((rule[0], shown.ToString(System.Globalization.CultureInfo.InvariantCulture)), (rule[0], rule[3]));
        }
        var svg = XDocument.Load(Path.Combine(report, "rules.svg"));
        Assert.Equal(rules.Count, svg.Descendants(XName.Get("rect", "http://www.w3.org/2000/svg")).Count() - 1); // bars + background
    }

    [Fact]
    public async Task AbsoluteReferencesAreFollowedAndAHostilePatientIdIsWrittenAsData()
    {
        // An EHR's export may reference the patient by absolute URL; a patient id is the EHR's, not ours to trust.
        var export = NewFolder();
        Directory.CreateDirectory(export);
        const string hostile = "=HYPERLINK(\"https://evil.example\",\"x\")";
        var bundle = JsonNode.Parse(await File.ReadAllTextAsync(Repo.PathOf("samples", "patients", "coapt-profile.json")))!;
        var lines = bundle["entry"]!.AsArray().Select(e => e!["resource"]!.ToJsonString()
            .Replace("\"Patient/coapt-profile\"", "\"https://ehr.example.org/fhir/Patient/abs-1\"", StringComparison.Ordinal)
            .Replace("\"id\":\"coapt-profile\"", "\"id\":\"abs-1\"", StringComparison.Ordinal)).ToList();
        lines.Add(System.Text.Json.JsonSerializer.Serialize(new { resourceType = "Patient", id = hostile }));
        await File.WriteAllLinesAsync(Path.Combine(export, "all.ndjson"), lines);
        var report = NewFolder();
        var run = await CliProcess.RunAsync("replay", export, "--out", report, "--as-of", "2026-11-21");
        Assert.True(run.ExitCode == 0, run.Error);
        var csv = await File.ReadAllTextAsync(Path.Combine(report, "patients.csv"));
        Assert.Matches(@"(?m)^abs-1,\d+,smr-coapt-profile@", csv); // found through its absolute references
        Assert.Contains("\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"x\"\")\"", csv, StringComparison.Ordinal); // quoted, and never a formula
    }

    [Theory]
    [InlineData("no-such-folder", "is not a folder")]
    [InlineData("", "holds no *.ndjson files")]
    public async Task ReplayRefusesWhatIsNotAnExport(string name, string message)
    {
        var folder = NewFolder();
        Directory.CreateDirectory(folder);
        var run = await CliProcess.RunAsync("replay", name.Length == 0 ? folder : Path.Combine(folder, name));
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
    }
}
