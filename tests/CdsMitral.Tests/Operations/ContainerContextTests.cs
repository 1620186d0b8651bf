using System.Diagnostics;
using System.Text.RegularExpressions;
using CdsMitral.Tests.Support;

namespace CdsMitral.Tests.Operations;

/// <summary>
/// The image's build stage, without a container: the files its COPY lines take from the repository (less what
/// .dockerignore leaves out) are copied into a folder of their own, and the service is restored and published there
/// with the Dockerfile's own commands. So a file the service needs from outside its folder (the sample request its
/// warm-up embeds, the value sets, the card pages, the presets) cannot be missing from the image again unnoticed.
/// container/build.sh builds and runs the image itself where podman can.
/// </summary>
[Slow]
public sealed partial class ContainerContextTests
{
    [GeneratedRegex(@"^COPY\s+(?!--from)(?<sources>.+?)\s+(?<target>\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex Copy();

    [GeneratedRegex(@"^RUN\s+(?<command>dotnet (?:restore|publish)[^&\n]*?)(?:\s*&&.*)?$", RegexOptions.Multiline)]
    private static partial Regex Run();

    [GeneratedRegex(@"Include=""\.\./\.\./(?<path>[^""]+)""")]
    private static partial Regex OutsideTheProject();

    /// <summary>The build stage: from its FROM to the next FROM.</summary>
    private static string BuildStage()
    {
        var dockerfile = File.ReadAllText(Repo.PathOf("Dockerfile"));
        var start = dockerfile.IndexOf(" AS build", StringComparison.Ordinal);
        return dockerfile[start..dockerfile.IndexOf("\nFROM ", start, StringComparison.Ordinal)].Replace("\\\n", " ", StringComparison.Ordinal);
    }

    /// <summary>.dockerignore's patterns as regular expressions over repository paths, in order, with their sense.</summary>
    private static List<(Regex Pattern, bool Ignore)> Ignores() => File.ReadAllLines(Repo.PathOf(".dockerignore"))
        .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
        .Select(l =>
        {
            var negated = l.StartsWith('!');
            var glob = negated ? l[1..] : l;
            var regex = "^" + Regex.Escape(glob.TrimEnd('/')).Replace(@"\*\*/", "(.*/)?", StringComparison.Ordinal).Replace(@"\*", "[^/]*", StringComparison.Ordinal) + "(/.*)?$";
            return (new Regex(regex), !negated);
        }).ToList();

    private static string[] Tracked()
    {
        var git = Process.Start(new ProcessStartInfo("git", ["ls-files"]) { WorkingDirectory = Repo.Root, RedirectStandardOutput = true })!;
        var files = git.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        git.WaitForExit();
        return files;
    }

    [Fact]
    public async Task TheImagesBuildStagePublishesTheServiceFromTheFilesItIsGiven()
    {
        var stage = BuildStage();
        var sources = Copy().Matches(stage).SelectMany(m => m.Groups["sources"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var ignores = Ignores();
        bool Ignored(string path) => ignores.Aggregate(false, (ignored, rule) => rule.Pattern.IsMatch(path) ? rule.Ignore : ignored);
        var context = Tracked().Where(f => !Ignored(f) && sources.Any(s => s.EndsWith('/') ? f.StartsWith(s, StringComparison.Ordinal) : f == s)).ToList();

        // Each file a project takes from outside its folder is in what the image is given.
        foreach (var project in new[] { "src/CdsMitral/CdsMitral.csproj", "src/CdsMitral.Service/CdsMitral.Service.csproj" })
        {
            foreach (Match include in OutsideTheProject().Matches(File.ReadAllText(Repo.PathOf(project))))
            {
                var glob = new Regex("^" + Regex.Escape(include.Groups["path"].Value).Replace(@"\*", "[^/]*", StringComparison.Ordinal) + "$");
                Assert.True(context.Any(glob.IsMatch), $"{project} includes ../../{include.Groups["path"].Value}, which the Dockerfile's build stage is not given");
            }
        }

        var folder = Path.Combine(Path.GetTempPath(), "cdsmitral-image-context", Guid.NewGuid().ToString("N"));
        foreach (var file in context)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, file))!);
            File.Copy(Repo.PathOf(file), Path.Combine(folder, file));
        }
        try
        {
            // The stage's own commands, with /out in the folder.
            foreach (Match run in Run().Matches(stage))
            {
                var command = run.Groups["command"].Value.Replace("/out/", Path.Combine(folder, "out") + "/", StringComparison.Ordinal).Trim();
                var start = new ProcessStartInfo("bash", ["-c", command]) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
                using var process = Process.Start(start)!;
                var output = process.StandardOutput.ReadToEndAsync();
                var error = process.StandardError.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
                await process.WaitForExitAsync(timeout.Token);
                Assert.True(process.ExitCode == 0, $"{command}\n{await output}\n{await error}");
            }
            var app = Path.Combine(folder, "out", "app");
            Assert.True(File.Exists(Path.Combine(app, "CdsMitral.Service")), "no self-contained executable");
            Assert.True(File.Exists(Path.Combine(app, "presets", "cds-hooks-sandbox.jwks.json")));
            Assert.True(File.Exists(Path.Combine(app, "libcoreclr.so")), "not self-contained: the base image has no .NET");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

/// <summary>The image itself, where podman can run one (.ci/run installs it): container/build.sh makes the base from
/// Debian packages, builds the Dockerfile's local target, runs it read-only as a non-root user and checks readiness,
/// a signed hook's card, an unsigned call's 401 and the image's health check.</summary>
[Slow]
public sealed class ContainerImageTests
{
    [Fact]
    public async Task TheImageBuildsFromDebianPackagesAndRunsReadOnlyAsANonRootUserAndAnswers()
    {
        Requires.ContainerTools();
        var image = $"localhost/cdsmitral:test-{Guid.NewGuid():N}";
        var start = new ProcessStartInfo("bash", ["container/build.sh", image])
        {
            WorkingDirectory = Repo.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["CONTAINER_PORT"] = ServiceProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(20));
        await process.WaitForExitAsync(timeout.Token);
        var said = await output + await error;
        Process.Start("podman", ["rmi", "-f", image])!.WaitForExit(60_000);
        Assert.True(process.ExitCode == 0, said[Math.Max(0, said.Length - 4000)..]);
        Assert.Contains("cards: ['smr-coapt-profile']", said, StringComparison.Ordinal);
        Assert.Contains("unsigned POST: 401", said, StringComparison.Ordinal);
        Assert.Contains("runs as: uid=1654", said, StringComparison.Ordinal);
        Assert.Contains("): healthy", said, StringComparison.Ordinal);
        Assert.Contains("root filesystem read-only", said, StringComparison.Ordinal);
    }
}

