using System.Diagnostics;
using System.Net;
using CdsMitral.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace CdsMitral.Tests.Operations;

/// <summary>OpenTelemetry as an operator receives it (issue 25): a trace per hook with a span per stage and per FHIR GET,
/// the trace's context sent to the FHIR server, the service's metrics, and nowhere a patient, a token or record text.
/// Captured with the in-memory exporter, after the service's own processing, as OTLP would send it.</summary>
public sealed class TelemetryTests
{
    private const string Patient = "pt-SECRET-4711";
    private const string Token = "tok-SECRET-abcdef";

    [Fact]
    public async Task AHookLeavesATraceOfItsStagesAndItsMetricsWithNoPatientTokenOrRecordText()
    {
        await using var fhir = await FakeFhirServer.StartAsync();
        fhir.Add(new Chart(Patient).Mr("severe", "2026-10-01", "secondary-ventricular").Lvef(32, "2026-10-01").Lvesd(58, "2026-10-01")
            .Pasp(45, "2026-10-01").FullGdmt().Resources);
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        await using var service = new ServiceFactory().With("CdsMitral:Telemetry:Enabled", "true").WithServices(s => s
            .ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans))
            .ConfigureOpenTelemetryMeterProvider(m => m.AddInMemoryExporter(metrics)));

        var answer = await service.PostAsync(Requests.PatientViewId, Requests.PatientView(Patient, fhirServer: fhir.BaseUrl, accessToken: Token));
        Assert.Equal(200, answer.Status);
        Assert.Equal(["smr-coapt-profile"], answer.RuleIds);
        service.Services.GetRequiredService<TracerProvider>().ForceFlush();
        service.Services.GetRequiredService<MeterProvider>().ForceFlush();

        // One trace: the server span, and under it each stage and each FHIR GET. The listener is the process's, so it also
        // hears the services other tests run meanwhile: this call's trace is the one the FHIR server was sent.
        var traceId = fhir.Requests.Select(r => r.TraceParent?.Split('-')[1]).Distinct().Single();
        var server = Assert.Single(spans, s => s.Kind == ActivityKind.Server && (string?)s.GetTagItem("http.route") == "/cds-services/{id}"
            && s.TraceId.ToHexString() == traceId);
        var trace = spans.Where(s => s.TraceId == server.TraceId).ToList();
        foreach (var stage in new[] { "parse", "gather", "snapshot", "rules", "cards", "audit commit" })
        {
            Assert.Contains(trace, s => s.DisplayName == stage && s.ParentSpanId == server.SpanId);
        }
        var gather = trace.Single(s => s.DisplayName == "gather");
        var gets = trace.Where(s => s.DisplayName.StartsWith("FHIR GET ", StringComparison.Ordinal)).ToList();
        Assert.Equal(fhir.Requests.Count, gets.Count);
        Assert.All(gets, g => Assert.Equal(gather.SpanId, g.ParentSpanId));
        Assert.Contains(gets, g => g.DisplayName == "FHIR GET Observation" && (int?)g.GetTagItem("http.response.status_code") == 200);
        Assert.Equal("secondary-mr-patient-view", (string?)server.GetTagItem("cds.service"));
        Assert.Equal("smr-coapt-profile", (string?)trace.Single(s => s.DisplayName == "rules").GetTagItem("cdsmitral.rules.fired"));
        // The FHIR server was sent the trace's context (W3C traceparent) with every GET.
        Assert.All(fhir.Requests, r => Assert.StartsWith($"00-{server.TraceId}-", r.TraceParent ?? "", StringComparison.Ordinal));

        // Metrics, per service, rule and host.
        var points = Points(metrics);
        Assert.Contains(points, p => p.Name == "cdsmitral.hook.duration" && p.Tags["cds.service"] == "secondary-mr-patient-view" && p.Tags["http.response.status_code"] == "200");
        Assert.Contains(points, p => p.Name == "cdsmitral.cards" && p.Tags["rule"] == "smr-coapt-profile" && p.Tags["indicator"] == "info");
        Assert.Contains(points, p => p.Name == "cdsmitral.fhir.request.duration" && p.Tags["server.address"] == "127.0.0.1" && p.Tags["outcome"] == "ok");
        Assert.Contains(points, p => p.Name == "cdsmitral.audit.commit.duration");

        // Nothing of the patient, the token or the record in any span or metric the exporter received. (The fake FHIR
        // server runs in this process, so its own server spans, which do name the patient, are heard too: left out.)
        var fhirPort = new Uri(fhir.BaseUrl).Port;
        var ours = trace.Where(s => !(s.Kind == ActivityKind.Server && s.GetTagItem("server.port") is int port && port == fhirPort)).ToList();
        Assert.True(ours.Count < trace.Count, "the fake FHIR server's spans were expected in the trace");
        var texts = ours.SelectMany(s => s.TagObjects.Select(t => $"{t.Key}={t.Value}")
                .Concat(s.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}")))
                .Append(s.DisplayName).Append(s.StatusDescription ?? ""))
            .Concat(points.SelectMany(p => p.Tags.Select(t => $"{p.Name}:{t.Key}={t.Value}")))
            .ToList();
        Assert.NotEmpty(texts);
        foreach (var secret in new[] { Patient, Token, "Observation/", "ejection", "patient=" })
        {
            Assert.DoesNotContain(texts, t => t.Contains(secret, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task ThePrometheusEndpointIsThereOnlyWhenItsPathIsSet()
    {
        await using (var off = new ServiceFactory())
        {
            using var client = off.CreateClient();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
        }
        await using var service = new ServiceFactory().With("CdsMitral:Telemetry:PrometheusEndpoint", "/metrics");
        Assert.Equal(200, (await service.PostAsync(Requests.PatientViewId, Audit.AuditScenarios.CoaptRequest("p1"))).Status);
        Assert.Equal(400, (await service.PostRawAsync($"/cds-services/{Requests.PatientViewId}", "{}")).Status);
        using var scraper = service.CreateClient();
        var scrape = await scraper.GetStringAsync("/metrics");
        Assert.Contains("cdsmitral_hook_duration_seconds_bucket{", scrape, StringComparison.Ordinal);
        Assert.Contains("cds_service=\"secondary-mr-patient-view\"", scrape, StringComparison.Ordinal);
        Assert.Matches(@"cdsmitral_cards_total\{[^}]*rule=""smr-coapt-profile""", scrape);
        Assert.Matches(@"cdsmitral_refusals_total\{[^}]*stage=""validate""", scrape);
        Assert.DoesNotContain("=\"p1\"", scrape, StringComparison.Ordinal); // the patient is no label
    }

    private sealed record Point(string Name, Dictionary<string, string> Tags);

    private static List<Point> Points(IEnumerable<Metric> metrics)
    {
        var points = new List<Point>();
        foreach (var metric in metrics)
        {
            foreach (ref readonly var p in metric.GetMetricPoints())
            {
                var tags = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var tag in p.Tags)
                {
                    tags[tag.Key] = Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                }
                points.Add(new Point(metric.Name, tags));
            }
        }
        return points;
    }
}
