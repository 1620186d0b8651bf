using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

using static CdsMitral.Tests.Fatigue.StandBackScenarios;

namespace CdsMitral.Tests.Fatigue;

/// <summary>
/// Silent mode (issue 24): a committee runs a rule, or one version of it, silently — judged and audited as fired, never
/// shown — and reads its fire rate beside the live rules' in /audit/insights before clinicians see it; "off" keeps a rule
/// out entirely. Through the HTTP surface, on either store, with the modes changed while the service runs.
/// </summary>
public static class SilentModeScenarios
{
    private const string Coapt = "smr-coapt-profile";
    private const string Gdmt = "smr-gdmt-gap";
    private const string OrderTeer = "smr-order-teer";

    /// <summary>Moderate secondary MR: the COAPT-like profile is judged and not met.</summary>
    private static Chart Moderate(string id) => new Chart(id)
        .Mr("moderate", "2026-10-01", "secondary-ventricular", id: $"{id}-mr")
        .Lvef(32, "2026-10-01", id: $"{id}-lvef").Lvesd(58, "2026-10-01", id: $"{id}-lvesd").Pasp(45, "2026-10-01", id: $"{id}-pasp")
        .Medication("200031", "carvedilol 6.25 MG Oral Tablet", id: $"{id}-carvedilol");

    /// <summary>The insights CSV of the test clock's week, by rule id, as header name → cell.</summary>
    private static async Task<Dictionary<string, Dictionary<string, string>>> InsightsAsync(ServiceFactory service)
    {
        using var auditor = service.AuditorClient();
        var lines = (await auditor.GetStringAsync("/audit/insights.csv?from=2026-11-16&to=2026-11-22")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = InsightsScenarios.Cells(lines[0]);
        return lines.Skip(1).Select(InsightsScenarios.Cells)
            .ToDictionary(cells => cells[0], cells => header.Zip(cells).ToDictionary(p => p.First, p => p.Second));
    }

    public static async Task ARuleInSilentModeIsJudgedAndAuditedAsFiredButNeverShownAndItsRateStandsApart(Store store)
    {
        await using var service = new ServiceFactory().Audited(store).With($"CdsMitral:Rules:Modes:{Coapt}", "silent");

        var fires = await service.OpenAsync(CoaptWithGap("p-silent"));
        Assert.Equal([Gdmt], fires.RuleIds);
        var outcomes = await service.LatestOutcomes();
        Assert.True((bool)outcomes[Coapt]["fired"]!);
        Assert.Equal("silent", (string?)outcomes[Coapt]["mode"]);
        Assert.StartsWith("silent mode", (string)outcomes[Coapt]["notShown"]!, StringComparison.Ordinal);
        // The outcome still says what the card would have said, for the committee to read.
        Assert.Contains("consider Heart Valve Team review", (string)outcomes[Coapt]["reason"]!, StringComparison.Ordinal);
        Assert.Null(outcomes[Gdmt]["mode"]);

        await service.OpenAsync(Moderate("p-silent-moderate"));
        Assert.False((bool)(await service.LatestOutcomes())[Coapt]["fired"]!);

        var insights = await InsightsAsync(service);
        var coapt = insights[Coapt];
        Assert.Equal(("0", "0", ""), (coapt["judged"], coapt["fired"], coapt["fire_rate"]));
        Assert.Equal(("2", "1", "0.5"), (coapt["judged_silently"], coapt["fired_silently"], coapt["silent_fire_rate"]));
        Assert.Equal(("0", "0", "0"), (coapt["shown"], coapt["suppressed"], coapt["left_out_by_limit"]));
        var gdmt = insights[Gdmt];
        // The GDMT-gap rule, live, fired on the severe chart only.
        Assert.Equal(("2", "1", "0.5", "0", "1"), (gdmt["judged"], gdmt["fired"], gdmt["fire_rate"], gdmt["judged_silently"], gdmt["shown"]));

        using var auditor = service.AuditorClient();
        var page = await auditor.GetStringAsync("/audit/insights?from=2026-11-16&to=2026-11-22");
        Assert.Contains("<title>2026-W47: 1 fired silently</title>", page, StringComparison.Ordinal);
    }

    public static async Task ASilentRuleMakesNoLiveRuleStandBack(Store store)
    {
        var chart = CoaptWithGap("p-teer");
        var request = Requests.OrderSelect(chart.PatientId, [Requests.TeerOrder(patientId: chart.PatientId)], ["ServiceRequest/teer-1"],
            chart.Prefetch(Terminology.Terminology.Embedded));

        await using (var live = new ServiceFactory().Audited(store))
        {
            var answer = await live.PostAsync(Requests.OrderSelectId, request);
            Assert.Contains(Gdmt, answer.RuleIds);
            Assert.DoesNotContain(OrderTeer, answer.RuleIds); // it stands back for the GDMT gap
        }

        await using var silent = new ServiceFactory().Audited(store).With($"CdsMitral:Rules:Modes:{Gdmt}", "silent");
        var withSilentGdmt = await silent.PostAsync(Requests.OrderSelectId, request);
        // What clinicians see is what they would see without the silent rule.
        Assert.Contains(OrderTeer, withSilentGdmt.RuleIds);
        Assert.DoesNotContain(Gdmt, withSilentGdmt.RuleIds);
        var outcomes = await silent.LatestOutcomes();
        Assert.True((bool)outcomes[Gdmt]["fired"]!);
        Assert.Equal("silent", (string?)outcomes[Gdmt]["mode"]);
    }

    public static async Task ARuleTurnedOffIsNotJudgedAndNotCounted(Store store)
    {
        await using var service = new ServiceFactory().Audited(store).With($"CdsMitral:Rules:Modes:{Gdmt}", "off");
        var answer = await service.OpenAsync(CoaptWithGap("p-off"));
        Assert.Equal([Coapt], answer.RuleIds);
        var gdmt = (await service.LatestOutcomes())[Gdmt];
        Assert.False((bool)gdmt["fired"]!);
        Assert.Equal("off", (string?)gdmt["mode"]);
        Assert.Equal("turned off by configuration", (string?)gdmt["reason"]);
        Assert.Null(gdmt["criteria"]);
        Assert.False((await InsightsAsync(service)).ContainsKey(Gdmt));
    }

    public static async Task AVersionsModeWinsOverItsRulesAndAnotherVersionsModeDoesNotApply(Store store)
    {
        var version = CdsMitral.Rules.SecondaryMrRules.All.Single(r => r.Id == Coapt).Version;
        await using (var exact = new ServiceFactory().Audited(store)
            .With($"CdsMitral:Rules:Modes:{Coapt}", "off").With($"CdsMitral:Rules:Modes:{Coapt}@{version}", "live"))
        {
            Assert.Contains(Coapt, (await exact.OpenAsync(CoaptWithGap("p-v1"))).RuleIds);
        }
        // A mode set ahead for the next version leaves the running one as it is.
        await using var next = new ServiceFactory().Audited(store).With($"CdsMitral:Rules:Modes:{Coapt}@99.0.0", "silent");
        Assert.Contains(Coapt, (await next.OpenAsync(CoaptWithGap("p-v2"))).RuleIds);
        Assert.Null((await next.LatestOutcomes())[Coapt]["mode"]);
    }

    public static async Task AChangedModeTakesEffectWithoutARestartAndAnInvalidOneIsRefused(Store store)
    {
        var factory = new ServiceFactory().Audited(store);
        var file = Path.Combine(factory.DataDirectory, "rules.json");
        Write(file, "live");
        await using var service = factory.WithSettingsFile(file);
        var chart = CoaptWithGap("p-reload");
        Assert.Contains(Coapt, (await service.OpenAsync(chart)).RuleIds);

        // The file changed on disk, as an operator would change it: the service notices by itself.
        Write(file, "silent");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await service.OpenAsync(chart)).RuleIds.Contains(Coapt))
        {
            Assert.True(DateTime.UtcNow < deadline, "the service did not take the new mode within 30 s");
            await Task.Delay(100);
        }
        Assert.Equal("silent", (string?)(await service.LatestOutcomes())[Coapt]["mode"]);

