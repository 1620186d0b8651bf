#!/usr/bin/env python3
"""Writes the FHIR artifacts in fhir-profiles/: the ValueSets and CodeSystems the rules read (from the project's
terminology sources), profiles of the inputs the service expects, and its CapabilityStatement.

Run from the repository root when ../shared/reference changes:  python3 fhir-profiles/build-profiles.py
Codes marked 'unverified' in terminology.json are left out on purpose: such a code must never be the only
way a rule fires, and the simplest way to guarantee that is never to let it fire one.

Every concept carries the public source that verified it (extension code-source). The GDMT ingredient, branded and
pack codes beyond gdmt-rxnorm-products.json live in gdmt_codes.py beside this file, each with its source.
"""
import json, pathlib, sys

ROOT = pathlib.Path(__file__).resolve().parent
REF = ROOT.parent.parent / "shared" / "reference"
BASE = "https://fhir.cdsmitral.org"
VERSION = "1.0.0"
LOINC, SNOMED, RXNORM = "http://loinc.org", "http://snomed.info/sct", "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM, CPT = "http://hl7.org/fhir/sid/icd-10-cm", "http://www.ama-assn.org/go/cpt"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
CODE_SOURCE = "https://fhir.cdsmitral.org/StructureDefinition/code-source"

sys.path.insert(0, str(ROOT))
import gdmt_codes as gc  # noqa: E402  (data module beside this script)

term = json.loads((REF / "terminology.json").read_text())
gdmt = json.loads((REF / "gdmt-rxnorm-products.json").read_text())
loinc = {k: {e["code"]: e for e in v if "code" in e} for k, v in term["loinc"].items()}


# A VSAC expansion names a code more precisely than terminology.json's short source notes; where a code was found in
# one (eCQM value sets as published in github.com/canvas-medical/canvas-plugins canvas_sdk/value_set), it is named.
def _vsac(oid, name, expansion="eCQM Update 2025-05-08"):
    return f"VSAC {oid} ({name}), {expansion} expansion"


VSAC_CARDIAC_DISEASE = _vsac("2.16.840.1.113762.1.4.1029.341", "Cardiac Disease")
VSAC_ACUTE_HF = _vsac("2.16.840.1.113762.1.4.1029.233", "Acute Heart Failure")
VSAC_HF = _vsac("2.16.840.1.113883.3.526.3.376", "Heart Failure", "eCQM Update 2021-05-06")
VSAC_LVSD = _vsac("2.16.840.1.113883.3.526.3.1090", "Moderate or Severe LVSD", "eCQM Update 2021-05-06")
VSAC_EF = _vsac("2.16.840.1.113883.3.526.3.1134", "Ejection Fraction")
VSAC_MAJOR_SURGERY = _vsac("2.16.840.1.113883.3.3157.4056", "Major Surgical Procedure")
VSAC_MOD_SEVERE = _vsac("2.16.840.1.113883.3.526.3.1092", "Moderate or Severe")
DICOM = "DICOM PS3.16 {} (as FHIR: github.com/bvdh/dicom-terminology-in-fhir)".format
VSAC_SHOCK = _vsac("2.16.840.1.113762.1.4.1029.239", "Shock")
VSAC_MCS = _vsac("2.16.840.1.113883.3.3157.4052", "Mechanical Circulatory Assist Device")
VSAC_AKI_PROCEDURES = _vsac("2.16.840.1.113762.1.4.1248.19", "High Risk Procedures for AKI")
VSAC_CABG_OR_PCI = _vsac("2.16.840.1.113762.1.4.1138.566", "CABG or PCI Procedure")
VSAC_CABG = _vsac("2.16.840.1.113883.3.666.5.694", "CABG Surgeries")
SOURCES = {
    **{c: VSAC_CARDIAC_DISEASE for c in ["I25.5", "I34.1", "I48.0", "I48.11", "I48.19", "I48.20", "I48.21", "I48.91", "I50.22"]},
    **{c: VSAC_ACUTE_HF for c in ["I50.20", "I50.21", "I50.23"]},
    **{c: VSAC_HF for c in ["703272007", "703273002", "703275009", "703276005", "15629741000119102"]},
    **{c: VSAC_LVSD for c in ["981000124106", "991000124109"]},
    **{c: VSAC_MAJOR_SURGERY for c in ["1287654009", "1287655005", "384641003", "459691000124101", "53059001", "720583008"]},
    **{c: VSAC_MOD_SEVERE for c in ["24484000", "6736007"]},
    **{c: VSAC_EF for c in ["10230-1", "18043-0", "18044-8", "18045-5", "18046-3", "18047-1", "18048-9", "18049-7", "77889-4",
                            "77890-2", "77891-0", "77892-8", "79990-8", "79991-6", "79992-4", "79993-2", "8806-2", "8807-0",
                            "8808-8", "8809-6", "8810-4", "8811-2", "8812-0", "93644-3", "93645-0", "93646-8"]},
    "409712001": DICOM("CID 12341 Indication for Structural Heart Procedure; CID 3700 Cath Diagnosis"),
    "399020009": DICOM("CID 3700 Cath Diagnosis; CID 3728 Cath Finding"),
    "49436004": DICOM("CID 3700 Cath Diagnosis; CID 12341") + "; VSAC 2.16.840.1.113883.3.117.1.7.1.202 (Atrial Fibrillation/Flutter)",
}


