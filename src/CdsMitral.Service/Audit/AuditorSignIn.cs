using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace CdsMitral.Service.Audit;

public enum SignInOutcome
{
    SignedIn,
    Refused,
    Throttled,
    Busy,
}

public readonly record struct SignInResult(SignInOutcome Outcome, TimeSpan RetryAfter = default);

/// <summary>Checks an auditor's HTTP Basic credentials so that checking cannot be turned into a weapon: an unknown
/// name costs the same PBKDF2 as a known one, each address and each name gets a few attempts and then waits
/// (doubling), a verified pair is remembered for a few minutes under a keyed hash, and at most
/// <see cref="AuditOptions.SignInConcurrency"/> derivations run at once, each followed by as long a rest.</summary>
public sealed class AuditorSignIn : IDisposable
{
    /// <summary>How long a check waits for its turn before the caller is told to come back.</summary>
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(5);

    private readonly AuditOptions _options;
    private readonly TimeProvider _time;
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly string _unmatchable;
    private readonly SemaphoreSlim _gate;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _remembered = new(StringComparer.Ordinal);
    private readonly Backoff _byAddress;
    private readonly Backoff _byUser;
    private long _verifications;
    private int _running;
    private int _peak;

    public AuditorSignIn(IOptions<AuditOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        // As costly as the costliest real hash: a wrong name and a wrong password take the same time.
        _unmatchable = AuditorPasswords.Unmatchable(_options.Auditors.Select(a => AuditorPasswords.IterationsOf(a.PasswordHash)).DefaultIfEmpty(AuditorPasswords.Iterations).Max());
        _gate = new SemaphoreSlim(Math.Max(1, _options.SignInConcurrency));
        _byAddress = new Backoff(_key, _options);
        _byUser = new Backoff(_key, _options);
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>Password derivations done since start (a test hook, and a figure for the bench).</summary>
    public long Verifications => Interlocked.Read(ref _verifications);

    /// <summary>The most derivations that ran at the same time.</summary>
    public int PeakConcurrentVerifications => Volatile.Read(ref _peak);

    public async ValueTask<SignInResult> CheckAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.FirstOrDefault();
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return new(SignInOutcome.Refused); // the browser's first request, before it asks for credentials
        }
        var now = _time.GetUtcNow();
        var address = AddressKey(http.Connection.RemoteIpAddress);
        string user, password;
        try
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            var colon = pair.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return Fail(address, now);
            }
            (user, password) = (pair[..colon], pair[(colon + 1)..]);
        }
        catch (FormatException)
        {
            return Fail(address, now);
        }

        var auditor = _options.Auditors.FirstOrDefault(a => a.User == user);
        var stored = auditor?.PasswordHash ?? _unmatchable;
        // The stored hash is part of the key: a changed password forgets what was remembered.
        var remembered = Convert.ToHexString(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{user}\0{password}\0{stored}")));
        if (auditor is not null && _remembered.TryGetValue(remembered, out var until) && until > now)
        {
            return new(SignInOutcome.SignedIn);
        }

        // Counted before the derivation, so that parallel attempts cannot all slip in before the first one fails.
        var waitAddress = _byAddress.TryBegin(address, now);
        var waitUser = waitAddress is null ? _byUser.TryBegin(user, now) : null;
        if ((waitAddress ?? waitUser) is { } wait)
        {
            return new(SignInOutcome.Throttled, wait);
        }
        if (!await _gate.WaitAsync(QueueTimeout, http.RequestAborted))
        {
            return new(SignInOutcome.Busy, TimeSpan.FromSeconds(1));
        }
        bool matches;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var running = Interlocked.Increment(ref _running);
            InterlockedMax(ref _peak, running);
            Interlocked.Increment(ref _verifications);
            matches = AuditorPasswords.Verify(password, stored);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            // The slot stays taken for as long again after the answer: a flood gets at most half of one core.
            _ = ReleaseAfterAsync(Stopwatch.GetElapsedTime(started));
        }
        if (!matches || auditor is null)
        {
            return new(SignInOutcome.Refused);
        }
        _byAddress.Forgive(address);
        _byUser.Forgive(user);
        foreach (var stale in _remembered.Where(kv => kv.Value <= now).Select(kv => kv.Key).ToList())
        {
            _remembered.TryRemove(stale, out _);
        }
        _remembered[remembered] = now + _options.SignInRemember;
        return new(SignInOutcome.SignedIn);
    }

    private async Task ReleaseAfterAsync(TimeSpan rest)
    {
        try
        {
            await Task.Delay(rest, _time);
        }
        finally
        {
            try
            {
                _gate.Release();
            }
            catch (ObjectDisposedException)
            {
                // The service is stopping.
            }
        }
    }

    private SignInResult Fail(string address, DateTimeOffset now) =>
        _byAddress.TryBegin(address, now) is { } wait ? new(SignInOutcome.Throttled, wait) : new(SignInOutcome.Refused);

    /// <summary>IPv6 callers are counted by /64, the block one host usually holds.</summary>
    private static string AddressKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }
        return address.ToString();
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }

    /// <summary>Attempts per address or name, in a fixed number of slots chosen by a keyed hash: memory stays bounded
    /// however many names an attacker invents, and which slot a name lands in says nothing about whether it exists.</summary>
    private sealed class Backoff(byte[] key, AuditOptions options)
    {
        private const int Slots = 4096;
        private readonly Slot[] _slots = new Slot[Slots];

        private struct Slot
        {
            public int Attempts;
            public DateTimeOffset Last;
            public DateTimeOffset LockedUntil;
        }

        /// <summary>Null when the attempt may go ahead (and is counted); else how long to wait.</summary>
        public TimeSpan? TryBegin(string name, DateTimeOffset now)
        {
            var i = Index(name);
            lock (_slots)
            {
                ref var slot = ref _slots[i];
                if (slot.LockedUntil > now)
                {
                    return slot.LockedUntil - now;
                }
                if (now - slot.Last > options.SignInMaxBackoff * 2)
                {
                    slot.Attempts = 0;
                }
                slot.Attempts++;
                slot.Last = now;
                var free = Math.Max(1, options.SignInAttemptsBeforeBackoff);
                if (slot.Attempts >= free)
                {
                    var doublings = Math.Min(slot.Attempts - free, 20);
                    var wait = Math.Min(options.SignInMaxBackoff.Ticks, options.SignInBackoff.Ticks << doublings);
                    slot.LockedUntil = now + TimeSpan.FromTicks(Math.Max(0, wait));
                }
                return null;
            }
        }

        public void Forgive(string name)
        {
            var i = Index(name);
            lock (_slots)
            {
                _slots[i] = default;
            }
        }

        private int Index(string name) =>
            (int)(BinaryPrimitives.ReadUInt32LittleEndian(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(name))) % Slots);
    }
}
