using CdsMitral.Clinical;
using CdsMitral.Snapshot;
using static CdsMitral.Rules.Wording;

namespace CdsMitral.Rules;

/// <summary>8. The acute setting (decision 19 of 2026-12-07): significant MR, not primary, in a patient with an active,
/// confirmed cardiogenic shock or temporary mechanical circulatory support in progress. The chronic considerations (cards 1–4,
/// and the order framing) stand back for it. On order-select, only for a selected mitral intervention.</summary>
internal sealed class AcuteSetting : IRule
{
    public RuleInfo Info { get; } = new(RuleIds.AcuteSetting, "1.0.0", "Acute setting");

    public string Description => "Significant MR on record, not primary, with an active confirmed cardiogenic shock or temporary mechanical circulatory " +
        "support (ECMO, intra-aortic balloon pump, percutaneous VAD) in progress: the chronic secondary-MR considerations do not apply; " +
        "stabilisation and the shock team come first. `info`; replaces the COAPT-like, GDMT-gap, outside-range and data-gap cards.";

    public IReadOnlyList<Criterion> Criteria(RuleContext c)
    {
        var s = c.Snapshot;
        List<Criterion> criteria = c.OnOrder ? [Rules.Criteria.MitralOrderSelected(c)] : [];
        criteria.Add(Rules.Criteria.SignificantMrOnRecord(s));
        criteria.Add(Rules.Criteria.NotPrimary(s));
        criteria.Add(s.AcuteSetting.Count > 0
            ? new("cardiogenic shock or mechanical circulatory support", Verdict.Met, string.Join(", ", s.AcuteSetting.Select(a => $"{a.Name} ({a.Source})")))
            : new("cardiogenic shock or mechanical circulatory support", Verdict.NotMet, "no active cardiogenic shock and no circulatory support in progress on record"));
        return criteria;
    }

    public Consideration Card(RuleContext c)
    {
        var s = c.Snapshot;
        // The signs as the record names them, with their dates (the clinical review: an old, never-resolved shock entry must
        // be visible as such), and the order when one is being placed.
        string Sign(AcuteFinding a, bool dated) =>
            $"{CutAtWord(Cards.Markdown.Plain(a.Name), 40)}{(a.Support ? " in progress" : "")}{(dated && a.SinceText is { } d ? $" (since {d})" : "")}";
        var mr = $"{Uncapitalise(MrPhrase(s, withMechanism: false))} ({s.Mr!.DateText})";
        var lead = c.OnOrder && c.MitralOrder is { } order ? $"{OrderLead(c, order)} in the acute setting: " : "";
        string Start(string text) => lead.Length == 0 ? Capitalise(text) : Uncapitalise(text);
        string Signs(bool dated) => Start(JoinAnd([.. s.AcuteSetting.Select(a => Sign(a, dated)), mr]));
        var generic = Start($"{(s.AcuteSetting.Any(a => !a.Support) ? "cardiogenic shock" : "circulatory support in progress")} and {mr}");
        var summary = Fit($"{lead}{Signs(true)}: chronic secondary-MR considerations do not apply; stabilisation and the shock team come first",
            $"{lead}{Signs(true)}: stabilisation and the shock team come first",
            $"{lead}{Signs(false)}: stabilisation and the shock team come first",
            $"{lead}{generic}: stabilisation and the shock team come first");
        var detail = new Detail()
            .Para($"On record: {Cards.Markdown.Join(", ", s.AcuteSetting.Select(a => Cards.Markdown.Of($"{a.Name}{(a.SinceText is { } d ? $", since {d}" : "")} ({a.Source})")))}. {MrPhrase(s, withMechanism: false)} on {s.Mr.DateText} ({s.Mr.Source}).")
            .Statement(Evidence.Acute)
            .Para($"The COAPT-like profile, GDMT gaps and the trial ranges concern chronic secondary MR in stable patients; they are not shown while the record shows the acute setting.")
            .Basis(Evidence.AcuteBasis)
            .Caveats(s)
            .ToString();
        return new Consideration(Info, "info", summary, detail, ["acute-severe-mr-critically-ill"], ["action-not-priority", "chart-data-outdated"],
            Inputs(s.Mr.Source, s.AcuteSetting.Select(a => a.Source).ToArray(), c.OnOrder ? c.MitralOrder?.Key : null));
    }
}
