namespace CdsMitral.Clinical;

/// <summary>
/// Every evidence statement the cards, the content pages and the Navigator make, written once. Each was read in a public
/// source on 2026-12-07 (docs/clinical-logic.md, "Evidence, and where it was read", names them); a grade is quoted only
/// where it was read, and where the American and European guidelines grade a question differently both are named
/// (decision 22 of 2026-12-07). The thresholds come from <see cref="Thresholds"/>, never typed here.
/// </summary>
public static class Evidence
{
    /// <summary>COAPT's window, as the trial enrolled it.</summary>
    public static string CoaptWindow =>
        $"LVEF {Thresholds.LvefWindowText}, LVESD {Thresholds.LvesdWindowText}, PASP {Thresholds.PaspWindowText}";

    /// <summary>The grades of TEER in severe secondary MR (decision 22: quoted for severe, 4+, MR only).</summary>
    public static string TeerGradesSevere =>
        "TEER for severe secondary MR with symptoms despite optimised GDMT and values in this window is class 2a in the 2020 ACC/AHA " +
        "valve guideline and class I (level A) in the 2025 ESC/EACTS valve guideline; both ask for suitable anatomy, and the ESC/EACTS " +
        "criteria add a heart-failure hospitalisation in the past year or raised natriuretic peptides.";

    /// <summary>What moderate-severe (3+) MR may be told instead of a grade (decision 22).</summary>
    public const string ModerateSevere =
        "COAPT enrolled moderate-to-severe (3+) and severe (4+) secondary MR, but the graded recommendations concern severe MR: " +
        "confirm the severity, quantitatively and once therapy is optimised.";

    public const string Coapt5Year =
        "COAPT at 5 years (Stone, NEJM 2023): TEER added to maximally tolerated GDMT lowered heart-failure hospitalisation " +
        "(33.1 vs 57.2 % a year, HR 0.53) and death (57.3 vs 67.2 %, HR 0.72).";

    public static string ReshapeHf2 =>
        $"RESHAPE-HF2 (Anker, NEJM 2024), moderate-to-severe or severe secondary MR with LVEF {Thresholds.LvefWindowText}: TEER lowered " +
        "heart-failure hospitalisation and improved quality of life; cardiovascular death alone was not significantly lower.";

    public const string MitraFr =
        "MITRA-FR (Obadia, NEJM 2018) enrolled LVEF 15–40 % with more LV dilation relative to the MR and found no clear benefit of TEER.";

    /// <summary>GDMT before intervention: both guidelines, no grade (their grades are not the same kind of statement).</summary>
    public const string GdmtFirst =
        "The 2020 ACC/AHA and 2025 ESC/EACTS valve guidelines both put GDMT (and CRT where indicated) before any mitral intervention " +
        "in secondary MR; MR often lessens with it, so severity is judged again once therapy is optimised.";

    /// <summary>Decision 25: surgery versus TEER by mechanism. Secondary MR (ventricular; atrial MR is weighed the other way).</summary>
    public const string SurgerySecondary =
        "In ventricular secondary MR, mitral surgery is weighed mainly when CABG is planned, and isolated mitral surgery is graded below TEER " +
        "in both the 2020 ACC/AHA and the 2025 ESC/EACTS valve guidelines; in atrial secondary MR the 2025 ESC/EACTS guideline favours " +
        "surgery with ablation of atrial fibrillation where the patient can have it.";

    /// <summary>Atrial secondary MR with an LVEF inside the window: not the trials' population.</summary>
    public const string Atrial =
        "COAPT and the graded recommendations for TEER concern ventricular secondary MR. In atrial secondary MR, rhythm control and " +
        "heart-failure treatment come first, and the 2025 ESC/EACTS guideline favours surgery with ablation of atrial fibrillation, with " +
        "TEER for patients who cannot have surgery.";

    /// <summary>Why a severe-MR card quotes no grade: the record does not show what the grades assume.</summary>
    public const string GradesWithheld =
        "The guideline grades for TEER are not quoted: they concern severe ventricular secondary MR that stays symptomatic on optimised " +
        "GDMT, and the record does not show that yet.";

    /// <summary>A presumed mechanism (decision 22 and 25: the grades and the pathway depend on it).</summary>
    public const string ConfirmMechanism =
        "Confirm it on the echo: the grades concern ventricular secondary MR, and primary MR with LV dysfunction follows the surgical pathway.";

