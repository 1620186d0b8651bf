namespace CdsMitral.Service.Hosting;

// One place for every log line the service writes. None of them takes a token, a JWT or a body.
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Hook {ServiceId:l} {HookInstance:l} answered {Status} in {DurationMs:0.0} ms; rules fired: {RulesFired:l}; fetched: {FetchedKeys:l}")]
    public static partial void HookAnswered(ILogger logger, string serviceId, string hookInstance, int status, double durationMs, string rulesFired, string fetchedKeys);

    [LoggerMessage(2, LogLevel.Warning, "Hook {ServiceId:l} {HookInstance:l} rejected with {Status}: {Reason:l}")]
    public static partial void HookRejected(ILogger logger, string serviceId, string? hookInstance, int status, string reason);

    [LoggerMessage(3, LogLevel.Information, "FHIR GET {Url:l} answered {Status} in {DurationMs:0.0} ms (attempt {Attempt})")]
    public static partial void FhirQuery(ILogger logger, string url, int status, double durationMs, int attempt);

    [LoggerMessage(4, LogLevel.Warning, "FHIR GET {Url:l} failed: {Reason:l}")]
    public static partial void FhirQueryFailed(ILogger logger, string url, string reason);

    [LoggerMessage(5, LogLevel.Error, "Unhandled error answering {Method:l} {Path:l}")]
    public static partial void Unhandled(ILogger logger, Exception exception, string method, string path);
}
