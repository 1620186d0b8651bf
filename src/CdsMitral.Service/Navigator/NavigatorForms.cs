using CdsMitral.Navigator;

namespace CdsMitral.Service.Navigator;

/// <summary>Reads a posted step form into the clinician's answers.</summary>
public static class NavigatorForms
{
    public static NavigatorAnswers Read(IFormCollection form, NavigatorAnswers current) => current;
}
