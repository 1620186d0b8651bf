using CdsMitral.Clinical;
using CdsMitral.Snapshot;

namespace CdsMitral.Rules;

public sealed record RuleInfo(string Id, string Version, string Title);

/// <summary>How a deployment runs a rule: shown to clinicians, judged and recorded but never shown (so a committee sees what
/// it would do first), or not judged at all.</summary>
public enum RuleMode
{
    Live,
    Silent,
    Off,
}

public static class RuleIds
{
    public const string CoaptProfile = "smr-coapt-profile";
    public const string GdmtGap = "smr-gdmt-gap";
    public const string OutsideRange = "smr-outside-range";
    public const string DataGaps = "smr-data-gaps";
    public const string PostTeer = "smr-post-teer";
    public const string OrderTeer = "smr-order-teer";
    public const string Periop = "smr-periop";
    public const string AcuteSetting = "smr-acute-setting";
}

/// <summary>One named criterion of a rule, judged: met, not met, or not judgeable from the record, with the reason in words.
/// A rule fires exactly when all its criteria are met, and the audit shows these same results.</summary>
public sealed record Criterion(string Name, Verdict Verdict, string Reason)
{
    public bool IsMet => Verdict == Verdict.Met;
}

/// <summary>What a rule concluded, before it becomes a card: the words, and the inputs that made it fire.</summary>
public sealed record Consideration(
    RuleInfo Rule,
    string Indicator,
    string Summary,
    string Detail,
    IReadOnlyList<string> ContentSlugs,
    IReadOnlyList<string> OverrideReasons,
    IReadOnlyList<string> Inputs,
    bool SuggestHeartTeamReview = false);

/// <summary>One rule's verdict for the audit trail: fired or not, why in a sentence, and each criterion's result. A fired
/// rule carries its input <paramref name="Fingerprint"/>; <paramref name="NotShown"/> says why a fired rule's card was left out.
/// <paramref name="Mode"/> is "silent" or "off" when configuration ran the rule so, and null when it ran live.</summary>
public sealed record RuleOutcome(string RuleId, string Version, bool Fired, string Reason, IReadOnlyList<Criterion>? Criteria = null,
    string? Fingerprint = null, string? NotShown = null, string? Mode = null);

public sealed record Evaluation(IReadOnlyList<RuleOutcome> Outcomes, IReadOnlyList<Consideration> Considerations)
{
    public IEnumerable<string> FiredRuleIds => Considerations.Select(c => c.Rule.Id);
}

/// <summary>What a rule is judged on: the snapshot, and on order-select the selected orders.</summary>
public sealed record RuleContext(ClinicalSnapshot Snapshot, string Hook, IReadOnlyList<SelectedOrder> Orders)
{
    public bool OnOrder => Hook != Hooks.Hook.PatientView;

    /// <summary>The first selected mitral intervention (TEER, repair, replacement), if any.</summary>
    public SelectedOrder? MitralOrder => Orders.FirstOrDefault(o => o.Kind == OrderKind.MitralIntervention);

    public IReadOnlyList<SelectedOrder> Surgeries => Orders.Where(o => o.Kind == OrderKind.Surgery).ToList();
}

/// <summary>A rule: its identity, its criteria, and the card it gives when all of them are met.</summary>
public interface IRule
{
    RuleInfo Info { get; }

    /// <summary>What the rule looks for and what it says, in a sentence or two, for the rules page.</summary>
    string Description { get; }

    IReadOnlyList<Criterion> Criteria(RuleContext context);

    /// <summary>Called only when every criterion is met.</summary>
    Consideration Card(RuleContext context);
}
