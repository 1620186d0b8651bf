"""RxNorm codes of the four HFrEF GDMT classes beyond the clinical drugs (SCD) listed in
../shared/reference/gdmt-rxnorm-products.json: ingredients (IN/PIN/MIN), branded drugs (SBD) and packs, further ACE
inhibitor / ARB clinical drugs, and the metoprolol ingredient whose salt is unknown.

Every code names the public source it was read in (found with the project's search tool, 2026-11-28). A code that no
public source confirmed is not here; build-profiles.py's docstring and the ValueSet descriptions say what is missing.
"""

# --- Sources -------------------------------------------------------------------------------------------------------
VSAC_1489 = "VSAC 2.16.840.1.113883.3.526.3.1489 (ACE Inhibitor or ARB or ARNI Ingredient), eCQM Update 2025-05-08 expansion"
VSAC_1493 = "VSAC 2.16.840.1.113883.3.526.3.1493 (Beta Blocker Therapy Ingredient), eCQM Update 2025-05-08 expansion"
VSAC_1139 = "VSAC 2.16.840.1.113883.3.526.3.1139 (ACE Inhibitor or ARB or ARNI), eCQM Update 2025-05-08 expansion"
PDDI_EPLERENONE = "HL7 PDDI CDS IG ValueSet http://hl7.org/fhir/uv/pddi/ValueSet/valueset-eplerenone (RxNorm 2018-07)"
PDDI_SPIRONOLACTONE = "HL7 PDDI CDS IG ValueSet http://hl7.org/fhir/uv/pddi/ValueSet/valueset-spironolactone (RxNorm 2018-07)"
ENGAGE_HF = ("ENGAGE-HF (Stanford), RxNav-derived medication list: github.com/StanfordBDHG/ENGAGE-HF-Firebase "
             "functions/data/medications.json @411de15")
HL7_SMP_EXAMPLE = "HL7 Standardized Medication Profile IG example MedicationStatement (RxNorm 1545664 'empagliflozin 10 MG Oral Tablet [Jardiance]')"


def openfda(product_ndc, brand, labeler):
    """openFDA NDC directory record: its openfda.rxcui lists the RxNorm codes NLM maps to that brand's SPL."""
    return (f"openFDA NDC https://api.fda.gov/drug/ndc.json?search=product_ndc:%22{product_ndc}%22 "
            f"({brand}, {labeler}; openfda.rxcui)")


# --- Ingredients (IN / PIN / MIN) --------------------------------------------------------------------------------
# (code, display, term type, source)
INGREDIENTS = {
    "gdmt-beta-blocker": [
        ("20352", "carvedilol", "IN", VSAC_1493),
        ("668310", "carvedilol phosphate", "PIN", ENGAGE_HF),
        ("221124", "metoprolol succinate", "PIN", ENGAGE_HF),
        ("19484", "bisoprolol", "IN", VSAC_1493),
    ],
    "gdmt-raas-inhibitor": [
        ("1656328", "sacubitril", "IN", VSAC_1489),
        ("1656339", "sacubitril / valsartan", "MIN", ENGAGE_HF),
        ("69749", "valsartan", "IN", VSAC_1489),
        ("29046", "lisinopril", "IN", VSAC_1489),
        ("3827", "enalapril", "IN", VSAC_1489),
        ("35296", "ramipril", "IN", VSAC_1489),
        ("1998", "captopril", "IN", VSAC_1489),
        ("52175", "losartan", "IN", VSAC_1489),
        ("203160", "losartan potassium", "PIN", ENGAGE_HF),
        ("214354", "candesartan", "IN", VSAC_1489),
        # The other ACE inhibitors and ARBs of the VSAC ingredient set: the clinical spec's pillar is any ACEi or ARB.
        ("18867", "benazepril", "IN", VSAC_1489),
        ("50166", "fosinopril", "IN", VSAC_1489),
        ("227278", "fosinopril sodium", "PIN", ENGAGE_HF),
        ("30131", "moexipril", "IN", VSAC_1489),
        ("54552", "perindopril", "IN", VSAC_1489),
        ("35208", "quinapril", "IN", VSAC_1489),
        ("38454", "trandolapril", "IN", VSAC_1489),
        ("1091643", "azilsartan", "IN", VSAC_1489),
        ("1091642", "azilsartan medoxomil", "PIN", ENGAGE_HF),
        ("83515", "eprosartan", "IN", VSAC_1489),
        ("83818", "irbesartan", "IN", VSAC_1489),
        ("321064", "olmesartan", "IN", VSAC_1489),
        ("118463", "olmesartan medoxomil", "PIN", ENGAGE_HF),
        ("73494", "telmisartan", "IN", VSAC_1489),
    ],
    "gdmt-mra": [
        ("9997", "spironolactone", "IN", PDDI_SPIRONOLACTONE),
        ("298869", "eplerenone", "IN", PDDI_EPLERENONE),
    ],
    "gdmt-sglt2-inhibitor": [
        ("1488564", "dapagliflozin", "IN", ENGAGE_HF),
        ("1545653", "empagliflozin", "IN", ENGAGE_HF),
        ("2638675", "sotagliflozin", "IN", ENGAGE_HF),
    ],
}