def source(code, note):
    """The public source of a code: a VSAC expansion or DICOM context group where one was found, else terminology.json's note."""
    return SOURCES.get(code, note)


def lo(group, *codes):
    out = []
    for c in codes:
        e = loinc[group][c]
        assert e["status"] != "unverified", c
        out.append((LOINC, c, e["display"], source(c, e["src"])))
    return out


def sn(*codes):
    out = []
    for c in codes:
        display, status, note = term["snomed"][c]
        assert status != "unverified", c
        out.append((SNOMED, c, display, source(c, note)))
    return out


def icd(*codes):
    return [(ICD10CM, c, term["icd10cm"][c][0], source(c, term["icd10cm"][c][2])) for c in codes if term["icd10cm"][c][1] != "unverified"]


def cpt(*codes):
    return [(CPT, c, term["cpt"][c][0], source(c, term["cpt"][c][2])) for c in codes if term["cpt"][c][1] != "unverified"]


def rx_ingredients(class_vs):
    return [(RXNORM, code, f"{name} ({tty})", src) for code, name, tty, src in gc.INGREDIENTS[class_vs]]


def _vsac_sources(p):
    """gdmt-rxnorm-products.json names VSAC value sets as 'VSAC:Name (OID)'; its other notes (Canvas copies of those value
    sets, a FHIR example value set) are not VSAC expansions."""
    named = (s[5:-1].rsplit(" (", 1) for s in p["sources"] if s.startswith("VSAC:"))
    return [f"VSAC {oid} ({name})" for name, oid in named if oid[0].isdigit()]


def rx_products(*keys):
    # A product no VSAC expansion lists (206765 Prinivil) is verified elsewhere and listed in gdmt_codes.BRANDED.
    return [(RXNORM, p["rxcui"], p["display"], "; ".join(_vsac_sources(p))) for k in keys for p in gdmt[k] if _vsac_sources(p)]


def rx_branded(class_vs):
    return [(RXNORM, code, display, src) for code, display, src in gc.BRANDED[class_vs]]


def value_set(vid, title, description, codes, ordinals=None):
    by_system = {}
    for system, code, display, *src in codes:
        concept = {"code": code} | ({"display": display} if display else {})
        extensions = [{"url": CODE_SOURCE, "valueString": src[0]}] if src else []
        if ordinals and code in ordinals:
            extensions.append({"url": ORDINAL, "valueDecimal": ordinals[code]})
        if extensions:
            concept["extension"] = extensions
        assert code not in by_system.get(system, {}), f"{vid}: {code} twice"
        by_system.setdefault(system, {})[code] = concept
    return {
        "resourceType": "ValueSet", "id": vid, "url": f"{BASE}/ValueSet/{vid}", "version": VERSION,
        "name": "".join(w.capitalize() for w in vid.split("-")), "title": title, "status": "active",
        "experimental": False, "publisher": "CdsMitral", "description": description,
        "compose": {"include": [{"system": s, "concept": list(c.values())} for s, c in by_system.items()]},
    }


def code_system(cid, title, description, concepts):
    return {
        "resourceType": "CodeSystem", "id": cid, "url": f"{BASE}/CodeSystem/{cid}", "version": VERSION,
        "name": "".join(w.capitalize() for w in cid.split("-")), "title": title, "status": "active",
        "experimental": False, "publisher": "CdsMitral", "description": description, "caseSensitive": True,
        "content": "complete", "concept": [{"code": c, "display": d, "definition": f} for c, d, f in concepts],
    }


MECH = [
    ("mechanism", "MR mechanism", "Observation component code: the mechanism of the mitral regurgitation."),
    ("primary", "Primary (degenerative) MR", "The leaflets or chords are the primary problem (prolapse, flail, other)."),
    ("secondary-ventricular", "Secondary MR, ventricular", "Functional MR from LV remodeling (ischemic or non-ischemic)."),
    ("secondary-atrial", "Secondary MR, atrial", "Functional MR from LA and annular enlargement, often with atrial fibrillation."),
]
OVERRIDE = [
    ("already-evaluated-hvt", "Already evaluated by the Heart Valve Team", "The team has reviewed this patient for mitral intervention."),
    ("gdmt-max-tolerated", "GDMT already at maximally tolerated doses", "Missing classes were tried or are contraindicated."),
    ("chart-data-outdated", "Data in the chart is out of date", "The values the card used do not reflect the patient now."),
]
HL7_NONADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
# Displays as published in that CodeSystem (the footnote asterisk on patient-refuses dropped).
HL7_REASONS = [
    ("patient-refuses", "Patient refuses/declines (no context given)"),
    ("patient-contraindication", "Patient has contraindication to recommended action"),
    ("action-not-priority", "Recommended action is not relevant or a priority in current state of health"),
    ("need-more-info", "Could not address recommended action due to need for more information/pending results/pending consult"),
]
mech_codes = [(f"{BASE}/CodeSystem/mr-mechanism", c, d) for c, d, _ in MECH[1:]]

