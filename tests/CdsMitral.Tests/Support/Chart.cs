using System.Text.Json;
using System.Text.Json.Nodes;
using CdsMitral.Fhir;
using CdsMitral.Snapshot;
using CdsMitral.Terminology;

namespace CdsMitral.Tests.Support;

/// <summary>A synthetic patient chart, built resource by resource, that can become a PatientRecord (for the pure
/// layers), a prefetch object or a FHIR server's content (for the HTTP surface), or a transaction Bundle (samples).</summary>
public sealed class Chart(string patientId = "p1")
{
    public const string Loinc = "http://loinc.org";
    public const string Snomed = "http://snomed.info/sct";
    public const string RxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
    public const string Ucum = "http://unitsofmeasure.org";
    public const string Mechanism = Terminology.Terminology.MechanismSystem;

    private readonly List<JsonObject> _resources = [];
    private int _next;

    public string PatientId { get; } = patientId;
    public IReadOnlyList<JsonObject> Resources => _resources;
    public string Subject => $"Patient/{PatientId}";

    public Chart Add(JsonObject resource)
    {
        _resources.Add(resource);
        return this;
    }

    private string NextId(string prefix) => $"{PatientId}-{prefix}-{++_next}";

    public Chart Observation(string system, string code, string date, JsonObject value, string status = "final", string? id = null, JsonArray? component = null, string? subject = null)
    {
        var obs = new JsonObject
        {
            ["resourceType"] = "Observation",
            ["id"] = id ?? NextId("obs"),
            ["status"] = status,
            ["category"] = new JsonArray(new JsonObject { ["coding"] = new JsonArray(new JsonObject { ["system"] = "http://terminology.hl7.org/CodeSystem/observation-category", ["code"] = "imaging" }) }),
            ["code"] = Concept(system, code),
            ["subject"] = new JsonObject { ["reference"] = subject ?? Subject },
            ["effectiveDateTime"] = date,
        };
        foreach (var (k, v) in value)
        {
            obs[k] = v?.DeepClone();
        }
        if (component is not null)
        {
            obs["component"] = component;
        }
        return Add(obs);
    }

    public static JsonObject Quantity(decimal value, string? unit, string? code = null) =>
        new() { ["valueQuantity"] = QuantityNode(value, unit, code) };

    private static JsonObject QuantityNode(decimal value, string? unit, string? code)
    {
        var q = new JsonObject { ["value"] = value };
        if (unit is not null)
        {
            q["unit"] = unit;
            q["system"] = Ucum;
            q["code"] = code ?? unit;
        }
        return q;
    }

    public static JsonObject Concept(string system, string code, string? display = null)
    {
        var coding = new JsonObject { ["system"] = system, ["code"] = code };
        if (display is not null)
        {
            coding["display"] = display;
        }
        var concept = new JsonObject { ["coding"] = new JsonArray(coding) };
        if (display is not null)
        {
            concept["text"] = display;
        }
        return concept;
    }

    public Chart Lvef(decimal value, string date, string? unit = "%", string code = "18043-0", string status = "final", string? id = null) =>
        Observation(Loinc, code, date, Quantity(value, unit, unit == "%" ? "%" : unit), status, id);

    public Chart Lvesd(decimal value, string date, string unit = "mm", string status = "final", string? id = null) =>
        Observation(Loinc, "29438-9", date, Quantity(value, unit), status, id);

    public Chart Pasp(decimal value, string date, string status = "final", string? id = null) =>
        Observation(Loinc, "8440-0", date, Quantity(value, "mmHg", "mm[Hg]"), status, id);

    public Chart Eroa(decimal value, string date) => Observation(Loinc, "80071-4", date, Quantity(value, "cm2"));

    public Chart Lvedv(decimal value, string date) => Observation(Loinc, "18026-5", date, Quantity(value, "mL"));

