using CdsMitral.Fhir;
using CdsMitral.Hooks;
using CdsMitral.Rules;
using CdsMitral.Terminology;

namespace CdsMitral.Cards;

/// <summary>Turns considerations into CDS Hooks cards: uuids, source with the rule as topic, absolute links to the
/// service's own pages, override reasons with displays, and a draft ServiceRequest where the rule suggests one.</summary>
public sealed class CardBuilder(Terminology.Terminology terminology, Content.ContentCatalog content)
{
    public const string RuleSystem = Terminology.Terminology.Base + "/CodeSystem/rule";

    /// <summary>The cards whose question the chart alone cannot settle: they offer the Navigator (issue 13).</summary>
    public static readonly IReadOnlySet<string> NavigatorRules = new HashSet<string>(StringComparer.Ordinal)
        { RuleIds.CoaptProfile, RuleIds.GdmtGap, RuleIds.OutsideRange, RuleIds.DataGaps };

    public const string NavigatorLabel = "Open the Secondary MR Navigator";

    public IReadOnlyList<Card> Build(IEnumerable<Consideration> considerations, string patientId, string baseUrl, Func<Guid> newId, string? hook = null)
    {
        var cards = new List<Card>();
        foreach (var c in considerations)
        {
            var suggestions = c.SuggestHeartTeamReview
                ? new List<Suggestion> { HeartTeamReview(patientId, newId) }
                : null;
            var uuid = newId().ToString();
            var links = c.ContentSlugs.Select(slug => new Link(content.Get(slug).Title, ContentUrl(baseUrl, slug), "absolute")).ToList();
            if (NavigatorRules.Contains(c.Rule.Id))
            {
                links.Add(NavigatorLink(baseUrl, uuid, c.Rule.Id, hook));
            }
            cards.Add(new Card(
                Uuid: uuid,
                Summary: c.Summary,
                Indicator: c.Indicator,
                Source: new CardSource(
                    $"CdsMitral secondary-MR rules {SecondaryMrRules.RuleSetVersion}",
                    links.Count > 0 ? links[0].Url : null,
                    Topic: new Coding(RuleSystem, c.Rule.Id, c.Rule.Title)),
                Detail: c.Detail,
                Suggestions: suggestions,
                SelectionBehavior: suggestions is null ? null : "at-most-one",
                OverrideReasons: NullIfEmpty(c.OverrideReasons.Select(OverrideReason).ToList()),
                Links: NullIfEmpty(links)));
        }
        return cards;
    }

    private static Suggestion HeartTeamReview(string patientId, Func<Guid> newId) =>
        new("Request Heart Valve Team evaluation", newId().ToString(), IsRecommended: null,
        [
            new CdsAction("create", "Create a draft request for a Heart Valve Team evaluation of secondary MR.",
                new ServiceRequest(
                    Status: "draft",
                    Intent: "proposal",
                    Code: new CodeableConcept(Text: "Heart Valve Team evaluation"),
                    Subject: new Reference($"Patient/{patientId}"))),
        ]);

    private Coding OverrideReason(string code)
    {
        var match = terminology.Codes(Vs.CardOverrideReasons).FirstOrDefault(c => c.Code == code);
        if (match.Code is null)
        {
            throw new KeyNotFoundException($"Override reason '{code}' is not in ValueSet {Vs.CardOverrideReasons}.");
        }
        var coding = new Coding(match.System, match.Code);
        return coding with { Display = terminology.Display(Vs.CardOverrideReasons, coding) };
    }

    /// <summary>A SMART link: the EHR launches it with <c>iss</c> and <c>launch</c> and hands <c>appContext</c> to the app, which
    /// then knows which card (and so, through the audit, which hook call) it was opened from.</summary>
    public static Link NavigatorLink(string baseUrl, string cardUuid, string ruleId, string? hook)
    {
        var context = new System.Text.Json.Nodes.JsonObject { ["card"] = cardUuid, ["rule"] = ruleId };
        if (hook is not null)
        {
            context["hook"] = hook;
        }
        return new Link(NavigatorLabel, $"{baseUrl.TrimEnd('/')}/navigator/launch", "smart", context.ToJsonString());
    }

    public static string ContentUrl(string baseUrl, string slug) => $"{baseUrl.TrimEnd('/')}/content/{slug}";

    private static List<T>? NullIfEmpty<T>(List<T> list) => list.Count == 0 ? null : list;
}
