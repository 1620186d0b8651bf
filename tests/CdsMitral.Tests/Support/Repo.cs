namespace CdsMitral.Tests.Support;

/// <summary>The repository's own files (fhir-profiles/, src/, samples/) as the tests see them.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CdsMitral.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("CdsMitral.sln not found above the test binaries.");
    }
}
