using System.Diagnostics;
using CdsMitral.Service.Fhir;
using CdsMitral.Service.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CdsMitral.Service.Telemetry;

/// <summary>Settings under "CdsMitral:Telemetry".</summary>
public sealed class TelemetryOptions
{
    public const string Section = "CdsMitral:Telemetry";

    /// <summary>Where traces and metrics go over OTLP (a collector: "http://otel-collector:4317"). Unset: the standard
    /// OTEL_EXPORTER_OTLP_ENDPOINT, if that is set; else no OTLP.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>Grpc (port 4317) or HttpProtobuf (port 4318).</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;

    /// <summary>The path of a Prometheus scrape endpoint ("/metrics"). Unset: none. It needs no credentials: expose it only
    /// where the scraper reaches it (an internal port or network), as the health endpoints are.</summary>
    public string? PrometheusEndpoint { get; set; }

    /// <summary>Traces and metrics are collected when an exporter is set (above); true collects them without one (an
    /// exporter added in code, as the tests add theirs), false never.</summary>
    public bool? Enabled { get; set; }

    public bool OtlpFromEnvironment => string.IsNullOrWhiteSpace(OtlpEndpoint) && !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    public bool Collecting => Enabled ?? (!string.IsNullOrWhiteSpace(OtlpEndpoint) || OtlpFromEnvironment || !string.IsNullOrWhiteSpace(PrometheusEndpoint));
}

public static class TelemetryRegistration
{
    /// <summary>OpenTelemetry: a trace per request (the server span, then parse, gather with a span per FHIR GET, snapshot,
    /// rules, cards, stand-back and the audit commit) and the service's metrics with ASP.NET Core's and HttpClient's.
    /// Nothing is registered unless an exporter is configured, so an unobserved service pays nothing.</summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        builder.Services.AddSingleton(options);
        if (!options.Collecting)
        {
            return builder;
        }
        var prometheus = options.PrometheusEndpoint;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("cdsmitral", serviceVersion: typeof(TelemetryRegistration).Assembly.GetName().Version?.ToString(3)))
            .WithTracing(tracing => tracing
                // First, so that no exporter sees a span before its URLs are cut back.
                .AddProcessor(new RedactUrls())
                .AddSource(CdsMitral.Hooks.Tracing.SourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = http =>
                    !http.Request.Path.StartsWithSegments("/health") && (prometheus is null || !http.Request.Path.StartsWithSegments(prometheus)))
                // A FHIR GET has a span of the service's own (FhirFetcher), which names the resource type, not the URL.
                .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = request => !FhirFetcher.IsFhirRequest(request)))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Metrics.MeterName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation();
                if (!string.IsNullOrWhiteSpace(prometheus))
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint))
        {
            telemetry.UseOtlpExporter(options.OtlpProtocol, new Uri(options.OtlpEndpoint));
        }
        else if (options.OtlpFromEnvironment)
        {
            telemetry.UseOtlpExporter();
        }
        return builder;
    }

    public static WebApplication MapTelemetry(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<TelemetryOptions>();
        if (options.Collecting && !string.IsNullOrWhiteSpace(options.PrometheusEndpoint))
        {
            // Only when configured; the figures carry no patient data (TelemetryTests); keep the path on the operator's network.
            app.MapPrometheusScrapingEndpoint(options.PrometheusEndpoint)
                .Public("the Prometheus scrape, mapped only when Telemetry:PrometheusEndpoint is set; counts and durations, no patient data");
        }
        return app;
    }

    /// <summary>Cuts what a URL could carry of a patient out of every span: an outgoing call keeps only its scheme, host and
    /// port (a FHIR read names the patient in its path), and no span keeps a query string (a SMART launch code, a search
    /// by patient).</summary>
    private sealed class RedactUrls : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.GetTagItem("url.query") is not null)
            {
                data.SetTag("url.query", null);
            }
            if (data.Kind == ActivityKind.Client && data.GetTagItem("url.full") is string full && Uri.TryCreate(full, UriKind.Absolute, out var url))
            {
                data.SetTag("url.full", $"{url.Scheme}://{url.Authority}/");
            }
            if (data.Kind == ActivityKind.Client && data.GetTagItem("url.path") is not null)
            {
                data.SetTag("url.path", null);
            }
        }
    }
}
