using System.Collections.Frozen;
using CdsMitral.Clinical;
using CdsMitral.Fhir;
using CdsMitral.Terminology;

namespace CdsMitral.Snapshot;

// Measurements: LVEF, LVESD, PASP, the context values (EROA, regurgitant volume and fraction, LVEDV) and NYHA class,
// from Observations or from the components of an echo panel Observation.
public sealed partial class SnapshotBuilder
{
    /// <summary>An observation of a measure, read once, in place: the members the snapshot uses. <paramref name="Ordinal"/> is
    /// the coded value's grade (MR severity, NYHA class); <paramref name="Rank"/> prefers the more specific LVEF method.
    /// <paramref name="Key"/> is the resource, or for a panel component the resource and the component's position.</summary>
    private sealed record Obs(
        string Measure, string Key, string? Status, RecordedDate? Date, Quantity? Quantity, decimal? Ordinal, int? ValueInteger, string? ValueString,
        string? Mechanism, int Rank, (Quantity? Low, Quantity? High)? Range = null);

    /// <param name="Unit">The unit in its UCUM spelling when it is one the service understands, else as recorded.</param>
    /// <param name="Comparator">&lt;, &lt;=, &gt;=, &gt; as recorded; a comparator the service does not know is kept to refuse it.</param>
    private readonly record struct Quantity(decimal? Value, string? Unit, bool UnitKnown, string? Comparator);

    private sealed record MeasureSpec(string Name, string ValueSet, string Unit, (decimal Min, decimal Max)? Plausible, Func<decimal, string, decimal?> Normalise);

    private static readonly MeasureSpec LvefSpec = new("LVEF", Vs.Lvef, "%", Thresholds.LvefPlausible, NormaliseLvef);
    private static readonly MeasureSpec LvesdSpec = new("LVESD", Vs.Lvesd, "mm", Thresholds.LvesdPlausible, (v, u) => u == "mm" ? v : u == "cm" ? v * 10 : null);
    private static readonly MeasureSpec PaspSpec = new("PASP", Vs.Pasp, "mmHg", Thresholds.PaspPlausible, (v, u) => u == "mm[Hg]" ? v : null);
    private static readonly MeasureSpec EroaSpec = new("EROA", Vs.Eroa, "cm²", null, (v, u) => u == "cm2" ? v : u == "mm2" ? v / 100 : null);
    private static readonly MeasureSpec RvolSpec = new("Regurgitant volume", Vs.RegurgitantVolume, "mL", null, (v, u) => u == "mL" ? v : null);
    private static readonly MeasureSpec RfSpec = new("Regurgitant fraction", Vs.RegurgitantFraction, "%", null, (v, u) => u == "%" ? v : null);
    private static readonly MeasureSpec LvedvSpec = new("LVEDV", Vs.Lvedv, "mL", null, (v, u) => u == "mL" ? v : null);

    /// <summary>UCUM codes the service reads, as UCUM spells them (case matters in UCUM: "mL" and "ml" are both litre-based).</summary>
    private static readonly FrozenDictionary<string, string> UcumCodes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["%"] = "%", ["mm"] = "mm", ["cm"] = "cm", ["mm[Hg]"] = "mm[Hg]", ["mL"] = "mL", ["ml"] = "mL", ["cm2"] = "cm2", ["mm2"] = "mm2", ["1"] = "1",
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>Unit text understood besides UCUM codes, in any case (decision 8 of 2026-11-28).</summary>
    private static readonly FrozenDictionary<string, string> UnitTexts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["%"] = "%", ["percent"] = "%", ["mm"] = "mm", ["cm"] = "cm", ["mmHg"] = "mm[Hg]", ["mm Hg"] = "mm[Hg]",
        ["mm[Hg]"] = "mm[Hg]", ["mL"] = "mL", ["cm2"] = "cm2", ["mm2"] = "mm2",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly FhirRead.KnownStrings KnownUnitSpellings = new([.. UcumCodes.Keys, .. UnitTexts.Keys]);
    private static readonly FhirRead.KnownStrings Comparators = new(["<", "<=", ">=", ">"]);

