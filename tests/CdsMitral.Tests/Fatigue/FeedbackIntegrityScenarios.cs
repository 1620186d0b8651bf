using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

using static CdsMitral.Tests.Fatigue.StandBackScenarios;

namespace CdsMitral.Tests.Fatigue;

/// <summary>
/// Feedback a health system can trust at scale (issue 24), through the HTTP surface, on either store: a request carries
/// a bounded number of items, each of which costs the client a permit; a stand-back holds where its card was shown
/// (client, tenant, FHIR server) and never grows without the card being shown again; one client's feedback neither hides
/// nor stands in for another's; feedback goes to the service that showed the card; and stores sharing a folder keep
/// their own checkpoints.
/// </summary>
public static class FeedbackIntegrityScenarios
{
    private const string FhirA = "http://127.0.0.1:18081/fhir";
    private const string FhirB = "http://127.0.0.1:18082/fhir";

    /// <summary>An override of <paramref name="card"/> for "already evaluated by the Heart Valve Team".</summary>
    private static JsonObject Override(string card, string at = "2026-11-21T12:05:00Z") => new()
    {
        ["card"] = card, ["outcome"] = "overridden", ["outcomeTimestamp"] = at,
        ["overrideReason"] = new JsonObject { ["reason"] = new JsonObject { ["code"] = "already-evaluated-hvt", ["system"] = Ours } },
    };

    private static string Body(params JsonObject[] items) => new JsonObject { ["feedback"] = new JsonArray([.. items.Select(i => i.DeepClone())]) }.ToJsonString();

