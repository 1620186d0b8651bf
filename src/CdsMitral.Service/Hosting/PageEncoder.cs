using System.Net;
using System.Text.Encodings.Web;

namespace CdsMitral.Service.Hosting;

/// <summary>
/// The HTML encoder of the page renderer: exactly <see cref="WebUtility.HtmlEncode(string?)"/>, which the pages used before
/// they became Razor components (<c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c>, <c>"</c>, <c>'</c>, Latin-1 above 159 and
/// characters beyond the BMP as character references), so that a page reads the same byte for byte, text and attributes
/// alike (the insights table is checked cell by cell against it).
/// </summary>
internal sealed class PageEncoder : HtmlEncoder
{
    public static PageEncoder Instance { get; } = new();

    private PageEncoder()
    {
    }

    /// <summary>The longest reference: <c>&amp;#1114111;</c>.</summary>
    public override int MaxOutputCharactersPerInputCharacter => 10;

    public override string Encode(string value) => WebUtility.HtmlEncode(value);

    public override void Encode(TextWriter output, string value, int startIndex, int characterCount) =>
        WebUtility.HtmlEncode(value.Substring(startIndex, characterCount), output);

    public override void Encode(TextWriter output, char[] value, int startIndex, int characterCount) =>
        WebUtility.HtmlEncode(new string(value, startIndex, characterCount), output);

    public override bool WillEncode(int unicodeScalar) =>
        unicodeScalar is '<' or '>' or '"' or '\'' or '&' or (>= 160 and < 256) or >= 0x10000;

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        var span = new ReadOnlySpan<char>(text, textLength);
        for (var i = 0; i < span.Length; i++)
        {
            if (WillEncode(span[i]) || char.IsSurrogate(span[i]))
            {
                return i;
            }
        }
        return -1;
    }

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        var text = char.ConvertFromUtf32(unicodeScalar);
        var encoded = WillEncode(unicodeScalar) ? WebUtility.HtmlEncode(text) : text;
        if (encoded.Length > bufferLength)
        {
            numberOfCharactersWritten = 0;
            return false;
        }
        encoded.AsSpan().CopyTo(new Span<char>(buffer, bufferLength));
        numberOfCharactersWritten = encoded.Length;
        return true;
    }
}
