namespace CdsMitral.Service.Trust;

// What the trust layer logs: reasons and issuers, never a token.
internal static partial class TrustLog
{
    [LoggerMessage(20, LogLevel.Warning, "Client rejected on {Method} {Path}: {Reason:l}")]
    public static partial void Rejected(ILogger logger, string method, string path, string reason);

    [LoggerMessage(21, LogLevel.Warning, "Client JWT verification is OFF (CdsMitral:Trust:Mode=Off): {Method} {Path} was not authenticated")]
    public static partial void Unverified(ILogger logger, string method, string path);

    [LoggerMessage(22, LogLevel.Warning, "CdsMitral:Trust:Mode=Off: client JWTs are NOT verified. Use this in development only.")]
    public static partial void VerificationOffAtStartup(ILogger logger);

    [LoggerMessage(23, LogLevel.Warning, "JWK Set {Url:l} could not be fetched: {Reason:l}")]
    public static partial void JwksFetchFailed(ILogger logger, string url, string reason);

    [LoggerMessage(24, LogLevel.Warning, "fhirServer refused for {Issuer:l}: {Reason:l}")]
    public static partial void FhirServerRefused(ILogger logger, string issuer, string reason);
}
