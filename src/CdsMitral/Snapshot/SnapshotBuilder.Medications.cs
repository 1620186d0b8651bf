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

    /// <summary>
    /// Words that name a GDMT drug: the ingredients of the four pillar ValueSets (their IN/PIN/MIN concepts) and of
    /// metoprolol, the class suffixes that name other members of a pillar's classes, and the US brands the ValueSets'
    /// descriptions name. A medication coded in a system the service reads, whose name says none of these, is another kind
    /// of drug (furosemide, atorvastatin): it does not make a GDMT absence uncertain. One without a code, or whose name does
    /// say one of them, is "not recognised" and hedges the absence (decision 2).
    /// </summary>
    private readonly string[] _gdmtWords = GdmtWords(terminology);

    private static string[] GdmtWords(Terminology.Terminology t)
    {
        var words = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "gliflozin", "sartan", "pril", "metoprolol", "Coreg", "Toprol", "Inpefa", "Atacand", "CaroSpir", "Synjardy", "Xigduo", "Glyxambi", "Trijardy", "Qtern",
        };
        foreach (var (_, valueSet) in ClassValueSets)
        {
            foreach (var code in t.Codes(valueSet))
            {
                if (t.Display(valueSet, new Coding(code.System, code.Code)) is not { } display)
                {
                    continue;
                }
                if (display.EndsWith("(IN)", StringComparison.Ordinal) || display.EndsWith("(PIN)", StringComparison.Ordinal) || display.EndsWith("(MIN)", StringComparison.Ordinal))
                {
                    words.Add(display.Split(' ')[0]);
                }
                if (display.IndexOf('[', StringComparison.Ordinal) is var open and >= 0 && display.IndexOf(']', open) is var close and > 0)
                {
                    words.Add(display[(open + 1)..close].Split(' ')[0]);
                }
            }
        }
        return [.. words];
    }

    private bool NamesGdmtDrug(string? name) => name is not null && _gdmtWords.Any(w => name.Contains(w, StringComparison.OrdinalIgnoreCase));

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
            else if (classes == 0 && use.Note is not null)
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
        // A coded drug whose name names no GDMT drug is another kind of medication: no note, so it hedges nothing.
        var note = notTaken
            ?? (classes != 0 || metoprolol || nonSteroidal ? null
                : !resolved ? "reference not resolved"
                : coded && name is not null && !NamesGdmtDrug(name) ? null
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
