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
}