    public Chart Nyha(string answer, string date) =>
        Observation(Loinc, "88020-3", date, new JsonObject { ["valueCodeableConcept"] = Concept(Loinc, answer) });

    public static readonly IReadOnlyDictionary<string, string> Severity = new Dictionary<string, string>
    {
        ["none"] = "260413007", ["mild"] = "255604002", ["mild-moderate"] = "371923003",
        ["moderate"] = "6736007", ["moderate-severe"] = "371924009", ["severe"] = "24484000",
    };

    /// <summary>An MR assessment; <paramref name="mechanism"/> is a code of the project's mr-mechanism CodeSystem.</summary>
    public Chart Mr(string severity, string date, string? mechanism = null, string status = "final", string? id = null)
    {
        JsonArray? component = mechanism is null
            ? null
            : new JsonArray(new JsonObject { ["code"] = Concept(Mechanism, "mechanism"), ["valueCodeableConcept"] = Concept(Mechanism, mechanism) });
        return Observation(Snomed, "48724000", date, new JsonObject { ["valueCodeableConcept"] = Concept(Snomed, Severity[severity], severity) }, status, id, component);
    }

    public Chart MrGrade(int grade, string date) =>
        Observation(Snomed, "48724000", date, new JsonObject { ["valueInteger"] = grade });

    public Chart Medication(string rxcui, string display, string resourceType = "MedicationRequest", string status = "active", string? id = null)
    {
        var med = new JsonObject
        {
            ["resourceType"] = resourceType,
            ["id"] = id ?? NextId("med"),
            ["status"] = status,
            ["medicationCodeableConcept"] = Concept(RxNorm, rxcui, display),
            ["subject"] = new JsonObject { ["reference"] = Subject },
        };
        if (resourceType == "MedicationRequest")
        {
            med["intent"] = "order";
        }
        return Add(med);
    }

    /// <summary>All four GDMT classes: carvedilol, sacubitril/valsartan, spironolactone, dapagliflozin (RxNorm products).</summary>
    public Chart FullGdmt() =>
        Medication("200031", "carvedilol 6.25 MG Oral Tablet")
            .Medication("1656340", "sacubitril 24 MG / valsartan 26 MG Oral Tablet", "MedicationStatement")
            .Medication("313096", "spironolactone 25 MG Oral Tablet")
            .Medication("1488574", "dapagliflozin 10 MG Oral Tablet", "MedicationStatement");

    public Chart Condition(string system, string code, string display, string clinicalStatus = "active", string? id = null) =>
        Add(new JsonObject
        {
            ["resourceType"] = "Condition",
            ["id"] = id ?? NextId("cond"),
            ["clinicalStatus"] = Concept("http://terminology.hl7.org/CodeSystem/condition-clinical", clinicalStatus),
            ["verificationStatus"] = Concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
            ["code"] = Concept(system, code, display),
            ["subject"] = new JsonObject { ["reference"] = Subject },
        });

    public Chart Procedure(string system, string code, string display, string date, string status = "completed", string? id = null) =>
        Add(new JsonObject
        {
            ["resourceType"] = "Procedure",
            ["id"] = id ?? NextId("proc"),
            ["status"] = status,
            ["code"] = Concept(system, code, display),
            ["subject"] = new JsonObject { ["reference"] = Subject },
            ["performedDateTime"] = date,
        });

    /// <summary>The Patient resource: a birth date ("1950", "2010-05-02"), for a deceased patient deceasedBoolean or
    /// deceasedDateTime, and a name as given names and a family name ("Ada Lovelace").</summary>
    public Chart Patient(string? birthDate = null, bool? deceased = null, string? deceasedOn = null, string? name = null)
    {
        var patient = new JsonObject { ["resourceType"] = "Patient", ["id"] = PatientId };
        if (name is not null)
        {
            var parts = name.Split(' ');
            patient["name"] = new JsonArray(new JsonObject
            {
                ["use"] = "official",
                ["family"] = parts[^1],
                ["given"] = new JsonArray([.. parts[..^1].Select(p => (JsonNode)p)]),
            });
        }
        if (birthDate is not null)
        {
            patient["birthDate"] = birthDate;
        }
        if (deceased is { } flag)
        {
            patient["deceasedBoolean"] = flag;
        }
        if (deceasedOn is not null)
        {
            patient["deceasedDateTime"] = deceasedOn;
        }
        return Add(patient);
    }

