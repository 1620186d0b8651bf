using System.Text.Json;

namespace CdsMitral.Hooks;

/// <summary>A place in a JSON text: its JSONPath, its one-based line, and what is wrong there.</summary>
public readonly record struct JsonSpot(string Path, long Line, string Problem = "");

/// <summary>
/// Checks on JSON text that the parser leaves to whoever reads the strings later. The reader accepts an escaped lone
/// UTF-16 surrogate ("\ud800") and only <c>GetString</c> throws on it, deep inside whatever reads it; and a refused
/// duplicate key comes without a line. These walk the text once to say where, and run only when they are needed.
/// </summary>
public static class JsonText
{
    /// <summary>The UTF-8 byte order mark, which RFC 8259 §8.1 lets a parser ignore.</summary>
    public static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    public const string LoneSurrogate = "is not valid Unicode: it holds a \\u escape of a lone UTF-16 surrogate";
    public const string Nul = "holds U+0000 (NUL), which no CDS Hooks or FHIR string may hold";

    /// <summary>Whether the text has a <c>\u</c> escape in the surrogate range D800–DFFF (either case), or, with
    /// <paramref name="nul"/>, <c>\u0000</c>. Text without one cannot hold what <see cref="FindInvalidUnicode"/> looks
    /// for (a raw NUL is not JSON), so its full walk is skipped.</summary>
    public static bool MayHoldBadEscape(ReadOnlySpan<byte> utf8, bool nul = false)
    {
        var at = 0;
        while (true)
        {
            var found = utf8[at..].IndexOf("\\u"u8);
            if (found < 0)
            {
                return false;
            }
            at += found + 2;
            if (at + 1 < utf8.Length && (utf8[at] | 0x20) == 'd' && ((utf8[at + 1] | 0x20) is '8' or '9' or (>= 'a' and <= 'f')))
            {
                return true;
            }
            if (nul && utf8[at..].StartsWith("0000"u8))
            {
                return true;
            }
        }
    }

    /// <summary>The strings and member names whose escapes do not make valid UTF-16 (a lone, reversed or unpaired
    /// surrogate) or, with <paramref name="nul"/>, make a NUL, in document order, at most <paramref name="max"/>.
    /// Malformed JSON ends the walk: the parser names it.</summary>
    public static List<JsonSpot> FindInvalidUnicode(ReadOnlySpan<byte> utf8, int max = 1, bool nul = false)
    {
        var spots = new List<JsonSpot>();
        var walk = new PathWalk();
        var reader = new Utf8JsonReader(utf8);
        try
        {
            while (spots.Count < max && reader.Read())
            {
                walk.Step(ref reader);
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped
                    && Problem(ref reader, nul) is { } problem)
                {
                    spots.Add(new JsonSpot(walk.Path(reader.TokenType == JsonTokenType.PropertyName ? " (a member name)" : ""), LineOf(utf8, reader.TokenStartIndex), problem));
                }
            }
        }
        catch (JsonException)
        {
        }
        return spots;
    }

    /// <summary>Where the first member name repeated within one object is, or null if none is (or the text is malformed).</summary>
    public static JsonSpot? FindDuplicateKey(ReadOnlySpan<byte> utf8)
    {
        var walk = new PathWalk { TrackNames = true };
        var reader = new Utf8JsonReader(utf8);
        try
        {
            while (reader.Read())
            {
                if (!walk.Step(ref reader))
                {
                    return new JsonSpot(walk.Path(""), LineOf(utf8, reader.TokenStartIndex));
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
        }
        return null;
    }

    private static string? Problem(ref Utf8JsonReader reader, bool nul)
    {
        try
        {
            var text = reader.GetString()!; // throws on a lone surrogate
            return nul && text.Contains('\0', StringComparison.Ordinal) ? Nul : null;
        }
        catch (InvalidOperationException)
        {
            return LoneSurrogate;
        }
    }

    private static long LineOf(ReadOnlySpan<byte> utf8, long offset) => utf8[..(int)offset].Count((byte)'\n') + 1;

    /// <summary>The JSONPath of the reader's current token, kept as the reader moves.</summary>
    private sealed class PathWalk
    {
        private sealed class Frame
        {
            public bool IsArray;
            public int Index = -1;
            public string? Name;
            public HashSet<string>? Names;
        }

        private readonly List<Frame> _frames = [];

        public bool TrackNames { get; init; }

        /// <summary>Moves along with the reader; false when a member name repeats one already seen in its object.</summary>
        public bool Step(ref Utf8JsonReader reader)
        {
            var top = _frames.Count > 0 ? _frames[^1] : null;
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    top!.Name = NameOf(ref reader);
                    return !TrackNames || (top.Names ??= new HashSet<string>(StringComparer.Ordinal)).Add(top.Name);
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    _frames.RemoveAt(_frames.Count - 1);
                    return true;
            }
            if (top is { IsArray: true })
            {
                top.Index++;
            }
            if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                _frames.Add(new Frame { IsArray = reader.TokenType == JsonTokenType.StartArray });
            }
            return true;
        }

        /// <summary>The path of the current token; a container's own path while the reader stands on its start.</summary>
        public string Path(string suffix)
        {
            var path = new System.Text.StringBuilder("$");
            // While on a StartObject/StartArray the newest frame is the container itself, which adds nothing yet.
            foreach (var frame in _frames)
            {
                if (frame.IsArray && frame.Index >= 0)
                {
                    path.Append('[').Append(frame.Index).Append(']');
                }
                else if (!frame.IsArray && frame.Name is { } name)
                {
                    // A member name is the sender's text and may be megabytes: the path goes into answers, logs and the audit.
                    name = name.Length > 40 ? name[..(char.IsHighSurrogate(name[39]) ? 39 : 40)] + "…" : name;
                    path.Append(IsPlain(name) ? $".{name}" : $"['{name.Replace("'", "\\'", StringComparison.Ordinal)}']");
                }
            }
            return path.Append(suffix).ToString();
        }

        private static bool IsPlain(string name) => name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

        /// <summary>The member name decoded, or as written when it does not decode (the escape is then the finding).</summary>
        private static string NameOf(ref Utf8JsonReader reader)
        {
            try
            {
                return reader.GetString()!;
            }
            catch (InvalidOperationException)
            {
                return System.Text.Encoding.UTF8.GetString(reader.ValueSpan); // the readers here read one span, never a sequence
            }
        }
    }
}
