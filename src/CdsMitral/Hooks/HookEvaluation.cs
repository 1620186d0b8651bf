using System.Security.Cryptography;
using System.Text;
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
    /// <param name="modeOf">how each rule runs (live, silent, off); every rule live without it</param>
    public HookOutcome Evaluate(string hook, HookContext context, PatientRecord record, DateTimeOffset now, string baseUrl, Func<Guid> newId,
        Func<RuleInfo, RuleMode>? modeOf = null)
    {
        ClinicalSnapshot snapshot;
        using (var span = Tracing.Source.StartActivity("snapshot"))
        {
            snapshot = snapshots.Build(record, now);
            span?.SetTag("cdsmitral.findings", snapshot.Findings.Count);
        }
        Evaluation evaluation;
        using (var span = Tracing.Source.StartActivity("rules"))
        {
            IReadOnlyList<SelectedOrder> orders = hook == Hook.PatientView ? [] : Orders.Classify(context.Selections, context.DraftOrders, terminology, context.PatientId);
            evaluation = InputFingerprint.Stamp(SecondaryMrRules.Evaluate(new RuleContext(snapshot, hook, orders), modeOf));
            span?.SetTag("cdsmitral.rules.fired", string.Join(",", evaluation.FiredRuleIds));
        }
        using (var span = Tracing.Source.StartActivity("cards"))
        {
            var built = cards.Build(evaluation.Considerations, context.PatientId, baseUrl, newId, hook);
            span?.SetTag("cdsmitral.cards", built.Count);
            return new HookOutcome(snapshot, evaluation, built);
        }
    }

    /// <summary>Leaves out the cards of the rules in <paramref name="standingBack"/> (rule id → why, in words), then keeps at
    /// most <paramref name="maxCards"/> of the rest, chosen by indicator (critical, warning, info) and then rule precedence.
    /// The kept cards keep their order; each rule left out says why in its outcome.</summary>
    public static HookOutcome StandBack(HookOutcome outcome, IReadOnlyDictionary<string, string> standingBack, int maxCards)
    {
        var notShown = new Dictionary<string, string>(standingBack, StringComparer.Ordinal);
        var candidates = outcome.Cards.Where(c => !notShown.ContainsKey(RuleOf(c))).ToList();
        if (candidates.Count > maxCards)
        {
            var ranked = candidates.OrderBy(c => Severity(c.Indicator)).ThenBy(c => Precedence(RuleOf(c))).ToList();
            var kept = ranked.Take(maxCards).Select(RuleOf).ToList();
            foreach (var dropped in ranked.Skip(maxCards))
            {
                notShown[RuleOf(dropped)] =
                    $"not shown: at most {maxCards} card{(maxCards == 1 ? "" : "s")} per answer, and {string.Join(", ", kept)} came first";
            }
        }
        if (notShown.Count == 0)
        {
            return outcome;
        }
        var outcomes = outcome.Evaluation.Outcomes
            .Select(o => o.Fired && notShown.TryGetValue(o.RuleId, out var why) ? o with { NotShown = why } : o).ToList();
        return outcome with
        {
            Evaluation = outcome.Evaluation with { Outcomes = outcomes },
            Cards = outcome.Cards.Where(c => !notShown.ContainsKey(RuleOf(c))).ToList(),
        };
    }

    public static string RuleOf(Card card) => card.Source.Topic?.Code ?? "";

    private static int Severity(string indicator) => indicator switch
    {
        "critical" => 0,
        "warning" => 1,
        _ => 2,
    };

    private static int Precedence(string ruleId)
    {
        var index = SecondaryMrRules.All.Select(r => r.Id).ToList().IndexOf(ruleId);
        return index < 0 ? int.MaxValue : index;
    }
}

/// <summary>
/// A fired rule's input fingerprint: SHA-256 over exactly what the rule read from the snapshot — its id and version, each
/// criterion's name, verdict and reason (which carry the values, units, dates and, where they matter, the sources) and
/// the resources its card cites (every echo, medication and procedure, by reference). A new echo, a changed value or a
/// new medication changes it; the request's id, time, user or unrelated resources do not.
/// </summary>
public static class InputFingerprint
{
    public static string Of(RuleOutcome outcome, Consideration consideration)
    {
        // The same bytes as ever (the fingerprints on record must still compare), written into a reused builder and a
        // pooled buffer rather than a new builder, string and byte array per fired rule.
        var text = Builders.Rent(1024);
        text.Append(outcome.RuleId).Append('\u001f').Append(outcome.Version).Append('\u001e');
        foreach (var c in outcome.Criteria ?? [])
        {
            text.Append(c.Name).Append('\u001f').Append(VerdictName(c.Verdict)).Append('\u001f').Append(c.Reason).Append('\u001e');
        }
        // Order-free: the same resources cited in another order are the same inputs.
        var inputs = System.Buffers.ArrayPool<string>.Shared.Rent(consideration.Inputs.Count);
        var count = 0;
        foreach (var input in consideration.Inputs)
        {
            inputs[count++] = input;
        }
        Array.Sort(inputs, 0, count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            if (i == 0 || !string.Equals(inputs[i], inputs[i - 1], StringComparison.Ordinal))
            {
                text.Append(inputs[i]).Append('\u001d');
            }
        }
        System.Buffers.ArrayPool<string>.Shared.Return(inputs, clearArray: true);

        var bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        var length = 0;
        var encoder = Encoding.UTF8.GetEncoder(); // a surrogate pair split between two chunks is encoded as one
        foreach (var chunk in text.GetChunks())
        {
            length += encoder.GetBytes(chunk.Span, bytes.AsSpan(length), flush: false);
        }
        length += encoder.GetBytes([], bytes.AsSpan(length), flush: true);
        Builders.Return(text);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes.AsSpan(0, length), hash);
        System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
        return Convert.ToHexStringLower(hash);
    }

    private static string VerdictName(Clinical.Verdict verdict) => verdict switch
    {
        Clinical.Verdict.Met => nameof(Clinical.Verdict.Met),
        Clinical.Verdict.NotMet => nameof(Clinical.Verdict.NotMet),
        Clinical.Verdict.CannotJudge => nameof(Clinical.Verdict.CannotJudge),
        _ => verdict.ToString(),
    };

    /// <summary>The evaluation with each fired rule's outcome carrying its fingerprint.</summary>
    public static Evaluation Stamp(Evaluation evaluation)
    {
        var outcomes = new List<RuleOutcome>(evaluation.Outcomes.Count);
        foreach (var o in evaluation.Outcomes)
        {
            outcomes.Add(o.Fired && Fired(evaluation.Considerations, o.RuleId) is { } c ? o with { Fingerprint = Of(o, c) } : o);
        }
        return evaluation with { Outcomes = outcomes };
    }

    private static Consideration? Fired(IReadOnlyList<Consideration> considerations, string ruleId)
    {
        foreach (var c in considerations)
        {
            if (c.Rule.Id == ruleId)
            {
                return c;
            }
        }
        return null;
    }
}
