using CdsMitral.Fhir;
using CdsMitral.Hooks;

namespace CdsMitral.Service.Hosting;

/// <summary>Every error the service answers is JSON with an OperationOutcome body, and never a stack trace.</summary>
public static class OperationOutcomes
{
    public static IResult Result(int status, OperationOutcome outcome) =>
        TypedResults.Json(outcome, HookJson.Default.OperationOutcome, contentType: "application/json", statusCode: status);

    public static IResult Error(int status, string code, string text, string? expression = null) =>
        Result(status, OperationOutcome.Error(code, text, expression: expression));

    public static Task Write(HttpContext http, int status, string code, string text)
    {
        http.Response.StatusCode = status;
        return http.Response.WriteAsJsonAsync(OperationOutcome.Error(code, text), HookJson.Default.OperationOutcome, "application/json");
    }

    /// <summary>Unhandled exceptions become a generic 500; bodiless 4xx/5xx (unknown route, wrong method) get an OperationOutcome too.</summary>
    public static WebApplication UseOperationOutcomeErrors(this WebApplication app)
    {
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (BadHttpRequestException e) when (!http.Response.HasStarted)
            {
                await Write(http, e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? "too-costly" : "invalid", e.Message);
            }
            catch (Exception e) when (!http.Response.HasStarted && e is not OperationCanceledException)
            {
                Log.Unhandled(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("CdsMitral.Errors"), e, http.Request.Method, http.Request.Path);
                await Write(http, StatusCodes.Status500InternalServerError, "exception", "The service failed to answer this request. The error is in the service log.");
            }
        });
        app.UseStatusCodePages(async context =>
        {
            var http = context.HttpContext;
            var text = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => $"Nothing is served at {http.Request.Path}.",
                StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed on {http.Request.Path}.",
                _ => $"The request failed with status {http.Response.StatusCode}.",
            };
            await Write(http, http.Response.StatusCode, http.Response.StatusCode == 404 ? "not-found" : "not-supported", text);
        });
        return app;
    }
}
