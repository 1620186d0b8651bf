using CdsMitral.Clinical;
using CdsMitral.Hooks;
using CdsMitral.Snapshot;

namespace CdsMitral.Rules;

/// <summary>
/// The secondary-MR rules of clinical-logic.md and which hook shows which. Each rule is one file (its criteria and
/// wording); this table says where each applies, and which rule stands back when a more specific one fires. Pure.
/// </summary>
public static class SecondaryMrRules
{
    public const string RuleSetVersion = "2.0.0";

    private static readonly CoaptProfile Coapt = new();
    private static readonly GdmtGap Gdmt = new();
    private static readonly OutsideRange Outside = new();
    private static readonly DataGaps Gaps = new();
    private static readonly PostTeer PostTeerRule = new();
    private static readonly OrderTeer OrderTeerRule = new();
    private static readonly Periop PeriopRule = new();
    private static readonly AcuteSetting Acute = new();

    private static readonly IRule[] Rules = [Coapt, Gdmt, Outside, Gaps, PostTeerRule, OrderTeerRule, PeriopRule, Acute];

    public static IReadOnlyList<RuleInfo> All { get; } = Rules.Select(r => r.Info).ToList();

    /// <summary>Which hook shows which rule; a rule not shown on a hook says why.</summary>
    private static readonly Dictionary<string, Dictionary<IRule, string?>> Shown = new()
    {
        [Hook.PatientView] = new()
        {
            [Coapt] = null, [Gdmt] = null, [Outside] = null, [Gaps] = null, [PostTeerRule] = null,
            [OrderTeerRule] = "order-select only", [PeriopRule] = "order-select only", [Acute] = null,
        },
        [Hook.OrderSelect] = new()
        {
            [Coapt] = "not shown on order-select: the referral is already happening",
            [PostTeerRule] = "on order-select the post-TEER message is carried by the perioperative card",
            [Gdmt] = null, [Outside] = null, [Gaps] = null, [OrderTeerRule] = null, [PeriopRule] = null, [Acute] = null,
        },
        // At signing the order rules are checked again, over every draft order rather than the selected ones.
        [Hook.OrderSign] = new()
        {
            [Coapt] = "not shown at order signing: the referral is already happening",
            [PostTeerRule] = "at order signing the post-TEER message is carried by the perioperative card",
            [Gdmt] = null, [Outside] = null, [Gaps] = null, [OrderTeerRule] = null, [PeriopRule] = null, [Acute] = null,
        },
    };

    /// <summary>A rule that stands back when any of the others fires for the same call.</summary>
    private static readonly Dictionary<IRule, IRule[]> StandsBackFor = new()
    {
        // Decision 19: in the acute setting the chronic considerations do not apply.
        [Coapt] = [Acute], [Gdmt] = [Acute], [Outside] = [Acute], [Gaps] = [Acute],
        [OrderTeerRule] = [Gdmt, Outside, Gaps, Acute],
    };

    /// <summary>The rules in the order they are judged: each after every rule it stands back for.</summary>
    private static readonly IRule[] JudgingOrder = [.. Rules.OrderBy(Depth)];

    private static int Depth(IRule rule) => StandsBackFor.TryGetValue(rule, out var others) ? 1 + others.Max(Depth) : 0;

    /// <summary>Decision 18: no card for a deceased patient or one under 18 on the hook's date; null when neither applies or
    /// the record cannot say (a missing birth date does not block).</summary>
    public static string? Silence(ClinicalSnapshot s)
    {
        if (s.Patient is not { } p)
        {
            return null;
        }
        if (p.Deceased)
        {
            return $"the patient is recorded as deceased ({p.Source}{(p.DeceasedOn is { } d ? $", {Fhir.FhirDate.Format(d, p.DeceasedPrecision)}" : "")}): no card";
        }
        return p.AgeOn(s.AsOf) is { } age && age < AdultAge
            ? $"the patient is under {AdultAge} on {Fhir.FhirDate.Format(s.AsOf)} (born {p.BirthText}, {p.Source}): COAPT and the guidelines concern adults; no card"
            : null;
    }

    /// <summary>COAPT and the valve guidelines concern adults (decision 18).</summary>
    public const int AdultAge = 18;

    /// <summary>What a rule in silent mode that would have fired records instead of a card.</summary>
    public const string SilentNotShown = "silent mode: judged and recorded, never shown";

    /// <summary>The outcome's mode name for a rule that did not run live.</summary>
    public static string? ModeName(RuleMode mode) => mode switch
    {
        RuleMode.Silent => "silent",
        RuleMode.Off => "off",
        _ => null,
    };

