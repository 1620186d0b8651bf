using Xunit.v3;

namespace CdsMitral.Tests.Support;

/// <summary>
/// A test that starts a process, a browser, a real FHIR server or an image build, and so takes seconds to minutes:
/// trait <c>Category=Slow</c>. The quick loop while editing is <c>dotnet test CdsMitral.sln --filter "Category!=Slow"</c>;
/// CI runs everything.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method)]
public sealed class SlowAttribute : Attribute, ITraitAttribute
{
    public IReadOnlyCollection<KeyValuePair<string, string>> GetTraits() => [new("Category", "Slow")];
}
