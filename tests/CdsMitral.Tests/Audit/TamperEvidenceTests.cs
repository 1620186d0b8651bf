using System.Security.Cryptography;
using System.Text;
using CdsMitral.Service.Audit;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsMitral.Tests.Audit;

// The same attacks against each store. The PostgreSQL ones need a server (.ci/postgres.sh); without one they say so.

/// <summary>The attacks, listed once and run against each store as a class of its own (so that the two run in parallel); the
/// PostgreSQL class skips, saying why, where no server is configured.</summary>
public abstract class TamperEvidenceOnEachStore(Store store)
{
    [Fact] public Task AForgedPatientIdInTheIndexIsNotShownAsIntact() => TamperEvidenceScenarios.AForgedPatientIdInTheIndexIsNotShownAsIntact(Requires.Available(store));
    [Fact] public Task EveryForgeryOfTheIndexIsFound() => TamperEvidenceScenarios.EveryForgeryOfTheIndexIsFound(Requires.Available(store));
    [Fact] public Task ARewrittenDocumentWithRecomputedHashesIsFound() => TamperEvidenceScenarios.ARewrittenDocumentWithRecomputedHashesIsFound(Requires.Available(store));
    [Fact] public Task AChainWrittenBeforeKeyingVerifiesAsLegacyUnkeyedAndSaysSo() => TamperEvidenceScenarios.AChainWrittenBeforeKeyingVerifiesAsLegacyUnkeyedAndSaysSo(Requires.Available(store));
    [Fact] public Task ACutTailIsFoundThroughTheCheckpoint() => TamperEvidenceScenarios.ACutTailIsFoundThroughTheCheckpoint(Requires.Available(store));
    [Fact] public Task RecordsUnderARetiredKeyStillVerifyAfterANewKeyIsCurrent() => TamperEvidenceScenarios.RecordsUnderARetiredKeyStillVerifyAfterANewKeyIsCurrent(Requires.Available(store));
    [Fact] public Task VerifyingDuringLoadReportsNoFalseBreak() => TamperEvidenceScenarios.VerifyingDuringLoadReportsNoFalseBreak(Requires.Available(store));
}

public sealed class SqliteTamperEvidenceTests() : TamperEvidenceOnEachStore(Store.Sqlite)
{
    /// <summary>SQLite only: the service is stopped and its file cut while it is down.</summary>
    [Fact] public Task ATailCutWhileTheServiceWasDownIsFound() => TamperEvidenceScenarios.ATailCutWhileTheServiceWasDownIsFound();
}

public sealed class PostgresTamperEvidenceTests() : TamperEvidenceOnEachStore(Store.Postgres);

public sealed class ChainKeyTests
{
    [Fact]
    public async Task WithoutAChainKeyTheServiceRefusesToStartInProduction()
    {
        await using var service = new ServiceFactory().InEnvironment("Production");
        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());
        Assert.Contains("The audit chain needs a key outside Development: set CdsMitral:Audit:ChainKey", error.ToString(), StringComparison.Ordinal);

        // Given a key, the same settings start.
        await using var keyed = new ServiceFactory().InEnvironment("Production").With("CdsMitral:Audit:ChainKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        using var client = keyed.CreateClient();
        Assert.True((await client.GetAsync("/health/live")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task TheRealProcessRefusesToStartInProductionWithoutAChainKeySayingWhy()
    {
        var (exitCode, error) = await ServiceProcess.FailToStartAsync(new Dictionary<string, string>
        {
            ["CdsMitral__Audit__ConnectionString"] = Path.Combine(Path.GetTempPath(), "cdsmitral-tests", Guid.NewGuid().ToString("N"), "audit.db"),
            // Production also needs its public base URL; given, only the key is missing.
            ["CdsMitral__PublicBaseUrl"] = "https://cds.example.org",
        });
        Assert.Equal(1, exitCode);
        Assert.Contains("The audit chain needs a key outside Development", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CdsMitral:Audit:ChainKey", "c2hvcnQ=", "not a base64 key of at least 16 bytes")]
    [InlineData("CdsMitral:Audit:ChainKeyFile", "/nowhere/chain.key", "ChainKeyFile '/nowhere/chain.key' does not exist")]
    [InlineData("CdsMitral:Audit:ChainKeys:0011223344556677", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "list it under that id")]
    public async Task AWrongChainKeySettingStopsTheServiceWithASentence(string key, string value, string expected)
    {
        await using var service = new ServiceFactory().InEnvironment("Production").With(key, value);
        if (key.StartsWith("CdsMitral:Audit:ChainKeys:", StringComparison.Ordinal))
        {
            service.With("CdsMitral:Audit:ChainKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }
        var error = Assert.ThrowsAny<Exception>(() => service.CreateClient());
        Assert.Contains(expected, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InDevelopmentAKeyFileIsMadeOnFirstStartAndSignsTheRecords()
    {
        var log = new LogCapture();
        await using var service = new ServiceFactory().InEnvironment("Development").With("CdsMitral:Trust:Mode", "Off").Audited(Store.Sqlite);
        using var client = service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(log)))).CreateClient();
        var file = Path.Combine(service.DataDirectory, "audit-chain.key");
        Assert.True(File.Exists(file));
        Assert.Contains(log.Lines, l => l.Contains("Generated a new audit chain key", StringComparison.Ordinal) && l.Contains(file, StringComparison.Ordinal));
        var key = Convert.FromBase64String((await File.ReadAllLinesAsync(file))[0]);
        Assert.Equal(32, key.Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Requests.PatientView("p1", new Chart("p1").Prefetch(Terminology.Terminology.Embedded)))).Status);
        var report = await service.AuditApi("/audit/api/verify");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(key)[..8]), (string)report["keyIds"]![0]!);
    }

    [Theory]
    [InlineData("""{"unit":"cm²","note":"🫀 severe"}""")]
    [InlineData("")]
    public void TheChainHashIsTheHmacSha256OfTheJoinedFieldsWithTheKeyId(string document)
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        var key = new AuditKey(secret);
        var prev = new string('a', 64);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(secret,
            Encoding.UTF8.GetBytes($"{prev}\n42\nevent-id\nhook\n2026-11-21T12:00:00.0000000Z\n{key.Id}\n{document}")));
        Assert.Equal(expected, key.Sign(prev, 42, "event-id", "hook", "2026-11-21T12:00:00.0000000Z", document));
        Assert.Equal(expected, key.Sign(prev, 42, "event-id", "hook", "2026-11-21T12:00:00.0000000Z", Encoding.UTF8.GetBytes(document).AsSpan()));
    }

    [Fact]
    public void SigningARecordAllocatesOnlyItsHexString()
    {
        var key = new AuditKey(RandomNumberGenerator.GetBytes(32));
        var document = string.Concat(Enumerable.Repeat("{\"detail\":\"LVEF 32 % — LVESD 58 mm\"},", 200)); // about the size of a record
        for (var i = 0; i < 100; i++)
        {
            key.Sign(AuditStore.Genesis, i, "0193a5b0-0000-7000-8000-000000000000", "hook", "2026-11-21T12:00:00.0000000Z", document);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            key.Sign(AuditStore.Genesis, i, "0193a5b0-0000-7000-8000-000000000000", "hook", "2026-11-21T12:00:00.0000000Z", document);
        }
        var perRecord = (GC.GetAllocatedBytesForCurrentThread() - before) / 100.0;
        Assert.True(perRecord < 200, $"{perRecord} bytes per record"); // the 64-character hex string is ~150 bytes
    }
}
