using System.Globalization;

namespace CdsMitral.Fhir;

/// <summary>FHIR date/dateTime/instant parsing. Partial dates (YYYY, YYYY-MM) take the first instant of the period.</summary>
public static class FhirDate
{
    private static readonly string[] DateOnlyFormats = ["yyyy", "yyyy-MM", "yyyy-MM-dd"];

    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (text.Length <= 10)
        {
            return DateTime.TryParseExact(text, DateOnlyFormats, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
                ? new DateTimeOffset(date, TimeSpan.Zero)
                : null;
        }
        // A dateTime with time SHALL carry a zone in FHIR; when a sender omits it, read it as UTC rather than fail.
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : null;
    }

    /// <summary>A plain date, "YYYY-MM-DD", from UTF-8 without allocating; false for anything else (use <see cref="Parse"/>).</summary>
    public static bool TryParseDay(ReadOnlySpan<byte> utf8, out DateTimeOffset day)
    {
        day = default;
        if (utf8.Length != 10 || utf8[4] != '-' || utf8[7] != '-'
            || !TryDigits(utf8[..4], out var year) || !TryDigits(utf8[5..7], out var month) || !TryDigits(utf8[8..], out var dayOfMonth)
            || year < 1 || month is < 1 or > 12 || dayOfMonth < 1 || dayOfMonth > DateTime.DaysInMonth(year, month))
        {
            return false;
        }
        day = new DateTimeOffset(year, month, dayOfMonth, 0, 0, 0, TimeSpan.Zero);
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var b in digits)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
            value = value * 10 + (b - '0');
        }
        return true;
    }

    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
