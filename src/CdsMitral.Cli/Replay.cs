using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CdsMitral.Cards;
using CdsMitral.Content;
using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Snapshot;

namespace CdsMitral.Cli;

/// <summary>One patient through the rules: what fired (rule and version) and which cards an answer would hold.</summary>
public sealed record ReplayedPatient(string PatientId, int Resources, IReadOnlyList<(string Rule, string Version)> Fired,
    IReadOnlyList<(string Rule, string Indicator)> Cards, int Findings);

/// <summary>
/// What the rules would do to a population, before go-live: a FHIR Bulk Data export (`$export`: NDJSON files, one
/// resource a line, any number of files per type, in no particular order) run patient by patient through the service's
/// own evaluation — the patient-view service's prefetch templates evaluated against the patient's resources (as the EHR
/// would answer them), then snapshot, rules and cards, with the per-answer card limit.
/// <para>Memory stays flat in the population's size: a first pass deals each line into one of a number of shard files
/// by its patient (the export's size over <see cref="ShardBytes"/>), and the second evaluates one shard per core, whole
/// patients at a time. Medications, which name no patient, are kept in memory (a formulary, not a population).</para>
/// </summary>
public sealed class Replay(DateTimeOffset now, int maxCards)
{
    /// <summary>About this much of the export per shard: what one core holds at a time, parsed.</summary>
    public const long ShardBytes = 32L * 1024 * 1024;

