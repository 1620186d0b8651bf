using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CdsMitral.Hooks;
using CdsMitral.Terminology;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Clinical;

/// <summary>fhir-profiles/ is the one source of codes: the rules and the ValueSets must agree.</summary>
public sealed partial class TerminologyTests
{
    private const string Icd10Cm = "http://hl7.org/fhir/sid/icd-10-cm";
    private const string CodeSource = "https://fhir.cdsmitral.org/StructureDefinition/code-source";
    private static readonly string[] GdmtClasses = [Vs.GdmtBetaBlocker, Vs.GdmtRaasInhibitor, Vs.GdmtMra, Vs.GdmtSglt2Inhibitor];

    private static IEnumerable<(string File, JsonObject Resource)> Profiles() =>
        Directory.GetFiles(Repo.PathOf("fhir-profiles"), "*.json").Select(f => (Path.GetFileName(f), JsonNode.Parse(File.ReadAllText(f))!.AsObject()));

    private static readonly HashSet<string> AllCodes = Profiles()
        .Where(p => (string?)p.Resource["resourceType"] == "ValueSet")
        .SelectMany(p => p.Resource["compose"]!["include"]!.AsArray().SelectMany(i => i!["concept"]?.AsArray().Select(c => (string)c!["code"]!) ?? []))
        .ToHashSet();

    [Fact]
    public void EveryValueSetTheRulesNameIsInFhirProfiles()
    {
        var embedded = Terminology.Terminology.Embedded.ValueSetIds.ToHashSet();
        Assert.All(Vs.All, id => Assert.Contains(id, embedded));
        Assert.All(Vs.All, id => Assert.True(File.Exists(Repo.PathOf("fhir-profiles", $"ValueSet-{id}.json")), id));
    }

    [Fact]
    public void EveryProfileFileIsAWellFormedR4Resource()
    {
        foreach (var (file, r) in Profiles())
        {
            var type = (string)r["resourceType"]!;
            var id = (string)r["id"]!;
            Assert.Equal($"{type}-{id}.json", file);
            Assert.Matches(@"^[A-Za-z0-9\-\.]{1,64}$", id);
            Assert.Equal($"{Terminology.Terminology.Base}/{type}/{id}", (string?)r["url"]);
            Assert.Contains((string?)r["status"], new[] { "draft", "active", "retired" });
            if (type == "ValueSet")
            {
                var includes = r["compose"]!["include"]!.AsArray();
                Assert.NotEmpty(includes);
                foreach (var include in includes)
                {
                    if (include!["valueSet"] is { } composed)
                    {
                        Assert.All(composed.AsArray(), v => Assert.True(File.Exists(Repo.PathOf("fhir-profiles", $"ValueSet-{((string)v!).Split('/')[^1]}.json"))));
                        continue;
                    }
                    Assert.StartsWith("http", (string)include["system"]!, StringComparison.Ordinal);
                    var codes = include["concept"]!.AsArray().Select(c => (string)c!["code"]!).ToList();
                    Assert.NotEmpty(codes);
                    Assert.Equal(codes.Count, codes.Distinct().Count());
                }
            }
        }
    }

    [Fact]
    public void DiscoveryAsksOnlyForCodesThatAreInTheValueSets()
    {
        foreach (var template in CdsServices.All(Terminology.Terminology.Embedded).SelectMany(s => s.Prefetch))
        {
            var codeParameter = template.Query.Split('&').FirstOrDefault(p => p.StartsWith("code=", StringComparison.Ordinal));
            if (codeParameter is null)
            {
                continue;
            }
            Assert.All(codeParameter[5..].Split(','), systemAndCode => Assert.Contains(systemAndCode.Split('|')[1], AllCodes));
        }
    }

    [GeneratedRegex("\"([0-9]{4,6}-[0-9]|LA[0-9]{4,5}-[0-9]|[0-9]{6,18}|[A-Z][0-9]{2}\\.[0-9A-Z]{1,4}|[0-9]{4}T)\"")]
    private static partial Regex CodeLiteral();

    [Fact]
    public void TheRulesCodeNoTerminologyOfTheirOwn()
    {
        // Any LOINC-, SNOMED-, ICD- or CPT-shaped string literal in the domain code must be a ValueSet code.
        var sources = Directory.GetFiles(Repo.PathOf("src", "CdsMitral"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        var literals = sources.SelectMany(f => CodeLiteral().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Code: m.Groups[1].Value))).ToList();
        Assert.All(literals, l => Assert.True(AllCodes.Contains(l.Code), $"{l.File} uses code {l.Code}, which no ValueSet holds"));
    }

