using CdsMitral.Service.Content;
using CdsMitral.Service.Hooks;
using CdsMitral.Service.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddStructuredLogging();
builder.Services.AddCdsMitral();

var app = builder.Build();
app.UseOperationOutcomeErrors();
app.MapCdsServices();
app.MapContent();
app.Run();

/// <summary>Exposed for WebApplicationFactory in the tests.</summary>
public partial class Program;
