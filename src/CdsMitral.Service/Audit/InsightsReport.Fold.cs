namespace CdsMitral.Service.Audit;

/// <summary>The fold: what a run of events adds to the figures, per rule version and day.</summary>
public static partial class InsightsReport
{
    /// <summary>What a run of events adds to the figures, per rule version and day: kept small (counts, and per card
    /// its uuid and day), never the documents. A feedback item whose card was not shown in this run waits in
    /// <see cref="UnknownCards"/> until <see cref="Resolve"/> is given the cards shown before it.</summary>
    public sealed class Fold
    {
        public Dictionary<RuleDay, DayTally> Days { get; } = [];
        public Dictionary<(RuleDay Key, string Finding), int> Findings { get; } = [];
        public Dictionary<string, CardShown> Cards { get; } = new(StringComparer.Ordinal);
        public List<CardAnswer> Answers { get; } = [];

        private readonly List<(InsightsEvent Event, InsightsFeedbackView Feedback)> _waiting = [];

        /// <summary>The cards of the feedback items waiting: shown before this run, if at all.</summary>
        public IReadOnlyCollection<string> UnknownCards => _waiting.Select(w => w.Feedback.Card!).ToHashSet(StringComparer.Ordinal);

        /// <summary>Counts the waiting feedback items whose card is among <paramref name="earlier"/>; the rest answer no card
        /// on record and are left out.</summary>
        public void Resolve(IReadOnlyDictionary<string, CardShown> earlier)
        {
            foreach (var (e, f) in _waiting)
            {
                if (earlier.GetValueOrDefault(f.Card!) is { } shown)
                {
                    Answer(e, f, shown);
                }
            }
            _waiting.Clear();
        }

        private DayTally Of(RuleDay key) => Days.TryGetValue(key, out var t) ? t : Days[key] = new DayTally();

        public void Add(InsightsEvent e)
        {
            if (e.Kind == EventKind.Feedback)
            {
                AddFeedback(e);
            }
            else if (e is { Kind: EventKind.Hook, Hook: { Status: 200 } hook })
            {
                AddHook(e.At, hook);
            }
        }

        private void AddHook(DateTimeOffset at, InsightsHookView hook)
        {
            var day = Day(at);
            var findings = (hook.Snapshot?.Findings ?? []).Select(f => $"{f.Measure}: {f.Problem}").Distinct(StringComparer.Ordinal).ToList();
            foreach (var rule in (hook.Rules ?? []).Where(r => r.RuleId is not null && r.Mode != "off" && !NotJudgedOn.Contains((r.RuleId, hook.Hook ?? ""))))
            {
                var silent = rule.Mode == "silent";
                var key = new RuleDay(rule.RuleId!, rule.Version ?? "", day);
                var t = Of(key);
                if (silent)
                {
                    t.JudgedSilently++;
                    t.FiredSilently += rule.Fired ? 1 : 0;
                }
                else
                {
                    t.Judged++;
                    t.Fired += rule.Fired ? 1 : 0;
                }
                if (!rule.Fired)
                {
                    continue;
                }
                // A silent rule's card is never shown, so nothing of it stood back or was left out.
                if (!silent && rule.NotShown is { } why)
                {
                    if (why.StartsWith(LeftOutByLimit, StringComparison.Ordinal))
                    {
                        t.LeftOut++;
                    }
                    else
                    {
                        t.Suppressed++;
                    }
                }
                foreach (var finding in findings)
                {
                    Findings[(key, finding)] = Findings.GetValueOrDefault((key, finding)) + 1;
                }
                foreach (var card in (hook.Cards ?? []).Where(c => c.Source?.Topic?.Code == rule.RuleId && c.Uuid is not null))
                {
                    t.Shown++;
                    Cards[card.Uuid!] = new CardShown(card.Uuid!, key, at);
                }
            }
        }

        private void AddFeedback(InsightsEvent e)
        {
            if (e.Feedback is not { Card: { } uuid, Outcome: "accepted" or "overridden" } f)
            {
                return;
            }
            if (Cards.GetValueOrDefault(uuid) is { } shown)
            {
                Answer(e, f, shown);
            }
            else
            {
                _waiting.Add((e, f));
            }
        }

        private void Answer(InsightsEvent e, InsightsFeedbackView f, CardShown shown) =>
            Answers.Add(new CardAnswer(e.Id, shown.Key, f.Outcome!, f.Outcome == "overridden" ? f.OverrideReason?.Code ?? "(none)" : null,
                (e.At - shown.At).TotalSeconds));
    }
}