L = "lvef"
lvef_all = [c for c, e in loinc[L].items() if e["status"] == "verified" and ".." not in c]
method_specific = ["79991-6", "79992-4", "79993-2", "77892-8", "79990-8", "18044-8", "18045-5", "18047-1", "18048-9",
                   "18049-7", "77891-0", "77889-4", "77890-2", "93644-3", "93645-0", "93646-8"]
mr_sev = {"260413007": 0, "255604002": 1, "371923003": 1.5, "6736007": 2, "371924009": 3, "24484000": 4}
nyha_ord = {"LA28404-4": 1, "LA28405-1": 2, "LA28406-9": 3, "LA28407-7": 4,
            "420300004": 1, "421704003": 2, "420913000": 3, "422293003": 4}
nyha_answers = term["loinc"]["nyha"][3]["answers_88020_3"]

# Decision 10: rheumatic mitral disease makes the MR primary. I08.8 and I08.9 ("other"/"unspecified" rheumatic multiple
# valve disease) do not say the mitral valve is involved, so they are left out.
RHEUMATIC_MITRAL_ICD = [
    ("I05.0", "Rheumatic mitral stenosis"), ("I05.1", "Rheumatic mitral insufficiency"),
    ("I05.2", "Rheumatic mitral stenosis with insufficiency"), ("I05.8", "Other rheumatic mitral valve diseases"),
    ("I05.9", "Rheumatic mitral valve disease, unspecified"), ("I08.0", "Rheumatic disorders of both mitral and aortic valves"),
    ("I08.1", "Rheumatic disorders of both mitral and tricuspid valves"),
    ("I08.3", "Combined rheumatic disorders of mitral, aortic and tricuspid valves"),
]
FHIR_R4_SNOMED_EXEMPLAR = ("HL7 FHIR R4 (4.0.1) ValueSet http://hl7.org/fhir/ValueSet/medication-as-needed-reason "
                           "(SNOMED CT clinical-findings exemplar), as copied in public FHIR client libraries")
primary_mr = ([(SNOMED, "409712001", "Mitral valve prolapse (disorder)", SOURCES["409712001"]),
               (SNOMED, "787001", "Rheumatic mitral stenosis with regurgitation", FHIR_R4_SNOMED_EXEMPLAR),
               (ICD10CM, "I34.1", "Nonrheumatic mitral (valve) prolapse", SOURCES["I34.1"])]
              + [(ICD10CM, c, d, VSAC_CARDIAC_DISEASE) for c, d in RHEUMATIC_MITRAL_ICD])
PRIMARY_MR_DESCRIPTION = (
    "Mitral valve prolapse (SNOMED 409712001, ICD-10-CM I34.1) and rheumatic mitral valve disease (decision 10: rheumatic "
    "MR is primary): ICD-10-CM I05.0-I05.9 and the multiple-valve codes that name the mitral valve (I08.0, I08.1, I08.3), "
    "and SNOMED 787001 rheumatic mitral stenosis with regurgitation. I08.8/I08.9 are left out (they do not name the mitral "
    "valve); SNOMED concepts for rheumatic mitral regurgitation and rheumatic mitral valve disease are left out until a "
    "public source confirms their codes.")
_COMBOS = "Combination products that contain a pillar drug are included: a patient taking them takes the drug."
_FORMS = "RxNorm ingredients (IN/PIN/MIN), clinical drugs (SCD) and branded drugs (SBD) with the public source of each code"
GDMT_DESCRIPTIONS = {
    "gdmt-beta-blocker": f"Carvedilol (Coreg, Coreg CR), metoprolol succinate (Toprol XL), bisoprolol: {_FORMS}. {_COMBOS} "
                         "(metoprolol succinate/HCTZ, bisoprolol/HCTZ). Metoprolol tartrate (Lopressor) is not included, and "
                         "metoprolol without a salt (IN 6918) is in metoprolol-unspecified-salt instead.",
    "gdmt-raas-inhibitor": f"ARNI sacubitril/valsartan (Entresto), ACE inhibitors and ARBs (every ingredient of VSAC 1489 and "
                           f"every clinical drug of VSAC 1139; brands Zestril, Prinivil, Qbrelis, Zestoretic, Diovan, Diovan HCT, Atacand HCT, Altace, Cozaar): {_FORMS}. "
                           f"{_COMBOS} (e.g. lisinopril/HCTZ, losartan/HCTZ, amlodipine/valsartan).",
    "gdmt-mra": f"Spironolactone (Aldactone, Aldactazide), eplerenone (Inspra): {_FORMS}. {_COMBOS} (spironolactone/HCTZ). "
                "Finerenone is not an HFrEF MRA pillar in clinical-logic.md and is left out.",
    "gdmt-sglt2-inhibitor": f"Dapagliflozin (Farxiga), empagliflozin (Jardiance), sotagliflozin (Inpefa): {_FORMS}. {_COMBOS} "
                            "(e.g. Synjardy, Xigduo XR, Glyxambi, Trijardy XR, Qtern clinical drugs).",
}

