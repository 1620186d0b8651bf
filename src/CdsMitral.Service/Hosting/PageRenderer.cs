using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.Logging.Abstractions;

namespace CdsMitral.Service.Hosting;

/// <summary>
/// Renders a page component (a <c>.razor</c> file) to an HTML string on the server: static rendering only, no Blazor
/// circuit, no script, no interactivity. Razor encodes every value it writes (with <see cref="PageEncoder"/>), so a page
/// encodes by default; only a <see cref="MarkupString"/> goes out as it is, and each one says why it is safe.
/// </summary>
public sealed class PageRenderer
{
    /// <summary>The one renderer: registered in DI (<see cref="ServiceRegistration"/>) and used by the static page functions
    /// (NavigatorPages) that the endpoints and the tests call.</summary>
    public static PageRenderer Default { get; } = new();

    private readonly IServiceProvider _services = new RendererServices();

    private PageRenderer()
    {
    }

    /// <summary>The component as a whole HTML document or fragment. Each call has its own HtmlRenderer, so nothing of a page
    /// stays in memory after it and no page waits for another; the page components do no asynchronous work, so the
    /// render has finished when the dispatcher returns (it runs on this thread when it is free, and it always is).</summary>
    public string Render<TComponent>(IReadOnlyDictionary<string, object?> parameters)
        where TComponent : IComponent
    {
        using var renderer = new HtmlRenderer(_services, NullLoggerFactory.Instance);
        var html = renderer.Dispatcher.InvokeAsync(async () =>
            (await renderer.RenderComponentAsync<TComponent>(ParameterView.FromDictionary(parameters.ToDictionary()))).ToHtmlString());
        return html.GetAwaiter().GetResult();
    }

    /// <summary>All the renderer asks for that the pages need: the encoder. The rest (navigation, activator, metrics)
    /// it has defaults for.</summary>
    private sealed class RendererServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(HtmlEncoder) ? PageEncoder.Instance : null;
    }
}
