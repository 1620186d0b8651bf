using System.Globalization;

namespace CdsMitral.Clinical;

/// <summary>A closed or open numeric bound: the clinical numbers are written once, here, and the card text is made
/// from them, so a threshold and the sentence that names it cannot drift apart.</summary>
public readonly record struct Limit(decimal Value, bool Inclusive)
{
    public string Text(string unit) => $"{Value.ToString("0.##", CultureInfo.InvariantCulture)} {unit}";
}

/// <summary>
/// Every clinical number the rules use, with its source.
/// COAPT (Stone, NEJM 2018;379:2307) and the 2020 ACC/AHA valve guideline (TEER 2a, B-R): LVEF 20–50 %, LVESD ≤ 70 mm,
/// PASP ≤ 70 mmHg. clinical-logic.md: significant MR = moderate-severe (3+) or severe (4+); presume a secondary mechanism
/// below LVEF 50 %; plausible ranges LVEF 5–90 %, LVESD 15–100 mm, PASP 10–150 mmHg; stale after 12 months (configurable).
/// </summary>
public static class Thresholds
{
    public static readonly Limit LvefLow = new(20, Inclusive: true);
    public static readonly Limit LvefHigh = new(50, Inclusive: true);
    public static readonly Limit LvesdMax = new(70, Inclusive: true);
    public static readonly Limit PaspMax = new(70, Inclusive: true);

    /// <summary>Below this LVEF the substrate is HFrEF-like: a mechanism may be presumed secondary and HFrEF GDMT is judged.</summary>
    public static readonly Limit ReducedEfBelow = new(50, Inclusive: false);

    /// <summary>Moderate-severe (3+) or severe (4+).</summary>
    public const decimal SignificantMrGrade = 3;

    /// <summary>Severe (4+): the grade the guideline recommendations for TEER concern (decision 22).</summary>
    public const decimal SevereMrGrade = 4;

    /// <summary>The symptoms COAPT enrolled (Stone, NEJM 2018): NYHA I is outside them.</summary>
    public const string CoaptNyhaText = "NYHA II to ambulatory IV";

    public static readonly (decimal Min, decimal Max) LvefPlausible = (5, 90);
    public static readonly (decimal Min, decimal Max) LvesdPlausible = (15, 100);
    public static readonly (decimal Min, decimal Max) PaspPlausible = (10, 150);

    public static string LvefWindowText => $"{LvefLow.Value:0}–{LvefHigh.Value:0} %";
    public static string LvesdWindowText => $"≤ {LvesdMax.Text("mm")}";
    public static string PaspWindowText => $"≤ {PaspMax.Text("mmHg")}";

    /// <summary>"moderate-severe (3+) or severe (4+)".</summary>
    public static string SignificantMrText { get; } =
        string.Create(CultureInfo.InvariantCulture, $"moderate-severe ({SignificantMrGrade:0}+) or severe ({SevereMrGrade:0}+)");

    /// <summary>The numbers by name, for the content pages ({{threshold:lvef-window}}) and the review page.</summary>
    public static IReadOnlyDictionary<string, string> ByKey { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["lvef-window"] = LvefWindowText,
        ["lvef-low"] = LvefLow.Text("%"),
        ["lvef-high"] = LvefHigh.Text("%"),
        ["lvesd-max"] = LvesdMax.Text("mm"),
        ["lvesd-window"] = LvesdWindowText,
        ["pasp-max"] = PaspMax.Text("mmHg"),
        ["pasp-window"] = PaspWindowText,
        ["reduced-ef"] = ReducedEfBelow.Text("%"),
        ["significant-mr"] = SignificantMrText,
    };
}
