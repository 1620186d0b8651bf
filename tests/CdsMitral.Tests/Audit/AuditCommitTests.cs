using System.Buffers.Binary;
using System.Text.Json.Nodes;
using CdsMitral.Service.Audit;
using Microsoft.Extensions.DependencyInjection;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Audit;

/// <summary>What a hook call waits for on SQLite: its event row and the chain head, durable; its index rows come after
/// and are rebuilt from the chain when the process stopped before writing them.</summary>
public sealed class AuditCommitTests
{
    private static JsonObject Coapt(string instance)
    {
        var request = Requests.PatientView("p1", new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01")
            .Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Prefetch(Terminology.Terminology.Embedded));
        request["hookInstance"] = instance;
        return request;
    }

    [Fact]
    public async Task AHookCallWaitsForACommitOfItsEventsPagesAndTheChainHeadNothingMore()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Coapt("first"))).Status);
        await service.AuditApi("/audit/api/invocations"); // the first call's index rows are written by now
        await AuditScenarios.Sql(service, "PRAGMA wal_checkpoint(TRUNCATE)");
        var wal = Path.Combine(service.DataDirectory, "audit.db-wal");
        Assert.Equal(0, new FileInfo(wal).Length);

        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Coapt("measured"))).Status);

        // The answered call's transaction is the first in the WAL (its index rows may follow in a second one): the database
        // header, the event table and its two indexes, the chain head, and the pages the document fills. No page of the index
        // tables (invocations, cards, feedback, stand-backs) is in it. Measured: 7 pages for the 9.1 KB record of the
        // 2026-11-28 cards, 9 for the 10.2 KB record of 2026-12-07 (eight rules, evidence); the bound follows the document.
        var (pages, pageSize) = PagesOfFirstCommit(wal);
        var documentPages = (int)Math.Ceiling(await LatestDocumentBytes(service) / (double)(pageSize - 4));
        Assert.InRange(pages.Count, 1, documentPages + 6);
        var indexPages = await RootPages(service, "invocations%", "cards%", "feedback%", "suppressions%", "index_head", "replay_cache%");
        Assert.Empty(pages.Intersect(indexPages));
        var found = await service.AuditApi("/audit/api/invocations?patient=p1");
        Assert.Contains(found["items"]!.AsArray(), i => (string?)i!["hookInstance"] == "measured");
    }

    [Fact]
    public async Task IndexRowsTheProcessDidNotWriteBeforeItStoppedAreRebuiltFromTheChainAtStartUp()
    {
        await using var first = new ServiceFactory().Audited(Store.Sqlite);
        foreach (var instance in new[] { "a", "b", "c" })
        {
            Assert.Equal(200, (await first.PostAsync(Requests.PatientViewId, Coapt(instance))).Status);
        }
        var cards = (await first.AuditApi("/audit/api/invocations"))["items"]!.AsArray().Sum(i => i!["ruleIds"]!.AsArray().Count);
        Assert.True(cards > 0);
        // What a kill between the answers and the index write leaves: the events and the head, no index rows for them.
        await AuditScenarios.Sql(first, "DELETE FROM cards; DELETE FROM invocations; UPDATE index_head SET seq = 0");
        Assert.Empty((await first.AuditApi("/audit/api/invocations"))["items"]!.AsArray());

        await using var restarted = new ServiceFactory().Audited(Store.Sqlite)
            .With("CdsMitral:Audit:ConnectionString", Path.Combine(first.DataDirectory, "audit.db"))
            .With("CdsMitral:Audit:SpoolPath", Path.Combine(first.DataDirectory, "spool.ndjson"));
        var items = (await restarted.AuditApi("/audit/api/invocations?patient=p1"))["items"]!.AsArray();
        Assert.Equal(["a", "b", "c"], items.Select(i => (string)i!["hookInstance"]!).Order());
        Assert.Equal(cards, items.Sum(i => i!["ruleIds"]!.AsArray().Count));
        Assert.All(items, i => Assert.Null((string?)i!["problem"]));
        var verify = await restarted.AuditApi("/audit/api/verify");
        Assert.True((bool)verify["intact"]!, (string?)verify["problem"]);
    }

    [Fact]
    public async Task CallsThatCommitOnTheirOwnThreadAndCallsQueuedBehindThemKeepOneUnbrokenChainWithNothingSpooled()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        var instances = new List<string>();
        // One at a time (each finds the writer idle and commits inline), then bursts that find it busy and queue.
        for (var n = 0; n < 8; n++)
        {
            instances.Add($"alone-{n}");
            Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Coapt($"alone-{n}"))).Status);
        }
        for (var burst = 0; burst < 4; burst++)
        {
            var names = Enumerable.Range(0, 8).Select(n => $"burst-{burst}-{n}").ToList();
            instances.AddRange(names);
            var answers = await Task.WhenAll(names.Select(name => service.PostAsync(Requests.PatientViewId, Coapt(name))));
            Assert.All(answers, a => Assert.Equal(200, a.Status));
        }

        var items = (await service.AuditApi("/audit/api/invocations?patient=p1"))["items"]!.AsArray();
        Assert.Equal(instances.Order(), items.Select(i => (string)i!["hookInstance"]!).Order());
        var verify = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)verify["intact"]!, (string?)verify["problem"]);
        // A commit that raced another on the writer's connection would have failed and gone to the spool.
        var spool = new FileInfo(Path.Combine(service.DataDirectory, "spool.ndjson"));
        Assert.True(!spool.Exists || spool.Length == 0, "records were spooled");
    }

    [Fact]
    public async Task UnderCallsThatNeverPauseTheWalIsStartedOverInsteadOfGrowing()
    {
        // The background checkpoint folds what was committed when it began; a writer that never pauses has added more by
        // the time it ends, so without the writer folding the rest between two commits the WAL is never started over and
        // grows with every record (to 64 MB, the writer's backstop). Eight callers that never pause, 480 records of ~10 KB
        // (about 10 MB of WAL if never started over); a WAL started over stays near two checkpoints' worth (64 records each).
        await using var service = new ServiceFactory().Audited(Store.Sqlite).With("CdsMitral:Callers:PermitLimit", "100000");
        var wal = Path.Combine(service.DataDirectory, "audit.db-wal");
        // The largest size any caller saw after its call: eight callers write it, so under a lock (an unguarded max could
        // lose the largest, and pass a WAL that had grown).
        long largest = 0;
        var seen = new Lock();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async caller =>
        {
            for (var n = 0; n < 60; n++)
            {
                Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Coapt($"steady-{caller}-{n}"))).Status);
                var size = File.Exists(wal) ? new FileInfo(wal).Length : 0;
                lock (seen)
                {
                    largest = Math.Max(largest, size);
                }
            }
        }));
        var verify = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)verify["intact"]!, (string?)verify["problem"]);
        Assert.Equal(480, (long)verify["events"]!);
        Assert.InRange(largest, 1, 4 << 20);
    }

    [Fact]
    public async Task EveryPooledConnectionCommitsWithSynchronousFullAfterTheWriterLoweredItsOwnForIndexRows()
    {
        var directory = Path.Combine(Path.GetTempPath(), "cdsmitral-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await using var db = new AuditDatabase(Microsoft.Extensions.Options.Options.Create(new AuditOptions { ConnectionString = Path.Combine(directory, "audit.db") }));
            await db.MigrateAsync(CancellationToken.None);
            // What writing index rows does to the writer's connection for a moment, left as a failure could leave it.
            await using (var writer = await db.OpenWriterAsync(CancellationToken.None))
            {
                await AuditDatabase.Execute(writer, null, "PRAGMA synchronous=NORMAL", CancellationToken.None);
            }
            var open = new List<System.Data.Common.DbConnection>();
            try
            {
                for (var n = 0; n < 3; n++)
                {
                    open.Add(await db.OpenAsync(CancellationToken.None));
                    await using var read = AuditDatabase.Command(open[^1], null, "PRAGMA synchronous");
                    Assert.Equal(2L, await read.ExecuteScalarAsync()); // 2 = FULL
                }
            }
            finally
            {
                foreach (var c in open)
                {
                    await c.DisposeAsync();
                }
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Frames up to the first commit frame of a WAL file (https://sqlite.org/fileformat2.html#walformat): each frame
    /// is one page, and a commit frame carries the database size after the commit.</summary>
    private static async Task<long> LatestDocumentBytes(ServiceFactory service)
    {
        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        await using var command = AuditDatabase.Command(connection, null, "SELECT length(CAST(document AS BLOB)) FROM audit_events ORDER BY seq DESC LIMIT 1");
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The root pages of the tables and indexes whose names match: with a few rows, each is all of its b-tree.</summary>
    private static async Task<List<uint>> RootPages(ServiceFactory service, params string[] names)
    {
        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        var roots = new List<uint>();
        foreach (var name in names)
        {
            await using var command = AuditDatabase.Command(connection, null, $"SELECT rootpage FROM sqlite_master WHERE name LIKE '{name}' OR tbl_name LIKE '{name}'");
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                roots.Add((uint)reader.GetInt64(0));
            }
        }
        Assert.NotEmpty(roots);
        return roots;
    }

    /// <summary>The page numbers the WAL's first commit wrote, and the page size.</summary>
    private static (List<uint> Pages, int PageSize) PagesOfFirstCommit(string wal)
    {
        using var file = new FileStream(wal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var header = new byte[32];
        file.ReadExactly(header);
        var pageSize = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8));
        var frame = new byte[24 + pageSize];
        var pages = new List<uint>();
        while (file.Read(frame) == frame.Length)
        {
            // Salts differ in frames left over from before the WAL restarted: those are not part of it.
            Assert.True(frame.AsSpan(8, 8).SequenceEqual(header.AsSpan(16, 8)), "a frame of an older WAL generation");
            pages.Add(BinaryPrimitives.ReadUInt32BigEndian(frame));
            if (BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4)) != 0)
            {
                return (pages, pageSize);
            }
        }
        throw new InvalidOperationException("no commit in the WAL");
    }
}

