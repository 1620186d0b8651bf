using CdsMitral.Cards;
using CdsMitral.Rules;
using CdsMitral.Snapshot;

namespace CdsMitral.Hooks;

/// <summary>What one hook call concluded: the snapshot it read, each rule's judged criteria, and the cards.</summary>
public sealed record HookOutcome(ClinicalSnapshot Snapshot, Evaluation Evaluation, IReadOnlyList<Card> Cards);

/// <summary>
/// The pure pipeline of a hook call: context + patient record + now → snapshot → rule evaluation → cards. No HTTP, no
/// clock, no I/O: the host, the benchmarks and the tests all call this one function.
/// </summary>
public sealed class HookEvaluation(SnapshotBuilder snapshots, CardBuilder cards, Terminology.Terminology terminology)
{
    public HookOutcome Evaluate(string hook, HookContext context, PatientRecord record, DateTimeOffset now, string baseUrl, Func<Guid> newId)
    {
        var snapshot = snapshots.Build(record, now);
        IReadOnlyList<SelectedOrder> orders = hook == Hook.PatientView ? [] : Orders.Classify(context.Selections, context.DraftOrders, terminology);
        var evaluation = SecondaryMrRules.Evaluate(new RuleContext(snapshot, hook, orders));
        return new HookOutcome(snapshot, evaluation, cards.Build(evaluation.Considerations, context.PatientId, baseUrl, newId));
    }
}