    public Chart PriorTeer(string date) => Procedure(Snomed, "459691000124101", "Transcatheter mitral valve repair", date);

    public PatientRecord Record(params string[] unavailable) =>
        new(PatientId, _resources.Select(r => RawResource.From(JsonSerializer.SerializeToElement(r))!.Value).ToList(), unavailable, []);

    /// <summary>Splits the chart into this service's prefetch keys, as a client that honours every template would.</summary>
    public JsonObject Prefetch(Terminology.Terminology t, bool conditionsAndProcedures = true)
    {
        bool Obs(JsonObject r, params string[] sets) =>
            (string?)r["resourceType"] == "Observation" && sets.Any(vs => t.Matches(vs, r["code"].Deserialize(FhirJson.Default.CodeableConcept)));
        var prefetch = new JsonObject
        {
            ["patient"] = _resources.FirstOrDefault(r => (string?)r["resourceType"] == "Patient")?.DeepClone()
                ?? new JsonObject { ["resourceType"] = "Patient", ["id"] = PatientId },
            ["echoObservations"] = Bundle(_resources.Where(r => Obs(r, Vs.Lvef, Vs.Lvesd, Vs.Pasp, Vs.Eroa, Vs.RegurgitantVolume, Vs.RegurgitantFraction, Vs.Lvedv, Vs.NyhaAssessment))),
            ["mrAssessments"] = Bundle(_resources.Where(r => Obs(r, Vs.MrAssessment))),
            ["echoPanels"] = Bundle(_resources.Where(r => (string?)r["resourceType"] == "Observation" && r["component"] is JsonArray parts
                && parts.Any(c => c?["code"] is JsonObject code && new[] { Vs.Lvef, Vs.Lvesd, Vs.Pasp, Vs.MrAssessment }
                    .Any(vs => t.Matches(vs, code.Deserialize(FhirJson.Default.CodeableConcept)))))),
            ["medicationStatements"] = Bundle(_resources.Where(r => (string?)r["resourceType"] == "MedicationStatement")),
            ["medicationRequests"] = Bundle(_resources.Where(r => (string?)r["resourceType"] == "MedicationRequest")),
        };
        if (conditionsAndProcedures)
        {
            prefetch["conditions"] = Bundle(_resources.Where(r => (string?)r["resourceType"] == "Condition"));
            prefetch["procedures"] = Bundle(_resources.Where(r => (string?)r["resourceType"] == "Procedure"));
        }
        return prefetch;
    }

    /// <summary>The server the sample requests name as fhirServer; a Bundle's fullUrls point into it.</summary>
    public const string FhirBase = "http://localhost:8080/fhir";

    /// <summary>A Bundle as valid R4 wants it: every entry with a fullUrl (bdl-15), total only on a searchset (bdl-1),
    /// and no entry key at all when there are none (FHIR JSON forbids an empty array).</summary>
    public static JsonObject Bundle(IEnumerable<JsonObject> resources, string type = "searchset")
    {
        var list = resources.ToList();
        var bundle = new JsonObject { ["resourceType"] = "Bundle", ["type"] = type };
        if (type == "searchset")
        {
            bundle["total"] = list.Count;
        }
        if (list.Count > 0)
        {
            bundle["entry"] = new JsonArray(list.Select(r => (JsonNode)new JsonObject
            {
                ["fullUrl"] = $"{FhirBase}/{r["resourceType"]}/{r["id"]}",
                ["resource"] = r.DeepClone(),
            }).ToArray());
        }
        return bundle;
    }
}