    /// <summary>A call signed as <paramref name="ehr"/> (the default test EHR unless named), under a tenant if given.</summary>
    private static async Task<HookResponse> SendAsync(this ServiceFactory service, string path, string body, TestEhr? ehr = null, string? tenant = null,
        Action<HttpResponseMessage>? inspect = null)
    {
        ehr ??= TestEhr.Default;
        using var client = service.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
            ehr.Token(service.PublicBaseUrl + path, issuedAt: service.Clock.GetUtcNow(), tenant: tenant));
        using var response = await client.SendAsync(request);
        inspect?.Invoke(response);
        return await HookResponse.ReadAsync(response);
    }

    private static Task<HookResponse> OpenAsync(this ServiceFactory service, Chart chart, string fhirServer, TestEhr? ehr = null, string? tenant = null) =>
        service.SendAsync($"/cds-services/{Requests.PatientViewId}",
            Requests.PatientView(chart.PatientId, chart.Prefetch(Terminology.Terminology.Embedded), fhirServer).ToJsonString(), ehr, tenant);

    private static Task<HookResponse> FeedbackAsync(this ServiceFactory service, string body, TestEhr? ehr = null, string? tenant = null,
        string serviceId = Requests.PatientViewId, Action<HttpResponseMessage>? inspect = null) =>
        service.SendAsync($"/cds-services/{serviceId}/feedback", body, ehr, tenant, inspect);

    /// <summary>How many events of a kind the chain holds.</summary>
    private static async Task<int> EventsAsync(ServiceFactory service, string kind)
    {
        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using var command = AuditDatabase.Command(connection, null, "SELECT count(*) FROM audit_events WHERE kind = @k", ("k", kind));
        return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static async Task AFeedbackRequestOverTheCapIsRefusedWholeWith413NamingTheCapAndNothingIsKept(Store store)
    {
        await using var service = new ServiceFactory().Audited(store).With("CdsMitral:Fatigue:MaxFeedbackItems", "3");
        var card = (string)(await service.OpenAsync(CoaptWithGap("p-cap"), FhirA)).Card("smr-coapt-profile")["uuid"]!;
        var four = Enumerable.Range(0, 4).Select(i => Override(card, $"2026-11-21T12:0{i}:00Z")).ToArray();
        var refused = await service.FeedbackAsync(Body(four));
        Assert.Equal(413, refused.Status);
        Assert.Contains(refused.Issues, i => i.Contains("at most 3 items", StringComparison.Ordinal) && i.Contains("carries 4", StringComparison.Ordinal));
        // A long list of items that are not even valid costs no more: refused for its length, not read item by item.
        Assert.Equal(413, (await service.FeedbackAsync(Body([.. Enumerable.Range(0, 5000).Select(_ => new JsonObject { ["card"] = 1 })]))).Status);
        Assert.Equal(0, await EventsAsync(service, EventKind.Feedback));
        Assert.Equal(200, (await service.FeedbackAsync(Body(four[..3]))).Status);
        Assert.Equal(3, await EventsAsync(service, EventKind.Feedback));
    }

    public static async Task EveryFeedbackItemTakesAPermitFromTheClientsBudget(Store store)
    {
        await using var service = new ServiceFactory().Audited(store).With("CdsMitral:Callers:PermitLimit", "6");
        var card = (string)(await service.OpenAsync(CoaptWithGap("p-budget"), FhirA)).Card("smr-coapt-profile")["uuid"]!;
        string Items(int from, int count) => Body([.. Enumerable.Range(from, count).Select(i => Override(card, $"2026-11-21T12:{i:00}:00Z"))]);
        Assert.Equal(200, (await service.FeedbackAsync(Items(0, 4))).Status);
        // Three requests in all, well within 6 calls; but 4 + 3 items are 7 audit events.
        string? retryAfter = null;
        var refused = await service.FeedbackAsync(Items(4, 3), inspect: r => retryAfter = r.Headers.RetryAfter?.ToString());
        Assert.Equal(429, refused.Status);
        Assert.NotNull(retryAfter);
        Assert.Contains(refused.Issues, i => i.Contains("feedback items", StringComparison.Ordinal));
        Assert.Equal(4, await EventsAsync(service, EventKind.Feedback));
    }

    public static async Task AStandBackHoldsOnlyForTheClientTenantAndFhirServerOfTheCallThatShowedTheCard(Store store)
    {
        await using var service = new ServiceFactory().Audited(store)
            .With("CdsMitral:Trust:Clients:0:Tenants:0", "hospital-a").With("CdsMitral:Trust:Clients:0:Tenants:1", "hospital-b");
        var chart = CoaptWithGap("p-scope");
        var shown = await service.OpenAsync(chart, FhirA, tenant: "hospital-a");
        Assert.Equal(200, (await service.FeedbackAsync(Body(Override((string)shown.Card("smr-coapt-profile")["uuid"]!)), tenant: "hospital-a")).Status);

        Assert.DoesNotContain("smr-coapt-profile", (await service.OpenAsync(chart, FhirA, tenant: "hospital-a")).RuleIds);
        // The same patient id under another tenant, or on another FHIR server, is not the patient the card was shown for.
        Assert.Contains("smr-coapt-profile", (await service.OpenAsync(chart, FhirA, tenant: "hospital-b")).RuleIds);
        Assert.Contains("smr-coapt-profile", (await service.OpenAsync(chart, FhirB, tenant: "hospital-a")).RuleIds);

        // Hospital B's card answered under hospital A's name stands nothing back for B.
        var atB = await service.OpenAsync(chart, FhirB, tenant: "hospital-b");
        Assert.Equal(200, (await service.FeedbackAsync(Body(Override((string)atB.Card("smr-coapt-profile")["uuid"]!)), tenant: "hospital-a")).Status);
        Assert.Contains("smr-coapt-profile", (await service.OpenAsync(chart, FhirB, tenant: "hospital-b")).RuleIds);
    }

    public static async Task AnotherClientSendingTheSameItemFirstNeitherHidesNorReplacesTheClientsOwnFeedback(Store store)
    {
        var other = new TestEhr("https://other-ehr.test.example", "other-key-1");
        await using var service = new ServiceFactory().Audited(store)
            .With("CdsMitral:Trust:Clients:1:Issuer", other.Issuer).With("CdsMitral:Trust:Clients:1:Jwks", other.Jwks)
            .With("CdsMitral:Trust:Clients:1:FhirServers:0", "http://127.0.0.1:*/fhir");
        var chart = CoaptWithGap("p-dedupe");
        var item = Body(Override((string)(await service.OpenAsync(chart, FhirA)).Card("smr-coapt-profile")["uuid"]!));
        Assert.Equal(200, (await service.FeedbackAsync(item, other)).Status);
        Assert.Contains("smr-coapt-profile", (await service.OpenAsync(chart, FhirA)).RuleIds);
        // The client the card was shown to sends the very same item: it is kept as its own, and it counts.
        Assert.Equal(200, (await service.FeedbackAsync(item)).Status);
        Assert.Equal(2, await EventsAsync(service, EventKind.Feedback));
        Assert.DoesNotContain("smr-coapt-profile", (await service.OpenAsync(chart, FhirA)).RuleIds);
        // Its second delivery is still kept once.
        Assert.Equal(200, (await service.FeedbackAsync(item)).Status);
        Assert.Equal(2, await EventsAsync(service, EventKind.Feedback));
    }

    public static async Task ResendingAnItemWithANewTimestampNeverExtendsTheStandBack(Store store)
    {
        // Instances one after another on one store, each with its own clock, as TheStandBackEndsWhenItsTimeIsUp.
        var shared = Path.Combine(Path.GetTempPath(), "cdsmitral-tests", "resend-" + Guid.NewGuid().ToString("N"));
        var schema = store == Store.Postgres ? AuditSupport.NewSchema() : null;
        ServiceFactory At(int day)
        {
            var factory = ServiceFactory.At(ServiceFactory.Today.AddDays(day)).Audited(store, schema);
            return store == Store.Sqlite
                ? factory.With("CdsMitral:Audit:ConnectionString", Path.Combine(shared, "audit.db")).With("CdsMitral:Audit:SpoolPath", Path.Combine(shared, "spool.ndjson"))
                : factory;
        }
        var chart = CoaptWithGap("p-resend");
        string card;
        await using (var day0 = At(0))
        {
            card = (string)(await day0.OpenAsync(chart, FhirA)).Card("smr-coapt-profile")["uuid"]!;
            Assert.Equal(200, (await day0.FeedbackAsync(Body(Override(card)))).Status); // 180 days
        }
        await using (var day170 = At(170))
        {
            Assert.DoesNotContain("smr-coapt-profile", (await day170.OpenAsync(chart, FhirA)).RuleIds);
            // The same card answered again, with a new time and the other "handled" reason: kept, but it extends nothing.
            var again = Override(card, ServiceFactory.Today.AddDays(170).ToString("yyyy-MM-dd'T'12:00:00'Z'", System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(200, (await day170.FeedbackAsync(Body(again))).Status);
        }
        await using (var day181 = At(181))
        {
            Assert.Contains("smr-coapt-profile", (await day181.OpenAsync(chart, FhirA)).RuleIds);
        }
        try
        {
            Directory.Delete(shared, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public static async Task FeedbackOnACardAnotherServiceShowedIsRefusedAndNothingOfTheRequestIsKept(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        var chart = CoaptWithGap("p-service");
        var card = (string)(await service.OpenAsync(chart, FhirA)).Card("smr-coapt-profile")["uuid"]!;
        var refused = await service.FeedbackAsync(Body(Override(card, "2026-11-21T12:01:00Z"), Override(card)), serviceId: Requests.OrderSelectId);
        Assert.Equal(400, refused.Status);
        Assert.Contains(refused.Issues, i => i.Contains($"shown by the service '{Requests.PatientViewId}'", StringComparison.Ordinal));
        Assert.Equal(0, await EventsAsync(service, EventKind.Feedback));
        Assert.Contains("smr-coapt-profile", (await service.OpenAsync(chart, FhirA)).RuleIds);
    }

    /// <summary>Migration 009 on a store that already held stand-backs: a card stood back twice (a re-sent item, before this
    /// release) keeps the first, and the rows that were there hold for calls without a tenant or FHIR server as before.</summary>
    public static async Task AnUpgradedStoreKeepsTheFirstStandBackOfACardAndDropsTheLaterOnes(Store store)
    {
        var folder = Path.Combine(Path.GetTempPath(), "cdsmitral-tests", "upgrade-" + Guid.NewGuid().ToString("N"));
        var schema = store == Tests.Support.Store.Postgres ? AuditSupport.NewSchema() : null;
        ServiceFactory Instance()
        {
            var factory = new ServiceFactory().Audited(store, schema);
            return store == Tests.Support.Store.Sqlite
                ? factory.With("CdsMitral:Audit:ConnectionString", Path.Combine(folder, "audit.db")).With("CdsMitral:Audit:SpoolPath", Path.Combine(folder, "spool.ndjson"))
                : factory;
        }
        static async Task Run(ServiceFactory service, string sql)
        {
            await using var connection = await service.Services.GetRequiredService<AuditDatabase>().OpenAsync(CancellationToken.None);
            await AuditDatabase.Execute(connection, null, sql, CancellationToken.None);
        }
        await using (var before = Instance())
        {
            _ = before.Services.GetRequiredService<AuditDatabase>();
            Assert.Equal(200, (await before.OpenAsync(CoaptWithGap("p-upgrade"), FhirA)).Status); // migrated
            // Back to the store as 008 left it, holding two stand-backs of one card.
            await Run(before, "DROP INDEX suppressions_card");
            await Run(before, "ALTER TABLE suppressions DROP COLUMN client_tenant");
            await Run(before, "ALTER TABLE suppressions DROP COLUMN fhir_server");
            await Run(before, "DELETE FROM schema_migrations WHERE version = 9");
            foreach (var (key, at, until) in new[] { ("k-first", "2026-11-01T00:00:00.000Z", "2027-04-30T00:00:00.000Z"), ("k-later", "2026-11-20T00:00:00.000Z", "2027-05-19T00:00:00.000Z") })
            {
                await Run(before, "INSERT INTO suppressions (dedupe_key, feedback_event_id, invocation_event_id, card_uuid, client_issuer, patient_id, rule_id, " +
                    "rule_version, fingerprint, outcome, reason_system, reason_code, reason_display, user_id, at, until_at) VALUES " +
                    $"('{key}', 'f', 'i', 'card-1', 'https://ehr.test.example', 'p-upgrade', 'smr-coapt-profile', '2.0.0', 'fp', 'overridden', NULL, NULL, NULL, NULL, '{at}', '{until}')");
            }
        }
        await using (var after = Instance())
        {
            Assert.Equal(200, (await after.OpenAsync(CoaptWithGap("p-upgrade"), FhirA)).Status); // migrated again, to 009
            await using var connection = await after.Services.GetRequiredService<AuditDatabase>().OpenAsync(CancellationToken.None);
            await using var command = AuditDatabase.Command(connection, null, "SELECT dedupe_key, client_tenant, fhir_server FROM suppressions WHERE card_uuid = 'card-1'");
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(("k-first", "", ""), (reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            Assert.False(await reader.ReadAsync());
        }
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Two stores whose checkpoints share one file (two SQLite databases in one folder; two PostgreSQL schemas
    /// given one CheckpointPath): each is verified against its own, so the one with the shorter chain is intact.</summary>
    public static async Task TwoStoresWhoseCheckpointsShareAFileEachKeepTheirOwn(Store store)
    {
        var folder = Path.Combine(Path.GetTempPath(), "cdsmitral-tests", "two-stores-" + Guid.NewGuid().ToString("N"));
        ServiceFactory Store(string name, string? schema)
        {
            var factory = new ServiceFactory().Audited(store, schema);
            return store == Tests.Support.Store.Sqlite
                ? factory.With("CdsMitral:Audit:ConnectionString", Path.Combine(folder, $"{name}.db")).With("CdsMitral:Audit:SpoolPath", Path.Combine(folder, $"{name}.spool.ndjson"))
                : factory.With("CdsMitral:Audit:CheckpointPath", Path.Combine(folder, "audit-checkpoints.ndjson"));
        }
        var (schemaA, schemaB) = store == Tests.Support.Store.Postgres ? (AuditSupport.NewSchema(), AuditSupport.NewSchema()) : (null, null);
        await using (var a = Store("a", schemaA))
        {
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(200, (await a.OpenAsync(CoaptWithGap($"p-a{i}"), FhirA)).Status);
            }
        } // a checkpoints its head at shutdown
        Assert.True(File.Exists(Path.Combine(folder, "audit-checkpoints.ndjson")));
        await using (var b = Store("b", schemaB))
        {
            Assert.Equal(200, (await b.OpenAsync(CoaptWithGap("p-b"), FhirA)).Status);
            var verified = await b.AuditApi("/audit/api/verify");
            Assert.True((bool)verified["intact"]!, verified.ToJsonString());
        }
        await using (var a = Store("a", schemaA))
        {
            var verified = await a.AuditApi("/audit/api/verify");
            Assert.True((bool)verified["intact"]!, verified.ToJsonString());
        }
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The feedback integrity scenarios, listed once and run against each store as a class of its own (so that the two run in
/// parallel); the PostgreSQL class skips, saying why, where no server is configured.</summary>
public abstract class FeedbackIntegrityOnEachStore(Store store)
{
    [Fact] public Task AFeedbackRequestOverTheCapIsRefusedWholeWith413NamingTheCapAndNothingIsKept() => FeedbackIntegrityScenarios.AFeedbackRequestOverTheCapIsRefusedWholeWith413NamingTheCapAndNothingIsKept(Requires.Available(store));
    [Fact] public Task EveryFeedbackItemTakesAPermitFromTheClientsBudget() => FeedbackIntegrityScenarios.EveryFeedbackItemTakesAPermitFromTheClientsBudget(Requires.Available(store));
    [Fact] public Task AStandBackHoldsOnlyForTheClientTenantAndFhirServerOfTheCallThatShowedTheCard() => FeedbackIntegrityScenarios.AStandBackHoldsOnlyForTheClientTenantAndFhirServerOfTheCallThatShowedTheCard(Requires.Available(store));
    [Fact] public Task AnotherClientSendingTheSameItemFirstNeitherHidesNorReplacesTheClientsOwnFeedback() => FeedbackIntegrityScenarios.AnotherClientSendingTheSameItemFirstNeitherHidesNorReplacesTheClientsOwnFeedback(Requires.Available(store));
    [Fact] public Task ResendingAnItemWithANewTimestampNeverExtendsTheStandBack() => FeedbackIntegrityScenarios.ResendingAnItemWithANewTimestampNeverExtendsTheStandBack(Requires.Available(store));
    [Fact] public Task FeedbackOnACardAnotherServiceShowedIsRefusedAndNothingOfTheRequestIsKept() => FeedbackIntegrityScenarios.FeedbackOnACardAnotherServiceShowedIsRefusedAndNothingOfTheRequestIsKept(Requires.Available(store));
    [Fact] public Task TwoStoresWhoseCheckpointsShareAFileEachKeepTheirOwn() => FeedbackIntegrityScenarios.TwoStoresWhoseCheckpointsShareAFileEachKeepTheirOwn(Requires.Available(store));
    [Fact] public Task AnUpgradedStoreKeepsTheFirstStandBackOfACardAndDropsTheLaterOnes() => FeedbackIntegrityScenarios.AnUpgradedStoreKeepsTheFirstStandBackOfACardAndDropsTheLaterOnes(Requires.Available(store));
}

public sealed class SqliteFeedbackIntegrityTests() : FeedbackIntegrityOnEachStore(Store.Sqlite);

public sealed class PostgresFeedbackIntegrityTests() : FeedbackIntegrityOnEachStore(Store.Postgres);

