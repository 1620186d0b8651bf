using CdsMitral.Navigator;

namespace CdsMitral.Service.Navigator;

/// <summary>Reads a posted step form into the clinician's answers. Only the questions present in the form change (a step
/// posts its own); an empty value clears an answer, and a value that is not one of the question's options is ignored
/// as not answered.</summary>
public static class NavigatorForms
{
    public static NavigatorAnswers Read(IFormCollection form, NavigatorAnswers current)
    {
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(current);
        var answers = current;
        foreach (var question in NavigatorQuestions.All)
        {
            if (form.TryGetValue(question.LinkId, out var values))
            {
                answers = question.Apply(answers, values.Count == 1 && values[0] is { Length: > 0 } code ? code : null);
            }
        }
        return answers;
    }

    /// <summary>As <see cref="Read(IFormCollection, NavigatorAnswers)"/>, and when anything changed, the attestation is
    /// re-dated to <paramref name="now"/>.</summary>
    public static NavigatorAnswers Read(IFormCollection form, NavigatorAnswers current, DateTimeOffset now)
    {
        var answers = Read(form, current);
        return answers == current ? current : answers with { AttestedAt = now };
    }

    /// <summary>Where the post goes next: the next or previous step's id, or null for the result page.</summary>
    public static string? Target(IFormCollection form, PathwayView view, string stepId)
    {
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(view);
        return form["go"] == "previous" ? view.PreviousStepId(stepId) ?? stepId : view.NextStepId(stepId);
    }
}
