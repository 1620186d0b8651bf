using System.Globalization;
using CdsMitral.Cards;
using CdsMitral.Snapshot;

namespace CdsMitral.Rules;

/// <summary>Phrases several cards share, so that the same fact reads the same on every card.</summary>
internal static class Wording
{
    public static string MrPhrase(ClinicalSnapshot s, bool withMechanism = true)
    {
        var grade = Capitalise(s.Mr?.Label ?? "no");
        return withMechanism && s.Mechanism.IsSecondary
            ? $"{grade} secondary MR{(s.Mechanism.Presumed ? " (presumed)" : "")}"
            : $"{grade} MR";
    }

    public static string MechanismSentence(ClinicalSnapshot s) => s.Mechanism.Kind switch
    {
        MechanismKind.Secondary when s.Mechanism.Presumed => Capitalise(s.Mechanism.Basis) + ".",
        MechanismKind.Secondary => $"Secondary mechanism{(s.Mechanism.Subtype is { } sub ? $" ({sub})" : "")} recorded ({string.Join(", ", s.Mechanism.Sources)}).",
        _ => $"MR mechanism: {s.Mechanism.Basis}.",
    };

    /// <summary>"no MRA or SGLT2 inhibitor on record", or "no recognised …" when a medication on record could not be
    /// classified (decision 2: never claim an absence the record does not show).</summary>
    public static string MissingGdmt(ClinicalSnapshot s) =>
        $"no {(s.Gdmt.Unrecognised.Count > 0 ? "recognised " : "")}{JoinOr(s.Gdmt.Missing.Select(GdmtStatus.Name).ToList())} on record";

    public static string GdmtSummary(ClinicalSnapshot s) =>
        s.Gdmt.Missing.Count == 0 ? "all four classes on record" : MissingGdmt(s);

    public static string NyhaText(ClinicalSnapshot s) =>
        s.NyhaClass is { } n ? $" (on record: NYHA {Roman(n.Value)} on {n.DateText}{(n.IsStale ? ", stale" : "")})" : " (no NYHA class on record)";

    private static string Roman(decimal c) => c switch { 1 => "I", 2 => "II", 3 => "III", _ => "IV" };

    /// <summary>An order's name for a summary: plain text, at most 40 characters.</summary>
    public static string ShortName(SelectedOrder order)
    {
        var name = Markdown.Plain(order.Name);
        return name.Length <= 40 ? name : name[..39] + "…";
    }

    /// <summary>CDS Hooks: summary is under 140 characters. Falls back to a shorter wording rather than cutting numbers in half.</summary>
    public static string Fit(string summary, string shorter) =>
        summary.Length < 140 ? summary : shorter.Length < 140 ? shorter : shorter[..138] + "…";

    public static string JoinAnd(List<string> items) => Join(items, "and");

    /// <summary>For lists after "no": "no MRA or SGLT2 inhibitor".</summary>
    public static string JoinOr(List<string> items) => Join(items, "or");

    private static string Join(List<string> items, string conjunction) => items.Count switch
    {
        0 => "",
        1 => items[0],
        _ => string.Join(", ", items.Take(items.Count - 1)) + $" {conjunction} " + items[^1],
    };

    public static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpper(text[0], CultureInfo.InvariantCulture) + text[1..];

    public static List<string> Inputs(params object?[] sources) =>
        sources.SelectMany(s => s switch
        {
            string one => [one],
            IEnumerable<string> many => many,
            _ => [],
        }).Distinct().ToList();

    public static string ProcedureWord(MitralProcedure p) => p.Kind == MitralProcedureKind.Teer ? "TEER" : "mitral repair";
}
