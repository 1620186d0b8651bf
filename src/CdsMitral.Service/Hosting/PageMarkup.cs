using Microsoft.AspNetCore.Components;

namespace CdsMitral.Service.Hosting;

/// <summary>Constant markup the page components write inside code blocks (a loop, a condition), where Razor has no literal
/// text: it goes out as written, like the page text around it, rather than as an encoded value (the encoder writes the
/// middle dot as a character reference). Constants only, never a value from a record or a request.</summary>
public static class PageMarkup
{
    /// <summary>" · ", the separator of the pages' lines (the patient banner, the links, the paging).</summary>
    public static readonly MarkupString Dot = new(" · ");
}
