using CdsMitral.Terminology;

namespace CdsMitral.Hooks;

/// <param name="Required">Required data that cannot be had answers 412; optional data that cannot be had is named on the cards.</param>
public sealed record PrefetchTemplate(string Key, string Query, bool Required);

public sealed record ServiceDefinition(
    string Id,
    string Hook,
    string Title,
    string Description,
    string UsageRequirements,
    IReadOnlyList<PrefetchTemplate> Prefetch)
{
    public ServiceDescriptor ToDescriptor() =>
        new(Hook, Title, Description, Id, Prefetch.ToDictionary(p => p.Key, p => p.Query), UsageRequirements);
}

public static class Hook
{
    public const string PatientView = "patient-view";
    public const string OrderSelect = "order-select";
    public const string OrderSign = "order-sign";
}

/// <summary>The services this CDS server hosts. Prefetch templates stay inside CDS Hooks 2.0's query subset
/// (type-level search, patient reference, token equality with OR lists, _sort, _count) and take their codes
/// from the ValueSets, so discovery can never ask for a code the rules do not read.</summary>
public static class CdsServices
{
    public const string PatientViewId = "secondary-mr-patient-view";
    public const string OrderSelectId = "secondary-mr-order-select";
    public const string OrderSignId = "secondary-mr-order-sign";

    private const string UsageRequirements =
        "Reads echo Observations, MR assessments, active MedicationStatement and MedicationRequest resources (required), " +
        "and Conditions and Procedures (optional) for the patient in context, from prefetch or from fhirServer with fhirAuthorization.";

    public static IReadOnlyList<ServiceDefinition> All(Terminology.Terminology t)
    {
        var prefetch = Templates(t);
        return
        [
            new(PatientViewId, Hook.PatientView, "Secondary mitral regurgitation: intervention considerations",
                "When a chart is opened, frames secondary-MR considerations from the latest echo and medications: " +
                "COAPT-like profile for Heart Valve Team review, GDMT gaps, values outside the COAPT-like range, missing or stale data, and post-TEER framing.",
                UsageRequirements, prefetch),
            new(OrderSelectId, Hook.OrderSelect, "Secondary mitral regurgitation: order-time considerations",
                "When a mitral intervention (TEER, repair, replacement) or another surgical procedure is selected, frames what the record shows " +
                "about the secondary-MR substrate: GDMT gaps, values outside the COAPT-like range, data gaps and perioperative framing.",
                UsageRequirements, prefetch),
            new(OrderSignId, Hook.OrderSign, "Secondary mitral regurgitation: considerations at order signing",
                "When orders are about to be signed, re-checks every draft mitral intervention (TEER, repair, replacement) and other surgical " +
                "procedure against the secondary-MR substrate, with the same rules as order-select and no suggestions: GDMT gaps, values " +
                "outside the COAPT-like range, data gaps and perioperative framing.",
                UsageRequirements, prefetch),
        ];
    }

    private static List<PrefetchTemplate> Templates(Terminology.Terminology t)
    {
        const string patient = "patient={{context.patientId}}";
        return
        [
            new("patient", "Patient/{{context.patientId}}", Required: false),
            new("echoObservations", $"Observation?{patient}&code={Codes(t, Vs.Lvef, Vs.Lvesd, Vs.Pasp, Vs.Eroa, Vs.RegurgitantVolume, Vs.RegurgitantFraction, Vs.Lvedv, Vs.NyhaAssessment)}&_sort=-date&_count=100", Required: true),
            new("mrAssessments", $"Observation?{patient}&code={Codes(t, Vs.MrAssessment)}&_sort=-date&_count=50", Required: true),
            // Echo values carried as components of a panel Observation (decision 7 of 2026-11-28): the panel's own code is
            // not one of ours, so code= does not find it. Optional: a server without component-code search loses only these.
            new("echoPanels", $"Observation?{patient}&component-code={Codes(t, Vs.Lvef, Vs.Lvesd, Vs.Pasp, Vs.MrAssessment)}&_sort=-date&_count=50", Required: false),
            // _include brings the Medication a statement or request references (decision 3 of 2026-11-28). It is outside
            // the query subset CDS Hooks 2.0 RECOMMENDS; a client that ignores it loses nothing: the service then reads
            // the referenced Medications itself.
            new("medicationStatements", $"MedicationStatement?{patient}&status=active&_include=MedicationStatement:medication", Required: true),
            new("medicationRequests", $"MedicationRequest?{patient}&status=active&_include=MedicationRequest:medication", Required: true),
            new("conditions", $"Condition?{patient}&code={Codes(t, Vs.HfrefConditions, Vs.CardiomyopathyConditions, Vs.AtrialFibrillationConditions, Vs.PrimaryMrDisorders, Vs.MrMechanism, Vs.CardiogenicShock)}", Required: false),
            new("procedures", $"Procedure?{patient}&code={Codes(t, Vs.TeerProcedures, Vs.MitralSurgicalRepair, Vs.MitralReplacement, Vs.MechanicalCirculatorySupport)}", Required: false),
        ];
    }

    private static string Codes(Terminology.Terminology t, params string[] valueSets) =>
        string.Join(',', valueSets.SelectMany(t.Codes).Distinct().Select(c => $"{c.System}|{c.Code}"));
}
