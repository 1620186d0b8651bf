using System.Data;
using System.Data.Common;
using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CdsMitral.Service.Audit;

/// <summary>The one place where SQLite and PostgreSQL differ: how to connect, how to take the chain lock, and
/// which folder of migrations applies. Everything else is the same SQL through ADO.NET.</summary>
public sealed class AuditDatabase : IAsyncDisposable
{
    private readonly AuditOptions _options;
    private readonly NpgsqlDataSource? _postgres;
    private readonly string? _sqlite;
    private readonly string? _sqliteUnpooled;

    public AuditDatabase(IOptions<AuditOptions> options)
    {
        _options = options.Value;
        if (_options.Store == AuditStoreKind.PostgreSql)
        {
            var builder = new NpgsqlDataSourceBuilder(_options.ConnectionString);
            var settings = builder.ConnectionStringBuilder;
            // Unless the connection string says otherwise: the append's and the stand-back's statements, the same few texts
            // on every call, are prepared once per connection instead of parsed and planned each time; and no connection
            // sets session state, so none is reset (RESET ALL, parsed on the server) each time the pool takes one back.
            if (!Given("Max Auto Prepare"))
            {
                settings.MaxAutoPrepare = 64;
            }
            if (!Given("No Reset On Close"))
            {
                settings.NoResetOnClose = true;
            }
            _postgres = builder.Build();
        }
        else
        {
            var file = _options.Resolve(_options.ConnectionString);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            // Microsoft.Data.Sqlite retries a busy database until the command timeout: that, not only busy_timeout, is how
            // long a locked store holds a call before its record goes to the spool.
            var builder = new SqliteConnectionStringBuilder
            {
                DataSource = file,
                Pooling = true,
                DefaultTimeout = Math.Max(1, (int)Math.Ceiling(_options.BusyTimeout.TotalSeconds)),
            };
            _sqlite = builder.ToString();
            builder.Pooling = false;
            _sqliteUnpooled = builder.ToString();
        }
    }

    public bool IsPostgres => _postgres is not null;