    // Every measure's codes in one table: each observation is looked up once, not once per measure.
    private readonly FrozenDictionary<(string System, string Code), string> _measureOf = MeasureTable(terminology);

    private static readonly string[] MeasureValueSets =
        [Vs.Lvef, Vs.Lvesd, Vs.Pasp, Vs.Eroa, Vs.RegurgitantVolume, Vs.RegurgitantFraction, Vs.Lvedv, Vs.MrAssessment, Vs.NyhaAssessment];

    private static FrozenDictionary<(string System, string Code), string> MeasureTable(Terminology.Terminology t)
    {
        var table = new Dictionary<(string, string), string>();
        foreach (var valueSet in MeasureValueSets)
        {
            foreach (var code in t.Codes(valueSet))
            {
                // A code in two measure ValueSets would make one value count as two measures: refuse it at start-up.
                if (!table.TryAdd(code, valueSet) && table[code] != valueSet)
                {
                    throw new InvalidOperationException($"{code.Item1}|{code.Item2} is in both {table[code]} and {valueSet}.");
                }
            }
        }
        return table.ToFrozenDictionary();
    }

    /// <summary>The measures an observation carries: its own value if its code is a measure, and each component whose code
    /// is one (an echo panel), read like a separate observation with the panel's status, date and id (decision 7).</summary>
    /// <exception cref="FhirShapeException">A member the snapshot reads is not shaped as FHIR R4.</exception>
    private void ReadObservation(RawResource raw, List<Obs> into)
    {
        var json = raw.Json;
        var status = json.OneOf("status"u8, KnownStatuses) ?? json.Text("status"u8);
        var period = json.Child("effectivePeriod"u8);
        var date = json.RecordedDate("effectiveDateTime"u8) ?? json.RecordedDate("effectiveInstant"u8)
            ?? period?.RecordedDate("end"u8) ?? period?.RecordedDate("start"u8) ?? json.RecordedDate("issued"u8);
        if (ReadValue(json, -1, raw.Key, status, date) is { } own)
        {
            into.Add(own);
        }
        var index = 0;
        foreach (var component in json.Objects("component"u8))
        {
            if (ReadValue(component, index, raw.Key, status, date) is { } part)
            {
                into.Add(part);
            }
            index++;
        }
    }

    /// <param name="component">The component's position in the panel, or -1 for the observation's own value.</param>
    private Obs? ReadValue(System.Text.Json.JsonElement json, int component, string resourceKey, string? status, RecordedDate? date)
    {
        if (json.Child("code"u8) is not { } code || _t.Find(_measureOf, code, tableFromValueSets: true) is not { } match)
        {
            return null;
        }
        var key = component < 0 ? resourceKey : $"{resourceKey}.component[{component}]";
        var measure = _measureOf[(match.System, match.Code)];
        Quantity? quantity = json.Child("valueQuantity"u8) is { } q ? ReadQuantity(q) : null;
        var value = json.Child("valueCodeableConcept"u8);
        var ordinal = measure switch
        {
            Vs.MrAssessment => _t.Ordinal(Vs.MrSeverity, value),
            Vs.NyhaAssessment => _t.Ordinal(Vs.NyhaClass, value),
            _ => null,
        };
        var rank = measure != Vs.Lvef ? 0 : _t.Matches(Vs.LvefMethodSpecific, code) ? 2 : _t.Matches(Vs.LvefUnspecifiedMethod, code) ? 0 : 1;
        (Quantity?, Quantity?)? range = json.Child("valueRange"u8) is { } r
            ? (r.Child("low"u8) is { } low ? ReadQuantity(low) : null, r.Child("high"u8) is { } high ? ReadQuantity(high) : null)
            : null;
        return new Obs(measure, key, status, date, quantity, ordinal, json.IntegerValue("valueInteger"u8), json.Text("valueString"u8),
            measure == Vs.MrAssessment ? ReadMechanismComponent(json) : null, rank, range);
    }

