using System.Data.Common;
using System.Globalization;

namespace CdsMitral.Service.Audit;

/// <summary>Whether index rows are what the chained documents give: an invocations row as stored and as derived from
/// its document, what differs between the two, and the walk's check of every index row of an event.</summary>
public sealed partial class AuditStore
{
    /// <summary>An invocations row, as stored or as derived from its document.</summary>
    private sealed record IndexedInvocation(string At, string ServiceId, string? Hook, string? HookInstance, string? PatientId, string? UserId,
        string? ClientIssuer, int Status, string RuleIds, string Indicators)
    {
        /// <summary>The row's values in <see cref="InvocationColumns"/> order.</summary>
        public object?[] Row(string eventId) => [eventId, At, ServiceId, Hook, HookInstance, PatientId, UserId, ClientIssuer, Status, RuleIds, Indicators];
    }

    private static IndexedInvocation Expected(string at, InvocationIndexView view)
    {
        var shown = view.Cards ?? [];
        return new IndexedInvocation(at, view.ServiceId ?? "", view.Hook, view.HookInstance, view.PatientId, view.UserId, view.Client?.Issuer, view.Status,
            Set(shown.Select(c => c.Source?.Topic?.Code ?? "")), Set(shown.Select(c => c.Indicator ?? "")));
    }

    private static string? Differences(IndexedInvocation expected, IndexedInvocation? stored)
    {
        if (stored is null)
        {
            return "no index row";
        }
        var differs = new List<string>();
        void Check(string name, object? want, object? have)
        {
            if (!Equals(want, have))
            {
                differs.Add(name);
            }
        }
        Check("time", expected.At, stored.At);
        Check("service", expected.ServiceId, stored.ServiceId);
        Check("hook", expected.Hook, stored.Hook);
        Check("hookInstance", expected.HookInstance, stored.HookInstance);
        Check("patient id", expected.PatientId, stored.PatientId);
        Check("user id", expected.UserId, stored.UserId);
        Check("client", expected.ClientIssuer, stored.ClientIssuer);
        Check("status", expected.Status, stored.Status);
        Check("rules", expected.RuleIds, stored.RuleIds);
        Check("indicators", expected.Indicators, stored.Indicators);
        return differs.Count == 0 ? null : string.Join(", ", differs);
    }

    private static IndexedInvocation? ReadIndex(DbDataReader r, int first)
    {
        if (r.IsDBNull(first))
        {
            return null;
        }
        string? Text(int i) => r.IsDBNull(first + i) ? null : r.GetString(first + i);
        return new IndexedInvocation(r.GetString(first + 1), r.GetString(first + 2), Text(3), Text(4), Text(5), Text(6), Text(7),
            Convert.ToInt32(r.GetValue(first + 8), CultureInfo.InvariantCulture), r.GetString(first + 9), r.GetString(first + 10));
    }

    /// <summary>Whether the walk's row (event, its invocations row at 8, its card rows at 19, its feedback row at 20)
    /// holds exactly the index rows the event's document gives.</summary>
    private static string? IndexProblem(StoredEvent e, DbDataReader r, bool mayBePending)
    {
        var invocation = ReadIndex(r, 8);
        var cardRows = r.IsDBNull(19) ? [] : r.GetString(19).Split('\u001e').Order(StringComparer.Ordinal).ToList();
        var hasFeedback = !r.IsDBNull(20);
        if (e.Kind == EventKind.Hook && mayBePending && invocation is null && cardRows.Count == 0 && !hasFeedback)
        {
            return null; // answered, its index rows not written yet
        }
        if (e.Kind == EventKind.Hook)
        {
            if (hasFeedback)
            {
                return "a feedback index row is tied to this hook event";
            }
            if (ReadInvocation(e.Document) is not { } view)
            {
                return "its record cannot be read";
            }
            if (Differences(Expected(e.AtText, view), invocation) is { } differs)
            {
                return $"its index row differs from its chained record ({differs})";
            }
            var cards = (view.Cards ?? []).Select(c => $"{c.Uuid}\u001f{c.Source?.Topic?.Code ?? ""}\u001f{c.Indicator}").Order(StringComparer.Ordinal).ToList();
            return cards.SequenceEqual(cardRows, StringComparer.Ordinal) ? null : "its card index rows differ from the cards in its chained record";
        }
        if (invocation is not null || cardRows.Count > 0)
        {
            return "invocation or card index rows are tied to an event that is not a hook call";
        }
        if (e.Kind != EventKind.Feedback)
        {
            return hasFeedback ? "a feedback index row is tied to an event that is not feedback" : null;
        }
        if (!hasFeedback)
        {
            return "its feedback index row is missing";
        }
        if (ReadFeedback(e.Document) is not { } f)
        {
            return "its record cannot be read";
        }
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        var knownCard = Convert.ToInt32(r.GetValue(26), CultureInfo.InvariantCulture) != 0;
        return Text(21) == f.DedupeKey && Text(22) == f.Card && Text(23) == f.InvocationId && Text(24) == f.Outcome && Text(25) == e.AtText && knownCard == f.KnownCard
            ? null
            : "its feedback index row differs from its chained record";
    }
}
