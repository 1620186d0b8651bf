
namespace CdsMitral.Navigator;

// How each result is named outside the pathway: its title, its code and the page for the patient.
public static partial class NavigatorPathway
{
    /// <summary>Each result's title, as the result page, the referral summary and the Questionnaire's answer options show it.</summary>
    private static readonly Dictionary<PathwayResult, string> Titles = new()
    {
        [PathwayResult.AcuteSevereMrCriticallyIll] = "Acute severe MR in a critically ill patient",
        [PathwayResult.PrimaryMr] = "Primary MR: a different pathway",
        [PathwayResult.MrNotSignificant] = "MR is not moderate-severe or severe",
        [PathwayResult.AtrialOrPreservedEfSecondaryMr] = "Atrial or preserved-EF secondary MR",
        [PathwayResult.OptimiseGdmtFirst] = "Optimise GDMT first and reassess",
        [PathwayResult.OutsideCoaptLikeRange] = "Outside the COAPT-like range",
        [PathwayResult.NotEnoughInformation] = "Not enough information to place the patient on the pathway",
        [PathwayResult.NoPersistentSymptoms] = "No persistent symptoms on GDMT",
        [PathwayResult.CoaptLikeReferToHeartValveTeam] = "COAPT-like profile: refer to the Heart Valve Team",
    };

    public static string TitleOf(PathwayResult result) => Titles[result];

    /// <summary>The page for the patient that fits each result (decision 29 of 2026-12-07), all in cds-cards/.</summary>
    public static string PatientPageOf(PathwayResult result) => result switch
    {
        PathwayResult.CoaptLikeReferToHeartValveTeam or PathwayResult.OutsideCoaptLikeRange => "secondary-mr-treatment-for-patients",
        PathwayResult.OptimiseGdmtFirst or PathwayResult.NoPersistentSymptoms => "patient-gdmt-first",
        PathwayResult.PrimaryMr => "patient-primary-mr",
        PathwayResult.AtrialOrPreservedEfSecondaryMr => "patient-atrial-mr",
        PathwayResult.AcuteSevereMrCriticallyIll => "patient-acute-mr",
        PathwayResult.MrNotSignificant => "patient-mr-not-significant",
        _ => "mitral-regurgitation-for-patients",
    };

    /// <summary>A stable code per result, for the QuestionnaireResponse and the audit: "coapt-like-refer-to-heart-valve-team".</summary>
    public static string CodeOf(PathwayResult result) =>
        string.Concat(result.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? $"-{char.ToLowerInvariant(c)}" : $"{char.ToLowerInvariant(c)}"));
}
