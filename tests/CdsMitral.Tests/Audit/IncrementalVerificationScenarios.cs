using System.Text.Json.Nodes;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Audit;

/// <summary>
/// Verification at the size of a year (issue 24): a check reads what was added since the last one rather than the whole
/// chain, still finds tampering among what it reads, says what it did not re-read, and the scheduled full walk finds
/// what the quick checks cannot. Through /audit/api/verify, on either store.
/// </summary>
public static class IncrementalVerificationScenarios
{
    private static async Task CallsAsync(ServiceFactory service, string prefix, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, AuditScenarios.CoaptRequest($"{prefix}{i}"))).Status);
        }
    }

    private static Task<JsonNode> VerifyAsync(ServiceFactory service, bool full = false) =>
        service.AuditApi(full ? "/audit/api/verify?full=true" : "/audit/api/verify");

    public static async Task ACheckReadsOnlyWhatWasAddedAndStillFindsTamperingThere(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        await CallsAsync(service, "a", 3);
        var first = await VerifyAsync(service);
        Assert.True((bool)first["intact"]!);
        Assert.Equal(3, (long)first["eventsRead"]!); // nothing proved yet: the first check walks in full
        Assert.Contains("Walked in full", (string)first["note"]!, StringComparison.Ordinal);

        await CallsAsync(service, "b", 2);
        var second = await VerifyAsync(service);
        Assert.True((bool)second["intact"]!);
        Assert.Equal(5, (long)second["events"]!);
        Assert.Equal(2, (long)second["eventsRead"]!);
        Assert.Contains("Events through seq 3 were proved by earlier checks", (string)second["note"]!, StringComparison.Ordinal);
        Assert.Equal(0, (long)(await VerifyAsync(service))["eventsRead"]!);

        // An event added since the last check, altered before the next: the quick check reads it, and sees.
        await CallsAsync(service, "c", 1);
        await AuditScenarios.Sql(service, "UPDATE audit_events SET document = replace(document, 'consider Heart Valve Team', 'no need for') WHERE seq = 6");
        var altered = await VerifyAsync(service);
        Assert.False((bool)altered["intact"]!);
        Assert.Equal(6, (long)altered["firstBrokenSeq"]!);
        // A broken chain is walked in full from then on: it does not come back "intact" on the next check.
        var again = await VerifyAsync(service);
        Assert.False((bool)again["intact"]!);
        Assert.Equal(6, (long)again["eventsRead"]!);
    }

    public static async Task AnIndexRowForgedAfterItsEventWasProvedIsFoundByTheFullWalk(Store store)
    {
        await using var service = new ServiceFactory().Audited(store);
        await CallsAsync(service, "p", 3);
        Assert.True((bool)(await VerifyAsync(service))["intact"]!);
        await AuditScenarios.Sql(service, "UPDATE invocations SET patient_id = 'forged' WHERE event_id = (SELECT id FROM audit_events WHERE seq = 2)");
        Assert.True((bool)(await VerifyAsync(service))["intact"]!); // proved before: not re-read, and the note says so
        var full = await VerifyAsync(service, full: true);
        Assert.False((bool)full["intact"]!);
        Assert.Contains("patient id", (string)full["problem"]!, StringComparison.Ordinal);
    }

    public static async Task TheScheduledFullWalkFindsAnEventAlteredAfterItWasProved(Store store)
    {
        await using var service = new ServiceFactory().Audited(store)
            .With("CdsMitral:Audit:FullVerifyInterval", "00:00:01").With("CdsMitral:Audit:MaintenanceInterval", "00:00:00.200");
        await CallsAsync(service, "s", 3);
        Assert.True((bool)(await VerifyAsync(service))["intact"]!);
        await AuditScenarios.Sql(service, "UPDATE audit_events SET document = replace(document, 'consider Heart Valve Team', 'no need for') WHERE seq = 2");
        // Quick checks alone would read nothing and stay "intact"; the walk the service schedules finds it.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonNode report;
        while ((bool)(report = await VerifyAsync(service))["intact"]!)
        {
            Assert.True(DateTime.UtcNow < deadline, "no scheduled full walk found the altered event within 30 s");
            await Task.Delay(200);
        }
        Assert.Equal(2, (long)report["firstBrokenSeq"]!);
    }
}

/// <summary>The incremental verification scenarios, listed once and run against each store as a class of its own (so that the two run in
/// parallel); the PostgreSQL class skips, saying why, where no server is configured.</summary>
public abstract class IncrementalVerificationOnEachStore(Store store)
{
    [Fact] public Task ACheckReadsOnlyWhatWasAddedAndStillFindsTamperingThere() => IncrementalVerificationScenarios.ACheckReadsOnlyWhatWasAddedAndStillFindsTamperingThere(Requires.Available(store));
    [Fact] public Task AnIndexRowForgedAfterItsEventWasProvedIsFoundByTheFullWalk() => IncrementalVerificationScenarios.AnIndexRowForgedAfterItsEventWasProvedIsFoundByTheFullWalk(Requires.Available(store));
    [Fact] public Task TheScheduledFullWalkFindsAnEventAlteredAfterItWasProved() => IncrementalVerificationScenarios.TheScheduledFullWalkFindsAnEventAlteredAfterItWasProved(Requires.Available(store));
}

public sealed class SqliteIncrementalVerificationTests() : IncrementalVerificationOnEachStore(Store.Sqlite);

public sealed class PostgresIncrementalVerificationTests() : IncrementalVerificationOnEachStore(Store.Postgres);