# Decision 19 of 2026-12-07: the acute setting. Codes read in VSAC expansions (as published in
# github.com/canvas-medical/canvas-plugins canvas_sdk/value_set/v2026) and DICOM PS3.16; CPT 33946/33947 (ECMO initiation)
# are corroborated by the AMA wording in several coding references, never the only way the rule fires (SNOMED and
# ICD-10-PCS ECMO codes are verified). Permanent ventricular assist device codes are left out: not an acute support.
acute_shock = [
    (SNOMED, "89138009", "Cardiogenic shock (disorder)", DICOM("CID 3700 Cath Diagnosis; CID 3726; CID 3727; CID 3755")),
    (ICD10CM, "R57.0", "Cardiogenic shock", VSAC_SHOCK),
    (ICD10CM, "T81.11XA", "Postprocedural cardiogenic shock, initial encounter", VSAC_SHOCK),
]
MCS_DESCRIPTION = (
    "Temporary mechanical circulatory support in progress marks the acute setting (decision 19): ECMO, intra-aortic balloon "
    "pump, percutaneous ventricular assist device (Impella, TandemHeart). Implantation of a durable ventricular assist device "
    "(SNOMED 232965003-232968001) and intraoperative ECMO are left out; no SNOMED concept specific to a percutaneous VAD was "
    "found, so SNOMED 700151002 (temporary LV assist device) stands for it.")
mcs = [
    (SNOMED, "233573008", "Extracorporeal membrane oxygenation (procedure)", VSAC_AKI_PROCEDURES),
    (SNOMED, "786451004", "Venoarterial extracorporeal membrane oxygenation (procedure)", VSAC_AKI_PROCEDURES),
    (SNOMED, "786453001", "Venovenous extracorporeal membrane oxygenation (procedure)", VSAC_AKI_PROCEDURES),
    (SNOMED, "786452006", "Arteriovenous extracorporeal membrane oxygenation (procedure)", VSAC_AKI_PROCEDURES),
    (SNOMED, "232969009", "Cardiac support using extracorporeal membrane oxygenation circuitry (procedure)", VSAC_AKI_PROCEDURES),
    (SNOMED, "399217008", "Cardioassist by aortic balloon pump (procedure)", VSAC_MCS),
    (SNOMED, "16965008", "Insertion of intra-aortic balloon counterpulsation (procedure)", VSAC_MCS),
    (SNOMED, "175113001", "Transluminal insertion of aortic balloon pump (procedure)", VSAC_MCS),
    (SNOMED, "432375008", "Insertion of intra-aortic balloon pump using fluoroscopic guidance with contrast (procedure)", VSAC_MCS),
    (SNOMED, "83676006", "Percutaneous insertion of intra-aortic balloon catheter (procedure)", VSAC_AKI_PROCEDURES),
    (SNOMED, "399052009", "Aortic balloon pump operation (procedure)", VSAC_MCS),
    (SNOMED, "700151002", "Temporary implantation of left cardiac ventricular assist device (procedure)", VSAC_MCS),
    (ICD10PCS, "5A1522F", "Extracorporeal Oxygenation, Membrane, Central", VSAC_AKI_PROCEDURES),
    (ICD10PCS, "5A1522G", "Extracorporeal Oxygenation, Membrane, Peripheral Veno-arterial", VSAC_AKI_PROCEDURES),
    (ICD10PCS, "5A1522H", "Extracorporeal Oxygenation, Membrane, Peripheral Veno-venous", VSAC_AKI_PROCEDURES),
    (ICD10PCS, "5A02210", "Assistance with Cardiac Output using Balloon Pump, Continuous", VSAC_MCS),
    (ICD10PCS, "5A02110", "Assistance with Cardiac Output using Balloon Pump, Intermittent", VSAC_MCS),
    (ICD10PCS, "5A0221D", "Assistance with Cardiac Output using Impeller Pump, Continuous", VSAC_MCS),
    (ICD10PCS, "5A0211D", "Assistance with Cardiac Output using Impeller Pump, Intermittent", VSAC_MCS),
    (ICD10PCS, "02HA3RZ", "Insertion of Short-term External Heart Assist System into Heart, Percutaneous Approach", VSAC_MCS),
    (CPT, "33967", "Insertion of intra-aortic balloon assist device, percutaneous", VSAC_MCS),
    (CPT, "33990", "Insertion of ventricular assist device, percutaneous; left heart, arterial access only", VSAC_MCS),
    (CPT, "33991", "Insertion of ventricular assist device, percutaneous; left heart, both arterial and venous access, with transseptal puncture", VSAC_MCS),
    (CPT, "33995", "Insertion of ventricular assist device, percutaneous; right heart, venous access only", VSAC_MCS),
    (CPT, "33946", "ECMO/ECLS provided by physician; initiation, veno-venous", "corroborated: AMA wording in codingahead.com/cpt/codes/33946 and AAP Coding News, CPT 2015 new codes for ECMO/ECLS"),
    (CPT, "33947", "ECMO/ECLS provided by physician; initiation, veno-arterial", "corroborated: AMA wording in codingahead.com/cpt/codes/33947 and AAP Coding News, CPT 2015 new codes for ECMO/ECLS"),
]
# Decision 24: known procedures get short labels on cards. CPT displays are left out where the AMA text was not read.
cabg = ([(SNOMED, "232717009", "Coronary artery bypass grafting (procedure)", VSAC_CABG),
         (CPT, "33510", "Coronary artery bypass, vein only; single coronary venous graft", VSAC_CABG_OR_PCI),
         (CPT, "33533", "Coronary artery bypass, using arterial graft(s); single arterial graft", VSAC_CABG_OR_PCI),
         (CPT, "33536", "Coronary artery bypass, using arterial graft(s); 4 or more coronary arterial grafts", VSAC_CABG_OR_PCI)]
        + [(CPT, c, None, VSAC_CABG_OR_PCI) for c in ["33511", "33512", "33513", "33514", "33516", "33517", "33518", "33519",
                                                      "33521", "33522", "33523", "33534", "33535"]])

