using System.Diagnostics;

namespace CdsMitral.Hooks;

/// <summary>The spans a hook's evaluation adds to its trace (snapshot, rules, cards). Their tags are counts and rule
/// ids only: never a patient, a user, a value or any text of the record. Nothing is created when nobody listens.</summary>
public static class Tracing
{
    public const string SourceName = "CdsMitral";

    public static readonly ActivitySource Source = new(SourceName);
}
