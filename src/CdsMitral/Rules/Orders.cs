using System.Text.Json;
using CdsMitral.Fhir;
using CdsMitral.Terminology;

namespace CdsMitral.Rules;

public enum OrderKind { MitralIntervention, Surgery, Other }

public sealed record SelectedOrder(string Key, string Name, OrderKind Kind);

public static class Orders
{
    /// <summary>The selected draft orders, classified. Selections not found in draftOrders, and resources that
    /// are not R4 ServiceRequests (DSTU2/STU3 drafts, medications, diets), come back as <see cref="OrderKind.Other"/>.</summary>
    public static IReadOnlyList<SelectedOrder> Classify(IReadOnlyList<string> selections, JsonElement? draftOrders, Terminology.Terminology t)
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
        // No selections (order-sign): every draft order is what the rules are about.
        IEnumerable<string> chosen = selections.Count > 0 ? selections : drafts.Keys;
        return chosen.Distinct(StringComparer.Ordinal).Select(key =>
        {
            if (!drafts.TryGetValue(key, out var raw) || raw.ResourceType != "ServiceRequest" || raw.As(FhirJson.Default.ServiceRequest) is not { } order)
            {
                return new SelectedOrder(key, key, OrderKind.Other);
            }
            var name = order.Code?.Text ?? order.Code?.Coding?.FirstOrDefault(c => c.Display is not null)?.Display ?? key;
            var kind = t.Matches(Vs.TeerProcedures, order.Code) || t.Matches(Vs.MitralSurgicalRepair, order.Code) || t.Matches(Vs.MitralReplacement, order.Code)
                ? OrderKind.MitralIntervention
                : order.Category?.Any(c => t.Matches(Vs.SurgicalProcedureCategory, c)) == true ? OrderKind.Surgery : OrderKind.Other;
            return new SelectedOrder(key, name, kind);
        }).ToList();
    }
}