    /// <summary>Decision 25: primary MR.</summary>
    public const string SurgeryPrimary =
        "In primary MR, surgical repair is the standard for a patient who can have surgery; TEER is for those at high or prohibitive surgical risk.";

    public const string PreservedEf =
        "COAPT and MITRA-FR enrolled reduced ejection fractions only: in atrial or preserved-EF secondary MR the evidence for TEER is limited, " +
        "and rhythm control and heart-failure treatment come first.";

    public const string Proportionate =
        "Whether MR is proportionate to LV size may bear on the response to MR reduction (Grayburn, JACC Cardiovasc Imaging 2019); " +
        "later analyses did not firmly confirm it, so it is context, never a criterion.";

    /// <summary>Decision 30.</summary>
    public const string ProceduralSuccess =
        "Procedural success is not clinical success: less MR on the echo is the procedure's result; fewer heart-failure events and " +
        "symptoms are the patient's, and LVEF rarely normalises.";

    /// <summary>Decision 30: the perioperative question.</summary>
    public const string PeriopQuestion = "Could elective surgery wait while heart failure is optimised?";

    /// <summary>Decision 28 and the acute content: stabilisation first; surgery when feasible; TEER as a bridge in selected patients.</summary>
    public const string Acute =
        "Acute severe MR in the critically ill is a different question from chronic secondary MR: stabilisation (diuretics, vasodilators " +
        "only where blood pressure allows, inotropes, mechanical support) and the shock team come first; surgery when it is feasible, as an " +
        "emergency for papillary-muscle rupture or another structural cause, and TEER has been used as a bridge in selected patients judged " +
        "unable to survive surgery.";

    public const string AcuteBasis =
        "Not a graded recommendation: the 2025 ESC/EACTS valve guideline's section on acute MR, and registry data on TEER for MR after " +
        "myocardial infarction (Eur Heart J 2022).";

    public const string Framing = "Expert framing, not a graded recommendation.";

    /// <summary>After a prior TEER or mitral repair (decision 24): the grades for a first TEER are not quoted.</summary>
    public const string Redo =
        "Expert framing, not a graded recommendation: after a prior mitral intervention, redo TEER, valve replacement and surgery are " +
        "weighed case by case, and the trial results and grades for a first TEER are not quoted.";

    public const string Mechanism = "Primary and secondary MR are different diseases with different pathways (2020 ACC/AHA and 2025 ESC/EACTS valve guidelines).";

    public const string Severity = "Grading by the ASE recommendations and the valve guidelines; EROA, regurgitant volume and fraction are shown as context.";

    public const string Symptoms = "COAPT (Stone, NEJM 2018) enrolled patients with " + Thresholds.CoaptNyhaText + " symptoms despite maximally tolerated GDMT.";

    /// <summary>Where the NYHA class is I, or the symptoms are asked for: the card and the Navigator say it alike.</summary>
    public const string CoaptNyha = "COAPT enrolled " + Thresholds.CoaptNyhaText + ".";

    public const string HeartTeam = "The Heart Valve Team judges anatomy and surgical risk. " + SurgerySecondary;

    public const string TrialPopulations = "Trial populations, not a graded recommendation: COAPT (Stone, NEJM 2018) and MITRA-FR (Obadia, NEJM 2018).";

    public const string CoaptExclusion = "Trial exclusion, not a graded recommendation: COAPT (Stone, NEJM 2018).";

    public const string TrialContrast = "Trial contrast, not a graded recommendation: COAPT (Stone, NEJM 2018) and MITRA-FR (Obadia, NEJM 2018).";

    /// <summary>Every statement by a key, for the content pages ({{evidence:key}}) and the review page.</summary>
    public static IReadOnlyDictionary<string, string> ByKey => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["coapt-window"] = CoaptWindow,
        ["teer-grades-severe"] = TeerGradesSevere,
        ["moderate-severe"] = ModerateSevere,
        ["coapt-5-year"] = Coapt5Year,
        ["reshape-hf2"] = ReshapeHf2,
        ["mitra-fr"] = MitraFr,
        ["gdmt-first"] = GdmtFirst,
        ["surgery-secondary"] = SurgerySecondary,
        ["surgery-primary"] = SurgeryPrimary,
        ["preserved-ef"] = PreservedEf,
        ["proportionate"] = Proportionate,
        ["procedural-success"] = ProceduralSuccess,
        ["periop-question"] = PeriopQuestion,
        ["acute"] = Acute,
        ["acute-basis"] = AcuteBasis,
        ["atrial"] = Atrial,
    };
}
