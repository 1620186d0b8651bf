using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Fatigue;

public sealed class CardLimitTests
{
    [Fact]
    public async Task AnAnswerHoldsAtMostTheConfiguredNumberOfCardsAndTheAuditNamesTheOnesLeftOut()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite).With("CdsMitral:Fatigue:MaxCardsPerAnswer", "1");
        var answer = await service.OpenAsync(StandBackScenarios.CoaptWithGap("p-limit"));
        // The warning comes before the info card, whatever the rules' order.
        Assert.Equal(["smr-gdmt-gap"], answer.RuleIds);
        var outcomes = await service.LatestOutcomes();
        Assert.Equal("not shown: at most 1 card per answer, and smr-gdmt-gap came first", (string?)outcomes["smr-coapt-profile"]["notShown"]);
        Assert.Null(outcomes["smr-gdmt-gap"]["notShown"]);
    }

    [Fact]
    public async Task TheDefaultLimitLeavesBothCardsOfAChartThatGivesTwo()
    {
        await using var service = new ServiceFactory().Audited(Store.Sqlite);
        Assert.Equal(["smr-coapt-profile", "smr-gdmt-gap"], (await service.OpenAsync(StandBackScenarios.CoaptWithGap("p-default"))).RuleIds);
    }

    [Fact]
    public void EveryFatigueSettingIsDescribedInDocsConfiguration()
    {
        var doc = File.ReadAllText(Repo.PathOf("docs", "configuration.md"));
        Assert.All(typeof(Service.Feedback.FatigueOptions).GetProperties().Where(p => p.CanWrite).Select(p => p.Name),
            name => Assert.Contains($"`{name}`", doc, StringComparison.Ordinal));
    }
}
