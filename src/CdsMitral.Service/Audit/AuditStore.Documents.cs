using System.Text.Json;

namespace CdsMitral.Service.Audit;

/// <summary>Chained documents read as what the index, the pages and the verification need of them: a hook call, a
/// feedback item, a purge. A document that cannot be read gives null.</summary>
public sealed partial class AuditStore
{
    private static InvocationIndexView? ReadInvocation(string document)
    {
        try
        {
            return JsonSerializer.Deserialize(document, AuditJson.Default.InvocationIndexView);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static FeedbackIndexView? ReadFeedback(string document)
    {
        try
        {
            return JsonSerializer.Deserialize(document, AuditJson.Default.FeedbackIndexView);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    internal static PurgeRecord? ReadPurge(string document)
    {
        try
        {
            return JsonSerializer.Deserialize(document, AuditJson.Default.PurgeRecord);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
