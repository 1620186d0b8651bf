namespace CdsMitral.Tests.Support;

/// <summary>
/// Skips a test, saying why where people look. At `dotnet test`'s default verbosity the xunit 2.9 runner prints a skipped
/// test's display name ("Skipped …", "… [SKIP]") and never its Skip text, so the reason goes into the name as well.
/// Attributes pass their test's name and file with [CallerMemberName] and [CallerFilePath] (the file is named after the class).
/// </summary>
public static class SkipReason
{
    public static void Set(FactAttribute fact, string why, string test, string file)
    {
        fact.Skip = why;
        fact.DisplayName = $"{Path.GetFileNameWithoutExtension(file)}.{test} ({why})";
    }
}
