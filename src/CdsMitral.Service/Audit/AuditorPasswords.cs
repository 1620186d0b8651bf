using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace CdsMitral.Service.Audit;

/// <summary>Auditor passwords as PBKDF2-SHA256 hashes: "pbkdf2-sha256$iterations$salt$hash" (base64 parts).</summary>
public static class AuditorPasswords
{
    public const int Iterations = 600_000;
    private static readonly ConcurrentDictionary<string, DateTimeOffset> Recent = new(StringComparer.Ordinal);

    public static string Hash(string password, int iterations = Iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
        return $"pbkdf2-sha256${iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";
    }

    public static bool IsWellFormed(string stored) => Parse(stored) is not null;

    /// <summary>Checks a password; a pair checked successfully is remembered for a few minutes, so that Basic
    /// authentication on every page does not cost a full key derivation each time.</summary>
    public static bool Verify(string user, string password, string stored, DateTimeOffset now)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{user}\0{password}\0{stored}")));
        if (Recent.TryGetValue(key, out var until) && until > now)
        {
            return true;
        }
        if (Parse(stored) is not var (iterations, salt, expected))
        {
            return false;
        }
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        if (!CryptographicOperations.FixedTimeEquals(actual, expected))
        {
            return false;
        }
        Recent[key] = now.AddMinutes(5);
        return true;
    }

    private static (int Iterations, byte[] Salt, byte[] Hash)? Parse(string stored)
    {
        var parts = stored.Split('$');
        try
        {
            return parts.Length == 4 && parts[0] == "pbkdf2-sha256" && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 10_000
                ? (n, Convert.FromBase64String(parts[2]), Convert.FromBase64String(parts[3]))
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
