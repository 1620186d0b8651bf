using System.Globalization;
using CdsMitral.Cards;
using CdsMitral.Snapshot;

namespace CdsMitral.Rules;

/// <summary>Phrases several cards share, so that the same fact reads the same on every card.</summary>
internal static class Wording
{
    /// <summary>"Severe secondary MR", "Severe MR, presumed secondary" (decision 23: the presumption is said, not hidden in
    /// brackets), or "Severe MR".</summary>
    public static string MrPhrase(ClinicalSnapshot s, bool withMechanism = true)
    {
        var grade = Capitalise(s.Mr?.Label ?? "no");
        return !withMechanism || !s.Mechanism.IsSecondary ? $"{grade} MR"
            : s.Mechanism.Presumed ? $"{grade} MR, presumed secondary"
            : $"{grade} secondary MR";
    }

    /// <summary>"Severe secondary MR on 2026-10-01 (Observation/x)" to open a detail; a presumed mechanism is left to the
    /// sentence that says what it rests on.</summary>
    public static string MrOn(ClinicalSnapshot s) =>
        $"{MrPhrase(s, withMechanism: !s.Mechanism.Presumed)} on {s.Mr!.DateText} ({s.Mr.Source})";

    /// <summary>The date of the values a summary names: one date, or the span "2026-08-03 to 2026-10-01".</summary>
    public static string DatesOf(params Measurement?[] values)
    {
        var dates = values.OfType<Measurement>().OrderBy(m => m.Date).Select(m => m.DateText).Distinct().ToList();
        return dates.Count switch
        {
            0 => "",
            1 => dates[0],
            _ => $"{dates[0]} to {dates[^1]}",
        };
    }

    /// <summary>The current LVEF, LVESD and PASP as a summary lists them: "LVEF 32 %, LVESD 58 mm, PASP 45 mmHg".</summary>
    public static string ValuesPhrase(ClinicalSnapshot s) =>
        string.Join(", ", new[] { s.CurrentLvef, s.CurrentLvesd, s.CurrentPasp }.OfType<Measurement>().Select(m => $"{m.Name} {m.Display}"));

    public static string MechanismSentence(ClinicalSnapshot s) => s.Mechanism.Kind switch
    {
        MechanismKind.Secondary when s.Mechanism.Presumed => Capitalise(s.Mechanism.Basis) + ".",
        MechanismKind.Secondary => $"Secondary mechanism{(s.Mechanism.Subtype is { } sub ? $" ({sub})" : "")} recorded ({string.Join(", ", s.Mechanism.Sources)}).",
        _ => $"MR mechanism: {s.Mechanism.Basis}.",
    };

    /// <summary>"no MRA or SGLT2 inhibitor on record", or "no recognised …" when a medication on record could not be
    /// classified (decision 2: never claim an absence the record does not show). Metoprolol without its salt is named in
    /// place (decision 24: "no recognised evidence-based beta-blocker (metoprolol, salt not stated)").</summary>
    public static string MissingGdmt(ClinicalSnapshot s, bool brief = false)
    {
        var ambiguous = s.Gdmt.AmbiguousBetaBlocker.Count > 0;
        var hedge = s.Gdmt.Unrecognised.Count > 0 || ambiguous ? "recognised " : "";
        // Decision 24 and the clinical review: finerenone is an MRA, so the absence is of an HFrEF MRA, and finerenone is named.
        var finerenone = s.Gdmt.NonSteroidalMra.Count > 0 && s.Gdmt.Missing.Contains(GdmtClass.Mra);
        if (brief)
        {
            // Short of room, metoprolol without its salt is said as such, beside the classes that are missing.
            var others = s.Gdmt.Missing.Where(c => !(ambiguous && c == GdmtClass.BetaBlocker))
                .Select(c => c == GdmtClass.Mra && finerenone ? "HFrEF MRA" : GdmtStatus.ShortName(c)).ToList();
            List<string> parts = others.Count > 0 ? [$"no {(s.Gdmt.Unrecognised.Count > 0 ? "recognised " : "")}{JoinOr(others)} on record"] : [];
            if (ambiguous && s.Gdmt.Missing.Contains(GdmtClass.BetaBlocker))
            {
                parts.Add("metoprolol salt not stated");
            }
            if (finerenone)
            {
                parts.Add("finerenone is not one");
            }
            return string.Join("; ", parts);
        }
        var names = s.Gdmt.Missing.Select(c => c switch
        {
            GdmtClass.BetaBlocker when ambiguous => $"{GdmtStatus.Name(c)} (metoprolol, salt not stated)",
            GdmtClass.Mra when finerenone => "HFrEF MRA",
            _ => GdmtStatus.Name(c),
        }).ToList();
        return $"no {hedge}{JoinOr(names)} on record{(finerenone ? " (finerenone is not an HFrEF MRA)" : "")}";
    }