resources = [
    value_set("lvef", "LVEF observation codes", "LOINC left ventricular ejection fraction codes (VSAC 2.16.840.1.113883.3.526.3.1134). The view-specific range 104149-0..104256-3 is not enumerated here.", lo(L, *lvef_all)),
    value_set("lvef-method-specific", "LVEF codes with a stated calculation method", "Preferred over other LVEF codes of the same date (biplane, Simpson, 3D, Teichholz, area-length).", lo(L, *method_specific)),
    value_set("lvef-unspecified-method", "LVEF code without a method", "The generic LVEF code; used only when nothing more specific shares its date.", lo(L, "10230-1")),
    value_set("lvesd", "LV end-systolic diameter codes", "LOINC LVIDs codes (DICOM CID 12201/12300). BSA-indexed codes are excluded: they are not in mm.", lo("lvesd", "29438-9", "80011-0", "80012-8")),
    value_set("pasp", "Pulmonary artery systolic pressure codes", "PASP and RV systolic pressure. LOINC 82341-9 (RVSP by echo) is left out: unverified.", lo("pasp", "8440-0") + sn("250768007", "399023006")),
    value_set("mr-assessment", "Mitral regurgitation assessment codes", "Observation.code of an MR severity assessment. LOINC 18113-1 is left out: unverified.", sn("48724000") + lo("mr_grade", "81432-7")),
    value_set("mr-severity", "MR severity qualifiers", "SNOMED severity qualifiers with their place on the 0-4 MR scale (ordinalValue).", sn(*mr_sev), {k: v for k, v in mr_sev.items()}),
    value_set("mr-mechanism", "MR mechanism", "Primary or secondary (ventricular, atrial) mechanism of MR.", mech_codes),
    value_set("primary-mr-disorders", "Disorders that make MR primary", PRIMARY_MR_DESCRIPTION, primary_mr),
    value_set("mr-eroa", "Mitral EROA", "Effective regurgitant orifice area (context only).", lo("mr_quant", "80071-4")),
    value_set("mr-regurgitant-volume", "Mitral regurgitant volume", "Regurgitant volume (context only).", lo("mr_quant", "80064-9", "80063-1")),
    value_set("mr-regurgitant-fraction", "Mitral regurgitant fraction", "Regurgitant fraction (context only).", lo("mr_quant", "80056-5", "80055-7")),
    value_set("lvedv", "LV end-diastolic volume", "LVEDV (context only; indexed volume excluded).", lo("lv_volumes", "18026-5", "79996-5", "79995-7")),
    value_set("nyha-assessment", "NYHA class observation codes", "Observation.code of a NYHA functional class.", lo("nyha", "88020-3")),
    value_set("nyha-class", "NYHA classes", "NYHA class answers (LOINC answer list of 88020-3 and SNOMED findings) with the class as ordinalValue.",
              [(LOINC, k, v, f"LOINC answer list of 88020-3 ({loinc['nyha']['88020-3']['src']})") for k, v in nyha_answers.items()] + sn("420300004", "421704003", "420913000", "422293003"), nyha_ord),
    value_set("hfref-conditions", "HFrEF conditions", "Heart failure with reduced EF and moderate/severe LV systolic dysfunction.",
              sn("703272007", "703275009", "703273002", "703276005", "981000124106", "991000124109", "15629741000119102") + icd("I50.20", "I50.21", "I50.22", "I50.23")),
    value_set("cardiomyopathy-conditions", "Dilated and ischemic cardiomyopathy", "SNOMED 426856002 is left out: sources conflict on its meaning.", sn("399020009") + icd("I25.5", "I42.0")),
    value_set("atrial-fibrillation-conditions", "Atrial fibrillation", "Atrial fibrillation (VSAC AF/Flutter, AF codes only).", sn("49436004") + icd("I48.0", "I48.11", "I48.19", "I48.20", "I48.21", "I48.91")),
    value_set("teer-procedures", "Transcatheter mitral repair (TEER)", "Transcatheter / percutaneous mitral repair. ICD-10-PCS 02UG3JZ is left out: unverified.",
              sn("459691000124101", "1287655005") + cpt("33418", "33419", "0345T")),
    value_set("mitral-surgical-repair", "Surgical mitral repair", "Repair of mitral valve.", sn("384641003")),
    value_set("mitral-replacement", "Mitral valve replacement", "Surgical or transcatheter mitral valve replacement.", sn("53059001", "1287654009", "720583008") + cpt("0483T", "0484T")),
    value_set("surgical-procedure-category", "Surgical procedure category", "ServiceRequest.category of a surgical order (clinical-logic.md, card 7).", [(SNOMED, "387713003", "Surgical procedure (procedure)")]),
    value_set("gdmt-beta-blocker", "Evidence-based HFrEF beta-blockers", GDMT_DESCRIPTIONS["gdmt-beta-blocker"],
              rx_ingredients("gdmt-beta-blocker") + rx_products("carvedilol", "metoprolol succinate", "bisoprolol") + rx_branded("gdmt-beta-blocker")),
    value_set("gdmt-raas-inhibitor", "RAAS inhibition (ARNI, ACE inhibitor, ARB)", GDMT_DESCRIPTIONS["gdmt-raas-inhibitor"],
              rx_ingredients("gdmt-raas-inhibitor")
              + rx_products("sacubitril/valsartan", "lisinopril", "enalapril", "ramipril", "captopril", "losartan", "valsartan", "candesartan")
              + [(RXNORM, c, d, gc.VSAC_1139) for c, d in gc.RAAS_SCD_VSAC_1139] + rx_branded("gdmt-raas-inhibitor")),
    value_set("gdmt-mra", "Mineralocorticoid receptor antagonists", GDMT_DESCRIPTIONS["gdmt-mra"],
              rx_ingredients("gdmt-mra") + rx_products("spironolactone", "eplerenone")
              + [(RXNORM, c, d, src) for c, d, src in gc.MRA_SCD] + rx_branded("gdmt-mra")),
    value_set("gdmt-sglt2-inhibitor", "SGLT2 inhibitors", GDMT_DESCRIPTIONS["gdmt-sglt2-inhibitor"],
              rx_ingredients("gdmt-sglt2-inhibitor") + rx_products("dapagliflozin", "empagliflozin", "sotagliflozin") + rx_branded("gdmt-sglt2-inhibitor")),
    value_set("non-steroidal-mra", "Non-steroidal MRA (finerenone)",
              "Finerenone: a non-steroidal mineralocorticoid receptor antagonist, studied in diabetic kidney disease and in heart "
              "failure with LVEF of 40 % or more; not an HFrEF MRA pillar (decision 24). Recognised so that the card names it as such.",
              rx_products("finerenone")),
    value_set("cardiogenic-shock", "Cardiogenic shock", "An active, confirmed diagnosis of cardiogenic shock marks the acute setting (decision 19).", acute_shock),
    value_set("mechanical-circulatory-support", "Temporary mechanical circulatory support", MCS_DESCRIPTION, mcs),
    value_set("cabg-procedures", "Coronary artery bypass grafting", "CABG, for the short label of a surgical order (decision 24).", cabg),
    value_set("metoprolol-unspecified-salt", "Metoprolol without its salt",
              "Ingredient-level metoprolol (RxNorm IN 6918): it may be the tartrate, which is not an HFrEF beta-blocker, so the record "
              "is ambiguous. Metoprolol succinate and its products are in gdmt-beta-blocker; metoprolol tartrate (Lopressor) is in neither.",
              [(RXNORM, c, f"{n} ({tty})", src) for c, n, tty, src in gc.METOPROLOL_UNSPECIFIED]),
    value_set("card-override-reasons", "Override reasons offered on CdsMitral cards",
              "HL7 non-adherence reason codes (CDS Hooks CI build, trial use) where one fits, and this project's own where none does.",
              [(f"{BASE}/CodeSystem/override-reason", c, d) for c, d, _ in OVERRIDE] + [(HL7_NONADHERENCE, c, d) for c, d in HL7_REASONS]),
    code_system("mr-mechanism", "MR mechanism", "SNOMED CT has no general concept for functional MR; this project's codes say which mechanism was recorded.", MECH),
    code_system("override-reason", "CdsMitral override reasons", "Reasons a clinician may give when dismissing a CdsMitral card, where the HL7 non-adherence reason codes have no fit.", OVERRIDE),
]

