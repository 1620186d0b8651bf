using System.Security.Cryptography;
using System.Text;
using CdsMitral.Clinical;
using CdsMitral.Hooks;
using CdsMitral.Rules;

namespace CdsMitral.Tests.Clinical;

/// <summary>A fired rule's input fingerprint is compared with those already in the audit trail and the feedback store, so
/// its bytes may never change: the pin below was computed by the first implementation (a StringBuilder over the text,
/// UTF-8, SHA-256).</summary>
public sealed class FingerprintTests
{
    private static (RuleOutcome Outcome, Consideration Consideration) Fired(string reason, params string[] inputs)
    {
        var outcome = new RuleOutcome(RuleIds.CoaptProfile, "1.1.0", true, "fired",
        [
            new Criterion("significant MR (moderate-severe or severe)", Verdict.Met, reason),
            new Criterion("LVEF 20–50 %", Verdict.NotMet, "LVEF <20 % is not within 20–50 %"),
            new Criterion("LVESD ≤ 70 mm", Verdict.CannotJudge, "no current LVESD"),
        ]);
        var consideration = new Consideration(new RuleInfo(RuleIds.CoaptProfile, "1.1.0", "COAPT-like profile"), "info", "s", "d", [], [], inputs);
        return (outcome, consideration);
    }

    [Fact]
    public void TheFingerprintOfAKnownOutcomeIsTheOneTheFirstImplementationGave()
    {
        var (outcome, consideration) = Fired("severe MR on 2026-10-01 (Observation/mr-1) 😀", "Observation/lvef-2", "Observation/mr-1", "Observation/lvef-2", "Ä/1");
        Assert.Equal(Reference(outcome, consideration), InputFingerprint.Of(outcome, consideration));
        Assert.Equal("4a52796e403eec3bccfe190276a4df480441e3682812d2f8c3fed9e5dbda5c7d", InputFingerprint.Of(outcome, consideration));
    }

    [Fact]
    public void AFingerprintOverLongTextAndManyInputsIsTheSameAsTheFirstImplementationGave()
    {
        // Longer than any builder chunk, with surrogate pairs throughout, so that a pair may fall across two chunks.
        var reason = string.Concat(Enumerable.Repeat("é😀a", 3000));
        var inputs = Enumerable.Range(0, 200).Select(i => $"Observation/o-{(i * 37) % 150}").ToArray();
        var (outcome, consideration) = Fired(reason, inputs);
        Assert.Equal(Reference(outcome, consideration), InputFingerprint.Of(outcome, consideration));
    }

    /// <summary>The first implementation, kept here as the reference.</summary>
    private static string Reference(RuleOutcome outcome, Consideration consideration)
    {
        var text = new StringBuilder();
        text.Append(outcome.RuleId).Append('\u001f').Append(outcome.Version).Append('\u001e');
        foreach (var c in outcome.Criteria ?? [])
        {
            text.Append(c.Name).Append('\u001f').Append(c.Verdict).Append('\u001f').Append(c.Reason).Append('\u001e');
        }
        foreach (var input in consideration.Inputs.Distinct().Order(StringComparer.Ordinal))
        {
            text.Append(input).Append('\u001d');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
