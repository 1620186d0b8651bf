using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace CdsMitral.Tests.Support;

public enum Store { Sqlite, Postgres }

public static class AuditSupport
{
    public const string AuditorUser = "auditor";
    public const string AuditorPassword = "correct horse battery staple";

    /// <summary>A low iteration count keeps the tests quick; production hashes use AuditorPasswords.Iterations.</summary>
    public static readonly string AuditorHash = Service.Audit.AuditorPasswords.Hash(AuditorPassword, iterations: 10_000);

    /// <summary>A service whose audit trail lives in the given store; PostgreSQL gets a schema of its own, or the one named.</summary>
    public static ServiceFactory Audited(this ServiceFactory factory, Store store, string? schema = null)
    {
        factory.With("CdsMitral:Audit:Auditors:0:User", AuditorUser).With("CdsMitral:Audit:Auditors:0:PasswordHash", AuditorHash);
        if (store == Store.Postgres)
        {
            schema ??= NewSchema();
            // Instances that share a chain share its key (one file per schema); each keeps its own checkpoints and archives. With
            // SQLite both sit beside the database file, in the service's own folder.
            factory.With("CdsMitral:Audit:Store", "PostgreSql")
                .With("CdsMitral:Audit:ConnectionString", $"{Environment.GetEnvironmentVariable(Requires.PostgresVariable)};Search Path={schema}")
                .With("CdsMitral:Audit:ChainKeyFile", Path.Combine(Path.GetTempPath(), "cdsmitral-tests", $"{schema}.chain.key"))
                .With("CdsMitral:Audit:CheckpointPath", Path.Combine(factory.DataDirectory, "audit-checkpoints.ndjson"))
                .With("CdsMitral:Audit:ArchiveFolder", Path.Combine(factory.DataDirectory, "audit-archive"));
        }
        return factory;
    }

    public static string NewSchema()
    {
        var schema = "t_" + Guid.NewGuid().ToString("N")[..16];
        using var connection = new NpgsqlConnection(Environment.GetEnvironmentVariable(Requires.PostgresVariable));
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
        command.ExecuteNonQuery();
        return schema;
    }

    public static HttpClient AuditorClient(this ServiceFactory factory, string user = AuditorUser, string password = AuditorPassword)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return client;
    }

    public static async Task<JsonNode> AuditApi(this ServiceFactory factory, string pathAndQuery)
    {
        using var client = factory.AuditorClient();
        using var response = await client.GetAsync(pathAndQuery);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Every text the audit store holds, to search for what must never be there.</summary>
    public static async Task<string> EverythingStored(ServiceFactory factory, Store store)
    {
        if (store == Store.Sqlite)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var text = new StringBuilder();
            foreach (var file in Directory.GetFiles(factory.DataDirectory))
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var reader = new StreamReader(stream, Encoding.Latin1);
                text.Append(await reader.ReadToEndAsync());
            }
            return text.ToString();
        }
        var json = await factory.AuditApi("/audit/api/invocations?page=1");
        var all = new StringBuilder(json.ToJsonString());
        foreach (var item in json["items"]!.AsArray())
        {
            all.Append((await factory.AuditApi($"/audit/api/invocations/{item!["eventId"]}")).ToJsonString());
        }
        return all.ToString();
    }
}
