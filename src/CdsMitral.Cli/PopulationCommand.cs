using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace CdsMitral.Cli;

/// <summary>
/// A synthetic population to try <c>cdsmitral replay</c> on, written as a Bulk Data export would be (NDJSON, one file per
/// resource type). Each patient is a copy of one of the sample patients under a new id (p1, p2, …), their dates moved to
/// the day given: most are charts without an echo (as most charts opened are), the rest spread over the other samples.
/// So the figures are the samples' cards in proportion, not a model of a real population.
/// </summary>
public static class PopulationCommand
{
    /// <summary>Which sample a synthetic patient copies: ~70 % no echo on record, ~10 % mild MR, ~5 % primary MR, the
    /// remaining ~15 % spread evenly over the other samples.</summary>
    private static string Pick(Random random, List<string> others) => random.NextDouble() switch
    {
        < 0.70 => "silent-no-echo",
        < 0.80 => "silent-mild-mr",
        < 0.85 => "silent-primary-mr",
        _ => others[random.Next(others.Count)],
    };

    public static Command Create()
    {
        var folder = new Argument<string>("folder") { Description = "Where to write the NDJSON files (created; must be empty or new)" };
        var patients = new Option<int>("--patients") { Description = "How many patients", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<int>("--seed") { Description = "The random seed: the same seed writes the same population", DefaultValueFactory = _ => 1 };
        var command = new Command("population", """
            Write a synthetic population as a FHIR Bulk Data export (NDJSON per resource type), to try 'cdsmitral replay' on.

            Examples:
              cdsmitral population /tmp/population --patients 100000
              cdsmitral replay /tmp/population

            Each patient copies a sample patient under a new id, its dates moved to today (or --as-of).
            """) { folder, patients, seed };
        var dates = SampleDates.Options();
        dates.AddTo(command);
        command.SetAction((parse, _) => CliException.Guard(() =>
        {
            var target = parse.GetValue(folder)!;
            var count = parse.GetValue(patients);
            if (count < 1)
            {
                throw new CliException(CliException.BadInput, "--patients must be at least 1.");
            }
            if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            {
                throw new CliException(CliException.BadInput, $"{target} is not empty; give a new or empty folder.");
            }
            Directory.CreateDirectory(target);
            var asOf = dates.Read(parse);
            var templates = Templates(asOf);
            var others = templates.Keys.Where(k => k is not ("silent-no-echo" or "silent-mild-mr" or "silent-primary-mr")).Order(StringComparer.Ordinal).ToList();
            var random = new Random(parse.GetValue(seed));
            var writers = new Dictionary<string, StreamWriter>(StringComparer.Ordinal);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            long resources = 0;
            try
            {
                for (var i = 1; i <= count; i++)
                {
                    var id = "p" + i.ToString(CultureInfo.InvariantCulture);
                    foreach (var (type, line) in templates[Pick(random, others)])
                    {
                        if (!writers.TryGetValue(type, out var writer))
                        {
                            writers[type] = writer = new StreamWriter(Path.Combine(target, type + ".ndjson"), false, new UTF8Encoding(false), 64 * 1024);
                        }
                        writer.WriteLine(line.Replace(Placeholder, id, StringComparison.Ordinal));
                        resources++;
                    }
                }
            }
            finally
            {
                foreach (var writer in writers.Values)
                {
                    writer.Dispose();
                }
            }
            var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
            AnsiConsole.MarkupLine($"[green]{count:N0} patients[/], {resources:N0} resources in {writers.Count} files in {Markup.Escape(target)} ({seconds:0.0} s)");
            return Task.FromResult(0);
        }));
        return command;
    }

    private const string Placeholder = "\u0001patient\u0001";

    /// <summary>Each sample's resources as NDJSON lines (type, line), dated as asked, with its patient id left as a
    /// placeholder to put each copy's own id in.</summary>
    private static Dictionary<string, List<(string Type, string Line)>> Templates(DateOnly? asOf)
    {
        var templates = new Dictionary<string, List<(string, string)>>(StringComparer.Ordinal);
        foreach (var name in Samples.Names)
        {
            var bundle = PatientBundle.Load(name, asOf: asOf);
            templates[name] = [.. bundle.Resources.Select(r => ((string)r["resourceType"]!, Compact(r).Replace(bundle.PatientId, Placeholder, StringComparison.Ordinal)))];
        }
        return templates;
    }

    private static string Compact(JsonObject resource) => resource.ToJsonString();
}