# Ingredient-level metoprolol: the salt (succinate or tartrate) is unknown.
METOPROLOL_UNSPECIFIED = [("6918", "metoprolol", "IN", VSAC_1493)]

# --- Branded drugs (SBD) and packs -----------------------------------------------------------------------------------
# (code, display or None, source). A display is given only where a source showed the RxNorm name; the openFDA records
# give the codes of a brand's products but not which code is which strength.
_COREG = openfda("80725-139", "Coreg tablets", "Waylis Therapeutics")
_COREG_CR = openfda("80725-387", "Coreg CR capsules", "Waylis Therapeutics")
_TOPROL = openfda("70842-113", "TOPROL XL", "Melinta Therapeutics")
_ZESTRIL = openfda("24979-241", "Zestril", "Upsher-Smith")
_ZESTORETIC = openfda("52427-435", "Zestoretic", "Almatica")
_DIOVAN = openfda("0078-1259", "Diovan", "Novartis")
_DIOVAN_HCT = openfda("0078-0471", "Diovan HCT", "Novartis")
_ATACAND_HCT = openfda("62559-651", "ATACAND HCT", "ANI")
_INSPRA = openfda("58151-143", "Inspra", "Viatris")
_JARDIANCE = openfda("55154-0412", "Jardiance 10 and 25 mg", "Cardinal Health")
_JARDIANCE_25 = openfda("67296-2324", "Jardiance 25 mg", "Redpharm")
_INPEFA = openfda("70183-241", "INPEFA", "Lexicon")
_ENTRESTO_97 = openfda("71610-807", "ENTRESTO 97/103 mg", "Aphena")
_RXNCONSO_SAMPLE = "RxNorm RXNCONSO.RRF record quoted in a public KGTK/Wikidata RxNorm mapping notebook (SBD 1656346)"
_RXREF = ("rxref R package README (github.com/ssmithm/rxref): RxNav products of lisinopril (RxCUI 29046) with their "
          "term types")
_US_CORE_MED1 = "HL7 US Core IG example Medication uscore-med1 (RxNorm 206765 'Lisinopril 10 MG Oral Tablet [Prinivil]')"
_ALTACE_VS = "ValueSet AceInhibitorVS expansion (2015) in github.com/reason-healthcare/simple-interactive-cds; a FHIR IG FSH example"
_ALTACE_10 = "SMART on FHIR sample medication lists and the SMART Pillbox RxNorm name map (public repositories)"
_PILLBOX = "SMART Pillbox RxNorm name map (public repository)"
_COZAAR = "two public RxNorm name tables agree (an RxNav auto-import table; a sample SQL medication list)"
_FARXIGA = ("two public code lists agree (JSL Spark NLP RxNorm resolver output; an SGLT2 value-set module 'confirmed via "
            "RxNav'); no NLM/FDA page with these codes was found")

