using CdsMitral.Snapshot;

namespace CdsMitral.Navigator;

/// <summary>One answer a question offers: a stable code (form value, Questionnaire answerOption) and its words.</summary>
public sealed record AnswerOption(string Code, string Display);

/// <summary>
/// One thing the Navigator asks the clinician. The same table drives the pages' inputs, reading the posted form, the
/// published Questionnaire and the QuestionnaireResponse, so a question cannot mean one thing on the page and another
/// in the EHR.
/// </summary>
public sealed class NavigatorQuestion
{
    private readonly Func<NavigatorAnswers, string?> _get;
    private readonly Func<NavigatorAnswers, string?, NavigatorAnswers> _set;

    internal NavigatorQuestion(string linkId, string text, IReadOnlyList<AnswerOption> options,
        Func<NavigatorAnswers, string?> get, Func<NavigatorAnswers, string?, NavigatorAnswers> set)
    {
        LinkId = linkId;
        Text = text;
        Options = options;
        _get = get;
        _set = set;
    }

    /// <summary>The form field name and the Questionnaire item's linkId.</summary>
    public string LinkId { get; }

    public string Text { get; }

    public IReadOnlyList<AnswerOption> Options { get; }

    /// <summary>The code of the current answer, or null when not answered.</summary>
    public string? AnswerCode(NavigatorAnswers answers) => _get(answers);

    public string? AnswerDisplay(NavigatorAnswers answers) =>
        AnswerCode(answers) is { } code ? Options.First(o => o.Code == code).Display : null;

    /// <summary>The answers with this question set to <paramref name="code"/> (null or an unknown code clears it).</summary>
    public NavigatorAnswers Apply(NavigatorAnswers answers, string? code) =>
        _set(answers, code is not null && Options.Any(o => o.Code == code) ? code : null);
}

/// <summary>Every question of the Navigator, in the order of the pathway.</summary>
public static class NavigatorQuestions
{
    public const string Acute = "acute-critically-ill";
    public const string Mechanism = "mechanism";
    public const string BetaBlocker = "gdmt-beta-blocker";
    public const string RaasInhibitor = "gdmt-raas-inhibitor";
    public const string Mra = "gdmt-mra";
    public const string Sglt2Inhibitor = "gdmt-sglt2-inhibitor";
    public const string Crt = "crt";
    public const string Nyha = "nyha";
    public const string SymptomsPersist = "symptoms-persist";
    public const string HfEvent = "hf-hospitalisation-or-np";
    public const string TeeAnatomy = "tee-anatomy";
    public const string SurgicalRisk = "surgical-risk";
    public const string RvFunction = "rv-function";

    private static readonly AnswerOption[] YesNo = [new("yes", "Yes"), new("no", "No")];

    private static readonly AnswerOption[] PillarOptions =
    [
        new("maximally-tolerated", "At maximally tolerated dose"),
        new("contraindicated", "Contraindicated or not tolerated"),
        new("not-yet-optimised", "Not yet optimised"),
    ];

    private static string? Code<T>(T? value, AnswerOption[] options) where T : struct, Enum =>
        value is { } v ? options[Array.IndexOf(Enum.GetValues<T>(), v)].Code : null;

    private static T? Value<T>(string? code, AnswerOption[] options) where T : struct, Enum =>
        Array.FindIndex(options, o => o.Code == code) is var i and >= 0 ? Enum.GetValues<T>()[i] : null;

    private static string? Bool(bool? value) => value switch { true => "yes", false => "no", null => null };

    private static bool? Bool(string? code) => code switch { "yes" => true, "no" => false, _ => null };

    private static NavigatorQuestion Choice<T>(string linkId, string text, AnswerOption[] options,
        Func<NavigatorAnswers, T?> get, Func<NavigatorAnswers, T?, NavigatorAnswers> set) where T : struct, Enum =>
        new(linkId, text, options, a => Code(get(a), options), (a, code) => set(a, Value<T>(code, options)));

