using System.Globalization;

namespace CdsMitral.Fhir;

/// <summary>How much of a date was recorded: "2025", "2025-11", "2025-11-03", or a date with a time.</summary>
public enum DatePrecision { Day, Year, Month, Time }

/// <summary>A FHIR date, dateTime or instant as recorded: its instant (the first of the period for partial dates), in the
/// offset it was recorded in, and its precision.</summary>
public readonly record struct RecordedDate(DateTimeOffset Value, DatePrecision Precision)
{
    /// <summary>The calendar date as recorded (in the record's own offset, not converted to UTC).</summary>
    public DateOnly CalendarDate => DateOnly.FromDateTime(Value.DateTime);

    public bool HasTime => Precision == DatePrecision.Time;

    public string Text => FhirDate.Format(Value, Precision);
}

/// <summary>FHIR date/dateTime/instant parsing. Partial dates (YYYY, YYYY-MM) take the first instant of the period;
/// a time keeps the offset it was recorded in, so "the same date" means the same calendar date as recorded.</summary>
public static class FhirDate
{
    public static DateTimeOffset? Parse(string? text) => ParseRecorded(text)?.Value;

    public static RecordedDate? ParseRecorded(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (text.Length <= 10)
        {
            var precision = text.Length switch { 4 => DatePrecision.Year, 7 => DatePrecision.Month, _ => DatePrecision.Day };
            return DateTime.TryParseExact(text, ["yyyy", "yyyy-MM", "yyyy-MM-dd"], CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var date)
                ? new RecordedDate(new DateTimeOffset(date, TimeSpan.Zero), precision)
                : null;
        }
        // A dateTime with time SHALL carry a zone in FHIR; when a sender omits it, read it as UTC rather than fail.
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? new RecordedDate(value, DatePrecision.Time)
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

    /// <summary>The date with the precision recorded (decision 13 of 2026-11-28): "2025", "2025-11" or "2025-11-03", the
    /// calendar date in the offset it was recorded in.</summary>
    public static string Format(DateTimeOffset value, DatePrecision precision = DatePrecision.Day) =>
        value.DateTime.ToString(precision switch { DatePrecision.Year => "yyyy", DatePrecision.Month => "yyyy-MM", _ => "yyyy-MM-dd" }, CultureInfo.InvariantCulture);
}
