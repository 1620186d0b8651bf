namespace CdsMitral.Navigator;

/// <summary>Where a value shown on a step stands.</summary>
public enum ValueStatus { Current, Stale, Missing, NotUsable, Conflicting, Presumed, ContextOnly }

/// <summary>A value the record gave, as a step shows it: the value as recorded, its date (with the precision recorded),
/// the resource it came from, and whether it is current, stale or missing.</summary>
public sealed record PrefilledValue(string Name, string Value, string DateText, string Source, ValueStatus Status, string? Note = null)
{
    public bool IsFlagged => Status is ValueStatus.Stale or ValueStatus.Missing or ValueStatus.NotUsable or ValueStatus.Conflicting;
}

/// <summary>A question on a step, with the clinician's answer (a code of <see cref="NavigatorQuestion.Options"/>) if given,
/// and what the record suggests (never taken as the answer).</summary>
public sealed record StepQuestion(NavigatorQuestion Question, string? Answer, string? Suggested, string? SuggestedBecause);

/// <summary>An answer the clinician gave, labelled with who attested it and when.</summary>
public sealed record AttestedAnswer(string LinkId, string Question, string Code, string Answer, string Provenance);

/// <summary>One step of the pathway: what the record shows, what is asked and why, what the step concluded, the content
/// page it links and the evidence it rests on (named as the cards name it).</summary>
public sealed record PathwayStep(
    string Id,
    string Title,
    IReadOnlyList<PrefilledValue> Values,
    string Asks,
    IReadOnlyList<StepQuestion> Questions,
    string Finding,
    string ContentSlug,
    string ContentTitle,
    string Evidence);

/// <summary>Where the patient stands on the secondary-MR pathway. Never "qualifies": each is a consideration for the
/// clinician and the Heart Valve Team.</summary>
public enum PathwayResult
{
    OptimiseGdmtFirst,
    CoaptLikeReferToHeartValveTeam,
    OutsideCoaptLikeRange,
    AtrialOrPreservedEfSecondaryMr,
    PrimaryMr,
    AcuteSevereMrCriticallyIll,
    NotEnoughInformation,
    /// <summary>MR on record is not moderate-severe or severe: the intervention pathway does not apply.</summary>
    MrNotSignificant,
    /// <summary>On maximally tolerated GDMT without persistent symptoms: continue and reassess.</summary>
    NoPersistentSymptoms,
}

/// <summary>The result with its words: a title, the sentence from clinical-logic.md and the content pages, the reasons
/// (from the record and the answers, each with its source), what the Heart Valve Team must still confirm, notes on
/// answers the team will weigh, and its pages and evidence.</summary>
public sealed record PathwayOutcome(
    PathwayResult Result,
    string Title,
    string Wording,
    IReadOnlyList<string> Because,
    IReadOnlyList<string> StillToConfirm,
    IReadOnlyList<string> ContentSlugs,
    string Evidence,
    IReadOnlyList<string> Notes);

/// <summary>The whole pathway for one patient at one moment: the steps in order, the clinician's attested answers, and
/// the result. Pure data: the pages and the FHIR outputs are made from it.</summary>
public sealed record PathwayView(
    DateTimeOffset AsOf,
    NavigatorAnswers Answers,
    IReadOnlyList<PathwayStep> Steps,
    IReadOnlyList<AttestedAnswer> Attested,
    PathwayOutcome Outcome,
    IReadOnlyList<string> DataNotes)
{
    public PathwayResult Result => Outcome.Result;

    public PathwayStep? Step(string id) => Steps.FirstOrDefault(s => s.Id == id);

    /// <summary>The id of the step after <paramref name="id"/>, or null after the last.</summary>
    public string? NextStepId(string id) =>
        Steps.Select(s => s.Id).SkipWhile(s => s != id).Skip(1).FirstOrDefault();

    public string? PreviousStepId(string id) =>
        Steps.Select(s => s.Id).TakeWhile(s => s != id).LastOrDefault();
}