    private static NavigatorQuestion Pillar(string linkId, GdmtClass pillar) =>
        Choice(linkId, $"{Rules.Wording.Capitalise(GdmtStatus.Name(pillar))}", PillarOptions,
            a => a.Pillar(pillar), (a, v) => a.WithPillar(pillar, v));

    public static IReadOnlyList<NavigatorQuestion> All { get; } =
    [
        new(Acute, "Is this acute severe MR in a critically ill patient (shock, mechanical support, acute infarction)?", YesNo,
            a => Bool(a.AcuteSevereMrCriticallyIll), (a, c) => a with { AcuteSevereMrCriticallyIll = Bool(c) }),
        Choice(Mechanism, "MR mechanism, as you judge it from the imaging",
            [new("primary", "Primary (degenerative: prolapse, flail leaflet)"), new("rheumatic", "Rheumatic (counts as primary)"),
             new("secondary-ventricular", "Secondary, ventricular"), new("secondary-atrial", "Secondary, atrial")],
            a => a.Mechanism, (a, v) => a with { Mechanism = v }),
        Pillar(BetaBlocker, GdmtClass.BetaBlocker),
        Pillar(RaasInhibitor, GdmtClass.RaasInhibitor),
        Pillar(Mra, GdmtClass.Mra),
        Pillar(Sglt2Inhibitor, GdmtClass.Sglt2Inhibitor),
        Choice(Crt, "Cardiac resynchronisation therapy (CRT)",
            [new("indicated-in-place", "Indicated and in place"), new("indicated-not-in-place", "Indicated, not in place"),
             new("not-indicated", "Not indicated"), new("unknown", "Not known")],
            a => a.Crt, (a, v) => a with { Crt = v }),
        Choice(Nyha, "NYHA class now",
            [new("I", "I: no limitation"), new("II", "II: slight limitation"), new("III", "III: marked limitation"), new("IV", "IV: symptoms at rest")],
            a => a.Nyha, (a, v) => a with { Nyha = v }),
        new(SymptomsPersist, "Do the symptoms persist despite GDMT at maximally tolerated doses?", YesNo,
            a => Bool(a.SymptomsPersistDespiteGdmt), (a, c) => a with { SymptomsPersistDespiteGdmt = Bool(c) }),
        Choice(HfEvent, "Heart-failure hospitalisation in the past 12 months, or a raised natriuretic peptide",
            [new("yes", "Yes"), new("no", "No"), new("unknown", "Not known")],
            a => a.HfHospitalisationOrRaisedNp, (a, v) => a with { HfHospitalisationOrRaisedNp = v }),
        Choice(TeeAnatomy, "Valve anatomy on transoesophageal echo (TEE)",
            [new("suitable", "Suitable for TEER"), new("not-suitable", "Not suitable for TEER"), new("not-done", "TEE not done yet")],
            a => a.TeeAnatomy, (a, v) => a with { TeeAnatomy = v }),
        Choice(SurgicalRisk, "Surgical risk",
            [new("low", "Low"), new("intermediate", "Intermediate"), new("high", "High"), new("prohibitive", "Prohibitive"),
             new("not-assessed", "Not assessed yet")],
            a => a.SurgicalRisk, (a, v) => a with { SurgicalRisk = v }),
        Choice(RvFunction, "Right-ventricular function",
            [new("normal", "Normal"), new("reduced", "Reduced"), new("unknown", "Not known")],
            a => a.RvFunction, (a, v) => a with { RvFunction = v }),
    ];

    public static string PillarLinkId(GdmtClass pillar) => pillar switch
    {
        GdmtClass.BetaBlocker => BetaBlocker,
        GdmtClass.RaasInhibitor => RaasInhibitor,
        GdmtClass.Mra => Mra,
        _ => Sglt2Inhibitor,
    };

    public static NavigatorQuestion Get(string linkId) =>
        All.FirstOrDefault(q => q.LinkId == linkId) ?? throw new KeyNotFoundException($"No Navigator question '{linkId}'.");
}