BRANDED = {
    "gdmt-beta-blocker": [
        ("212388", None, _COREG), ("212389", None, _COREG), ("212390", None, _COREG), ("686926", None, _COREG),
        ("860512", None, _COREG_CR), ("860518", None, _COREG_CR), ("860524", None, _COREG_CR), ("860534", None, _COREG_CR),
        ("866414", None, _TOPROL), ("866421", None, _TOPROL), ("866429", None, _TOPROL),
        ("866438", "24 HR metoprolol succinate 50 MG Extended Release Oral Tablet [Toprol]", _TOPROL),
    ],
    "gdmt-raas-inhibitor": [
        ("1656346", "sacubitril 24 MG / valsartan 26 MG Oral Tablet [Entresto]", _RXNCONSO_SAMPLE),
        ("1656356", "sacubitril 97 MG / valsartan 103 MG Oral Tablet [Entresto]", _ENTRESTO_97),
        ("104375", "lisinopril 2.5 MG Oral Tablet [Zestril]", f"{_ZESTRIL}; {_RXREF}"),
        ("104376", "lisinopril 5 MG Oral Tablet [Zestril]", f"{_ZESTRIL}; {_RXREF}"),
        ("104377", "lisinopril 10 MG Oral Tablet [Zestril]", f"{_ZESTRIL}; {_RXREF}"),
        ("104378", "lisinopril 20 MG Oral Tablet [Zestril]", f"{_ZESTRIL}; {_RXREF}"),
        ("206771", "lisinopril 40 MG Oral Tablet [Zestril]", f"{_ZESTRIL}; {_RXREF}"),
        ("213482", "lisinopril 30 MG Oral Tablet [Zestril]", f"{_ZESTRIL}; {_RXREF}"),
        ("206765", "lisinopril 10 MG Oral Tablet [Prinivil]", f"{_US_CORE_MED1}; {_RXREF}"),
        ("206766", "lisinopril 20 MG Oral Tablet [Prinivil]", _RXREF),
        ("1806890", "lisinopril 1 MG/ML Oral Solution [Qbrelis]", _RXREF),
        ("823971", "hydrochlorothiazide 25 MG / lisinopril 20 MG Oral Tablet [Zestoretic]", f"{_ZESTORETIC}; {_RXREF}"),
        ("823982", "hydrochlorothiazide 12.5 MG / lisinopril 20 MG Oral Tablet [Zestoretic]", f"{_ZESTORETIC}; {_RXREF}"),
        ("823986", "hydrochlorothiazide 12.5 MG / lisinopril 10 MG Oral Tablet [Zestoretic]", f"{_ZESTORETIC}; {_RXREF}"),
        ("351761", "valsartan 80 MG Oral Tablet [Diovan]", f"{_DIOVAN}; {_PILLBOX}"), ("351762", None, _DIOVAN), ("352001", None, _DIOVAN), ("352274", None, _DIOVAN),
        ("809014", None, _DIOVAN_HCT),
        ("805855", None, _ATACAND_HCT), ("805859", None, _ATACAND_HCT), ("805863", None, _ATACAND_HCT),
        ("104384", "ramipril 2.5 MG Oral Capsule [Altace]", _ALTACE_VS),
        ("260333", "Ramipril 10 MG Oral Capsule [Altace]", _ALTACE_10),
        ("979482", "losartan potassium 100 MG Oral Tablet [Cozaar]", _COZAAR),
    ],
    "gdmt-mra": [
        ("402105", "eplerenone 50 MG Oral Tablet [Inspra]", f"{PDDI_EPLERENONE}; {_INSPRA}"),
        ("402106", "eplerenone 25 MG Oral Tablet [Inspra]", f"{PDDI_EPLERENONE}; {_INSPRA}"),
        ("200817", "Spironolactone 50 MG Oral Tablet [Aldactone]", PDDI_SPIRONOLACTONE),
        ("200820", "Spironolactone 25 MG Oral Tablet [Aldactone]", PDDI_SPIRONOLACTONE),
        ("200825", "Spironolactone 100 MG Oral Tablet [Aldactone]", PDDI_SPIRONOLACTONE),
        ("208112", "Hydrochlorothiazide 25 MG / Spironolactone 25 MG Oral Tablet [Aldactazide]", PDDI_SPIRONOLACTONE),
        ("208116", "Hydrochlorothiazide 50 MG / Spironolactone 50 MG Oral Tablet [Aldactazide]", PDDI_SPIRONOLACTONE),
    ],
    "gdmt-sglt2-inhibitor": [
        ("1545664", "empagliflozin 10 MG Oral Tablet [Jardiance]", f"{_JARDIANCE}; {HL7_SMP_EXAMPLE}"),
        ("1545668", "empagliflozin 25 MG Oral Tablet [Jardiance]", f"{_JARDIANCE_25}; {_JARDIANCE}"),
        ("1486977", "dapagliflozin 10 MG Oral Tablet [Farxiga]", _FARXIGA),
        ("1486981", "dapagliflozin 5 MG Oral Tablet [Farxiga]", _FARXIGA),
        ("2638689", None, _INPEFA), ("2638693", None, _INPEFA),
    ],
}

