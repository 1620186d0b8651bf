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

    public static string Format(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
