using System.Text.Json;
using CdsMitral.Fhir;
using CdsMitral.Terminology;

namespace CdsMitral.Snapshot;

// GDMT: MedicationStatements and MedicationRequests, their Medications (contained or referenced), classified per pillar.
public sealed partial class SnapshotBuilder
{
    private static readonly (GdmtClass Class, string ValueSet)[] ClassValueSets =
    [
        (GdmtClass.BetaBlocker, Vs.GdmtBetaBlocker),
        (GdmtClass.RaasInhibitor, Vs.GdmtRaasInhibitor),
        (GdmtClass.Mra, Vs.GdmtMra),
        (GdmtClass.Sglt2Inhibitor, Vs.GdmtSglt2Inhibitor),
    ];

    /// <summary>Intents of a MedicationRequest that mean the drug is ordered, not planned or proposed (decision 4).</summary>
    private static readonly FhirRead.KnownStrings OrderIntents = new(["order", "original-order", "reflex-order", "filler-order", "instance-order"]);

    private GdmtStatus BuildGdmt(List<RawResource> resources, List<DataQualityFinding> findings)
    {
        Dictionary<string, JsonElement>? medications = null;
        foreach (var r in resources)
        {
            if (r.ResourceType == "Medication" && r.HasId)
            {
                (medications ??= new(StringComparer.Ordinal))[r.Key] = r.Json;
            }
        }
        var byClass = Enum.GetValues<GdmtClass>().ToDictionary(c => c, _ => new List<MedicationUse>());
        var ambiguous = new List<MedicationUse>();
        var unrecognised = new List<MedicationUse>();
        var notOnBoard = new List<MedicationUse>();
        var notPillar = new List<MedicationUse>();
        var uses = ReadAll(resources, ["MedicationStatement", "MedicationRequest"], r => ReadMedicationUse(r, medications), findings);
        // By source: the order of the resources changes nothing a card says (decision 14).
        uses.Sort((a, b) => string.CompareOrdinal(a.Use.Source, b.Use.Source));
        foreach (var (use, classes, metoprolol, onBoard, nonSteroidal) in uses)
        {
            if (!onBoard)
            {
                if (classes != 0 || metoprolol)
                {
                    notOnBoard.Add(use);
                }
                continue;
            }
            if (classes == 0 && nonSteroidal)
            {
                notPillar.Add(use);
                continue;
            }
            foreach (var (gdmtClass, _) in ClassValueSets)
            {
                if ((classes & (1 << (int)gdmtClass)) != 0)
                {
                    byClass[gdmtClass].Add(use);
                }
            }
            if (classes == 0 && metoprolol)
            {
                ambiguous.Add(use);
            }
            else if (classes == 0)
            {
                unrecognised.Add(use);
            }
        }
        return new GdmtStatus(byClass.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<MedicationUse>)kv.Value), ambiguous, unrecognised, notOnBoard,
            notPillar.Count == 0 ? null : notPillar);
    }

    /// <summary>A medication statement or request: its GDMT classes (bit 1 &lt;&lt; class), whether it is metoprolol without a
    /// salt, and whether it counts as on board. Null for records that are not current (stopped, completed, entered in error).</summary>
    private sealed record MedicationRead(MedicationUse Use, int Classes, bool MetoprololSaltUnknown, bool OnBoard, bool NonSteroidalMra);

    private MedicationRead? ReadMedicationUse(RawResource r, Dictionary<string, JsonElement>? medications)
    {
        if (!r.Json.Is("status"u8, "active"))
        {
            return null;
        }
        // Decision 4: a request counts only as an order that is to be carried out.
        string? notTaken = null;
        if (r.ResourceType == "MedicationRequest")
        {
            var orderIntent = r.Json.OneOf("intent"u8, OrderIntents);
            notTaken = r.Json.TryGetProperty("doNotPerform"u8, out var dnp) && dnp.ValueKind == JsonValueKind.True ? "do not give"
                : orderIntent is not null ? null
                : r.Json.Text("intent"u8) switch
                {
                    null => "intent not recorded",
                    "plan" => "planned",
                    "proposal" => "proposed",
                    _ => "not an order",
                };
        }
        var concepts = new List<JsonElement>(2);
        var resolved = MedicationConcepts(r.Json, medications, concepts);
        string? name = null;
        var (classes, metoprolol, coded, nonSteroidal) = (0, false, false, false);
        foreach (var concept in concepts)
        {
            name ??= FhirRead.Label(concept);
            foreach (var (gdmtClass, valueSet) in ClassValueSets)
            {
                classes |= _t.Matches(valueSet, concept) ? 1 << (int)gdmtClass : 0;
            }
            metoprolol |= _t.Matches(Vs.MetoprololUnspecifiedSalt, concept);
            nonSteroidal |= _t.Matches(Vs.NonSteroidalMra, concept);
            coded |= HasAnyCode(concept);
        }
        var note = notTaken
            ?? (classes != 0 || metoprolol || nonSteroidal ? null
                : !resolved ? "reference not resolved"
                : coded ? "code not recognised"
                : "no code");
        return new MedicationRead(new MedicationUse(name ?? (resolved ? "unnamed medication" : "medication by reference"), r.Key, note), classes, metoprolol,
            notTaken is null, nonSteroidal);
    }

    private static bool HasAnyCode(JsonElement concept)
    {
        foreach (var coding in concept.Objects("coding"u8))
        {
            if (coding.Text("code"u8) is not null)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The concepts that name a statement's or request's medication: its own code, and the code and ingredients
    /// of the Medication it references (contained, or elsewhere in the record: decision 3). False when it references a
    /// Medication that is not in the record.</summary>
    private static bool MedicationConcepts(JsonElement use, Dictionary<string, JsonElement>? medications, List<JsonElement> concepts)
    {
        if (use.Child("medicationCodeableConcept"u8) is { } concept)
        {
            concepts.Add(concept);
        }
        if (use.Reference("medicationReference"u8) is not { } target)
        {
            return true;
        }
        JsonElement? medication = null;
        if (target.StartsWith('#'))
        {
            foreach (var contained in use.Objects("contained"u8))
            {
                if (contained.Is("resourceType"u8, "Medication") && contained.Is("id"u8, target[1..]))
                {
                    medication = contained;
                    break;
                }
            }
        }
        else if (FhirRead.ReferenceKey(target, "Medication") is { } key && medications?.TryGetValue(key, out var referenced) == true)
        {
            medication = referenced;
        }
        if (medication is not { } m)
        {
            return false;
        }
        if (m.Child("code"u8) is { } code)
        {
            concepts.Add(code);
        }
        foreach (var ingredient in m.Objects("ingredient"u8))
        {
            if (ingredient.Child("itemCodeableConcept"u8) is { } item)
            {
                concepts.Add(item);
            }
        }
        return true;
    }
}
