using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CdsMitral.Tests.Fatigue;

/// <summary>Feedback that counts, through the HTTP surface, on either audit store: a chart opened, a card answered, the
/// chart opened again.</summary>
public static class StandBackScenarios
{
    public const string Ours = "https://fhir.cdsmitral.org/CodeSystem/override-reason";
    public const string NonAdherence = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes";

    /// <summary>Severe secondary MR inside the COAPT-like window with only a beta-blocker on board: the COAPT-like card
    /// (info) and the GDMT-gap card (warning).</summary>
    public static Chart CoaptWithGap(string id) => new Chart(id)
        .Mr("severe", "2026-10-01", "secondary-ventricular", id: $"{id}-mr")
        .Lvef(32, "2026-10-01", id: $"{id}-lvef").Lvesd(58, "2026-10-01", id: $"{id}-lvesd").Pasp(45, "2026-10-01", id: $"{id}-pasp")
        .Medication("200031", "carvedilol 6.25 MG Oral Tablet", id: $"{id}-carvedilol");

    public static JsonObject Open(Chart chart) => Requests.PatientView(chart.PatientId, chart.Prefetch(Terminology.Terminology.Embedded));

    public static async Task<HookResponse> OpenAsync(this ServiceFactory service, Chart chart)
    {
        var answer = await service.PostAsync(Requests.PatientViewId, Open(chart));
        Assert.Equal(200, answer.Status);
        return answer;
    }

    public static async Task OverrideAsync(this ServiceFactory service, JsonNode card, string system, string code, string at = "2026-11-21T12:05:00Z")
    {
        var body = new JsonObject
        {
            ["feedback"] = new JsonArray(new JsonObject
            {
                ["card"] = (string)card["uuid"]!, ["outcome"] = "overridden", ["outcomeTimestamp"] = at,
                ["overrideReason"] = new JsonObject { ["reason"] = new JsonObject { ["code"] = code, ["system"] = system } },
            }),
        };
        Assert.Equal(200, (await service.PostRawAsync($"/cds-services/{Requests.PatientViewId}/feedback", body.ToJsonString())).Status);
    }

    public static async Task AcceptAsync(this ServiceFactory service, JsonNode card, string at = "2026-11-21T12:05:00Z")
    {
        var body = new JsonObject
        {
            ["feedback"] = new JsonArray(new JsonObject
            {
                ["card"] = (string)card["uuid"]!, ["outcome"] = "accepted", ["outcomeTimestamp"] = at,
                ["acceptedSuggestions"] = new JsonArray(new JsonObject { ["id"] = (string)card["suggestions"]![0]!["uuid"]! }),
            }),
        };
        Assert.Equal(200, (await service.PostRawAsync($"/cds-services/{Requests.PatientViewId}/feedback", body.ToJsonString())).Status);
    }

    /// <summary>The rule outcomes of the newest hook call on record, by rule id.</summary>
    public static async Task<Dictionary<string, JsonNode>> LatestOutcomes(this ServiceFactory service)
    {
        var latest = (await service.AuditApi("/audit/api/invocations?page=1"))["items"]![0]!;
        var detail = await service.AuditApi($"/audit/api/invocations/{latest["eventId"]}");
        return detail["record"]!["rules"]!.AsArray().ToDictionary(r => (string)r!["ruleId"]!, r => r!);
    }

