using CdsMitral.Snapshot;

namespace CdsMitral.Navigator;

/// <summary>What the clinician says about one GDMT pillar; the record shows only whether a drug is on board.</summary>
public enum PillarAnswer { MaximallyTolerated, ContraindicatedOrNotTolerated, NotYetOptimised }

public enum CrtAnswer { IndicatedAndInPlace, IndicatedNotInPlace, NotIndicated, Unknown }

public enum NyhaAnswer { I = 1, II = 2, III = 3, IV = 4 }

public enum YesNoUnknown { Yes, No, Unknown }

public enum TeeAnswer { Suitable, NotSuitable, NotDone }

public enum SurgicalRiskAnswer { Low, Intermediate, High, Prohibitive, NotAssessed }

public enum RvFunctionAnswer { Normal, Reduced, Unknown }

/// <summary>The clinician's reading of the MR mechanism, asked only where the record is missing, presumed or inconsistent.</summary>
public enum MechanismAnswer { Primary, Rheumatic, SecondaryVentricular, SecondaryAtrial }

/// <summary>
/// Everything the clinician attests in the Navigator: what the chart cannot know. Each answer is null until given. The
/// answers are inputs to the pathway with their own provenance (<see cref="AttestedBy"/> on <see cref="AttestedAt"/>),
/// never edits of the record.
/// </summary>
/// <param name="AttestedBy">The user reference from the launch (the id token's fhirUser or sub), e.g. "Practitioner/123".</param>
/// <param name="AttestedAt">When the answers were last given.</param>
public sealed record NavigatorAnswers(string AttestedBy, DateTimeOffset AttestedAt)
{
    public bool? AcuteSevereMrCriticallyIll { get; init; }
    public MechanismAnswer? Mechanism { get; init; }
    public PillarAnswer? BetaBlocker { get; init; }
    public PillarAnswer? RaasInhibitor { get; init; }
    public PillarAnswer? Mra { get; init; }
    public PillarAnswer? Sglt2Inhibitor { get; init; }
    public CrtAnswer? Crt { get; init; }
    public NyhaAnswer? Nyha { get; init; }
    public bool? SymptomsPersistDespiteGdmt { get; init; }
    public YesNoUnknown? HfHospitalisationOrRaisedNp { get; init; }
    public TeeAnswer? TeeAnatomy { get; init; }
    public SurgicalRiskAnswer? SurgicalRisk { get; init; }
    public RvFunctionAnswer? RvFunction { get; init; }

    public static NavigatorAnswers None(string attestedBy, DateTimeOffset at) => new(attestedBy, at);

    public PillarAnswer? Pillar(GdmtClass pillar) => pillar switch
    {
        GdmtClass.BetaBlocker => BetaBlocker,
        GdmtClass.RaasInhibitor => RaasInhibitor,
        GdmtClass.Mra => Mra,
        _ => Sglt2Inhibitor,
    };

    public NavigatorAnswers WithPillar(GdmtClass pillar, PillarAnswer? answer) => pillar switch
    {
        GdmtClass.BetaBlocker => this with { BetaBlocker = answer },
        GdmtClass.RaasInhibitor => this with { RaasInhibitor = answer },
        GdmtClass.Mra => this with { Mra = answer },
        _ => this with { Sglt2Inhibitor = answer },
    };

    /// <summary>"attested by Practitioner/123 on 2026-11-28": how every answer is labelled wherever it is shown.</summary>
    public string Provenance => $"attested by {AttestedBy} on {Fhir.FhirDate.Format(AttestedAt)}";
}