def vs_url(vid):
    return f"{BASE}/ValueSet/{vid}"


def profile(pid, title, description, base_type, elements):
    return {
        "resourceType": "StructureDefinition", "id": pid, "url": f"{BASE}/StructureDefinition/{pid}", "version": VERSION,
        "name": "".join(w.capitalize() for w in pid.split("-")), "title": title, "status": "active", "experimental": False,
        "publisher": "CdsMitral", "description": description, "fhirVersion": "4.0.1", "kind": "resource", "abstract": False,
        "type": base_type, "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{base_type}", "derivation": "constraint",
        "differential": {"element": [{"id": e.pop("id", e["path"]), **e} for e in elements]},
    }


def binding(vid, strength="required", description=None):
    b = {"strength": strength, "valueSet": vs_url(vid)}
    if description:
        b["description"] = description
    return b


def observation_profile(pid, title, description, code_vs, value_elements):
    return profile(pid, title, description, "Observation", [
        {"path": "Observation.status", "short": "final, amended or corrected are used; preliminary only when nothing else is on record", "mustSupport": True},
        {"path": "Observation.code", "min": 1, "binding": binding(code_vs), "mustSupport": True},
        {"path": "Observation.subject", "min": 1, "type": [{"code": "Reference", "targetProfile": ["http://hl7.org/fhir/StructureDefinition/Patient"]}], "mustSupport": True},
        {"path": "Observation.effective[x]", "min": 1, "short": "the date of the study; values without one are not used", "mustSupport": True},
        *value_elements,
    ])