    /// <summary>Whether the configured connection string sets this keyword (with or without its spaces). Npgsql's own
    /// builder answers ContainsKey for every keyword it knows; the generic one only for those given.</summary>
    private bool Given(string keyword)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = _options.ConnectionString };
        return given.ContainsKey(keyword) || given.ContainsKey(keyword.Replace(" ", "", StringComparison.Ordinal));
    }

    private static readonly object Configured = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> _configured = new();

    /// <summary>What every SQLite connection of the store runs once: commits durable against a crash of the machine, and
    /// how long to wait for the write lock.</summary>
    private string ConnectionSettings => $"PRAGMA synchronous=FULL; PRAGMA busy_timeout={(int)_options.BusyTimeout.TotalMilliseconds};";

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }
        var connection = new SqliteConnection(_sqlite);
        await connection.OpenAsync(cancellationToken);
        // FULL so that a commit survives a crash of the machine, not only of the process (WAL is set once, at migration:
        // it is a property of the file). Both stay with the native connection while the pool keeps it, so they are sent
        // once per native connection, not parsed and run on every open (every hook with cards opens one).
        if (!_configured.TryGetValue(connection.Handle!, out _))
        {
            await Execute(connection, null, ConnectionSettings, cancellationToken);
            _configured.AddOrUpdate(connection.Handle!, Configured);
        }
        return connection;
    }

    /// <summary>PostgreSQL: a connection of its own, outside the pool, for LISTEN: it stays open for the process's life, and
    /// must never go back to the pool still listening. TCP keepalives (30 s, unless the connection string sets them) let
    /// a connection dropped without a reset be noticed.</summary>
    public async Task<NpgsqlConnection> OpenListenerAsync(CancellationToken cancellationToken)
    {
        var settings = new NpgsqlConnectionStringBuilder(_options.ConnectionString) { Pooling = false };
        if (!Given("Keepalive"))
        {
            settings.KeepAlive = 30;
        }
        var connection = new NpgsqlConnection(settings.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return connection;
    }

    /// <summary>The writer's own connection. On SQLite it leaves checkpoints to <see cref="CheckpointWalAsync"/>, off the
    /// path of the calls that wait for their commit; past <see cref="WriterCheckpointBackstop"/> pages of WAL it still
    /// checkpoints itself, should the background one fall behind.</summary>
    public async Task<DbConnection> OpenWriterAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }
        // Its own native connection, never returned to the pool: the settings it changes (the backstop below, synchronous
        // while it writes index rows) must not reach a pooled connection that is then taken as configured.
        var connection = new SqliteConnection(_sqliteUnpooled);
        await connection.OpenAsync(cancellationToken);
        await Execute(connection, null, $"{ConnectionSettings} PRAGMA wal_autocheckpoint={WriterCheckpointBackstop};", cancellationToken);
        return connection;
    }

    public const int WriterCheckpointBackstop = 16384;

    /// <summary>SQLite: copies committed WAL pages into the database without waiting for anyone (PASSIVE), so that the
    /// writer's next transaction can start the WAL over and keep writing into space already allocated.</summary>
    public async Task CheckpointWalAsync(CancellationToken cancellationToken)
    {
        if (IsPostgres)
        {
            return;
        }
        await using var connection = await OpenAsync(cancellationToken);
        await CheckpointWalAsync(connection, cancellationToken);
    }

    /// <summary>The same checkpoint on a connection the caller holds (the writer's, between its commits: then nothing is
    /// appended meanwhile, and the checkpoint folds the whole WAL).</summary>
    public static Task CheckpointWalAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Execute(connection, null, "PRAGMA wal_checkpoint(PASSIVE)", cancellationToken);

    /// <summary>Begins the transaction an append needs: SQLite takes its write lock at once (IMMEDIATE).</summary>
    public static async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(deferred: false)
            : await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

    /// <summary>Begins a read-only view of one moment, for the statements of a verification walk to agree with each
    /// other while appends go on (SQLite: a deferred transaction in WAL mode; PostgreSQL: REPEATABLE READ).</summary>
    public static async Task<DbTransaction> BeginSnapshotAsync(DbConnection connection, CancellationToken cancellationToken) =>
        connection is SqliteConnection sqlite
            ? sqlite.BeginTransaction(IsolationLevel.Serializable, deferred: true)
            : await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);

    /// <summary>Reads the chain head under a lock that serialises appenders, across instances in PostgreSQL's case.</summary>
    public string LockHeadSql => IsPostgres
        ? "SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE"
        : "SELECT seq, hash FROM chain_head WHERE id = 1";

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        if (!IsPostgres)
        {
            // Readers (the auditors' pages) beside the writer.
            await Execute(connection, null, "PRAGMA journal_mode=WAL", cancellationToken);
        }
        await Execute(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", cancellationToken);
        if (IsPostgres)
        {
            // Two instances starting together must not both apply a migration.
            await Execute(connection, null, "SELECT pg_advisory_lock(7340211)", cancellationToken);
        }
        try
        {
            var applied = new HashSet<long>();
            await using (var read = Command(connection, null, "SELECT version FROM schema_migrations"))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetInt64(0));
                }
            }
            foreach (var (version, name, sql) in Migrations())
            {
                if (applied.Contains(version))
                {
                    continue;
                }
                await using var transaction = await BeginWriteAsync(connection, cancellationToken);
                await Execute(connection, transaction, sql, cancellationToken);
                await Execute(connection, transaction, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @a)", cancellationToken,
                    ("v", version), ("n", name), ("a", DateTimeOffset.UtcNow.ToString("O")));
                await transaction.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            if (IsPostgres)
            {
                await Execute(connection, null, "SELECT pg_advisory_unlock(7340211)", CancellationToken.None);
            }
        }
    }

    /// <summary>The embedded scripts for this engine, in order: Migrations/{engine}/NNN_name.sql.</summary>
    private IEnumerable<(long Version, string Name, string Sql)> Migrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var prefix = $"audit-migrations/{(IsPostgres ? "postgres" : "sqlite")}/";
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..];
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            yield return (long.Parse(name[..name.IndexOf('_', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture), name, reader.ReadToEnd());
        }
    }

    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value ?? DBNull.Value;
            command.Parameters.Add(p);
        }
        return command;
    }

    public static async Task<int> Execute(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}
