using System.Reflection;
using CdsMitral.Service.Audit;
using CdsMitral.Service.Hosting;
using CdsMitral.Service.Trust;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Http;

public sealed class ConfigurationDocTests
{
    [Theory]
    [InlineData(typeof(CdsMitralOptions))]
    [InlineData(typeof(TrustOptions))]
    [InlineData(typeof(TrustedClient))]
    [InlineData(typeof(CallerOptions))]
    [InlineData(typeof(AuditOptions))]
    public void EverySettingIsDescribedInDocsConfiguration(Type options)
    {
        var doc = File.ReadAllText(Repo.PathOf("docs", "configuration.md"));
        var settings = options.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name);
        Assert.All(settings, name => Assert.Contains($"`{name}`", doc, StringComparison.Ordinal));
    }
}