    private static Quantity ReadQuantity(System.Text.Json.JsonElement q)
    {
        var code = q.OneOf("code"u8, KnownUnitSpellings) ?? q.Text("code"u8);
        var text = q.OneOf("unit"u8, KnownUnitSpellings) ?? q.Text("unit"u8);
        string? unit = null;
        if (code is not null && UcumCodes.TryGetValue(code, out var ucum))
        {
            unit = ucum;
        }
        else if (text is not null && UnitTexts.TryGetValue(text.Trim(), out var spelled))
        {
            unit = spelled;
        }
        var comparator = q.OneOf("comparator"u8, Comparators) ?? q.Text("comparator"u8);
        return new Quantity(q.DecimalValue("value"u8), unit ?? code ?? text, unit is not null, comparator);
    }

    /// <summary>A value as the rules judge it: a number, an interval with a comparator, or a range (<paramref name="High"/>).</summary>
    private readonly record struct Reading(decimal Value, string? Comparator, decimal? High);

    private sealed record Candidate(Reading Reading, string Source, bool Final, bool Amended, int Rank, RecordedDate Date);

    private static Measurement? PickMeasurement(MeasureSpec spec, List<Obs> observations,
        DateTimeOffset asOf, DateTimeOffset staleBefore, List<DataQualityFinding> findings)
    {
        // The Measurement itself is made only for the value chosen (and for conflicting ones, to name them).
        var candidates = new List<Candidate>(observations.Count);
        Measurement Made(Candidate c) => new(spec.Name, c.Reading.Value, spec.Unit, c.Date.Value, c.Source, c.Date.Value < staleBefore,
            c.Reading.Comparator, c.Date.Precision, c.Reading.High);
        foreach (var o in observations)
        {
            if (Usable(spec.Name, o, asOf, findings) is not { } usable)
            {
                continue;
            }
            if (Read(spec, o) is not { } reading)
            {
                continue;
            }
            var (low, high) = (reading.Value, reading.High ?? reading.Value);
            if (spec.Plausible is { } range && (low < range.Min || high > range.Max))
            {
                var shown = new Measurement(spec.Name, reading.Value, spec.Unit, usable.Date.Value, o.Key, false, reading.Comparator, High: reading.High).Display;
                findings.Add(new DataQualityFinding(spec.Name, o.Key,
                    $"value {shown} ({usable.Date.Text}) is outside the plausible range {range.Min}–{range.Max} {spec.Unit}; not used", $"implausible ({shown})"));
                continue;
            }
            candidates.Add(new Candidate(reading, o.Key, usable.Final, usable.Amended, o.Rank, usable.Date));
        }
        // Never trust the server's sort order: final before preliminary, newest first, then the more specific method.
        PreferFinal(candidates, c => c.Final, spec.Name, c => c.Source, findings);
        var (best, conflicting) = Newest(candidates, c => c.Date, c => c.Rank, (a, b) => a.Reading == b.Reading, c => c.Amended, c => c.Source);
        if (conflicting is not null)
        {
            findings.Add(new DataQualityFinding(spec.Name, string.Join(", ", conflicting.Select(c => c.Source)),
                $"record different values on {conflicting[0].Date.CalendarDate:yyyy-MM-dd} ({string.Join(", ", conflicting.Select(c => Made(c).Display))}) " +
                "that cannot be ordered in time; conflicting, not used", $"conflicting on {FhirDate.Format(conflicting[0].Date.Value)}"));
        }
        return best < 0 ? null : Made(candidates[best]);

        // The observation's value in the measure's unit, or null with a finding that says why it cannot be used.
        Reading? Read(MeasureSpec spec, Obs o)
        {
            if (o.Quantity is { Value: { } number } quantity)
            {
                if (quantity.Comparator is { } c && c is not ("<" or "<=" or ">=" or ">"))
                {
                    findings.Add(new DataQualityFinding(spec.Name, o.Key, $"has a comparator '{c}' the service does not read; not used"));
                    return null;
                }
                return Normalised(spec, o, quantity) is { } value ? new Reading(value, quantity.Comparator, null) : null;
            }
            // Decision 17: a valueRange is an interval, judged like a comparator; one bound alone is a comparator.
            if (o.Range is var (lowBound, highBound) && (lowBound?.Value is not null || highBound?.Value is not null))
            {
                decimal? low = lowBound is { Value: not null } l ? Normalised(spec, o, l) : null;
                decimal? high = highBound is { Value: not null } h ? Normalised(spec, o, h) : null;
                if ((lowBound?.Value is not null && low is null) || (highBound?.Value is not null && high is null))
                {
                    return null;
                }
                if (low is { } a && high is { } b && a > b)
                {
                    findings.Add(new DataQualityFinding(spec.Name, o.Key, "is a range whose low end is above its high end; not used"));
                    return null;
                }
                return (low, high) switch
                {
                    ({ } a2, { } b2) when a2 == b2 => new Reading(a2, null, null),
                    ({ } a2, { } b2) => new Reading(a2, null, b2),
                    ({ } a2, null) => new Reading(a2, ">=", null),
                    _ => new Reading(high!.Value, "<=", null),
                };
            }
            // Decision 17: a number written as text is free text, not a value.
            findings.Add(o.ValueString is { } text
                ? new DataQualityFinding(spec.Name, o.Key, $"recorded as text: '{Clip(text)}'; not used", "recorded as text")
                : new DataQualityFinding(spec.Name, o.Key, "has no numeric value; not used", "no numeric value"));
            return null;
        }

        decimal? Normalised(MeasureSpec spec, Obs o, Quantity quantity)
        {
            if ((quantity.UnitKnown || quantity.Unit is null ? spec.Normalise(quantity.Value!.Value, quantity.Unit ?? "") : null) is { } value)
            {
                return value;
            }
            findings.Add(new DataQualityFinding(spec.Name, o.Key, $"has unit '{quantity.Unit}' that cannot be read as {spec.Unit}; not used",
                "in an unreadable unit"));
            return null;
        }
    }

