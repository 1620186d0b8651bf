namespace CdsMitral.Service.Audit;

public enum AuditStoreKind
{
    /// <summary>An embedded SQLite file (WAL, synchronous=FULL): the default, for one instance.</summary>
    Sqlite,

    /// <summary>PostgreSQL, for several instances behind a load balancer; also shares the JWT replay cache.</summary>
    PostgreSql,

    /// <summary>No audit trail. For measuring the audit's own cost only; announced at start-up.</summary>
    None,
}

/// <summary>Settings under "CdsMitral:Audit".</summary>
public sealed class AuditOptions
{
    public const string Section = "CdsMitral:Audit";

    public AuditStoreKind Store { get; set; } = AuditStoreKind.Sqlite;

    /// <summary>SQLite: a file path (relative to the service's directory, or absolute). PostgreSQL: an Npgsql connection string.</summary>
    public string ConnectionString { get; set; } = "data/audit.db";

    /// <summary>Where records wait, fsync'd, while the store is unreachable (relative to the service's directory, or absolute).</summary>
    public string SpoolPath { get; set; } = "data/audit-spool.ndjson";

    /// <summary>SQLite: how long a write waits for a lock held by another connection before the store counts as unreachable.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Records committed together in one transaction at most.</summary>
    public int MaxBatch { get; set; } = 256;

    /// <summary>Events older than this many days (counted to the start of a UTC day) are archived and purged; the purge
    /// is itself an audit event that names its archive. 0 keeps everything.</summary>
    public int RetentionDays { get; set; }

    /// <summary>Where retention puts what it removes: one NDJSON file per purge, signed. Unset: "audit-archive" in the
    /// data folder. Several instances on one PostgreSQL store should share one folder.</summary>
    public string? ArchiveFolder { get; set; }

    /// <summary>How often the spool is retried and retention applied.</summary>
    public TimeSpan MaintenanceInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the whole chain is walked again in the background (the checks the pages and /audit/api/verify
    /// make read only what was added since the last). The first walk comes a few minutes after start. 00:00:00: never.</summary>
    public TimeSpan FullVerifyInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>People who may read the audit pages and API (HTTP Basic over HTTPS), separate from CDS clients.</summary>
    public List<Auditor> Auditors { get; set; } = [];

    /// <summary>Sign-in attempts one address, or one user name, may make before each further attempt waits.</summary>
    public int SignInAttemptsBeforeBackoff { get; set; } = 5;

    /// <summary>The first wait after those attempts; it doubles with each further failed attempt.</summary>
    public TimeSpan SignInBackoff { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest wait; an address or name quiet for twice this long starts afresh.</summary>
    public TimeSpan SignInMaxBackoff { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a verified user name and password are remembered, so that each page does not cost a key derivation.</summary>
    public TimeSpan SignInRemember { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Password checks (PBKDF2, ~0.45 s of one core each) run at most this many at once, so sign-ins cannot take every core from the hooks.</summary>
    public int SignInConcurrency { get; set; } = 1;

    /// <summary>The current chain key, base64 (at least 16 bytes; `openssl rand -base64 32`). Or give ChainKeyFile.</summary>
    public string? ChainKey { get; set; }

    /// <summary>A file holding base64 chain keys, one a line, the current one first and retired ones after it. Unset:
    /// "audit-chain.key" in the data folder, which Development and the tests create on first start.</summary>
    public string? ChainKeyFile { get; set; }

    /// <summary>Retired chain keys, by id, still used to verify what they signed: "ChainKeys:{id}" = base64 key.</summary>
    public Dictionary<string, string> ChainKeys { get; set; } = [];

    /// <summary>The append-only file of signed checkpoints of the chain head, outside the database. Unset:
    /// "audit-checkpoints.ndjson" in the data folder.</summary>
    public string? CheckpointPath { get; set; }

    /// <summary>How often the chain head is checkpointed (when it moved); it is also checkpointed at shutdown.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromMinutes(1);

    public string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);

    /// <summary>Where the audit keeps its files: the SQLite database's folder, or "data" beside the service.</summary>
    public string DataFolder => Store == AuditStoreKind.Sqlite
        ? Path.GetDirectoryName(Resolve(ConnectionString)) ?? Resolve("data")
        : Resolve("data");

    public string ChainKeyFilePath => string.IsNullOrWhiteSpace(ChainKeyFile) ? Path.Combine(DataFolder, "audit-chain.key") : Resolve(ChainKeyFile);

    /// <summary>Which store this is, as its checkpoints name it: the SQLite file's full path, or the PostgreSQL server,
    /// database and schema (never a password).</summary>
    public string StoreIdentity
    {
        get
        {
            if (Store == AuditStoreKind.Sqlite)
            {
                return "sqlite:" + Path.GetFullPath(Resolve(ConnectionString));
            }
            try
            {
                var pg = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
                return $"postgres:{pg.Host}:{pg.Port}/{pg.Database}/{(string.IsNullOrEmpty(pg.SearchPath) ? "public" : pg.SearchPath)}";
            }
            catch (ArgumentException)
            {
                // A connection string the store will refuse at start-up anyway (or an audit that is off).
                return "postgres:";
            }
        }
    }

    public string ArchiveFolderPath => string.IsNullOrWhiteSpace(ArchiveFolder) ? Path.Combine(DataFolder, "audit-archive") : Resolve(ArchiveFolder);

    public string CheckpointFilePath => string.IsNullOrWhiteSpace(CheckpointPath) ? Path.Combine(DataFolder, "audit-checkpoints.ndjson") : Resolve(CheckpointPath);
}

public sealed class Auditor
{
    public string User { get; set; } = "";

    /// <summary>"pbkdf2-sha256$iterations$salt(base64)$hash(base64)"; make one with AuditorPasswords.Hash.</summary>
    public string PasswordHash { get; set; } = "";
}
