using System.Text.Json.Nodes;

namespace CdsMitral.Cli;

/// <summary>A patient given on the command line: a sample name (samples/patients/NAME.json) or a Bundle file.</summary>
public sealed record PatientBundle(string Source, string PatientId, IReadOnlyList<JsonObject> Resources)
{
    /// <param name="asOf">For a sample (samples/patients/), the day its dates are moved to as if written then (see
    /// <see cref="SampleDates"/>); null keeps them as written.</param>
    public static PatientBundle Load(string nameOrFile, string? patientId = null, DateOnly? asOf = null)
    {
        var (file, text, isSample) = Read(nameOrFile);
        JsonNode? json;
        try
        {
            json = JsonNode.Parse(text);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CliException(CliException.BadInput, $"{file} is not readable JSON: {e.Message}");
        }
        if (json is not JsonObject bundle || (string?)bundle["resourceType"] != "Bundle" || bundle["entry"] is not JsonArray entries)
        {
            throw new CliException(CliException.BadInput, $"{file} is not a FHIR Bundle with entries.");
        }
        var resources = entries.Select(e => e?["resource"] as JsonObject).OfType<JsonObject>().ToList();
        if (isSample && asOf is { } day)
        {
            resources.ForEach(r => SampleDates.Shift(r, SampleDates.DaysFrom(day)));
        }
        var id = patientId ?? resources.Where(r => (string?)r["resourceType"] == "Patient").Select(r => (string?)r["id"]).FirstOrDefault()
            ?? throw new CliException(CliException.BadInput, $"{file} holds no Patient resource; give --patient-id.");
        return new PatientBundle(file, id, resources);
    }

    /// <summary>A file as given; else a sample of a samples/patients/ folder above the working directory (the repo's,
    /// as edited); else the sample built into the CLI, so an installed tool knows the names anywhere.</summary>
    private static (string Source, string Text, bool IsSample) Read(string nameOrFile)
    {
        if (File.Exists(nameOrFile))
        {
            var full = Path.GetFullPath(nameOrFile);
            var isSample = Path.GetFileName(Path.GetDirectoryName(full)) == "patients"
                && Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(full))) == "samples";
            try
            {
                return (nameOrFile, File.ReadAllText(nameOrFile), isSample);
            }
            catch (IOException e)
            {
                throw new CliException(CliException.BadInput, $"{nameOrFile} is not readable: {e.Message}");
            }
        }
        var name = nameOrFile.EndsWith(".json", StringComparison.Ordinal) ? nameOrFile : nameOrFile + ".json";
        if (name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal))
        {
            throw new CliException(CliException.BadInput, $"'{nameOrFile}' is neither a file nor a sample name. Samples: {string.Join(", ", Samples.Names)}.");
        }
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "samples", "patients", name);
            if (File.Exists(candidate))
            {
                return (candidate, File.ReadAllText(candidate), true);
            }
        }
        return Samples.Read(name) is { } text
            ? (name, text, true)
            : throw new CliException(CliException.BadInput, $"'{nameOrFile}' is neither a file nor a sample name. Samples: {string.Join(", ", Samples.Names)}.");
    }
}

/// <summary>The sample patients (samples/patients/*.json), built into the CLI as resources.</summary>
public static class Samples
{
    private const string Prefix = "samples/patients/";

    public static IReadOnlyList<string> Names { get; } = [.. typeof(Samples).Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        .Select(n => Path.GetFileNameWithoutExtension(n[Prefix.Length..]))
        .Order(StringComparer.Ordinal)];

    public static string? Read(string fileName)
    {
        using var stream = typeof(Samples).Assembly.GetManifestResourceStream(Prefix + fileName);
        return stream is null ? null : new StreamReader(stream).ReadToEnd();
    }
}

