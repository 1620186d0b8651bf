using Serilog.Core;
using Serilog.Events;

namespace CdsMitral.Service.Hosting;

/// <summary>ASP.NET Core puts the whole request path on every log line of a request (the RequestPath scope): a caller
/// choosing a 7 KB path would make each line that long. Lines keep its first <see cref="MaxLength"/> characters.</summary>
public sealed class BoundedRequestPath : ILogEventEnricher
{
    public const int MaxLength = 64;

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (logEvent.Properties.TryGetValue("RequestPath", out var value) && value is ScalarValue { Value: string { Length: > MaxLength } path })
        {
            logEvent.AddOrUpdateProperty(propertyFactory.CreateProperty("RequestPath", Audit.InvocationAudit.Shorten(path, MaxLength)));
        }
    }
}