    /// <summary>Record text as a data note quotes it: at most 40 characters, never cut inside a surrogate pair.</summary>
    private static string Clip(string text)
    {
        text = text.Trim();
        if (text.Length <= 40)
        {
            return text;
        }
        var cut = char.IsHighSurrogate(text[39]) ? 39 : 40;
        return text[..cut] + "…";
    }

    /// <summary>A value of at most 1 with unit "1" (or no unit) is a fraction: 0.35 means 35 %.</summary>
    private static decimal? NormaliseLvef(decimal value, string unit) => unit switch
    {
        "%" => value,
        "" or "1" => value <= 1 ? value * 100 : value,
        _ => null,
    };

    /// <summary>The newest NYHA class, ordered as values are (decisions 15 and 16); classes that cannot be ordered are a
    /// conflict, named, and no class is shown.</summary>
    private static Measurement? PickNyha(List<Obs> observations, DateTimeOffset asOf, DateTimeOffset staleBefore, List<DataQualityFinding> findings)
    {
        var candidates = new List<(decimal Class, string Source, bool Amended, RecordedDate Date)>(observations.Count);
        foreach (var o in observations)
        {
            if (o.Ordinal is { } ordinal && o.Status is not ("entered-in-error" or "cancelled") && o.Date is { } date && date.Value <= asOf.AddDays(1))
            {
                candidates.Add((ordinal, o.Key, o.Status is "amended" or "corrected", date));
            }
        }
        var (best, conflicting) = Newest(candidates, c => c.Date, _ => 0, (a, b) => a.Class == b.Class, c => c.Amended, c => c.Source);
        if (conflicting is not null)
        {
            findings.Add(new DataQualityFinding("NYHA class", string.Join(", ", conflicting.Select(c => c.Source)),
                $"record different classes on {conflicting[0].Date.CalendarDate:yyyy-MM-dd} that cannot be ordered in time; conflicting, not shown"));
        }
        return best < 0 ? null : candidates[best] is var n
            ? new Measurement("NYHA class", n.Class, "", n.Date.Value, n.Source, n.Date.Value < staleBefore, Precision: n.Date.Precision)
            : null;
    }
}