    [Fact]
    public void TheMechanismCodesTheSnapshotReadsAreInTheProjectCodeSystem()
    {
        var codeSystem = JsonNode.Parse(File.ReadAllText(Repo.PathOf("fhir-profiles", "CodeSystem-mr-mechanism.json")))!;
        var codes = codeSystem["concept"]!.AsArray().Select(c => (string)c!["code"]!).ToHashSet();
        Assert.Equal(["mechanism", "primary", "secondary-atrial", "secondary-ventricular"], codes.Order());
        var snapshotSource = string.Concat(Directory.GetFiles(Repo.PathOf("src", "CdsMitral", "Snapshot"), "SnapshotBuilder*.cs").Select(File.ReadAllText));
        Assert.All(codes, c => Assert.Contains($"\"{c}\"", snapshotSource, StringComparison.Ordinal));
    }

    [Fact]
    public void ProfilesBindOnlyToValueSetsThatExist()
    {
        foreach (var (file, r) in Profiles().Where(p => (string?)p.Resource["resourceType"] == "StructureDefinition"))
        {
            Assert.Equal("4.0.1", (string?)r["fhirVersion"]);
            Assert.Equal("constraint", (string?)r["derivation"]);
            var type = (string)r["type"]!;
            var elements = r["differential"]!["element"]!.AsArray();
            Assert.All(elements, e => Assert.StartsWith(type + ".", (string)e!["path"]!, StringComparison.Ordinal));
            Assert.Equal(elements.Count, elements.Select(e => (string)e!["id"]!).Distinct().Count());
            foreach (var bound in elements.Select(e => (string?)e!["binding"]?["valueSet"]).OfType<string>())
            {
                Assert.True(File.Exists(Repo.PathOf("fhir-profiles", $"ValueSet-{bound.Split('/')[^1]}.json")), $"{file} binds to missing {bound}");
            }
        }
    }

    [Fact]
    public void TheCapabilityStatementCoversEveryQueryTheServiceMakes()
    {
        var capability = JsonNode.Parse(File.ReadAllText(Repo.PathOf("fhir-profiles", "CapabilityStatement-cdsmitral-fhir-client.json")))!;
        var resources = capability["rest"]![0]!["resource"]!.AsArray().ToDictionary(r => (string)r!["type"]!, r => r!);
        foreach (var template in CdsServices.All(Terminology.Terminology.Embedded).SelectMany(s => s.Prefetch))
        {
            var type = template.Query.Split('?', '/')[0];
            Assert.True(resources.ContainsKey(type), $"{type} is queried but not in the CapabilityStatement");
            if (template.Query.Contains('?', StringComparison.Ordinal))
            {
                var declared = resources[type]["searchParam"]!.AsArray().Select(p => (string)p!["name"]!).ToHashSet();
                var includes = resources[type]["searchInclude"]?.AsArray().Select(i => (string)i!).ToHashSet() ?? [];
                foreach (var (name, value) in template.Query.Split('?')[1].Split('&').Select(p => (p.Split('=')[0], p.Split('=')[1])))
                {
                    Assert.Contains(name == "_include" ? value : name, name == "_include" ? includes : declared);
                }
            }
        }
    }

    [Fact]
    public void MetoprololWithoutItsSaltIsAmbiguousAndNotAnHfrefBetaBlocker()
    {
        var t = Terminology.Terminology.Embedded;
        Assert.All(GdmtClasses, c => Assert.False(t.Contains(c, Chart.RxNorm, "6918"), c));
        Assert.True(t.Contains(Vs.MetoprololUnspecifiedSalt, Chart.RxNorm, "6918"));
        Assert.True(t.Contains(Vs.GdmtBetaBlocker, Chart.RxNorm, "221124")); // metoprolol succinate (PIN)
        Assert.False(t.Contains(Vs.MetoprololUnspecifiedSalt, Chart.RxNorm, "221124"));
    }

