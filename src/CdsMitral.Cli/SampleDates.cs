using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace CdsMitral.Cli;

/// <summary>
/// The sample patients are written as of <see cref="Anchor"/>: an echo "51 days ago" is dated 2026-10-01. Used as written,
/// they would turn stale a year later and stop giving the cards samples/README.md promises. So the CLI moves every date
/// of a sample by the days between the anchor and the day it runs (or <c>--as-of</c>): ages stay exactly as written.
/// A Bundle file that is not a sample is sent as it is.
/// </summary>
public static partial class SampleDates
{
    public static readonly DateOnly Anchor = new(2026, 11, 21);

    public static int DaysFrom(DateOnly today) => today.DayNumber - Anchor.DayNumber;

    /// <summary>The options of commands that read samples: --as-of DAY, --keep-dates.</summary>
    public sealed record DateOptions(Option<string?> AsOf, Option<bool> Keep)
    {
        public void AddTo(Command command)
        {
            command.Options.Add(AsOf);
            command.Options.Add(Keep);
        }

        /// <summary>The day samples are moved to (today unless --as-of), or null with --keep-dates.</summary>
        public DateOnly? Read(ParseResult parse)
        {
            if (parse.GetValue(Keep))
            {
                return null;
            }
            if (parse.GetValue(AsOf) is not { } text)
            {
                return DateOnly.FromDateTime(DateTime.Now);
            }
            return DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
                ? day
                : throw new CliException(CliException.BadInput, $"--as-of '{text}' is not a date (YYYY-MM-DD).");
        }
    }

    public static DateOptions Options() => new(
        new Option<string?>("--as-of") { Description = "Move the sample patients' dates as if they were written on this day (YYYY-MM-DD; default today)" },
        new Option<bool>("--keep-dates") { Description = "Send the sample patients' dates as written (as of 2026-11-21)" });

    /// <summary>Moves every FHIR date, dateTime and instant in <paramref name="node"/> by <paramref name="days"/>, keeping
    /// each one's precision and offset.</summary>
    public static void Shift(JsonNode? node, int days)
    {
        if (days == 0)
        {
            return;
        }
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (value is JsonValue v && key is not ("id" or "code" or "version" or "value" or "reference" or "display" or "text")
                        && v.TryGetValue<string>(out var text) && Moved(text, days) is { } moved)
                    {
                        o[key] = moved;
                    }
                    else
                    {
                        Shift(value, days);
                    }
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    Shift(item, days);
                }
                break;
        }
    }

    private static string? Moved(string text, int days)
    {
        if (!FhirDateTime().IsMatch(text))
        {
            return null;
        }
        return text.Length switch
        {
            4 => text, // a bare year moves only by whole years; the samples have none
            7 => DateOnly.ParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(days).ToString("yyyy-MM", CultureInfo.InvariantCulture),
            10 => DateOnly.ParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture).AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            _ => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture).AddDays(days).ToString(text.EndsWith('Z') ? "yyyy-MM-ddTHH:mm:ssZ" : "yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture),
        };
    }

    [GeneratedRegex(@"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$")]
    private static partial Regex FhirDateTime();
}
