namespace CdsMitral.Tests.Audit;

using Support;

// The same scenarios against each store. The PostgreSQL ones need a server (.ci/postgres.sh); without one they say so.

/// <summary>The audit trail scenarios, listed once and run against each store as a class of its own (so that the two run in
/// parallel); the PostgreSQL class skips, saying why, where no server is configured.</summary>
public abstract class AuditTrailOnEachStore(Store store)
{
    [Fact] public Task EveryHookCallLeavesOneRecordWithItsEvidence() => AuditScenarios.EveryHookCallLeavesOneRecordWithItsEvidence(Requires.Available(store));
    [Fact] public Task RefusedCallsAreRecordedWithTheirReason() => AuditScenarios.RefusedCallsAreRecordedWithTheirReason(Requires.Available(store));
    [Fact] public Task NoTokenIsKept() => AuditScenarios.NoTokenIsKept(Requires.Available(store));
    [Fact] public Task TheChainVerifiesAndShowsTampering() => AuditScenarios.TheChainVerifiesAndShowsTampering(Requires.Available(store));
    [Fact] public Task FeedbackIsKeptOnceAndTiedToItsCard() => AuditScenarios.FeedbackIsKeptOnceAndTiedToItsCard(Requires.Available(store));
    [Fact] public Task RetentionPurgesTheOldestAndTheRestStillVerifies() => AuditScenarios.RetentionPurgesTheOldestAndTheRestStillVerifies(Requires.Available(store));
    [Fact] public Task ConcurrentCallsAllGetTheirRecord() => AuditScenarios.ConcurrentCallsAllGetTheirRecord(Requires.Available(store));
    [Fact] public Task AuditorsFilterAndExport() => AuditScenarios.AuditorsFilterAndExport(Requires.Available(store));
    [Fact] public Task OnlyAuditorsMayRead() => AuditScenarios.OnlyAuditorsMayRead(Requires.Available(store));
    [Fact] public Task TheStoredDocumentIsTextByteForByteTheRecordsJson() => AuditScenarios.TheStoredDocumentIsTextByteForByteTheRecordsJson(Requires.Available(store));
    [Fact] public Task ASilentAnswerSaysWhyInItsRecord() => AuditScenarios.ASilentAnswerSaysWhyInItsRecord(Requires.Available(store));
}

public sealed class SqliteAuditTrailTests() : AuditTrailOnEachStore(Store.Sqlite);

public sealed class PostgresAuditTrailTests() : AuditTrailOnEachStore(Store.Postgres);

public sealed class AuditHashTests
{
    [Theory]
    [InlineData("""{"unit":"cm²","note":"🫀 severe"}""")]
    [InlineData("")]
    [InlineData("{}")]
    public void TheChainHashIsTheSha256OfTheJoinedFieldsSoChainsWrittenBeforeStillVerify(string document)
    {
        var prev = new string('a', 64);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{prev}\n42\nevent-id\nhook\n2026-11-21T12:00:00.0000000Z\n{document}")));
        Assert.Equal(expected, Service.Audit.AuditStore.Hash(prev, 42, "event-id", "hook", "2026-11-21T12:00:00.0000000Z", document));
    }

    [Fact]
    public void ALargeDocumentHashesTheSameWay()
    {
        var document = string.Concat(Enumerable.Repeat("{\"detail\":\"LVEF 32 % — LVESD 58 mm\"},", 2000));
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{AuditStoreGenesis}\n1\nid\nhook\nat\n{document}")));
        Assert.Equal(expected, Service.Audit.AuditStore.Hash(AuditStoreGenesis, 1, "id", "hook", "at", document));
    }

    private const string AuditStoreGenesis = Service.Audit.AuditStore.Genesis;
}
