using System.Text.RegularExpressions;

namespace CdsMitral.Service.Navigator;

/// <summary>
/// Keeps the SMART callback's <c>code</c> and <c>state</c> out of every log line, whoever writes it: ASP.NET's request
/// lines ("Request starting … /navigator/callback?code=…") are written before any middleware runs, and the OAuth handler
/// logs its authorize URL, so the redaction sits in the logger factory, in front of every provider.
/// </summary>
public sealed partial class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    /// <summary>The text with every <c>code=</c> and <c>state=</c> query value replaced.</summary>
    public static string Redact(string text) => Secrets().Replace(text, "$1(redacted)");

    internal static bool Holds(string? text) => text is not null && Secrets().IsMatch(text);

    [GeneratedRegex(@"([?&](?:code|state)=)[^&#\s""']+", RegexOptions.IgnoreCase)]
    private static partial Regex Secrets();

    private sealed class RedactingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }
            // A structured line's text is its template and its values: check the values, and format only plain states.
            var properties = state as IReadOnlyList<KeyValuePair<string, object?>>;
            var exposed = properties is null
                ? Holds(formatter(state, exception))
                : properties.Any(p => p.Value switch { string s => Holds(s), Uri u => Holds(u.OriginalString), _ => false });
            if (!exposed)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }
            var redacted = new RedactedState(Redact(formatter(state, exception)),
                properties?.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value switch
                {
                    string s => Redact(s),
                    Uri u => Redact(u.OriginalString),
                    var other => other,
                })).ToList() ?? []);
            inner.Log(logLevel, eventId, redacted, exception, static (s, _) => s.Message);
        }
    }

    private sealed class RedactedState(string message, List<KeyValuePair<string, object?>> properties) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message { get; } = message;

        public KeyValuePair<string, object?> this[int index] => properties[index];

        public int Count => properties.Count;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => properties.GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => Message;
    }
}
