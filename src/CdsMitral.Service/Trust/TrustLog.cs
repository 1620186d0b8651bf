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

    [LoggerMessage(25, LogLevel.Warning, "Client forbidden on {Method} {Path}: {Issuer:l}")]
    public static partial void Forbidden(ILogger logger, string method, string path, string issuer);

    [LoggerMessage(26, LogLevel.Warning, "Caller {Partition:l} is over its rate on {Method} {Path}: further refusals in this window are counted")]
    public static partial void RateLimited(ILogger logger, string partition, string method, string path);

    [LoggerMessage(27, LogLevel.Warning, "Caller {Partition:l}: {Count} further calls refused with 429 in the window")]
    public static partial void RateLimitEpisode(ILogger logger, string partition, long count);

    [LoggerMessage(28, LogLevel.Error, "The audit record of a {Status} refusal could not be kept: {Reason:l}")]
    public static partial void RefusalNotRecorded(ILogger logger, int status, string reason);
}