    public static async Task OverriddenForEachAlreadyHandledReasonTheCardStandsBackAndTheAuditSaysWhy(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        foreach (var (rule, system, code, display) in new[]
                 {
                     ("smr-coapt-profile", Ours, "already-evaluated-hvt", "Already evaluated by the Heart Valve Team"),
                     ("smr-coapt-profile", NonAdherence, "patient-refuses", "Patient refuses/declines (no context given)"),
                     ("smr-gdmt-gap", Ours, "gdmt-max-tolerated", "GDMT already at maximally tolerated doses"),
                 })
        {
            var chart = CoaptWithGap($"p-{code}");
            var first = await service.OpenAsync(chart);
            Assert.Equal(["smr-coapt-profile", "smr-gdmt-gap"], first.RuleIds);
            await service.OverrideAsync(first.Card(rule), system, code);

            var again = await service.OpenAsync(chart);
            Assert.DoesNotContain(rule, again.RuleIds);
            Assert.Single(again.Cards); // the other card is still there
            var outcome = (await service.LatestOutcomes())[rule];
            Assert.True((bool)outcome["fired"]!);
            var words = $"not shown: overridden on 2026-11-21 by Practitioner/example for {display} ({code}); stands back until "
                + $"{ServiceFactory.Today.AddDays(code == "already-evaluated-hvt" ? 180 : 90):yyyy-MM-dd}, or until its inputs change";
            Assert.Equal(words, (string?)outcome["notShown"]);

            // The auditors' page of the call says so, and the suppression is an event of its own in the chain.
            var latest = (string)(await service.AuditApi("/audit/api/invocations?page=1"))["items"]![0]!["eventId"]!;
            using var auditor = service.AuditorClient();
            Assert.Contains(System.Net.WebUtility.HtmlEncode(words), await auditor.GetStringAsync($"/audit/invocations/{latest}"), StringComparison.Ordinal);
            var suppression = JsonNode.Parse((await SuppressionEvents(service)).Last())!;
            Assert.Equal(words, (string?)suppression["text"]);
            Assert.Equal(rule, (string?)suppression["ruleId"]);
            Assert.Equal(chart.PatientId, (string?)suppression["patientId"]);
            Assert.Equal(code, (string?)suppression["reason"]!["code"]);
        }
        Assert.Equal(3, (await SuppressionEvents(service)).Count);
        Assert.True((bool)(await service.AuditApi("/audit/api/verify"))["intact"]!);
    }

    /// <summary>The documents of the chain's suppression events, oldest first.</summary>
    public static async Task<List<string>> SuppressionEvents(ServiceFactory service)
    {
        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using var command = AuditDatabase.Command(connection, null, "SELECT document FROM audit_events WHERE kind = 'suppression' ORDER BY seq");
        await using var reader = await command.ExecuteReaderAsync();
        var documents = new List<string>();
        while (await reader.ReadAsync())
        {
            documents.Add(reader.GetString(0));
        }
        return documents;
    }

    public static async Task AReasonThatDoesNotMeanHandledStandsNothingBack(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        var chart = CoaptWithGap("p-outdated");
        var first = await service.OpenAsync(chart);
        await service.OverrideAsync(first.Card("smr-coapt-profile"), Ours, "chart-data-outdated");
        // The right code in a system the service does not offer it in counts for nothing either.
        await service.OverrideAsync(first.Card("smr-gdmt-gap"), "http://example.org/other", "gdmt-max-tolerated");
        Assert.Equal(["smr-coapt-profile", "smr-gdmt-gap"], (await service.OpenAsync(chart)).RuleIds);
    }

    public static async Task ANewEchoOrANewMedicationBringsTheCardBackAndUnrelatedChangesDoNot(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        var chart = CoaptWithGap("p-change");
        var first = await service.OpenAsync(chart);
        await service.OverrideAsync(first.Card("smr-coapt-profile"), Ours, "already-evaluated-hvt");
        await service.OverrideAsync(first.Card("smr-gdmt-gap"), Ours, "gdmt-max-tolerated");

        // Another request id, another time, and a resource no rule reads: still standing back.
        chart.Condition("http://snomed.info/sct", "44054006", "Diabetes mellitus type 2", id: "p-change-dm2");
        Assert.Empty((await service.OpenAsync(chart)).Cards);

        // A new medication changes what the GDMT rule read; the COAPT-like rule did not read it.
        chart.Medication("313096", "spironolactone 25 MG Oral Tablet", id: "p-change-spironolactone");
        Assert.Equal(["smr-gdmt-gap"], (await service.OpenAsync(chart)).RuleIds);

        // A new echo: both rules read the newer values.
        var echo = CoaptWithGap("p-change").Medication("313096", "spironolactone 25 MG Oral Tablet", id: "p-change-spironolactone")
            .Lvef(30, "2026-11-15", id: "p-change-lvef-2");
        Assert.Contains("smr-coapt-profile", (await service.OpenAsync(echo)).RuleIds);

        // A changed value under the same resource id and date counts as a change too.
        var changed = new Chart("p-value")
            .Mr("severe", "2026-10-01", "secondary-ventricular", id: "p-value-mr")
            .Lvef(32, "2026-10-01", id: "p-value-lvef").Lvesd(58, "2026-10-01", id: "p-value-lvesd").Pasp(45, "2026-10-01", id: "p-value-pasp").FullGdmt();
        var shown = await service.OpenAsync(changed);
        await service.OverrideAsync(shown.Card("smr-coapt-profile"), Ours, "already-evaluated-hvt");
        Assert.Empty((await service.OpenAsync(changed)).Cards);
        var corrected = new Chart("p-value")
            .Mr("severe", "2026-10-01", "secondary-ventricular", id: "p-value-mr")
            .Lvef(33, "2026-10-01", id: "p-value-lvef").Lvesd(58, "2026-10-01", id: "p-value-lvesd").Pasp(45, "2026-10-01", id: "p-value-pasp").FullGdmt();
        Assert.Equal(["smr-coapt-profile"], (await service.OpenAsync(corrected)).RuleIds);
    }