/// <summary>PostgreSQL commits from the head its connection last wrote, in one round trip; another instance appending
/// to the same chain moves that head, and the next batch must notice and start from the real one.</summary>
public sealed class PostgresCommitTests
{
    [Fact]
    public async Task TwoInstancesAppendingToOneChainInTurnAndAtOnceKeepItUnbroken()
    {
        Requires.Postgres();
        var schema = AuditSupport.NewSchema();
        await using var first = new ServiceFactory().Audited(Store.Postgres, schema).With("CdsMitral:Callers:PermitLimit", "100000");
        await using var second = new ServiceFactory().Audited(Store.Postgres, schema).With("CdsMitral:Callers:PermitLimit", "100000");
        JsonObject Call(string patient) => Requests.PatientView(patient, new Chart(patient).Mr("severe", "2026-10-01").Lvef(32, "2026-10-01").Prefetch(Terminology.Terminology.Embedded));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(200, (await first.PostAsync(Requests.PatientViewId, Call($"f{i}"))).Status);
            Assert.Equal(200, (await second.PostAsync(Requests.PatientViewId, Call($"s{i}"))).Status);
        }
        await Task.WhenAll(Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(200, (await (w % 2 == 0 ? first : second).PostAsync(Requests.PatientViewId, Call($"w{w}-{i}"))).Status);
            }
        })));

        var report = await first.AuditApi("/audit/api/verify");
        Assert.True((bool)report["intact"]!, report.ToJsonString());
        Assert.Equal(48, (long)report["events"]!);
        Assert.Equal(48, (long)(await second.AuditApi("/audit/api/invocations"))["total"]!);
    }

    [Fact]
    public async Task TheChainedDocumentsAreStoredCompressedWithLz4WhereTheServerHasIt()
    {
        Requires.Postgres();
        await using var service = new ServiceFactory().Audited(Store.Postgres);
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular")
            .Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01").FullGdmt().Prefetch(Terminology.Terminology.Embedded)))).Status);
        var db = service.Services.GetRequiredService<AuditDatabase>();
        await using var connection = await db.OpenAsync(CancellationToken.None);
        async Task<object?> Scalar(string sql)
        {
            await using var command = AuditDatabase.Command(connection, null, sql);
            return await command.ExecuteScalarAsync();
        }
        // pglz was a fifth of the server's CPU per audited call; lz4 came with PostgreSQL 14.
        var expected = Convert.ToInt32(await Scalar("SELECT current_setting('server_version_num')"), System.Globalization.CultureInfo.InvariantCulture) >= 140000 ? "lz4" : "pglz";
        Assert.Equal(expected, await Scalar("SELECT pg_column_compression(document) FROM audit_events WHERE kind = 'hook' LIMIT 1"));
        var verify = await service.AuditApi("/audit/api/verify");
        Assert.True((bool)verify["intact"]!, (string?)verify["problem"]);
    }
}