def quantity_value(units_short, min_v, max_v):
    return [
        # Decision 17 of 2026-12-07: a valueRange is read as an interval, judged like a comparator.
        {"path": "Observation.value[x]", "min": 1, "type": [{"code": "Quantity"}, {"code": "Range"}],
         "short": f"plausible range {min_v}–{max_v}; outside it the value is not used. A Range is an interval: a criterion is met only when all of it is", "mustSupport": True},
        # Decision 8: unit text alone (%, percent, mm, cm, mmHg, mm Hg, any case) is read, so a UCUM code is not required.
        {"id": "Observation.value[x]:valueQuantity", "path": "Observation.value[x]", "sliceName": "valueQuantity", "type": [{"code": "Quantity"}]},
        {"id": "Observation.value[x]:valueQuantity.system", "path": "Observation.value[x].system", "fixedUri": "http://unitsofmeasure.org"},
        {"id": "Observation.value[x]:valueQuantity.code", "path": "Observation.value[x].code", "short": f"{units_short}; without a UCUM code the unit text is read (%, percent, mm, cm, mmHg, mm Hg, any case)"},
    ]


# The extension every ValueSet concept here carries, defined so that a validator can check it.
resources.append({
    "resourceType": "StructureDefinition", "id": "code-source", "url": CODE_SOURCE, "version": VERSION, "name": "CodeSource",
    "title": "Public source of a code", "status": "active", "experimental": False, "publisher": "CdsMitral",
    "description": "The public source that verified a ValueSet concept: a VSAC value set OID and expansion, an HL7 or DICOM "
                   "value set, an openFDA/DailyMed record, or an RxNorm listing.",
    "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
    "context": [{"type": "element", "expression": "ValueSet.compose.include.concept"}],
    "type": "Extension", "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension", "derivation": "constraint",
    "differential": {"element": [
        {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": CODE_SOURCE},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": "string"}]},
    ]},
})