    public static async Task TheStandBackEndsWhenItsTimeIsUp(Store store)
    {
        // Three instances, one after another, sharing one audit store; each with its own clock.
        var shared = Path.Combine(Path.GetTempPath(), "cdsmitral-tests", "shared-" + Guid.NewGuid().ToString("N"));
        var schema = store == Store.Postgres ? AuditSupport.NewSchema() : null;
        ServiceFactory At(DateTimeOffset today)
        {
            var factory = ServiceFactory.At(today).Audited(store, schema);
            return store == Store.Sqlite
                ? factory.With("CdsMitral:Audit:ConnectionString", Path.Combine(shared, "audit.db")).With("CdsMitral:Audit:SpoolPath", Path.Combine(shared, "spool.ndjson"))
                : factory;
        }
        var chart = CoaptWithGap("p-expiry");
        await using (var day0 = At(ServiceFactory.Today))
        {
            var first = await day0.OpenAsync(chart);
            await day0.OverrideAsync(first.Card("smr-coapt-profile"), NonAdherence, "patient-refuses"); // 90 days
        }
        await using (var day89 = At(ServiceFactory.Today.AddDays(89)))
        {
            Assert.DoesNotContain("smr-coapt-profile", (await day89.OpenAsync(chart)).RuleIds);
        }
        await using (var day91 = At(ServiceFactory.Today.AddDays(91)))
        {
            Assert.Contains("smr-coapt-profile", (await day91.OpenAsync(chart)).RuleIds);
        }
        try
        {
            Directory.Delete(shared, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public static async Task AnAcceptedSuggestionStandsTheCardBack(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        var chart = CoaptWithGap("p-accepted");
        var first = await service.OpenAsync(chart);
        await service.AcceptAsync(first.Card("smr-coapt-profile"));
        Assert.Equal(["smr-gdmt-gap"], (await service.OpenAsync(chart)).RuleIds);
        Assert.StartsWith("not shown: accepted on 2026-11-21 by Practitioner/example (a suggestion was accepted); stands back until 2026-12-21",
            (string?)(await service.LatestOutcomes())["smr-coapt-profile"]["notShown"]);
    }
}

/// <summary>The stand-back scenarios, listed once and run against each store as a class of its own (so that the two run in
/// parallel); the PostgreSQL class skips, saying why, where no server is configured.</summary>
public abstract class StandBackOnEachStore(Store store)
{
    [Fact] public Task OverriddenForEachAlreadyHandledReasonTheCardStandsBackAndTheAuditSaysWhy() => StandBackScenarios.OverriddenForEachAlreadyHandledReasonTheCardStandsBackAndTheAuditSaysWhy(Requires.Available(store));
    [Fact] public Task AReasonThatDoesNotMeanHandledStandsNothingBack() => StandBackScenarios.AReasonThatDoesNotMeanHandledStandsNothingBack(Requires.Available(store));
    [Fact] public Task ANewEchoOrANewMedicationBringsTheCardBackAndUnrelatedChangesDoNot() => StandBackScenarios.ANewEchoOrANewMedicationBringsTheCardBackAndUnrelatedChangesDoNot(Requires.Available(store));
    [Fact] public Task TheStandBackEndsWhenItsTimeIsUp() => StandBackScenarios.TheStandBackEndsWhenItsTimeIsUp(Requires.Available(store));
    [Fact] public Task AnAcceptedSuggestionStandsTheCardBack() => StandBackScenarios.AnAcceptedSuggestionStandsTheCardBack(Requires.Available(store));
}

public sealed class SqliteStandBackTests() : StandBackOnEachStore(Store.Sqlite);

public sealed class PostgresStandBackTests() : StandBackOnEachStore(Store.Postgres)
{
    /// <summary>Each instance keeps the stand-backs in memory; every change to the table, another instance's or one made by
    /// hand, is announced to it when it commits; when it loses its listening connection it reads the table until it
    /// listens again.</summary>
    [Fact]
    public async Task AStandBackGivenThroughOneInstanceHoldsInAnotherAlsoAfterItsListeningConnectionWasCut()
    {
        Requires.Postgres();
        var schema = AuditSupport.NewSchema();
        var name = "cdsmitral-second-" + Guid.NewGuid().ToString("N")[..8];
        await using var first = new ServiceFactory().Audited(Store.Postgres, schema);
        await using var second = new ServiceFactory().Audited(Store.Postgres, schema)
            .With("CdsMitral:Audit:ConnectionString", $"{Environment.GetEnvironmentVariable(Requires.PostgresVariable)};Search Path={schema};Application Name={name}");
        var chart = StandBackScenarios.CoaptWithGap("p-shared");
        Assert.Contains("smr-coapt-profile", (await second.OpenAsync(chart)).RuleIds);
        await first.OverrideAsync((await first.OpenAsync(chart)).Card("smr-coapt-profile"), StandBackScenarios.Ours, "already-evaluated-hvt");
        await StandsBackWithin(second, chart, "smr-coapt-profile");
        Assert.EndsWith("kept current by the store's announcements", await StandBackMode(second));

        await using (var connection = new Npgsql.NpgsqlConnection(Environment.GetEnvironmentVariable(Requires.PostgresVariable)))
        {
            await connection.OpenAsync();
            await using var cut = new Npgsql.NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @name AND query LIKE 'LISTEN%'", connection);
            cut.Parameters.AddWithValue("name", name);
            Assert.Equal(1L, await cut.ExecuteScalarAsync());
        }
        await first.OverrideAsync((await first.OpenAsync(chart)).Card("smr-gdmt-gap"), StandBackScenarios.Ours, "gdmt-max-tolerated");
        await StandsBackWithin(second, chart, "smr-gdmt-gap");
        Assert.Empty((await second.OpenAsync(chart)).Cards);
        // It listens again (after 1 s), rather than reading the table on every call from then on.
        await WaitFor(async () => (await StandBackMode(second)).EndsWith("announcements", StringComparison.Ordinal));
        Assert.EndsWith("kept current by the store's announcements", await StandBackMode(second));

        // A row deleted by hand (a stand-back withdrawn) is announced too, by the table's trigger: the card comes back.
        await using (var connection = new Npgsql.NpgsqlConnection(Environment.GetEnvironmentVariable(Requires.PostgresVariable)))
        {
            await connection.OpenAsync();
            await using var withdraw = new Npgsql.NpgsqlCommand($"DELETE FROM {schema}.suppressions WHERE rule_id = 'smr-gdmt-gap'", connection);
            Assert.Equal(1, await withdraw.ExecuteNonQueryAsync());
        }
        await WaitFor(async () => (await second.OpenAsync(chart)).RuleIds.Contains("smr-gdmt-gap"));
        Assert.Equal(["smr-gdmt-gap"], (await second.OpenAsync(chart)).RuleIds);
    }

    private static async Task WaitFor(Func<Task<bool>> condition)
    {
        for (var tries = 0; tries < 50 && !await condition(); tries++)
        {
            await Task.Delay(100);
        }
    }

    private static async Task<string> StandBackMode(ServiceFactory service)
    {
        using var client = service.CreateClient();
        var ready = System.Text.Json.Nodes.JsonNode.Parse(await client.GetStringAsync("/health/ready"))!;
        return (string)ready["checks"]!["audit-store"]!["description"]!;
    }

    private static async Task StandsBackWithin(ServiceFactory service, Chart chart, string rule)
    {
        await WaitFor(async () => !(await service.OpenAsync(chart)).RuleIds.Contains(rule));
        Assert.DoesNotContain(rule, (await service.OpenAsync(chart)).RuleIds);
    }
}