    /// <summary>How many GDMT classes have no medication on board, for a summary that cannot name them all.</summary>
    public static string MissingGdmtCount(ClinicalSnapshot s) =>
        s.Gdmt.Missing.Count == 1 ? "1 GDMT class not on record" : $"{s.Gdmt.Missing.Count} GDMT classes not on record";

    public static string GdmtSummary(ClinicalSnapshot s) =>
        s.Gdmt.Missing.Count == 0 ? "all four classes on record" : MissingGdmt(s);

    public static string NyhaText(ClinicalSnapshot s) =>
        s.NyhaClass is { } n ? $" (on record: NYHA {Roman(n.Value)} on {n.DateText}{(n.IsStale ? ", stale" : "")})" : " (no NYHA class on record)";

    /// <summary>A current NYHA class I: its own line on the cards (decision 24), not a "cannot show" bullet.</summary>
    public static bool NyhaOne(ClinicalSnapshot s) => s.NyhaClass is { Value: 1, IsStale: false };

    public static string Roman(decimal c) => c switch { 1 => "I", 2 => "II", 3 => "III", _ => "IV" };

    /// <summary>An order's name for a summary: its short label (decision 24).</summary>
    public static string ShortName(SelectedOrder order) => order.Label;

    /// <summary>How a summary on an order hook begins: "Ordering TEER" on order-select, "Signing TEER" at order-sign
    /// (decision 24: never "Selected").</summary>
    public static string OrderLead(RuleContext c, SelectedOrder order) =>
        c.Hook == Hooks.Hook.OrderSign ? $"Signing {order.Label}" : $"Ordering {order.Label}";

    /// <summary>How a detail names the orders: "Order being signed: …" or "Order selected: …".</summary>
    public static string OrderHeading(RuleContext c, int count) =>
        c.Hook == Hooks.Hook.OrderSign ? (count == 1 ? "Order being signed" : "Orders being signed") : (count == 1 ? "Order selected" : "Orders selected");

    /// <summary>CDS Hooks: summary is under 140 characters. The first wording that fits, from the fullest to the shortest;
    /// the last is cut at a word, never inside a number or a word.</summary>
    public static string Fit(params string[] wordings)
    {
        foreach (var wording in wordings)
        {
            if (wording.Length < 140)
            {
                return wording;
            }
        }
        return CutAtWord(wordings[^1], 139);
    }

    /// <summary>Text of at most <paramref name="max"/> characters, cut at the last space before the limit with "…".</summary>
    public static string CutAtWord(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }
        var space = text.LastIndexOf(' ', max - 1);
        var cut = space > max / 2 ? space : max - 1;
        if (char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }
        return text[..cut].TrimEnd(',', ';', ':', ' ') + "…";
    }

    public static string JoinAnd(List<string> items) => Join(items, "and");

    /// <summary>For lists after "no": "no MRA or SGLT2 inhibitor".</summary>
    public static string JoinOr(List<string> items) => Join(items, "or");

    private static string Join(List<string> items, string conjunction) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + $" {conjunction} " + items[^1],
    };

    public static string Uncapitalise(string text) => text.Length == 0 ? text : char.ToLower(text[0], CultureInfo.InvariantCulture) + text[1..];

    public static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpper(text[0], CultureInfo.InvariantCulture) + text[1..];

    public static List<string> Inputs(params object?[] sources) =>
        sources.SelectMany(s => s switch
        {
            string one => [one],
            IEnumerable<string> many => many,
            _ => [],
        }).Distinct().ToList();

    public static string ProcedureWord(MitralProcedure p) => p.Kind == MitralProcedureKind.Teer ? "TEER" : "mitral repair";

    /// <summary>Decision 25: what a card says of surgery depends on the mechanism.</summary>
    public static string SurgeryBullet(ClinicalSnapshot s) => s.Mechanism.Kind switch
    {
        MechanismKind.Secondary => "Surgical risk; in secondary MR surgery is weighed mainly when CABG is planned",
        MechanismKind.Primary => "Surgical risk; in primary MR surgical repair is the standard for a patient who can have surgery",
        _ => "Surgical risk, and the MR mechanism, which decides how surgery and TEER are weighed",
    };
}
