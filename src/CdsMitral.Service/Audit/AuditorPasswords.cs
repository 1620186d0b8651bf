using System.Globalization;
using System.Security.Cryptography;

namespace CdsMitral.Service.Audit;

/// <summary>Auditor passwords as PBKDF2-SHA256 hashes: "pbkdf2-sha256$iterations$salt$hash" (base64 parts).</summary>
public static class AuditorPasswords
{
    public const int Iterations = 600_000;

    public static string Hash(string password, int iterations = Iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
        return Format(iterations, salt, hash);
    }

    /// <summary>A hash no password matches, costing <paramref name="iterations"/> to check: what an unknown user name
    /// is checked against, so that it takes as long as a known one.</summary>
    public static string Unmatchable(int iterations) =>
        Format(iterations, RandomNumberGenerator.GetBytes(16), RandomNumberGenerator.GetBytes(32));

    public static bool IsWellFormed(string stored) => Parse(stored) is not null;

    public static int IterationsOf(string stored) => Parse(stored)?.Iterations ?? 0;

    /// <summary>One full key derivation, whatever the outcome; callers bound how often and how many at once.</summary>
    public static bool Verify(string password, string stored)
    {
        if (Parse(stored) is not var (iterations, salt, expected))
        {
            return false;
        }
        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static string Format(int iterations, byte[] salt, byte[] hash) =>
        $"pbkdf2-sha256${iterations.ToString(CultureInfo.InvariantCulture)}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}";

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
