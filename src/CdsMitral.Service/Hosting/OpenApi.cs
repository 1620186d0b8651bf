using CdsMitral.Fhir;
using CdsMitral.Hooks;

namespace CdsMitral.Service.Hosting;

/// <summary>An OpenAPI document of the HTTP API at /openapi/v1.json, generated from the endpoints and their wire types.</summary>
public static class OpenApi
{
    public static IServiceCollection AddApiDocument(this IServiceCollection services)
    {
        // The wire types are source-generated: the document generator describes them through the same contexts.
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, HookJson.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(1, FhirJson.Default);
        });
        services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "CdsMitral";
            document.Info.Description = "CDS Hooks 2.0 services for secondary mitral regurgitation. Every call under /cds-services carries the " +
                "client's JWT (Authorization: Bearer); errors are OperationOutcome JSON. See docs/security.md and docs/integration.md.";
            return Task.CompletedTask;
        }));
        return services;
    }

    public static IEndpointRouteBuilder MapApiDocument(this IEndpointRouteBuilder app)
    {
        // Integrators read it before they have a key; it describes the wire types and says nothing of any record.
        app.MapOpenApi().Public("the API's description for integrators, generated from the endpoints; no data");
        return app;
    }

    /// <summary>What a hook endpoint takes and gives, for the document (the handler reads the body itself). The request
    /// body is described by a transformer, not by Accepts(): Accepts() would also make routing refuse other content types
    /// with a bare 415 before the handler could explain it and audit the call.</summary>
    public static RouteHandlerBuilder DescribeHook(this RouteHandlerBuilder endpoint) => endpoint
        .WithSummary("Call a CDS service with a hook request")
        .AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(HookRequest), null, cancellationToken) },
                },
            };
        })
        .Produces<CdsResponse>(StatusCodes.Status200OK)
        .Produces<OperationOutcome>(StatusCodes.Status400BadRequest)
        .Produces<OperationOutcome>(StatusCodes.Status401Unauthorized)
        .Produces<OperationOutcome>(StatusCodes.Status403Forbidden)
        .Produces<OperationOutcome>(StatusCodes.Status404NotFound)
        .Produces<OperationOutcome>(StatusCodes.Status412PreconditionFailed)
        .Produces<OperationOutcome>(StatusCodes.Status413PayloadTooLarge)
        .Produces<OperationOutcome>(StatusCodes.Status415UnsupportedMediaType)
        .Produces<OperationOutcome>(StatusCodes.Status429TooManyRequests)
        .Produces<OperationOutcome>(StatusCodes.Status503ServiceUnavailable);
}
