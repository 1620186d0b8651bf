using System.Text;
using System.Text.Json;

namespace CdsMitral.Service.Audit;

/// <summary>The spool: entries the store could not take, signed line by line into a file synced to disk, and moved
/// into the store when it is back.</summary>
public sealed partial class AuditWriter
{
    public string SpoolFile => _options.Resolve(_options.SpoolPath);

    private async Task Spool(List<AuditEntry> entries)
    {
        await _spoolLock.WaitAsync();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(SpoolFile)!);
            await using var file = new FileStream(SpoolFile, FileMode.Append, FileAccess.Write, FileShare.Read, 4096, FileOptions.WriteThrough);
            // Each line signed with the chain key, so that nothing slipped into the spool by hand enters the chain.
            var key = store.Keys.Current;
            var text = new StringBuilder();
            foreach (var entry in entries)
            {
                var json = JsonSerializer.Serialize(entry, AuditJson.Default.AuditEntry);
                text.Append(key.Sign("spool\n" + json)).Append('\t').Append(key.Id).Append('\t').Append(json).Append('\n');
            }
            await file.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()));
            file.Flush(flushToDisk: true);
            AuditLog.Spooled(logger, entries.Count, SpoolFile);
        }
        finally
        {
            _spoolLock.Release();
        }
    }

    /// <summary>Moves spooled entries into the store. Safe to repeat: events already there are skipped by id.</summary>
    public async Task<int> DrainSpoolAsync(CancellationToken cancellationToken)
    {
        await _spoolLock.WaitAsync(cancellationToken);
        try
        {
            if (!File.Exists(SpoolFile) || new FileInfo(SpoolFile).Length == 0)
            {
                return 0;
            }
            var entries = new List<AuditEntry>();
            var rejected = new List<string>();
            foreach (var line in await File.ReadAllLinesAsync(SpoolFile, cancellationToken))
            {
                if (line.Length > 0 && TryRead(line) is { } entry)
                {
                    entries.Add(entry);
                }
                else if (line.Length > 0)
                {
                    // Not signed with a known key: written by hand, or cut short by a crash in the middle of a spool
                    // write (then never acknowledged). Kept aside for an auditor, never chained.
                    rejected.Add(line);
                }
            }
            if (rejected.Count > 0)
            {
                await File.AppendAllLinesAsync(SpoolFile + ".rejected", rejected, cancellationToken);
                AuditLog.SpoolRejected(logger, rejected.Count, SpoolFile + ".rejected");
            }
            foreach (var chunk in entries.Chunk(_options.MaxBatch))
            {
                await store.AppendAsync(chunk, cancellationToken, replay: true);
            }
            await using (var truncate = new FileStream(SpoolFile, FileMode.Truncate, FileAccess.Write))
            {
                truncate.Flush(flushToDisk: true);
            }
            AuditLog.SpoolDrained(logger, entries.Count);
            StoreHealthy = true;
            return entries.Count;
        }
        finally
        {
            _spoolLock.Release();
        }
    }

    private AuditEntry? TryRead(string line)
    {
        var parts = line.Split('\t', 3);
        if (parts.Length != 3 || store.Keys.Find(parts[1]) is not { } key || key.Sign("spool\n" + parts[2]) != parts[0])
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(parts[2], AuditJson.Default.AuditEntry);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
