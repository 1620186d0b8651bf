using CdsMitral.Snapshot;

namespace CdsMitral.Clinical;

/// <summary>What a criterion concluded: met, not met, or not judgeable from the record.</summary>
public enum Verdict { Met, NotMet, CannotJudge }

/// <summary>A span of numbers; a bound that is null is open (infinite).</summary>
public readonly record struct Interval(decimal? Low, bool LowInclusive, decimal? High, bool HighInclusive)
{
    public static Interval Point(decimal value) => new(value, true, value, true);

    /// <summary>A recorded value as an interval: "<20" is everything below 20 (decision 5 of 2026-11-28); a valueRange
    /// "35–40" is everything from 35 to 40 (decision 17 of 2026-12-07).</summary>
    public static Interval Of(Measurement m) => m.High is { } high ? new(m.Value, true, high, true) : m.Comparator switch
    {
        "<" => new(null, false, m.Value, false),
        "<=" => new(null, false, m.Value, true),
        ">" => new(m.Value, false, null, false),
        ">=" => new(m.Value, true, null, false),
        _ => Point(m.Value),
    };

    public static Interval Between(Limit low, Limit high) => new(low.Value, low.Inclusive, high.Value, high.Inclusive);

    public static Interval AtMost(Limit high) => new(null, false, high.Value, high.Inclusive);

    /// <summary>Strictly below an inclusive limit (below the range that starts there), or at-or-below an exclusive one.</summary>
    public static Interval Below(Limit limit) => new(null, false, limit.Value, !limit.Inclusive);

    /// <summary>Strictly above an inclusive limit (above the range that ends there), or at-or-above an exclusive one.</summary>
    public static Interval Above(Limit limit) => new(limit.Value, !limit.Inclusive, null, false);

    public bool IsWithin(Interval other) =>
        (other.Low is not { } ol || (Low is { } l && (l > ol || (l == ol && (other.LowInclusive || !LowInclusive)))))
        && (other.High is not { } oh || (High is { } h && (h < oh || (h == oh && (other.HighInclusive || !HighInclusive)))));

    public bool IsDisjointFrom(Interval other) => EndsBefore(this, other) || EndsBefore(other, this);

    private static bool EndsBefore(Interval a, Interval b) =>
        a.High is { } ah && b.Low is { } bl && (ah < bl || (ah == bl && !(a.HighInclusive && b.LowInclusive)));

    /// <summary>Met when the whole value lies in the region, not met when none of it does, otherwise not judgeable.</summary>
    public static Verdict Judge(Measurement m, Interval region)
    {
        var value = Of(m);
        return value.IsWithin(region) ? Verdict.Met : value.IsDisjointFrom(region) ? Verdict.NotMet : Verdict.CannotJudge;
    }
}
