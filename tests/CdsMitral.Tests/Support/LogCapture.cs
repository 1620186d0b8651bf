using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CdsMitral.Tests.Support;

/// <summary>Keeps every log line a service writes, with its category, event name, message, structured properties and
/// exception, so that a test can prove what is logged and, above all, what never is.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = state is IEnumerable<KeyValuePair<string, object?>> kv ? string.Join(" ", kv.Select(p => $"{p.Key}={p.Value}")) : "";
            capture.Lines.Enqueue($"{category} {eventId.Name} {formatter(state, exception)} {properties} {exception}");
        }
    }
}
