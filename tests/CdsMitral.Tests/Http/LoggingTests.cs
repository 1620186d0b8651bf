using System.Collections.Concurrent;
using CdsMitral.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CdsMitral.Tests.Http;

public sealed class LoggingTests
{
    private sealed class Capture : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(Capture capture, string category) : ILogger
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

    [Fact]
    public async Task EachHookLogsOneLineWithItsIdentityDurationAndRulesButNoTokenOrBody()
    {
        var capture = new Capture();
        await using var fhir = await FakeFhirServer.StartAsync();
        var chart = new Chart("p1").Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01").Pasp(45, "2026-10-01");
        fhir.Add(chart.Resources);
        await using var service = new ServiceFactory().With("Logging:LogLevel:Default", "Trace");
        var configured = service.WithWebHostBuilder(b => b.ConfigureTestServices(s => s.AddLogging(l => l.AddProvider(capture))));

        const string token = "tok-SECRET-8d3f2a";
        var request = Requests.PatientView("p1", fhirServer: fhir.BaseUrl, accessToken: token);
        request["hookInstance"] = "hook-instance-77";
        using var client = configured.CreateDefaultClient(new SigningHandler(TestEhr.Default, service.PublicBaseUrl, service.Clock));
        using var content = new StringContent(request.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("/cds-services/secondary-mr-patient-view", content);
        Assert.Equal(200, (int)response.StatusCode);

        var lines = capture.Lines.ToList();
        var hookLine = Assert.Single(lines, l => l.Contains("HookAnswered", StringComparison.Ordinal));
        Assert.Contains("hook-instance-77", hookLine, StringComparison.Ordinal);
        Assert.Contains("secondary-mr-patient-view", hookLine, StringComparison.Ordinal);
        Assert.Contains("DurationMs=", hookLine, StringComparison.Ordinal);
        Assert.Contains("smr-coapt-profile,smr-gdmt-gap", hookLine, StringComparison.Ordinal);
        Assert.Equal(7, lines.Count(l => l.Contains(" FhirQuery", StringComparison.Ordinal))); // 6 answered, the Patient read a 404
        Assert.DoesNotContain(lines, l => l.Contains(token, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("\"prefetch\"", StringComparison.Ordinal) || l.Contains("48724000\"", StringComparison.Ordinal));
    }

    [Fact]
    public void RequestAndAuthorizationRecordsNeverPrintTheirToken()
    {
        var auth = new Hooks.FhirAuthorization("tok-SECRET-1", "Bearer", 300, "user/*.read", "svc");
        var request = new Hooks.HookRequest("patient-view", "h1", "https://ehr.example/fhir", auth);
        Assert.DoesNotContain("tok-SECRET-1", auth.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("tok-SECRET-1", request.ToString(), StringComparison.Ordinal);
    }
}
