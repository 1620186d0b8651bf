using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Spectre.Console;

namespace CdsMitral.Cli;

/// <summary>cdsmitral replay: the rules over a population (see <see cref="Replay"/>), reported per rule and version, per
/// patient (CSV) and as a chart (SVG).</summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("export") { Description = "A FHIR Bulk Data export: a folder of *.ndjson files" };
        var output = new Option<string?>("--out") { Description = "Where the report goes (default: beside the export, <export>-replay)" };
        var asOf = new Option<string?>("--as-of") { Description = "The day the charts are judged on, yyyy-MM-dd (default: today)" };
        var maxCards = new Option<int>("--max-cards") { Description = "Cards per answer at most, as the service's Fatigue:MaxCardsPerAnswer", DefaultValueFactory = _ => 3 };
        var command = new Command("replay", """
            What the rules would do to a population before they go live: each patient of a FHIR Bulk Data export ($export
            NDJSON) through the patient-view service's own evaluation, in-process. Prints a table per rule and version
            and writes patients.csv (one row per patient), rules.csv and rules.svg.

            Examples:
              cdsmitral population /tmp/population --patients 100000
              cdsmitral replay /tmp/population --out /tmp/population-report

            The rules run as live, whatever mode the service gives them: this is what they would show.
            """) { folder, output, asOf, maxCards };
        command.SetAction((parse, _) => CliException.Guard(() =>
        {
            var export = Path.GetFullPath(parse.GetValue(folder)!).TrimEnd(Path.DirectorySeparatorChar);
            var files = Replay.ExportFiles(export);
            if (files.Count == 0)
            {
                throw new CliException(CliException.BadInput, $"{export} holds no *.ndjson files.");
            }
            var day = parse.GetValue(asOf) is { } text
                ? DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) ? d
                    : throw new CliException(CliException.BadInput, $"--as-of '{text}' is not a day (yyyy-MM-dd).")
                : DateOnly.FromDateTime(DateTime.UtcNow);
            if (parse.GetValue(maxCards) is < 1 or > 50)
            {
                throw new CliException(CliException.BadInput, "--max-cards must be between 1 and 50.");
            }
            var report = parse.GetValue(output) ?? export + "-replay";
            Directory.CreateDirectory(report);
            var now = new DateTimeOffset(day.ToDateTime(new TimeOnly(12, 0)), TimeSpan.Zero);
            var replay = new Replay(now, parse.GetValue(maxCards));
            var work = Path.Combine(Path.GetTempPath(), "cdsmitral-replay-" + Guid.NewGuid().ToString("N"));
            var summary = new Summary();
            var started = Stopwatch.GetTimestamp();
            TimeSpan evaluating = default;
            try
            {
                using var csv = new StreamWriter(Path.Combine(report, "patients.csv"), false, new UTF8Encoding(false));
                csv.WriteLine("patient_id,resources,rules_fired,cards,data_findings");
                var totalBytes = files.Sum(f => new FileInfo(f).Length);
                AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(progress =>
                    {
                        var reading = progress.AddTask("Sorting by patient", maxValue: totalBytes);
                        var shards = replay.Shard(files, work, bytes => reading.Increment(bytes));
                        reading.Value = totalBytes;
                        var judging = progress.AddTask("Judging each patient", maxValue: shards.Count);
                        var evaluated = Stopwatch.GetTimestamp();
                        Parallel.ForEach(shards, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, shard =>
                        {
                            var rows = new StringBuilder();
                            var local = new Summary();
                            replay.Evaluate(shard, patient =>
                            {
                                local.Add(patient);
                                rows.Append(Csv.Cell(patient.PatientId)).Append(',').Append(patient.Resources).Append(',')
                                    .Append(Csv.Cell(string.Join(';', patient.Fired.Select(f => $"{f.Rule}@{f.Version}")))).Append(',')
                                    .Append(Csv.Cell(string.Join(';', patient.Cards.Select(c => $"{c.Rule}:{c.Indicator}")))).Append(',')
                                    .Append(patient.Findings).Append('\n');
                            });
                            File.Delete(shard);
                            lock (summary)
                            {
                                csv.Write(rows);
                                summary.Merge(local);
                            }
                            judging.Increment(1);
                        });
                        evaluating = Stopwatch.GetElapsedTime(evaluated);
                    });
            }
            finally
            {
                if (Directory.Exists(work))
                {
                    Directory.Delete(work, recursive: true);
                }
            }
            var elapsed = Stopwatch.GetElapsedTime(started);
            summary.Print(day);
            File.WriteAllText(Path.Combine(report, "rules.csv"), summary.Csv());
            File.WriteAllText(Path.Combine(report, "rules.svg"), summary.Svg(day));
            var peak = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"{summary.Patients:N0} patients in {elapsed.TotalSeconds:0.0} s: [bold]{summary.Patients / elapsed.TotalSeconds:N0} patients/s[/] "
                + $"({summary.Patients / evaluating.TotalSeconds:N0}/s judging, {Environment.ProcessorCount} cores); peak working set {peak:0} MiB"));
            if (replay.Unattributed > 0)
            {
                AnsiConsole.MarkupLine($"[grey]{replay.Unattributed:N0} resources named no patient and were not used.[/]");
            }
            AnsiConsole.MarkupLine($"Report: {Markup.Escape(report)} (patients.csv, rules.csv, rules.svg)");
            return Task.FromResult(0);
        }));
        return command;
    }

    /// <summary>Counts per rule and version: patients it fired for, and patients an answer would show its card to.</summary>
    private sealed class Summary
    {
        public long Patients { get; private set; }

        public long WithCards { get; private set; }

        private readonly Dictionary<(string Rule, string Version), long> _fired = [];
        private readonly Dictionary<string, long> _shown = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Rule, string Indicator), long> _indicators = [];
        private readonly Dictionary<string, string> _versions = new(StringComparer.Ordinal);

        public void Add(ReplayedPatient patient)
        {
            Patients++;
            WithCards += patient.Cards.Count > 0 ? 1 : 0;
            foreach (var fired in patient.Fired)
            {
                _fired[fired] = _fired.GetValueOrDefault(fired) + 1;
                _versions[fired.Rule] = fired.Version;
            }
            foreach (var card in patient.Cards)
            {
                _shown[card.Rule] = _shown.GetValueOrDefault(card.Rule) + 1;
                _indicators[card] = _indicators.GetValueOrDefault(card) + 1;
            }
        }

        public void Merge(Summary other)
        {
            Patients += other.Patients;
            WithCards += other.WithCards;
            foreach (var (k, v) in other._fired)
            {
                _fired[k] = _fired.GetValueOrDefault(k) + v;
            }
            foreach (var (k, v) in other._shown)
            {
                _shown[k] = _shown.GetValueOrDefault(k) + v;
            }
            foreach (var (k, v) in other._indicators)
            {
                _indicators[k] = _indicators.GetValueOrDefault(k) + v;
            }
            foreach (var (k, v) in other._versions)
            {
                _versions[k] = v;
            }
        }

        private IEnumerable<(string Rule, string Version, long Fired, long Shown, string Indicators)> Rows() =>
            Rules.SecondaryMrRules.All.Select(r => r.Id).Concat(_fired.Keys.Select(k => k.Rule)).Distinct(StringComparer.Ordinal).Select(rule =>
            {
                var version = _versions.GetValueOrDefault(rule) ?? Rules.SecondaryMrRules.All.First(r => r.Id == rule).Version;
                var indicators = string.Join(" ", _indicators.Where(i => i.Key.Rule == rule).OrderBy(i => i.Key.Indicator, StringComparer.Ordinal)
                    .Select(i => $"{i.Key.Indicator} {i.Value}"));
                return (rule, version, _fired.Where(f => f.Key.Rule == rule).Sum(f => f.Value), _shown.GetValueOrDefault(rule), indicators);
            }).OrderByDescending(r => r.Item4).ThenBy(r => r.rule, StringComparer.Ordinal);

        private string Share(long n) => Patients == 0 ? "0 %" : (100.0 * n / Patients).ToString("0.0", CultureInfo.InvariantCulture) + " %";

        public void Print(DateOnly day)
        {
            var table = new Table().Title($"What the rules would do, judged on {day:yyyy-MM-dd}")
                .AddColumns("rule", "version", "patients fired", "patients shown its card", "share", "indicators");
            foreach (var r in Rows())
            {
                table.AddRow(Markup.Escape(r.Rule), r.Version, r.Fired.ToString("N0", CultureInfo.InvariantCulture),
                    r.Shown.ToString("N0", CultureInfo.InvariantCulture), Share(r.Shown), Markup.Escape(r.Indicators));
            }
            table.AddRow("[bold]any card[/]", "", "", WithCards.ToString("N0", CultureInfo.InvariantCulture), Share(WithCards), "");
            AnsiConsole.Write(table);
        }

        public string Csv()
        {
            var text = new StringBuilder("rule_id,rule_version,patients_fired,patients_shown_card,share_shown,indicators\n");
            foreach (var r in Rows())
            {
                text.Append(CultureInfo.InvariantCulture, $"{r.Rule},{r.Version},{r.Fired},{r.Shown},{Share(r.Shown)},{Cli.Csv.Cell(r.Indicators)}\n");
            }
            return text.Append(CultureInfo.InvariantCulture, $"any card,,,{WithCards},{Share(WithCards)},\n").ToString();
        }

        /// <summary>A horizontal bar per rule: the patients its card would be shown to, out of the population.</summary>
        public string Svg(DateOnly day)
        {
            var rows = Rows().ToList();
            const int barLeft = 190, barWidth = 420, rowHeight = 26, top = 46;
            var height = top + rowHeight * (rows.Count + 1) + 20;
            var max = Math.Max(1, rows.Count == 0 ? 1 : Math.Max(rows.Max(r => r.Shown), WithCards));
            var svg = new StringBuilder();
            svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="720" height="{height}" viewBox="0 0 720 {height}" font-family="sans-serif" font-size="13">""");
            svg.Append(CultureInfo.InvariantCulture, $"""<title>Patients each rule's card would be shown to, of {Patients:N0}, judged on {day:yyyy-MM-dd}</title>""");
            svg.Append("""<rect width="100%" height="100%" fill="#ffffff"/>""");
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="10" y="24" font-size="15" font-weight="bold" fill="#111111">Patients shown each card, of {Patients:N0} ({day:yyyy-MM-dd})</text>""");
            var y = top;
            foreach (var (rule, version, _, shown, _) in rows.Append(("any card", "", 0, WithCards, "")))
            {
                var width = (int)Math.Round(barWidth * (double)shown / max);
                svg.Append(CultureInfo.InvariantCulture, $"""<text x="{barLeft - 8}" y="{y + 17}" text-anchor="end" fill="#111111">{WebUtility.HtmlEncode(rule)}{(version.Length > 0 ? " " + WebUtility.HtmlEncode(version) : "")}</text>""");
                svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{barLeft}" y="{y + 4}" width="{Math.Max(width, 1)}" height="{rowHeight - 8}" fill="{(rule == "any card" ? "#444444" : "#1f5f99")}"/>""");
                svg.Append(CultureInfo.InvariantCulture, $"""<text x="{barLeft + Math.Max(width, 1) + 6}" y="{y + 17}" fill="#111111">{shown:N0} ({Share(shown)})</text>""");
                y += rowHeight;
            }
            return svg.Append("</svg>\n").ToString();
        }
    }
}

/// <summary>CSV cells as RFC 4180 writes them, and never read as a formula by a spreadsheet.</summary>
public static class Csv
{
    public static string Cell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
