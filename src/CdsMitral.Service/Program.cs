using CdsMitral.Service.Audit;
using CdsMitral.Service.Content;
using CdsMitral.Service.Feedback;
using CdsMitral.Service.Hooks;
using CdsMitral.Service.Hosting;
using CdsMitral.Service.Navigator;
using CdsMitral.Service.Telemetry;
using CdsMitral.Service.Trust;

if (args is [HealthProbe.Command, ..])
{
    return await HealthProbe.RunAsync(args.ElementAtOrDefault(1));
}

StartupErrors.Install();

// Settings files sit beside the binaries: the service reads the same ones however and wherever it is started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddStructuredLogging();
builder.AddTelemetry();
builder.Services.AddCdsMitral();
builder.Services.AddClientTrust();
builder.Services.AddCallerLimits();
builder.Services.AddAudit();
builder.Services.AddFeedback();
builder.Services.AddHealth();
builder.Services.AddApiDocument();
builder.Services.AddNavigator();

var app = builder.Build().ValidateSettings();
app.UseRequestLogging();
app.UseCors(CallerLimits.CorsPolicy);
app.UsePageHeaders();
app.UseRefusalAudit();
app.UseOperationOutcomeErrors();
app.UseClientTrust();
app.UseRateLimiter();
app.UseAuthorization();
app.UseAntiforgery();
app.MapCdsServices();
app.MapContent();
app.MapAudit();
app.MapHealth();
app.MapTelemetry();
app.MapApiDocument();
app.MapNavigator();
app.Run();
return 0;

/// <summary>Exposed for WebApplicationFactory in the tests.</summary>
public partial class Program;
