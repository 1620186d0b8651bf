namespace CdsMitral.Tests.Audit;

using Support;

// The same scenarios against each store. The PostgreSQL ones need a server (.ci/postgres.sh); without one they say so.

public sealed class SqliteAuditTrailTests
{
    [Fact] public Task EveryHookCallLeavesOneRecordWithItsEvidence() => AuditScenarios.EveryHookCallLeavesOneRecordWithItsEvidence(Store.Sqlite);
    [Fact] public Task RefusedCallsAreRecordedWithTheirReason() => AuditScenarios.RefusedCallsAreRecordedWithTheirReason(Store.Sqlite);
    [Fact] public Task NoTokenIsKept() => AuditScenarios.NoTokenIsKept(Store.Sqlite);
    [Fact] public Task TheChainVerifiesAndShowsTampering() => AuditScenarios.TheChainVerifiesAndShowsTampering(Store.Sqlite);
    [Fact] public Task FeedbackIsKeptOnceAndTiedToItsCard() => AuditScenarios.FeedbackIsKeptOnceAndTiedToItsCard(Store.Sqlite);
    [Fact] public Task RetentionPurgesTheOldestAndTheRestStillVerifies() => AuditScenarios.RetentionPurgesTheOldestAndTheRestStillVerifies(Store.Sqlite);
    [Fact] public Task ConcurrentCallsAllGetTheirRecord() => AuditScenarios.ConcurrentCallsAllGetTheirRecord(Store.Sqlite);
    [Fact] public Task AuditorsFilterAndExport() => AuditScenarios.AuditorsFilterAndExport(Store.Sqlite);
    [Fact] public Task OnlyAuditorsMayRead() => AuditScenarios.OnlyAuditorsMayRead(Store.Sqlite);
    [Fact] public Task TheStoredDocumentIsTextByteForByteTheRecordsJson() => AuditScenarios.TheStoredDocumentIsTextByteForByteTheRecordsJson(Store.Sqlite);
    [Fact] public Task ASilentAnswerSaysWhyInItsRecord() => AuditScenarios.ASilentAnswerSaysWhyInItsRecord(Store.Sqlite);
}

public sealed class PostgresAuditTrailTests
{
    [PostgresFact] public Task EveryHookCallLeavesOneRecordWithItsEvidence() => AuditScenarios.EveryHookCallLeavesOneRecordWithItsEvidence(Store.Postgres);
    [PostgresFact] public Task RefusedCallsAreRecordedWithTheirReason() => AuditScenarios.RefusedCallsAreRecordedWithTheirReason(Store.Postgres);
    [PostgresFact] public Task NoTokenIsKept() => AuditScenarios.NoTokenIsKept(Store.Postgres);
    [PostgresFact] public Task TheChainVerifiesAndShowsTampering() => AuditScenarios.TheChainVerifiesAndShowsTampering(Store.Postgres);
    [PostgresFact] public Task FeedbackIsKeptOnceAndTiedToItsCard() => AuditScenarios.FeedbackIsKeptOnceAndTiedToItsCard(Store.Postgres);
    [PostgresFact] public Task RetentionPurgesTheOldestAndTheRestStillVerifies() => AuditScenarios.RetentionPurgesTheOldestAndTheRestStillVerifies(Store.Postgres);
    [PostgresFact] public Task ConcurrentCallsAllGetTheirRecord() => AuditScenarios.ConcurrentCallsAllGetTheirRecord(Store.Postgres);
    [PostgresFact] public Task AuditorsFilterAndExport() => AuditScenarios.AuditorsFilterAndExport(Store.Postgres);
    [PostgresFact] public Task OnlyAuditorsMayRead() => AuditScenarios.OnlyAuditorsMayRead(Store.Postgres);
    [PostgresFact] public Task TheStoredDocumentIsTextByteForByteTheRecordsJson() => AuditScenarios.TheStoredDocumentIsTextByteForByteTheRecordsJson(Store.Postgres);
    [PostgresFact] public Task ASilentAnswerSaysWhyInItsRecord() => AuditScenarios.ASilentAnswerSaysWhyInItsRecord(Store.Postgres);
}

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