gdmt_sets = ["gdmt-beta-blocker", "gdmt-raas-inhibitor", "gdmt-mra", "gdmt-sglt2-inhibitor"]
resources.append({
    "resourceType": "ValueSet", "id": "gdmt-medications", "url": vs_url("gdmt-medications"), "version": VERSION, "name": "GdmtMedications",
    "title": "HFrEF GDMT medications (all four classes)", "status": "active", "experimental": False, "publisher": "CdsMitral",
    "description": "The union of the four GDMT class ValueSets, for profile bindings.",
    "compose": {"include": [{"valueSet": [vs_url(v)]} for v in gdmt_sets]},
})
resources += [
    observation_profile("cdsmitral-lvef", "LVEF observation", "Left ventricular ejection fraction as CdsMitral reads it.", "lvef",
                        quantity_value("% (UCUM '%'); a value at most 1 with unit '1' is read as a fraction", 5, 90)),
    observation_profile("cdsmitral-lvesd", "LVESD observation", "Left ventricular end-systolic diameter.", "lvesd",
                        quantity_value("mm (or cm, converted)", 15, 100)),
    observation_profile("cdsmitral-pasp", "PASP observation", "Pulmonary artery systolic pressure (or RV systolic pressure).", "pasp",
                        quantity_value("mm[Hg]", 10, 150)),
    observation_profile("cdsmitral-mr-assessment", "MR assessment observation",
                        "Severity of mitral regurgitation, and optionally its mechanism as a component.", "mr-assessment", [
        {"path": "Observation.value[x]", "min": 1, "type": [{"code": "CodeableConcept"}, {"code": "integer"}],
         "short": "a SNOMED severity qualifier, or an integer grade 0–4; free text is not interpreted", "mustSupport": True},
        {"path": "Observation.component", "slicing": {"discriminator": [{"type": "pattern", "path": "code"}], "rules": "open"}},
        {"id": "Observation.component:mechanism", "path": "Observation.component", "sliceName": "mechanism", "min": 0, "max": "1", "mustSupport": True},
        {"id": "Observation.component:mechanism.code", "path": "Observation.component.code", "patternCodeableConcept": {"coding": [{"system": f"{BASE}/CodeSystem/mr-mechanism", "code": "mechanism"}]}},
        {"id": "Observation.component:mechanism.value[x]", "path": "Observation.component.value[x]", "type": [{"code": "CodeableConcept"}], "binding": binding("mr-mechanism")},
    ]),
    profile("cdsmitral-gdmt-medication-statement", "GDMT medication use (MedicationStatement)",
            "An active MedicationStatement of an HFrEF GDMT medicine, coded in RxNorm (product or ingredient).", "MedicationStatement", [
        {"path": "MedicationStatement.status", "short": "only 'active' counts", "mustSupport": True},
        {"path": "MedicationStatement.medication[x]", "binding": binding("gdmt-medications", "extensible"), "mustSupport": True},
        {"path": "MedicationStatement.subject", "mustSupport": True},
    ]),
    profile("cdsmitral-gdmt-medication-request", "GDMT medication use (MedicationRequest)",
            "An active MedicationRequest of an HFrEF GDMT medicine, coded in RxNorm (product or ingredient).", "MedicationRequest", [
        {"path": "MedicationRequest.status", "short": "only 'active' counts", "mustSupport": True},
        {"path": "MedicationRequest.medication[x]", "binding": binding("gdmt-medications", "extensible"), "mustSupport": True},
        {"path": "MedicationRequest.subject", "mustSupport": True},
    ]),
]


def search(rtype, params, read=False):
    interactions = [{"code": "search-type"}] + ([{"code": "read"}] if read else [])
    return {"type": rtype, "interaction": interactions,
            "searchParam": [{"name": n, "type": t} for n, t in params]}


common = [("patient", "reference"), ("code", "token")]
resources.append({
    "resourceType": "CapabilityStatement", "id": "cdsmitral-fhir-client", "url": f"{BASE}/CapabilityStatement/cdsmitral-fhir-client",
    "version": VERSION, "name": "CdsMitralFhirClient", "title": "What CdsMitral reads from an EHR's FHIR server",
    "status": "active", "experimental": False, "date": "2026-11-21", "publisher": "CdsMitral",
    "description": "When a prefetch key is missing or holds an OperationOutcome, CdsMitral fetches it from the fhirServer of the CDS Hooks request, with the request's bearer token, following Bundle next links on the same server.",
    "kind": "requirements", "fhirVersion": "4.0.1", "format": ["json"],
    "rest": [{"mode": "client", "documentation": "GET only; Accept: application/fhir+json; results are never assumed sorted.", "resource": [
        {"type": "Patient", "interaction": [{"code": "read"}]},
        {**search("Observation", common + [("component-code", "token"), ("_sort", "string"), ("_count", "number")]),
         "supportedProfile": [f"{BASE}/StructureDefinition/cdsmitral-{p}" for p in ["lvef", "lvesd", "pasp", "mr-assessment"]]},
        {**search("MedicationStatement", [("patient", "reference"), ("status", "token")]), "searchInclude": ["MedicationStatement:medication"],
         "supportedProfile": [f"{BASE}/StructureDefinition/cdsmitral-gdmt-medication-statement"]},
        {**search("MedicationRequest", [("patient", "reference"), ("status", "token")]), "searchInclude": ["MedicationRequest:medication"],
         "supportedProfile": [f"{BASE}/StructureDefinition/cdsmitral-gdmt-medication-request"]},
        {"type": "Medication", "interaction": [{"code": "read"}],
         "documentation": "Read by id when a MedicationRequest or MedicationStatement references a Medication the search did not include."},
        search("Condition", common),
        search("Procedure", common),
    ]}],
})

for r in resources:
    (ROOT / f"{r['resourceType']}-{r['id']}.json").write_text(json.dumps(r, indent=2, ensure_ascii=False) + "\n")
print(f"wrote {len(resources)} resources")