    /// <summary>The rules of one hook over one patient's snapshot (and on order-select, the selected orders), each run as
    /// <paramref name="modeOf"/> says (all live without it). A silent rule is judged like a live one and its outcome says
    /// whether it would have fired, but it gives no card and no other rule stands back for it: what clinicians see is what
    /// they would see without it. A rule that is off is not judged.</summary>
    public static Evaluation Evaluate(RuleContext context, Func<RuleInfo, RuleMode>? modeOf = null)
    {
        var shown = Shown[context.Hook];
        var outcomes = new Dictionary<IRule, RuleOutcome>();
        var fired = new Dictionary<IRule, Consideration>();
        var silence = Silence(context.Snapshot);
        foreach (var rule in JudgingOrder)
        {
            var mode = modeOf?.Invoke(rule.Info) ?? RuleMode.Live;
            if (silence is not null)
            {
                outcomes[rule] = new RuleOutcome(rule.Info.Id, rule.Info.Version, false, silence,
                    [new Criterion("a living adult patient", Verdict.NotMet, silence)], Mode: ModeName(mode));
                continue;
            }
            if (mode == RuleMode.Off)
            {
                outcomes[rule] = new RuleOutcome(rule.Info.Id, rule.Info.Version, false, "turned off by configuration", Mode: ModeName(mode));
                continue;
            }
            if (shown[rule] is { } notHere)
            {
                outcomes[rule] = new RuleOutcome(rule.Info.Id, rule.Info.Version, false, notHere, Mode: ModeName(mode));
                continue;
            }
            var criteria = rule.Criteria(context).ToList();
            if (StandsBackFor.TryGetValue(rule, out var others) && others.FirstOrDefault(fired.ContainsKey) is { } more)
            {
                criteria.Add(new Criterion("no more specific card applies", Verdict.NotMet, $"stands back for {more.Info.Id}"));
            }
            var card = criteria.All(c => c.IsMet) ? rule.Card(context) : null;
            if (card is not null && mode == RuleMode.Live)
            {
                fired[rule] = card;
            }
            var reason = card?.Summary ?? string.Join("; ", criteria.Where(c => !c.IsMet).Select(c => c.Reason));
            outcomes[rule] = new RuleOutcome(rule.Info.Id, rule.Info.Version, card is not null, reason, criteria,
                NotShown: card is not null && mode == RuleMode.Silent ? SilentNotShown : null, Mode: ModeName(mode));
        }
        return new Evaluation(
            Rules.Select(r => outcomes[r]).ToList(),
            Rules.Where(fired.ContainsKey).Select(r => fired[r]).ToList());
    }

    /// <summary>Each rule as the rules page shows it: what it is, where it is shown, what it stands back for, and the names
    /// of the criteria it is judged on per hook (read from the rule itself, over an empty record).</summary>
    public static IReadOnlyList<RuleDescription> Describe()
    {
        var empty = new ClinicalSnapshot(default, 12, null, null, null, null, new Mechanism(MechanismKind.Unknown, null, false, "", []),
            null, null, null, null, null, new GdmtStatus(new Dictionary<GdmtClass, IReadOnlyList<MedicationUse>>(), [], [], []),
            [], [], [], [], [], [], []);
        return Rules.Select(rule => new RuleDescription(
            rule.Info,
            rule.Description,
            Shown.ToDictionary(h => h.Key, h => h.Value[rule]),
            StandsBackFor.GetValueOrDefault(rule, []).Select(r => r.Info.Id).ToList(),
            Shown.Where(h => h.Value[rule] is null).ToDictionary(h => h.Key,
                h => (IReadOnlyList<string>)rule.Criteria(new RuleContext(empty, h.Key, [])).Select(c => c.Name).ToList()))).ToList();
    }

    public static Evaluation EvaluatePatientView(ClinicalSnapshot s) => Evaluate(new RuleContext(s, Hook.PatientView, []));

    public static Evaluation EvaluateOrderSelect(ClinicalSnapshot s, IReadOnlyList<SelectedOrder> orders) =>
        Evaluate(new RuleContext(s, Hook.OrderSelect, orders));
}

/// <summary>A rule as the rules page describes it. <paramref name="NotShown"/> maps each hook to why the rule is not shown
/// there (null where it is); <paramref name="Criteria"/> names its criteria per hook where it is shown.</summary>
public sealed record RuleDescription(
    RuleInfo Info,
    string Description,
    IReadOnlyDictionary<string, string?> NotShown,
    IReadOnlyList<string> StandsBackFor,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Criteria);