# --- Further clinical drugs (SCD) ------------------------------------------------------------------------------------
# Spironolactone and eplerenone clinical drugs of the HL7 PDDI value sets that gdmt-rxnorm-products.json lacks
# (older suspensions and combinations with other diuretics; a record coded so still names an MRA).
MRA_SCD = [
    ("351258", "eplerenone 100 MG Oral Tablet", PDDI_EPLERENONE),
    ("104230", "Spironolactone 1 MG/ML Oral Suspension", PDDI_SPIRONOLACTONE),
    ("104231", "Spironolactone 2 MG/ML Oral Suspension", PDDI_SPIRONOLACTONE),
    ("104233", "Spironolactone 10 MG/ML Oral Suspension", PDDI_SPIRONOLACTONE),
    ("250376", "Hydroflumethiazide 25 MG / Spironolactone 25 MG Oral Tablet", PDDI_SPIRONOLACTONE),
    ("250377", "Hydroflumethiazide 50 MG / Spironolactone 50 MG Oral Tablet", PDDI_SPIRONOLACTONE),
    ("246399", "Furosemide 20 MG / Spironolactone 50 MG Oral Capsule", PDDI_SPIRONOLACTONE),
]

# ACE inhibitor / ARB / ARNI clinical drugs of VSAC 1139 that gdmt-rxnorm-products.json lacks: the other ACE
# inhibitors and ARBs (benazepril, fosinopril, moexipril, perindopril, quinapril, trandolapril, azilsartan, eprosartan,
# irbesartan, olmesartan, telmisartan) and combinations (e.g. valsartan/HCTZ, amlodipine/valsartan). (code, display)
RAAS_SCD_VSAC_1139 = [
    ("1000001", "amlodipine 5 MG / hydrochlorothiazide 25 MG / olmesartan medoxomil 40 MG Oral Tablet"),
    ("1091646", "azilsartan medoxomil 40 MG Oral Tablet"),
    ("1091652", "azilsartan medoxomil 80 MG Oral Tablet"),
    ("1235144", "azilsartan medoxomil 40 MG / chlorthalidone 12.5 MG Oral Tablet"),
    ("1235151", "azilsartan medoxomil 40 MG / chlorthalidone 25 MG Oral Tablet"),
    ("1299859", "hydrochlorothiazide 12.5 MG / moexipril hydrochloride 15 MG Oral Tablet"),
    ("1299871", "hydrochlorothiazide 12.5 MG / moexipril hydrochloride 7.5 MG Oral Tablet"),
    ("1299890", "hydrochlorothiazide 25 MG / moexipril hydrochloride 15 MG Oral Tablet"),
    ("1299896", "moexipril hydrochloride 15 MG Oral Tablet"),
    ("1299897", "moexipril hydrochloride 7.5 MG Oral Tablet"),
    ("1600716", "amlodipine 10 MG / perindopril arginine 14 MG Oral Tablet"),
    ("1600724", "amlodipine 2.5 MG / perindopril arginine 3.5 MG Oral Tablet"),
    ("1600728", "amlodipine 5 MG / perindopril arginine 7 MG Oral Tablet"),
    ("1798281", "nebivolol 5 MG / valsartan 80 MG Oral Tablet"),
    ("199351", "trandolapril 2 MG Oral Tablet"),
    ("199352", "trandolapril 4 MG Oral Tablet"),
    ("199353", "trandolapril 1 MG Oral Tablet"),
    ("200094", "irbesartan 75 MG Oral Tablet"),
    ("200095", "irbesartan 150 MG Oral Tablet"),
    ("200096", "irbesartan 300 MG Oral Tablet"),
    ("200284", "hydrochlorothiazide 12.5 MG / valsartan 80 MG Oral Tablet"),
    ("200285", "hydrochlorothiazide 12.5 MG / valsartan 160 MG Oral Tablet"),
    ("205304", "telmisartan 40 MG Oral Tablet"),
    ("205305", "telmisartan 80 MG Oral Tablet"),
    ("282755", "telmisartan 20 MG Oral Tablet"),
    ("283316", "hydrochlorothiazide 12.5 MG / telmisartan 40 MG Oral Tablet"),
    ("283317", "hydrochlorothiazide 12.5 MG / telmisartan 80 MG Oral Tablet"),
    ("310140", "eprosartan 600 MG Oral Tablet"),
    ("310792", "hydrochlorothiazide 12.5 MG / irbesartan 150 MG Oral Tablet"),
    ("310793", "hydrochlorothiazide 12.5 MG / irbesartan 300 MG Oral Tablet"),
    ("310796", "hydrochlorothiazide 12.5 MG / quinapril 10 MG Oral Tablet"),
    ("310797", "hydrochlorothiazide 12.5 MG / quinapril 20 MG Oral Tablet"),
    ("310809", "hydrochlorothiazide 25 MG / quinapril 20 MG Oral Tablet"),
    ("312748", "quinapril 10 MG Oral Tablet"),
    ("312749", "quinapril 20 MG Oral Tablet"),
    ("312750", "quinapril 5 MG Oral Tablet"),
    ("314203", "quinapril 40 MG Oral Tablet"),
    ("349353", "hydrochlorothiazide 25 MG / valsartan 160 MG Oral Tablet"),
    ("349373", "olmesartan medoxomil 5 MG Oral Tablet"),
    ("349401", "olmesartan medoxomil 20 MG Oral Tablet"),
    ("349405", "olmesartan medoxomil 40 MG Oral Tablet"),
    ("351292", "eprosartan 600 MG / hydrochlorothiazide 12.5 MG Oral Tablet"),
    ("351293", "eprosartan 600 MG / hydrochlorothiazide 25 MG Oral Tablet"),
    ("403853", "hydrochlorothiazide 12.5 MG / olmesartan medoxomil 20 MG Oral Tablet"),
    ("403854", "hydrochlorothiazide 12.5 MG / olmesartan medoxomil 40 MG Oral Tablet"),
    ("403855", "hydrochlorothiazide 25 MG / olmesartan medoxomil 40 MG Oral Tablet"),
    ("477130", "hydrochlorothiazide 25 MG / telmisartan 80 MG Oral Tablet"),
    ("485471", "hydrochlorothiazide 25 MG / irbesartan 300 MG Oral Tablet"),
    ("636042", "hydrochlorothiazide 12.5 MG / valsartan 320 MG Oral Tablet"),
    ("636045", "hydrochlorothiazide 25 MG / valsartan 320 MG Oral Tablet"),
    ("722126", "amlodipine 10 MG / valsartan 160 MG Oral Tablet"),
    ("722131", "amlodipine 10 MG / valsartan 320 MG Oral Tablet"),
    ("722134", "amlodipine 5 MG / valsartan 160 MG Oral Tablet"),
    ("722137", "amlodipine 5 MG / valsartan 320 MG Oral Tablet"),
    ("730861", "amlodipine 10 MG / olmesartan medoxomil 20 MG Oral Tablet"),
    ("730866", "amlodipine 10 MG / olmesartan medoxomil 40 MG Oral Tablet"),
    ("730869", "amlodipine 5 MG / olmesartan medoxomil 20 MG Oral Tablet"),
    ("730872", "amlodipine 5 MG / olmesartan medoxomil 40 MG Oral Tablet"),
    ("848131", "amlodipine 10 MG / hydrochlorothiazide 12.5 MG / valsartan 160 MG Oral Tablet"),
    ("848135", "amlodipine 10 MG / hydrochlorothiazide 25 MG / valsartan 320 MG Oral Tablet"),
    ("848140", "amlodipine 5 MG / hydrochlorothiazide 12.5 MG / valsartan 160 MG Oral Tablet"),
    ("848145", "amlodipine 5 MG / hydrochlorothiazide 25 MG / valsartan 160 MG Oral Tablet"),
    ("848151", "amlodipine 10 MG / hydrochlorothiazide 25 MG / valsartan 160 MG Oral Tablet"),
    ("854925", "perindopril erbumine 8 MG Oral Tablet"),
    ("854984", "perindopril erbumine 2 MG Oral Tablet"),
    ("854988", "perindopril erbumine 4 MG Oral Tablet"),
    ("857166", "fosinopril sodium 10 MG / hydrochlorothiazide 12.5 MG Oral Tablet"),
    ("857169", "fosinopril sodium 10 MG Oral Tablet"),
    ("857174", "fosinopril sodium 20 MG / hydrochlorothiazide 12.5 MG Oral Tablet"),
    ("857183", "fosinopril sodium 20 MG Oral Tablet"),
    ("857187", "fosinopril sodium 40 MG Oral Tablet"),
    ("876514", "amlodipine 10 MG / telmisartan 40 MG Oral Tablet"),
    ("876519", "amlodipine 10 MG / telmisartan 80 MG Oral Tablet"),
    ("876524", "amlodipine 5 MG / telmisartan 40 MG Oral Tablet"),
    ("876529", "amlodipine 5 MG / telmisartan 80 MG Oral Tablet"),
    ("897781", "24 HR trandolapril 1 MG / verapamil hydrochloride 240 MG Extended Release Oral Tablet"),
    ("897783", "24 HR trandolapril 2 MG / verapamil hydrochloride 180 MG Extended Release Oral Tablet"),
    ("897844", "24 HR trandolapril 2 MG / verapamil hydrochloride 240 MG Extended Release Oral Tablet"),
    ("897853", "24 HR trandolapril 4 MG / verapamil hydrochloride 240 MG Extended Release Oral Tablet"),
    ("898342", "amlodipine 10 MG / benazepril hydrochloride 20 MG Oral Capsule"),
    ("898346", "amlodipine 10 MG / benazepril hydrochloride 40 MG Oral Capsule"),
    ("898350", "amlodipine 2.5 MG / benazepril hydrochloride 10 MG Oral Capsule"),
    ("898353", "amlodipine 5 MG / benazepril hydrochloride 10 MG Oral Capsule"),
    ("898356", "amlodipine 5 MG / benazepril hydrochloride 20 MG Oral Capsule"),
    ("898359", "amlodipine 5 MG / benazepril hydrochloride 40 MG Oral Capsule"),
    ("898362", "benazepril hydrochloride 10 MG / hydrochlorothiazide 12.5 MG Oral Tablet"),
    ("898367", "benazepril hydrochloride 20 MG / hydrochlorothiazide 12.5 MG Oral Tablet"),
    ("898372", "benazepril hydrochloride 20 MG / hydrochlorothiazide 25 MG Oral Tablet"),
    ("898378", "benazepril hydrochloride 5 MG / hydrochlorothiazide 6.25 MG Oral Tablet"),
    ("898687", "benazepril hydrochloride 10 MG Oral Tablet"),
    ("898690", "benazepril hydrochloride 20 MG Oral Tablet"),
    ("898719", "benazepril hydrochloride 40 MG Oral Tablet"),
    ("898723", "benazepril hydrochloride 5 MG Oral Tablet"),
    ("999967", "amlodipine 5 MG / hydrochlorothiazide 12.5 MG / olmesartan medoxomil 20 MG Oral Tablet"),
    ("999986", "amlodipine 10 MG / hydrochlorothiazide 12.5 MG / olmesartan medoxomil 40 MG Oral Tablet"),
    ("999991", "amlodipine 10 MG / hydrochlorothiazide 25 MG / olmesartan medoxomil 40 MG Oral Tablet"),
    ("999996", "amlodipine 5 MG / hydrochlorothiazide 12.5 MG / olmesartan medoxomil 40 MG Oral Tablet"),
]
