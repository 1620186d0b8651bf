using System.Globalization;
using System.Text;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Fatigue;

/// <summary>
/// A scripted week of one clinic's charts being opened, with the clinicians' feedback, through the HTTP surface: how many
/// cards fired, were shown and stood back each day. Prints its table (docs/audit.md quotes it):
/// <c>dotnet test tests/CdsMitral.Tests --filter "FullyQualifiedName~FeedbackWeek" --logger "console;verbosity=detailed"</c>
/// </summary>
public sealed class FeedbackWeekTests(ITestOutputHelper output)
{
    private const string Coapt = "smr-coapt-profile";
    private const string Gdmt = "smr-gdmt-gap";

    /// <summary>Eight patients: four COAPT-like with a GDMT gap (two cards), two COAPT-like on full GDMT, one with LVESD
    /// outside the range, one with a stale echo.</summary>
    private static Chart Patient(int n, int day) => n switch
    {
        <= 4 => StandBackScenarios.CoaptWithGap($"week-p{n}")
            // Day 4: a new echo for patient 1; day 5: a new medication for patient 2.
            .Pipe(c => n == 1 && day >= 3 ? c.Lvef(28, "2026-11-24", id: "week-p1-lvef-new") : c)
            .Pipe(c => n == 2 && day >= 4 ? c.Medication("313096", "spironolactone 25 MG Oral Tablet", id: "week-p2-spironolactone") : c),
        <= 6 => new Chart($"week-p{n}").Mr("severe", "2026-10-01", "secondary-ventricular", id: $"week-p{n}-mr").Lvef(35, "2026-10-01", id: $"week-p{n}-lvef")
            .Lvesd(60, "2026-10-01", id: $"week-p{n}-lvesd").Pasp(40, "2026-10-01", id: $"week-p{n}-pasp").FullGdmt(),
        7 => new Chart("week-p7").Mr("severe", "2026-10-01", "secondary-ventricular", id: "week-p7-mr").Lvef(30, "2026-10-01", id: "week-p7-lvef")
            .Lvesd(76, "2026-10-01", id: "week-p7-lvesd").Pasp(45, "2026-10-01", id: "week-p7-pasp").FullGdmt(),
        _ => new Chart("week-p8").Mr("severe", "2025-06-01", "secondary-ventricular", id: "week-p8-mr").Lvef(30, "2025-06-01", id: "week-p8-lvef")
            .Lvesd(60, "2025-06-01", id: "week-p8-lvesd").Pasp(45, "2025-06-01", id: "week-p8-pasp").FullGdmt(),
    };

    /// <summary>What the clinician answers when a card is shown: a reason meaning "already handled", an acceptance, a
    /// reason that does not stand the card back, or nothing.</summary>
    private static (string Outcome, string? System, string? Code)? Answer(int patient, string rule) => (patient, rule) switch
    {
        (1 or 2 or 5, Coapt) => ("overridden", StandBackScenarios.Ours, "already-evaluated-hvt"),
        (3, Coapt) => ("accepted", null, null),
        (4, Coapt) => ("overridden", StandBackScenarios.NonAdherence, "patient-refuses"),
        (6, Coapt) => ("overridden", StandBackScenarios.Ours, "chart-data-outdated"),
        (1 or 2, Gdmt) => ("overridden", StandBackScenarios.Ours, "gdmt-max-tolerated"),
        (3, Gdmt) => ("overridden", StandBackScenarios.NonAdherence, "action-not-priority"),
        _ => null,
    };

    public const int Patients = 8;
    public const int OpeningsPerChartPerDay = 3;

    [Fact]
    public async Task AWeekOfChartOpeningsWithFeedbackShowsFewerCardsDayByDay()
    {
        var shared = Path.Combine(Path.GetTempPath(), "cdsmitral-tests", "week-" + Guid.NewGuid().ToString("N"));
        var table = new StringBuilder("day         openings  fired  shown  stood back\n");
        var figures = new List<(int Fired, int Shown)>();
        for (var day = 0; day < 7; day++)
        {
            var today = ServiceFactory.Today.AddDays(day).Date.AddHours(8);
            await using var service = ServiceFactory.At(new DateTimeOffset(today, TimeSpan.Zero)).Audited(Store.Sqlite)
                .With("CdsMitral:Audit:ConnectionString", Path.Combine(shared, "audit.db")).With("CdsMitral:Audit:SpoolPath", Path.Combine(shared, "spool.ndjson"));
            // Without feedback the same openings fire these cards (a service of its own, with no memory).
            await using var baseline = ServiceFactory.At(new DateTimeOffset(today, TimeSpan.Zero));
            var (fired, shown) = (0, 0);
            for (var opening = 0; opening < OpeningsPerChartPerDay; opening++)
            {
                for (var p = 1; p <= Patients; p++)
                {
                    var chart = Patient(p, day);
                    fired += (await baseline.OpenAsync(chart)).Cards.Count;
                    var answer = await service.OpenAsync(chart);
                    shown += answer.Cards.Count;
                    foreach (var rule in answer.RuleIds)
                    {
                        switch (Answer(p, rule))
                        {
                            case ("accepted", _, _):
                                await service.AcceptAsync(answer.Card(rule), $"{today:yyyy-MM-dd}T09:00:00Z");
                                break;
                            case ("overridden", { } system, { } code):
                                await service.OverrideAsync(answer.Card(rule), system, code, $"{today:yyyy-MM-dd}T09:00:00Z");
                                break;
                        }
                    }
                }
            }
            figures.Add((fired, shown));
            table.Append(CultureInfo.InvariantCulture, $"{today:yyyy-MM-dd}  {Patients * OpeningsPerChartPerDay,8}  {fired,5}  {shown,5}  {fired - shown,10}\n");
        }
        var total = (Fired: figures.Sum(f => f.Fired), Shown: figures.Sum(f => f.Shown));
        table.Append(CultureInfo.InvariantCulture, $"week        {7 * Patients * OpeningsPerChartPerDay,8}  {total.Fired,5}  {total.Shown,5}  {total.Fired - total.Shown,10}\n");
        output.WriteLine(table.ToString());
        try
        {
            Directory.Delete(shared, recursive: true);
        }
        catch (IOException)
        {
        }

        // 12 cards fire at each round of eight charts, every day. On day 1 the first round shows them all; the answers
        // stand 7 of them back (2 chart-data-outdated / action-not-priority answers and 3 unanswered cards keep showing).
        Assert.All(figures, f => Assert.Equal(36, f.Fired));
        Assert.Equal([22, 15, 15, 17, 16, 15, 15], figures.Select(f => f.Shown));
    }
}

internal static class ChartPipe
{
    public static Chart Pipe(this Chart chart, Func<Chart, Chart> step) => step(chart);
}