/// <summary>Runs a service's prefetch templates against a bundle, as an EHR would against its own data: read by id, or
/// search by type with the parameters CdsMitral's templates use (patient, code as system|code OR lists, status).</summary>
public static class LocalPrefetch
{
    public static JsonObject Evaluate(JsonObject templates, PatientBundle patient, string userId)
    {
        var prefetch = new JsonObject();
        foreach (var (key, value) in templates)
        {
            var template = ((string?)value ?? "")
                .Replace("{{context.patientId}}", patient.PatientId, StringComparison.Ordinal)
                .Replace("{{context.userId}}", userId, StringComparison.Ordinal);
            prefetch[key] = template.Contains('?', StringComparison.Ordinal) ? Search(template, patient) : Read(template, patient);
        }
        return prefetch;
    }

    private static JsonNode? Read(string reference, PatientBundle patient)
    {
        var parts = reference.Split('/');
        return patient.Resources.FirstOrDefault(r => (string?)r["resourceType"] == parts[0] && (string?)r["id"] == parts[^1])?.DeepClone();
    }

    private static JsonObject Search(string template, PatientBundle patient)
    {
        var type = template[..template.IndexOf('?', StringComparison.Ordinal)];
        IEnumerable<JsonObject> hits = patient.Resources.Where(r => (string?)r["resourceType"] == type);
        var include = false;
        foreach (var parameter in template[(type.Length + 1)..].Split('&'))
        {
            var (name, value) = (parameter.Split('=')[0], Uri.UnescapeDataString(parameter[(parameter.IndexOf('=', StringComparison.Ordinal) + 1)..]));
            include |= name == "_include";
            hits = name switch
            {
                // "Patient/x", or an absolute reference ending so (a Bulk Data export writes them as the server has them).
                "patient" => hits.Where(r => ((string?)r["subject"]?["reference"] ?? (string?)r["patient"]?["reference"]) is { } reference
                    && (reference == $"Patient/{value}" || reference.EndsWith($"/Patient/{value}", StringComparison.Ordinal))),
                "code" => hits.Where(r => value.Split(',').Any(token => HasCoding(r["code"], token))),
                "component-code" => hits.Where(r => r["component"] is JsonArray parts && value.Split(',').Any(token => parts.Any(c => HasCoding(c?["code"], token)))),
                "status" => hits.Where(r => value.Split(',').Contains((string?)r["status"])),
                "_sort" or "_count" => hits,
                "_include" when value == $"{type}:medication" => hits,
                _ => throw new CliException(CliException.BadInput, $"The template '{template}' uses '{name}', which this client cannot evaluate against a file; use --fhir."),
            };
        }
        var entries = hits.Select(r => new JsonObject { ["resource"] = r.DeepClone(), ["search"] = new JsonObject { ["mode"] = "match" } }).ToList();
        var total = entries.Count;
        if (include)
        {
            var referenced = entries.Select(e => (string?)e["resource"]?["medicationReference"]?["reference"]).OfType<string>().ToHashSet();
            entries.AddRange(patient.Resources.Where(r => (string?)r["resourceType"] == "Medication" && referenced.Contains($"Medication/{r["id"]}"))
                .Select(r => new JsonObject { ["resource"] = r.DeepClone(), ["search"] = new JsonObject { ["mode"] = "include" } }));
        }
        var bundle = new JsonObject { ["resourceType"] = "Bundle", ["type"] = "searchset", ["total"] = total };
        if (entries.Count > 0)
        {
            // FHIR JSON has no empty arrays: a search without results has no entry at all.
            bundle["entry"] = new JsonArray(entries.ToArray<JsonNode>());
        }
        return bundle;
    }

    private static bool HasCoding(JsonNode? concept, string token)
    {
        var bar = token.IndexOf('|', StringComparison.Ordinal);
        var (system, code) = bar < 0 ? (null, token) : (token[..bar], token[(bar + 1)..]);
        return concept?["coding"] is JsonArray codings
            && codings.Any(c => (string?)c?["code"] == code && (system is null || (string?)c?["system"] == system));
    }
}
