using CdsMitral.Fhir;

namespace CdsMitral.Snapshot;

// Choosing one value among several of a measure: usable at all (status, date), final before preliminary, and the newest,
// or a conflict when the newest cannot be told.
public sealed partial class SnapshotBuilder
{
    /// <summary>Status, date and future-date checks shared by every measure. Null when the observation cannot be used.</summary>
    private static (RecordedDate Date, bool Final, bool Amended)? Usable(string measure, Obs o, DateTimeOffset asOf, List<DataQualityFinding> findings)
    {
        if (o.Status is { } status && ExcludedStatuses.Contains(status))
        {
            findings.Add(new DataQualityFinding(measure, o.Key, $"is marked {status}; not used"));
            return null;
        }
        if (o.Date is not { } date)
        {
            findings.Add(new DataQualityFinding(measure, o.Key, "has no date; not used"));
            return null;
        }
        if (date.Value > asOf.AddDays(1))
        {
            findings.Add(new DataQualityFinding(measure, o.Key, $"is dated in the future ({date.Text}); not used"));
            return null;
        }
        return (date, o.Status is { } s && FinalStatuses.Contains(s), o.Status is "amended" or "corrected");
    }

    /// <summary>Keeps only the final values if there are any; otherwise keeps the preliminary ones, with a finding that says
    /// so. Filters <paramref name="candidates"/> in place (their order kept): no list is copied when all are final.</summary>
    private static void PreferFinal<T>(List<T> candidates, Func<T, bool> isFinal, string measure, Func<T, string> source, List<DataQualityFinding> findings)
    {
        var finals = 0;
        foreach (var c in candidates)
        {
            finals += isFinal(c) ? 1 : 0;
        }
        if (finals == candidates.Count)
        {
            return;
        }
        if (finals > 0)
        {
            candidates.RemoveAll(c => !isFinal(c));
            return;
        }
        findings.Add(new DataQualityFinding(measure, string.Join(", ", candidates.Select(source)), "only preliminary values are on record; the newest was used"));
    }

    /// <summary>
    /// The calendar date (as recorded) of the newest of several values (decision 15 of 2026-12-07): between two values that
    /// both carry a time, the later instant (offsets normalised); otherwise the later calendar date as recorded. So the
    /// latest timed value by instant and the latest date-only value are found, and the later of those two by calendar date.
    /// </summary>
    private static DateOnly NewestDay<T>(List<T> candidates, Func<T, RecordedDate> date)
    {
        RecordedDate? latestTimed = null;
        DateOnly? latestDay = null;
        foreach (var c in candidates)
        {
            var d = date(c);
            if (d.HasTime)
            {
                if (latestTimed is not { } t || d.Value > t.Value)
                {
                    latestTimed = d;
                }
            }
            else if (latestDay is not { } day || d.CalendarDate > day)
            {
                latestDay = d.CalendarDate;
            }
        }
        return (latestTimed, latestDay) switch
        {
            ({ } t, { } day) => t.CalendarDate > day ? t.CalendarDate : day,
            ({ } t, null) => t.CalendarDate,
            (null, { } day) => day,
            _ => default,
        };
    }

    /// <summary>
    /// The newest of several values of one measure: on the newest calendar date (<see cref="NewestDay{T}"/>) the more
    /// specific method (decision 6 of 2026-11-28); then, among different values, the later instant when both carry distinct
    /// times; at one moment an amended or corrected value replaces a final one (decision 16 of 2026-12-07). Values that cannot
    /// be ordered come back as a conflict (all of them, the latest first, the rest by source), never as a guess. Ties between
    /// equal values go to the amended one, then to the first source in ordinal order: the answer never depends on the order
    /// the resources came in (decision 14). Best is an index into <paramref name="candidates"/>, -1 when there is none or
    /// they conflict. Plain loops: this runs for every measure of every call.
    /// </summary>
    private static (int Best, List<T>? Conflicting) Newest<T>(List<T> candidates, Func<T, RecordedDate> date, Func<T, int> rank,
        Func<T, T, bool> sameValue, Func<T, bool> amended, Func<T, string> key)
    {
        if (candidates.Count == 0)
        {
            return (-1, null);
        }
        var day = NewestDay(candidates, date);
        var bestRank = int.MinValue;
        foreach (var c in candidates)
        {
            if (date(c).CalendarDate == day && rank(c) > bestRank)
            {
                bestRank = rank(c);
            }
        }
        bool Top(T c) => date(c).CalendarDate == day && rank(c) == bestRank;
        var latest = -1;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (Top(candidates[i]) && (latest < 0 || Before(candidates[latest], candidates[i])))
            {
                latest = i;
            }
        }
        var latestDate = date(candidates[latest]);
        List<T>? differing = null;
        // The latest wins only if it has a time and is strictly later than every differing value, which also have times.
        var ordered = latestDate.HasTime;
        // Decision 16: the values not known to be earlier than the latest are at its moment; an amendment among them wins.
        var amendedAtMoment = -1;
        var amendmentsAgree = true;
        var finalsAtMomentDiffer = false;
        for (var i = 0; i < candidates.Count; i++)
        {
            var c = candidates[i];
            if (!Top(c))
            {
                continue;
            }
            var earlier = latestDate.HasTime && date(c).HasTime && date(c).Value < latestDate.Value;
            if (!earlier)
            {
                if (amended(c))
                {
                    amendmentsAgree &= amendedAtMoment < 0 || sameValue(candidates[amendedAtMoment], c);
                    amendedAtMoment = amendedAtMoment < 0 || string.CompareOrdinal(key(c), key(candidates[amendedAtMoment])) < 0 ? i : amendedAtMoment;
                }
            }
            if (!sameValue(c, candidates[latest]))
            {
                (differing ??= [candidates[latest]]).Add(c);
                ordered &= earlier;
            }
        }
        if (differing is null || ordered)
        {
            return (latest, null);
        }
        if (amendedAtMoment >= 0 && amendmentsAgree)
        {
            // Every value at the moment that differs from the amendment must be an unamended one it replaces.
            foreach (var c in differing)
            {
                var atMoment = !(latestDate.HasTime && date(c).HasTime && date(c).Value < latestDate.Value);
                finalsAtMomentDiffer |= atMoment && amended(c) && !sameValue(c, candidates[amendedAtMoment]);
            }
            if (!finalsAtMomentDiffer)
            {
                return (amendedAtMoment, null);
            }
        }
        differing.Sort(1, differing.Count - 1, Comparer<T>.Create((a, b) => string.CompareOrdinal(key(a), key(b))));
        return (-1, differing);

        // Later instant first; at one instant, an amended value, then the first source in ordinal order.
        bool Before(T current, T challenger)
        {
            var (a, b) = (date(current).Value, date(challenger).Value);
            if (a != b)
            {
                return b > a;
            }
            if (amended(current) != amended(challenger))
            {
                return amended(challenger);
            }
            return string.CompareOrdinal(key(challenger), key(current)) < 0;
        }
    }
}