    /// <summary>The patient-view service's prefetch templates, as discovery gives them: built once, only read after.</summary>
    private readonly JsonObject _templates = new(CdsServices.All(Terminology.Terminology.Embedded).Single(s => s.Hook == Hook.PatientView)
        .Prefetch.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Query))));
    private readonly HookEvaluation _evaluation = Evaluation();
    private readonly ConcurrentDictionary<string, string> _medications = new(StringComparer.Ordinal);

    private static HookEvaluation Evaluation()
    {
        var terminology = Terminology.Terminology.Embedded;
        var snapshots = new SnapshotBuilder(terminology, new ClinicalOptions());
        return new HookEvaluation(snapshots, new CardBuilder(terminology, ContentCatalog.Embedded), terminology);
    }

    /// <summary>Lines that named no patient and are not a Medication (Practitioner, Organization…): not evaluated.</summary>
    public long Unattributed { get; private set; }

    public static IReadOnlyList<string> ExportFiles(string folder) => Directory.Exists(folder)
        ? [.. Directory.EnumerateFiles(folder, "*.ndjson").Order(StringComparer.Ordinal)]
        : throw new CliException(CliException.BadInput, $"{folder} is not a folder (a Bulk Data export: *.ndjson files).");

    /// <summary>Deals every line of <paramref name="files"/> into shard files in <paramref name="work"/> by patient;
    /// returns their paths. <paramref name="progress"/> is told the bytes read.</summary>
    public IReadOnlyList<string> Shard(IReadOnlyList<string> files, string work, Action<long> progress)
    {
        var total = files.Sum(f => new FileInfo(f).Length);
        // Enough shards to keep every core busy, and each about ShardBytes at most.
        var count = (int)Math.Clamp(Math.Max(total / ShardBytes + 1, Environment.ProcessorCount * 4L), 1, 4096);
        Directory.CreateDirectory(work);
        var paths = Enumerable.Range(0, count).Select(i => Path.Combine(work, $"shard-{i:D4}.tsv")).ToList();
        var writers = paths.Select(p => new StreamWriter(p, false, new UTF8Encoding(false), 64 * 1024)).ToList();
        try
        {
            foreach (var file in files)
            {
                using var reader = new StreamReader(file, Encoding.UTF8, false, 64 * 1024);
                while (reader.ReadLine() is { } line)
                {
                    var utf8 = Encoding.UTF8.GetBytes(line); // once, for the progress and the reader
                    progress(utf8.Length + 1);
                    if (line.Length == 0)
                    {
                        continue;
                    }
                    var (type, id, patient) = Identify(utf8);
                    if (type == "Medication" && id is not null)
                    {
                        _medications[id] = line;
                    }
                    else if (patient is null)
                    {
                        Unattributed++;
                    }
                    else
                    {
                        // Stable within the run, which is all a shard needs.
                        var shard = (int)((uint)StringComparer.Ordinal.GetHashCode(patient) % (uint)count);
                        writers[shard].Write(patient);
                        writers[shard].Write('\t');
                        writers[shard].WriteLine(line);
                    }
                }
            }
        }
        finally
        {
            writers.ForEach(w => w.Dispose());
        }
        return paths;
    }

    /// <summary>A line's resource type, id and patient (its own id for a Patient; else subject or patient, read from
    /// "Patient/x" or an absolute URL ending so), from the top level only.</summary>
    public static (string? Type, string? Id, string? Patient) Identify(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        string? type = null, id = null, patient = null;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return (null, null, null);
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("resourceType"u8) && reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    type = reader.GetString();
                }
                else if (reader.ValueTextEquals("id"u8) && reader.Read() && reader.TokenType == JsonTokenType.String)
                {
                    id = reader.GetString();
                }
                else if ((reader.ValueTextEquals("subject"u8) || reader.ValueTextEquals("patient"u8)) && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("reference"u8) && reader.Read() && reader.TokenType == JsonTokenType.String
                            && reader.GetString() is { } reference && reference.LastIndexOf("Patient/", StringComparison.Ordinal) is var at and >= 0)
                        {
                            patient ??= reference[(at + "Patient/".Length)..];
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return (null, null, null); // a line that is not JSON is no patient's
        }
        return (type, id, type == "Patient" ? id : patient);
    }

    /// <summary>Evaluates every patient of one shard, handing each result to <paramref name="done"/>.</summary>
    public void Evaluate(string shard, Action<ReplayedPatient> done)
    {
        var patients = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        using (var reader = new StreamReader(shard, Encoding.UTF8, false, 64 * 1024))
        {
            while (reader.ReadLine() is { } line)
            {
                var tab = line.IndexOf('\t', StringComparison.Ordinal);
                var patient = line[..tab];
                if (!patients.TryGetValue(patient, out var lines))
                {
                    patients[patient] = lines = [];
                }
                lines.Add(line[(tab + 1)..]);
            }
        }
        foreach (var (patient, lines) in patients)
        {
            done(EvaluatePatient(patient, lines));
        }
    }

    private ReplayedPatient EvaluatePatient(string patientId, List<string> lines)
    {
        var resources = new List<JsonObject>(lines.Count + 2);
        foreach (var line in lines)
        {
            if (JsonNode.Parse(line) is JsonObject resource)
            {
                resources.Add(resource);
            }
        }
        // The Medications its orders name: an EHR includes them with the search (_include), as the templates ask.
        foreach (var reference in resources.Select(r => (string?)r["medicationReference"]?["reference"]).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            if (reference.StartsWith("Medication/", StringComparison.Ordinal) && _medications.TryGetValue(reference["Medication/".Length..], out var medication)
                && JsonNode.Parse(medication) is JsonObject found)
            {
                resources.Add(found);
            }
        }
        var prefetch = LocalPrefetch.Evaluate(_templates, new PatientBundle("replay", patientId, resources), "Practitioner/replay");
        using var document = JsonDocument.Parse(prefetch.ToJsonString());
        var raw = new List<RawResource>();
        foreach (var key in document.RootElement.EnumerateObject())
        {
            if (key.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }
            if (key.Value.TryGetProperty("entry", out var entries) && key.Value.TryGetProperty("resourceType", out var type) && type.ValueEquals("Bundle"u8))
            {
                foreach (var entry in entries.EnumerateArray())
                {
                    if (entry.TryGetProperty("resource", out var resource) && RawResource.From(resource) is { } r)
                    {
                        raw.Add(r);
                    }
                }
            }
            else if (RawResource.From(key.Value) is { } r)
            {
                raw.Add(r);
            }
        }
        var context = new HookContext("Practitioner/replay", patientId, null, [], null);
        var outcome = _evaluation.Evaluate(Hook.PatientView, context, new PatientRecord(patientId, raw, [], []), now, "https://replay.invalid", Guid.NewGuid);
        outcome = HookEvaluation.StandBack(outcome, new Dictionary<string, string>(), maxCards);
        return new ReplayedPatient(patientId, resources.Count,
            [.. outcome.Evaluation.Outcomes.Where(o => o.Fired).Select(o => (o.RuleId, o.Version))],
            [.. outcome.Cards.Select(c => (HookEvaluation.RuleOf(c), c.Indicator))],
            outcome.Snapshot.Findings.Count);
    }
}