        // A mode that is not one keeps the modes in force (re-read now rather than waiting for the watcher).
        var configuration = (IConfigurationRoot)service.Services.GetRequiredService<IConfiguration>();
        Write(file, "loud");
        configuration.Reload();
        Assert.DoesNotContain(Coapt, (await service.OpenAsync(chart)).RuleIds);
        Assert.Equal("silent", (string?)(await service.LatestOutcomes())[Coapt]["mode"]);

        Write(file, "live");
        configuration.Reload();
        Assert.Contains(Coapt, (await service.OpenAsync(chart)).RuleIds);
    }

    /// <summary>Replaces the file whole (written beside it, then renamed), so a reader never sees half of it.</summary>
    private static void Write(string file, string coaptMode)
    {
        var text = new JsonObject
        {
            ["CdsMitral"] = new JsonObject { ["Rules"] = new JsonObject { ["Modes"] = new JsonObject { [Coapt] = coaptMode } } },
        }.ToJsonString();
        File.WriteAllText(file + ".new", text);
        File.Move(file + ".new", file, overwrite: true);
    }
}

/// <summary>The silent mode scenarios, listed once and run against each store as a class of its own (so that the two run in
/// parallel); the PostgreSQL class skips, saying why, where no server is configured.</summary>
public abstract class SilentModeOnEachStore(Store store)
{
    [Fact] public Task ARuleInSilentModeIsJudgedAndAuditedAsFiredButNeverShownAndItsRateStandsApart() => SilentModeScenarios.ARuleInSilentModeIsJudgedAndAuditedAsFiredButNeverShownAndItsRateStandsApart(Requires.Available(store));
    [Fact] public Task ASilentRuleMakesNoLiveRuleStandBack() => SilentModeScenarios.ASilentRuleMakesNoLiveRuleStandBack(Requires.Available(store));
    [Fact] public Task ARuleTurnedOffIsNotJudgedAndNotCounted() => SilentModeScenarios.ARuleTurnedOffIsNotJudgedAndNotCounted(Requires.Available(store));
    [Fact] public Task AVersionsModeWinsOverItsRulesAndAnotherVersionsModeDoesNotApply() => SilentModeScenarios.AVersionsModeWinsOverItsRulesAndAnotherVersionsModeDoesNotApply(Requires.Available(store));
    [Fact] public Task AChangedModeTakesEffectWithoutARestartAndAnInvalidOneIsRefused() => SilentModeScenarios.AChangedModeTakesEffectWithoutARestartAndAnInvalidOneIsRefused(Requires.Available(store));
}

public sealed class SqliteSilentModeTests() : SilentModeOnEachStore(Store.Sqlite);

public sealed class PostgresSilentModeTests() : SilentModeOnEachStore(Store.Postgres);

