using System.Text.Json;
using CdsMitral.Fhir;
using CdsMitral.Terminology;

namespace CdsMitral.Rules;

/// <summary>What an order is to the rules. <see cref="Ignored"/>: a draft the rules must not read (decision 20).</summary>
public enum OrderKind { MitralIntervention, Surgery, Other, Ignored }

/// <param name="Label">The short name a summary uses: "TEER", "mitral valve surgery", "CABG", or the name cut at a word
/// (decision 24).</param>
/// <param name="Ignored">Why the rules do not read this order: another patient's, or not a draft (decision 20).</param>
/// <param name="Cabg">A coronary artery bypass: with significant secondary MR, mitral surgery at the same operation is the
/// question, not whether to wait.</param>
public sealed record SelectedOrder(string Key, string Name, OrderKind Kind, string Label = "", string? Ignored = null, bool Cabg = false);

public static class Orders
{
    /// <summary>The longest label a summary gives an order whose code has no short label.</summary>
    private const int LabelLength = 40;

    /// <summary>The selected draft orders, classified. Selections not found in draftOrders, and resources that are not R4
    /// ServiceRequests (DSTU2/STU3 drafts, medications, diets), come back as <see cref="OrderKind.Other"/>; a ServiceRequest of
    /// another patient, or one whose status is not draft, as <see cref="OrderKind.Ignored"/> with the reason (decision 20).</summary>
    public static IReadOnlyList<SelectedOrder> Classify(IReadOnlyList<string> selections, JsonElement? draftOrders, Terminology.Terminology t, string patientId)
    {
        var drafts = new Dictionary<string, RawResource>(StringComparer.Ordinal);
        if (draftOrders is { } bundle && bundle.TryGetProperty("entry", out var entries) && entries.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in entries.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("resource", out var resource)
                    && RawResource.From(resource) is { Id: not null } raw)
                {
                    drafts.TryAdd(raw.Key, raw);
                }
            }
        }
        // No selections (order-sign): every draft order is what the rules are about, in a fixed order.
        IEnumerable<string> chosen = selections.Count > 0 ? selections : drafts.Keys.Order(StringComparer.Ordinal);
        return chosen.Distinct(StringComparer.Ordinal).Select(key =>
        {
            if (!drafts.TryGetValue(key, out var raw) || raw.ResourceType != "ServiceRequest" || raw.As(FhirJson.Default.ServiceRequest) is not { } order)
            {
                return new SelectedOrder(key, key, OrderKind.Other, key);
            }
            var name = order.Code?.Text ?? order.Code?.Coding?.FirstOrDefault(c => c.Display is not null)?.Display ?? key;
            var subject = order.Subject?.Value;
            var ignored = order.Status != "draft" ? $"status is {order.Status ?? "not recorded"}, not draft"
                : subject is not null && subject != $"Patient/{patientId}" && !subject.EndsWith($"/Patient/{patientId}", StringComparison.Ordinal)
                    ? $"its subject is {subject}, not the patient in context"
                    : null;
            var (kind, label) =
                t.Matches(Vs.TeerProcedures, order.Code) ? (OrderKind.MitralIntervention, "TEER")
                : t.Matches(Vs.MitralSurgicalRepair, order.Code) ? (OrderKind.MitralIntervention, "mitral valve surgery")
                : t.Matches(Vs.MitralReplacement, order.Code) ? (OrderKind.MitralIntervention, Transcatheter(order.Code) ? "TMVR" : "mitral valve surgery")
                : order.Category?.Any(c => t.Matches(Vs.SurgicalProcedureCategory, c)) == true
                    ? (OrderKind.Surgery, t.Matches(Vs.CabgProcedures, order.Code) ? "CABG" : Wording.CutAtWord(Cards.Markdown.Plain(name), LabelLength))
                : (OrderKind.Other, Wording.CutAtWord(Cards.Markdown.Plain(name), LabelLength));
            var cabg = kind == OrderKind.Surgery && t.Matches(Vs.CabgProcedures, order.Code);
            return ignored is null ? new SelectedOrder(key, name, kind, label, Cabg: cabg) : new SelectedOrder(key, name, OrderKind.Ignored, label, ignored);
        }).ToList();
    }

    /// <summary>Transcatheter replacement: the codes of mitral-replacement that are not the open operation.</summary>
    private static bool Transcatheter(CodeableConcept? code) =>
        code?.Coding?.Any(c => c.Code is "1287654009" or "720583008" or "0483T" or "0484T") == true;

    /// <summary>"; ignored: ServiceRequest/x (its subject is Patient/y, not the patient in context)" for the audit record, or "".</summary>
    public static string IgnoredNote(IReadOnlyList<SelectedOrder> orders)
    {
        var ignored = orders.Where(o => o.Kind == OrderKind.Ignored).Select(o => $"{o.Key} ({o.Ignored})").ToList();
        return ignored.Count == 0 ? "" : $"; ignored: {string.Join(", ", ignored)}";
    }
}
