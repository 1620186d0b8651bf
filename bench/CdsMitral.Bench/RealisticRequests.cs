using System.Globalization;
using System.Text.Json.Nodes;

namespace CdsMitral.Bench;

/// <summary>
/// Hook requests the size of a real chart: eight echoes over four years (LVEF, LVESD, PASP, EROA, LVEDV: 40
/// Observations), eight MR assessments, four NYHA classes, twelve active medications (the four GDMT classes and
/// eight others), three conditions. "coapt" fires the COAPT-like card; "silent" has mild MR and fires nothing.
/// </summary>
public static class RealisticRequests
{
    private static readonly DateTimeOffset AsOf = new(2026, 11, 21, 0, 0, 0, TimeSpan.Zero);

    public static JsonObject Build(bool coapt)
    {
        var patient = coapt ? "bench-coapt" : "bench-silent";
        var n = 0;
        string Id(string kind) => $"{patient}-{kind}-{++n}";
        JsonObject Concept(string system, string code, string display) =>
            new() { ["coding"] = new JsonArray(new JsonObject { ["system"] = system, ["code"] = code, ["display"] = display }), ["text"] = display };
        JsonObject Obs(string system, string code, string display, string date, JsonObject value)
        {
            var o = new JsonObject
            {
                ["resourceType"] = "Observation", ["id"] = Id("obs"), ["status"] = "final",
                ["category"] = new JsonArray(Concept("http://terminology.hl7.org/CodeSystem/observation-category", "imaging", "Imaging")),
                ["code"] = Concept(system, code, display), ["subject"] = new JsonObject { ["reference"] = $"Patient/{patient}" },
                ["effectiveDateTime"] = date, ["issued"] = date + "T12:00:00Z",
            };
            foreach (var (k, v) in value)
            {
                o[k] = v?.DeepClone();
            }
            return o;
        }
        JsonObject Quantity(double value, string unit, string code) =>
            new() { ["valueQuantity"] = new JsonObject { ["value"] = value, ["unit"] = unit, ["system"] = "http://unitsofmeasure.org", ["code"] = code } };

        var echo = new List<JsonObject>();
        var mr = new List<JsonObject>();
        for (var i = 0; i < 8; i++)
        {
            var date = AsOf.AddMonths(-2 - 6 * i).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            echo.Add(Obs("http://loinc.org", "79991-6", "LVEF biplane", date, Quantity(32 + i, "%", "%")));
            echo.Add(Obs("http://loinc.org", "29438-9", "LVESD", date, Quantity(58 - i, "mm", "mm")));
            echo.Add(Obs("http://loinc.org", "8440-0", "PASP", date, Quantity(45 - i, "mmHg", "mm[Hg]")));
            echo.Add(Obs("http://loinc.org", "80071-4", "EROA", date, Quantity(0.45, "cm2", "cm2")));
            echo.Add(Obs("http://loinc.org", "18026-5", "LVEDV", date, Quantity(190 + i, "mL", "mL")));
            var severity = coapt ? ("24484000", "Severe") : ("255604002", "Mild");
            var assessment = Obs("http://snomed.info/sct", "48724000", "Mitral valve regurgitation", date,
                new JsonObject { ["valueCodeableConcept"] = Concept("http://snomed.info/sct", severity.Item1, severity.Item2) });
            assessment["component"] = new JsonArray(new JsonObject
            {
                ["code"] = Concept("https://fhir.cdsmitral.org/CodeSystem/mr-mechanism", "mechanism", "MR mechanism"),
                ["valueCodeableConcept"] = Concept("https://fhir.cdsmitral.org/CodeSystem/mr-mechanism", "secondary-ventricular", "Secondary MR, ventricular"),
            });
            mr.Add(assessment);
            if (i % 2 == 0)
            {
                echo.Add(Obs("http://loinc.org", "88020-3", "NYHA", date, new JsonObject { ["valueCodeableConcept"] = Concept("http://loinc.org", "LA28406-9", "Class III") }));
            }
        }
        var medications = new (string Code, string Display)[]
        {
            ("200031", "carvedilol 6.25 MG Oral Tablet"), ("1656340", "sacubitril 24 MG / valsartan 26 MG Oral Tablet"),
            ("313096", "spironolactone 25 MG Oral Tablet"), ("1488574", "dapagliflozin 10 MG Oral Tablet"),
            ("4603", "furosemide"), ("83367", "atorvastatin"), ("1364430", "apixaban"), ("6809", "metformin"),
            ("29046", "lisinopril"), ("1191", "aspirin"), ("8591", "potassium chloride"), ("10582", "levothyroxine"),
        };
        var statements = new List<JsonObject>();
        var requests = new List<JsonObject>();
        for (var i = 0; i < medications.Length; i++)
        {
            var type = i % 2 == 0 ? "MedicationRequest" : "MedicationStatement";
            var med = new JsonObject
            {
                ["resourceType"] = type, ["id"] = Id("med"), ["status"] = "active",
                ["medicationCodeableConcept"] = Concept("http://www.nlm.nih.gov/research/umls/rxnorm", medications[i].Code, medications[i].Display),
                ["subject"] = new JsonObject { ["reference"] = $"Patient/{patient}" },
            };
            if (type == "MedicationRequest")
            {
                med["intent"] = "order";
                requests.Add(med);
            }
            else
            {
                statements.Add(med);
            }
        }
        var conditions = new[] { ("703272007", "Heart failure with reduced ejection fraction"), ("49436004", "Atrial fibrillation"), ("399020009", "Dilated cardiomyopathy") }
            .Select(c => new JsonObject
            {
                ["resourceType"] = "Condition", ["id"] = Id("cond"),
                ["clinicalStatus"] = Concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
                ["code"] = Concept("http://snomed.info/sct", c.Item1, c.Item2), ["subject"] = new JsonObject { ["reference"] = $"Patient/{patient}" },
            }).ToList();

        static JsonObject Bundle(IEnumerable<JsonObject> resources)
        {
            var list = resources.ToList();
            return new JsonObject
            {
                ["resourceType"] = "Bundle", ["type"] = "searchset", ["total"] = list.Count,
                ["entry"] = new JsonArray(list.Select(r => (JsonNode)new JsonObject { ["fullUrl"] = $"urn:uuid:{Guid.NewGuid()}", ["resource"] = r }).ToArray()),
            };
        }
        return new JsonObject
        {
            ["hook"] = "patient-view",
            ["hookInstance"] = Guid.NewGuid().ToString(),
            ["context"] = new JsonObject { ["userId"] = "Practitioner/bench", ["patientId"] = patient },
            ["prefetch"] = new JsonObject
            {
                // A name, as every chart has: the reference services' patient-greeting reads it from the prefetch (bench/compare-reference.sh).
                ["patient"] = new JsonObject
                {
                    ["resourceType"] = "Patient", ["id"] = patient, ["gender"] = "male", ["birthDate"] = "1950-03-01",
                    ["name"] = new JsonArray(new JsonObject { ["use"] = "official", ["family"] = "Bench", ["given"] = new JsonArray("Walter") }),
                },
                ["echoObservations"] = Bundle(echo),
                ["mrAssessments"] = Bundle(mr),
                ["medicationStatements"] = Bundle(statements),
                ["medicationRequests"] = Bundle(requests),
                ["conditions"] = Bundle(conditions),
                ["procedures"] = Bundle([]),
            },
        };
    }
}