    [Theory]
    [InlineData("1656346", "gdmt-raas-inhibitor")] // sacubitril 24 MG / valsartan 26 MG Oral Tablet [Entresto]
    [InlineData("1656356", "gdmt-raas-inhibitor")] // sacubitril 97 MG / valsartan 103 MG Oral Tablet [Entresto]
    [InlineData("1656339", "gdmt-raas-inhibitor")] // sacubitril / valsartan (MIN)
    [InlineData("1545664", "gdmt-sglt2-inhibitor")] // empagliflozin 10 MG Oral Tablet [Jardiance]
    [InlineData("1545668", "gdmt-sglt2-inhibitor")] // empagliflozin 25 MG Oral Tablet [Jardiance]
    [InlineData("1486977", "gdmt-sglt2-inhibitor")] // dapagliflozin 10 MG Oral Tablet [Farxiga]
    [InlineData("1486981", "gdmt-sglt2-inhibitor")] // dapagliflozin 5 MG Oral Tablet [Farxiga]
    [InlineData("686926", "gdmt-beta-blocker")] // a Coreg tablet (SBD)
    [InlineData("860512", "gdmt-beta-blocker")] // a Coreg CR capsule (SBD)
    [InlineData("866438", "gdmt-beta-blocker")] // 24 HR metoprolol succinate 50 MG Extended Release Oral Tablet [Toprol]
    [InlineData("402105", "gdmt-mra")] // eplerenone 50 MG Oral Tablet [Inspra]
    [InlineData("402106", "gdmt-mra")] // eplerenone 25 MG Oral Tablet [Inspra]
    public void ABrandedOrIngredientGdmtCodeCountsForItsOwnClassAndNoOther(string rxcui, string gdmtClass)
    {
        var t = Terminology.Terminology.Embedded;
        Assert.True(t.Contains(gdmtClass, Chart.RxNorm, rxcui), $"{rxcui} should be in {gdmtClass}");
        Assert.All(GdmtClasses.Where(c => c != gdmtClass), other => Assert.False(t.Contains(other, Chart.RxNorm, rxcui), $"{rxcui} is also in {other}"));
    }

    [Fact]
    public void NoRxNormCodeIsInTwoGdmtClasses()
    {
        var t = Terminology.Terminology.Embedded;
        var shared = GdmtClasses.SelectMany(c => t.Codes(c).Select(code => (Class: c, code.Code)))
            .GroupBy(x => x.Code).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(x => x.Class))}");
        Assert.Empty(shared);
    }

    [Theory]
    [InlineData("ValueSet-gdmt-beta-blocker.json")]
    [InlineData("ValueSet-gdmt-raas-inhibitor.json")]
    [InlineData("ValueSet-gdmt-mra.json")]
    [InlineData("ValueSet-gdmt-sglt2-inhibitor.json")]
    [InlineData("ValueSet-metoprolol-unspecified-salt.json")]
    [InlineData("ValueSet-primary-mr-disorders.json")]
    public void EveryConceptNamesThePublicSourceThatVerifiedIt(string file)
    {
        var valueSet = JsonNode.Parse(File.ReadAllText(Repo.PathOf("fhir-profiles", file)))!;
        var concepts = valueSet["compose"]!["include"]!.AsArray().SelectMany(i => i!["concept"]!.AsArray()).ToList();
        Assert.NotEmpty(concepts);
        var unsourced = concepts
            .Where(c => !(c!["extension"]?.AsArray() ?? []).Any(e => (string?)e!["url"] == CodeSource && !string.IsNullOrWhiteSpace((string?)e["valueString"])))
            .Select(c => (string)c!["code"]!);
        Assert.Empty(unsourced);
    }

    [Fact]
    public void RheumaticMitralDiseaseMakesTheMrPrimary()
    {
        var t = Terminology.Terminology.Embedded;
        Assert.True(t.Contains(Vs.PrimaryMrDisorders, Icd10Cm, "I05.1")); // rheumatic mitral insufficiency
        Assert.True(t.Contains(Vs.PrimaryMrDisorders, Icd10Cm, "I08.0")); // rheumatic disorders of both mitral and aortic valves
        Assert.True(t.Contains(Vs.PrimaryMrDisorders, Chart.Snomed, "787001")); // rheumatic mitral stenosis with regurgitation
        Assert.False(t.Contains(Vs.PrimaryMrDisorders, Icd10Cm, "I08.9")); // multiple valves, the mitral not named
        Assert.True(t.Contains(Vs.PrimaryMrDisorders, Icd10Cm, "I34.1")); // prolapse stays
    }

    [Fact]
    public void SeverityQualifiersCarryTheirPlaceOnTheMrScale()
    {
        var t = Terminology.Terminology.Embedded;
        foreach (var (name, code) in Chart.Severity)
        {
            var ordinal = t.Ordinal(Vs.MrSeverity, Fhir.CodeableConcept.Of(Chart.Snomed, code));
            Assert.True(ordinal is not null, name);
        }
        Assert.Equal(4m, t.Ordinal(Vs.MrSeverity, Fhir.CodeableConcept.Of(Chart.Snomed, "24484000")));
        Assert.Equal(3m, t.Ordinal(Vs.MrSeverity, Fhir.CodeableConcept.Of(Chart.Snomed, "371924009")));
    }
}
