"""The public drug formulary (Da Vinci US Drug Formulary 2.0.1), written to seed-data/formulary/.

Two formularies (commercial, Medicare Part D), the Demo Health Plan products that use them
(usdf-PayerInsurancePlan, with the cost sharing per pharmacy benefit type and drug tier), one
FormularyItem (Basic) per drug and formulary and one FormularyDrug (MedicationKnowledge) per
drug, and the states the plans cover (usdf-InsurancePlanLocation).

Drugs are identified by RxNorm (the USDF semantic-drug slice of MedicationKnowledge.code); the
NDC product codes of the members' pharmacy claims are stated as additional codings of the same
MedicationKnowledge.code (RxNorm first, then NDC), so an NDC resolves to its drug with
`MedicationKnowledge?code=http://hl7.org/fhir/sid/ndc|...`. The tier of each drug the members'
claims dispensed matches the claim: a generic dispensed at the plan's generic copay is on a
generic tier whose copay is that amount (see CLAIM_NDC and TIER_COSTS).

RxNorm codes and names are from published sources (value sets of the eCQM content published
by the NLM's VSAC, the RxNorm codes Synthea uses, the NDC-to-RxNorm crosswalk); see
seed-data/README.md for the claim drugs.
"""

import catalog
from fhirkit import CS, ref, timestamp

USDF = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/"
USDF_VERSION = "2.0.1"
USDFCS = "http://hl7.org/fhir/us/davinci-drug-formulary/CodeSystem/"
TIER_CS = USDFCS + "usdf-DrugTierCS-TEMPORARY-TRIAL-USE"
BENEFIT_CS = USDFCS + "usdf-PharmacyBenefitTypeCS-TEMPORARY-TRIAL-USE"
COST_TYPE_CS = USDFCS + "usdf-BenefitCostTypeCS-TEMPORARY-TRIAL-USE"
COST_SHARE_CS = USDFCS + "usdf-CostShareOptionCS-TEMPORARY-TRIAL-USE"
CONTACT_CS = USDFCS + "usdf-PlanContactTypeCS-TEMPORARY-TRIAL-USE"
RXNORM = CS["rxnorm"]
NDC = CS["ndc"]
DHP = "org-demo-health-plan"
DHP_BASE = catalog.PAYER_BY_ID[DHP][5]


def meta(profile, day, *salt):
    return {"lastUpdated": timestamp(day, profile, *salt), "profile": [USDF + profile + "|" + USDF_VERSION]}


def coding(system, code, display=None):
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def cc(system, code, display=None):
    return {"coding": [coding(system, code, display)]}


def ext(name, **value):
    return dict({"url": USDF + name}, **value)


TIERS = {"preferred-generic": "Preferred Generic", "generic": "Generic", "non-preferred-generic": "Non-preferred Generic",
         "preferred-brand": "Preferred Brand", "brand": "Brand", "non-preferred-brand": "Non-preferred Brand",
         "specialty": "Specialty"}
GENERIC_TIERS = ("preferred-generic", "generic", "non-preferred-generic")
BENEFITS = {"1-month-in-retail": "1 month in network retail", "1-month-out-retail": "1 month out of network retail",
            "3-month-in-retail": "3 month in network retail", "3-month-in-mail": "3 month in network mail order"}

# The drugs the members' pharmacy claims dispense: NDC -> RxNorm. The esomeprazole brand capsule
# (NDC 00186504031) is deliberately absent: Jason Argonaut's claim for it was rejected as not
# covered (NCPDP reject code 70). The two bases of his compounded cream are not formulary items:
# compounds are covered under the compound benefit, at the generic copay.
CLAIM_NDC = {
    "00173068220": "859088",   # Ventolin HFA (brand), albuterol 90 mcg/actuation, 200 actuations
    "00173071920": "896001",   # Flovent HFA (brand), fluticasone propionate 110 mcg/actuation, 120 actuations
    "00093415573": "308189",   # amoxicillin 400 mg/5 mL powder for oral suspension
    "00093104801": "861007",   # metformin hydrochloride 500 mg tablet
    "00172375810": "314076",   # lisinopril 10 mg tablet
    "00378201705": "617310",   # atorvastatin 20 mg tablet
    "00093731456": "309362",   # clopidogrel 75 mg tablet
    "00378018201": "866427",   # metoprolol succinate 25 mg extended-release tablet
    "00093014901": "198014",   # naproxen 500 mg tablet
    "00093714656": "308460",   # azithromycin 250 mg tablet
    "00093738398": "198053",   # omeprazole 20 mg delayed-release capsule
}

# rxcui, RxNorm name, term type, dose form, class, commercial tier, Medicare tier (None: not on it),
# utilization management (PA prior authorization, ST step therapy, QL quantity limit, with a
# limit (count, days) or text)
# Tiers: g generic, pg preferred generic, ng non-preferred generic, pb preferred brand,
# nb non-preferred brand, s specialty.
T = {"g": "generic", "pg": "preferred-generic", "ng": "non-preferred-generic", "pb": "preferred-brand",
     "nb": "non-preferred-brand", "s": "specialty"}
DRUGS = [
    # ---- the claims' drugs
    ("859088", "NDA020983 200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler [Ventolin]", "SBD",
     "Metered Dose Inhaler", "Respiratory", "pb", "pb", {"QL": (2, 30)}),
    ("896001", "120 ACTUAT fluticasone propionate 0.11 MG/ACTUAT Metered Dose Inhaler [Flovent]", "SBD",
     "Metered Dose Inhaler", "Respiratory", "pb", "pb", {"QL": (1, 30)}),
    ("308189", "amoxicillin 80 MG/ML Oral Suspension", "SCD", "Oral Suspension", "Anti-infective", "g", "g", {}),
    ("861007", "metformin hydrochloride 500 MG Oral Tablet", "SCD", "Oral Tablet", "Diabetes", "g", "pg", {}),
    ("314076", "lisinopril 10 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("617310", "atorvastatin 20 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("309362", "clopidogrel 75 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("866427", "24 HR metoprolol succinate 25 MG Extended Release Oral Tablet", "SCD", "Extended Release Oral Tablet",
     "Cardiovascular", "g", "pg", {}),
    ("198014", "naproxen 500 MG Oral Tablet", "SCD", "Oral Tablet", "Pain", "g", "g", {}),
    ("308460", "azithromycin 250 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("198053", "omeprazole 20 MG Delayed Release Oral Capsule", "SCD", "Delayed Release Oral Capsule",
     "Gastrointestinal", "g", "g", {"QL": (30, 30)}),
    # ---- respiratory
    ("2123076", "NDA020983 200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "SCD", "Metered Dose Inhaler",
     "Respiratory", "g", "g", {"QL": (2, 30)}),
    ("745752", "NDA021457 200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler [ProAir]", "SBD",
     "Metered Dose Inhaler", "Respiratory", "nb", "nb", {"QL": (2, 30), "ST": True}),
    ("895996", "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler [Flovent]", "SBD",
     "Metered Dose Inhaler", "Respiratory", "pb", "pb", {"QL": (1, 30)}),
    ("896209", "60 ACTUAT fluticasone propionate 0.25 MG/ACTUAT / salmeterol 0.05 MG/ACTUAT Dry Powder Inhaler",
     "SCD", "Dry Powder Inhaler", "Respiratory", "g", "g", {"QL": (1, 30)}),
    ("245314", "albuterol 5 MG/ML Inhalation Solution", "SCD", "Inhalation Solution", "Respiratory", "g", "g", {}),
    ("351137", "albuterol 0.21 MG/ML Inhalation Solution", "SCD", "Inhalation Solution", "Respiratory", "g", "g", {}),
    ("351109", "budesonide 0.25 MG/ML Inhalation Suspension", "SCD", "Inhalation Suspension", "Respiratory", "g", "g",
     {}),
    ("616830", "budesonide 0.125 MG/ML Inhalation Suspension [Pulmicort]", "SBD", "Inhalation Suspension",
     "Respiratory", "nb", None, {"ST": True}),
    ("1870230", "NDA020800 0.3 ML epinephrine 1 MG/ML Auto-Injector", "SCD", "Auto-Injector", "Allergy", "pb", "pb",
     {"QL": (2, 30)}),
    # ---- cardiovascular
    ("197379", "atenolol 100 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("197380", "atenolol 25 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("197381", "atenolol 50 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("686924", "carvedilol 3.125 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("200031", "carvedilol 6.25 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("200032", "carvedilol 12.5 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("200033", "carvedilol 25 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("866436", "24 HR metoprolol succinate 50 MG Extended Release Oral Tablet", "SCD", "Extended Release Oral Tablet",
     "Cardiovascular", "g", "pg", {}),
    ("866412", "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet", "SCD",
     "Extended Release Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("866419", "24 HR metoprolol succinate 200 MG Extended Release Oral Tablet", "SCD",
     "Extended Release Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("866924", "metoprolol tartrate 25 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("866514", "metoprolol tartrate 50 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("866511", "metoprolol tartrate 100 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("856448", "propranolol hydrochloride 10 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("856457", "propranolol hydrochloride 20 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("856519", "propranolol hydrochloride 40 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("854905", "bisoprolol fumarate 5 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("854901", "bisoprolol fumarate 10 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("896758", "labetalol hydrochloride 100 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("896762", "labetalol hydrochloride 200 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("198006", "nadolol 20 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("387013", "nebivolol 5 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "ng", "g", {"ST": True}),
    ("751612", "nebivolol 10 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "ng", "g", {"ST": True}),
    ("197361", "amlodipine 5 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("308136", "amlodipine 2.5 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("310798", "hydrochlorothiazide 25 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("313988", "furosemide 40 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("979485", "losartan potassium 25 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("855332", "warfarin sodium 5 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("197604", "digoxin 0.125 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "g", {}),
    ("854235", "0.4 ML enoxaparin sodium 100 MG/ML Prefilled Syringe", "SCD", "Prefilled Syringe", "Cardiovascular",
     "g", "g", {"QL": (30, 30)}),
    # ---- lipids
    ("617312", "atorvastatin 10 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("259255", "atorvastatin 80 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("314231", "simvastatin 10 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("312961", "simvastatin 20 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("198211", "simvastatin 40 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("197905", "lovastatin 40 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("859424", "rosuvastatin calcium 5 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("859747", "rosuvastatin calcium 10 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("904475", "pravastatin sodium 40 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("904481", "pravastatin sodium 80 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "g", "pg", {}),
    ("476350", "ezetimibe 10 MG / simvastatin 40 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "ng", "g",
     {"ST": True}),
    ("861648", "pitavastatin calcium 2 MG Oral Tablet", "SCD", "Oral Tablet", "Cardiovascular", "ng", None,
     {"ST": True}),
    # ---- diabetes
    ("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet", "SCD",
     "Extended Release Oral Tablet", "Diabetes", "g", "pg", {}),
    ("897122", "3 ML liraglutide 6 MG/ML Pen Injector", "SCD", "Pen Injector", "Diabetes", "pb", "pb",
     {"PA": True, "QL": (3, 30)}),
    ("1373463", "canagliflozin 100 MG Oral Tablet", "SCD", "Oral Tablet", "Diabetes", "nb", "pb", {"ST": True}),
    ("865098", "insulin lispro 100 UNT/ML Injectable Solution [Humalog]", "SBD", "Injectable Solution", "Diabetes",
     "pb", "pb", {}),
    ("106892", "insulin isophane, human 70 UNT/ML / insulin regular, human 30 UNT/ML Injectable Suspension [Humulin]",
     "SBD", "Injectable Suspension", "Diabetes", "pb", "pb", {}),
    # ---- mental health and neurology
    ("283672", "citalopram 10 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("200371", "citalopram 20 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("309314", "citalopram 40 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("351249", "escitalopram 5 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("349332", "escitalopram 10 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("351250", "escitalopram 20 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("310384", "fluoxetine 10 MG Oral Capsule", "SCD", "Oral Capsule", "Mental health", "g", "g", {}),
    ("310385", "fluoxetine 20 MG Oral Capsule", "SCD", "Oral Capsule", "Mental health", "g", "g", {}),
    ("248642", "fluoxetine 20 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("312940", "sertraline 25 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("312941", "sertraline 50 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("312938", "sertraline 100 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("1738495", "paroxetine hydrochloride 20 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("596926", "duloxetine 20 MG Delayed Release Oral Capsule", "SCD", "Delayed Release Oral Capsule",
     "Mental health", "g", "g", {}),
    ("596930", "duloxetine 30 MG Delayed Release Oral Capsule", "SCD", "Delayed Release Oral Capsule",
     "Mental health", "g", "g", {}),
    ("596934", "duloxetine 60 MG Delayed Release Oral Capsule", "SCD", "Delayed Release Oral Capsule",
     "Mental health", "g", "g", {}),
    ("313585", "24 HR venlafaxine 75 MG Extended Release Oral Capsule", "SCD", "Extended Release Oral Capsule",
     "Mental health", "g", "g", {}),
    ("808753", "24 HR venlafaxine 75 MG Extended Release Oral Tablet", "SCD", "Extended Release Oral Tablet",
     "Mental health", "ng", "g", {"ST": True}),
    ("790288", "24 HR desvenlafaxine 50 MG Extended Release Oral Tablet", "SCD", "Extended Release Oral Tablet",
     "Mental health", "ng", "g", {"ST": True}),
    ("1086772", "vilazodone hydrochloride 10 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "ng", None,
     {"ST": True}),
    ("311725", "mirtazapine 15 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("314111", "mirtazapine 30 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("856377", "trazodone hydrochloride 50 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("856373", "trazodone hydrochloride 100 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("856783", "amitriptyline hydrochloride 10 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("856834", "amitriptyline hydrochloride 25 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {}),
    ("198045", "nortriptyline 10 MG Oral Capsule", "SCD", "Oral Capsule", "Mental health", "g", "g", {}),
    ("317136", "nortriptyline 25 MG Oral Capsule", "SCD", "Oral Capsule", "Mental health", "g", "g", {}),
    ("282401", "lamotrigine 25 MG Oral Tablet", "SCD", "Oral Tablet", "Neurology", "g", "g", {}),
    ("198427", "lamotrigine 100 MG Oral Tablet", "SCD", "Oral Tablet", "Neurology", "g", "g", {}),
    ("483438", "pregabalin 100 MG Oral Capsule", "SCD", "Oral Capsule", "Neurology", "g", "g", {"QL": (90, 30)}),
    ("997223", "donepezil hydrochloride 10 MG Oral Tablet", "SCD", "Oral Tablet", "Neurology", "g", "g", {}),
    ("310436", "galantamine 4 MG Oral Tablet", "SCD", "Oral Tablet", "Neurology", "g", "g", {}),
    ("608139", "atomoxetine 100 MG Oral Capsule", "SCD", "Oral Capsule", "Mental health", "g", None, {"QL": (30, 30)}),
    ("1091392", "methylphenidate hydrochloride 20 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g",
     {"QL": (90, 30)}),
    ("197591", "diazepam 5 MG Oral Tablet", "SCD", "Oral Tablet", "Mental health", "g", "g", {"QL": (120, 30)}),
    # ---- pain
    ("835603", "tramadol hydrochloride 50 MG Oral Tablet", "SCD", "Oral Tablet", "Pain", "g", "g",
     {"QL": (240, 30), "PA-new": True}),
    ("1049221", "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet", "SCD", "Oral Tablet", "Pain", "g",
     "g", {"QL": (180, 30), "PA-new": True}),
    ("857005", "acetaminophen 325 MG / hydrocodone bitartrate 7.5 MG Oral Tablet", "SCD", "Oral Tablet", "Pain", "g",
     "g", {"QL": (180, 30), "PA-new": True}),
    ("197541", "colchicine 0.6 MG Oral Tablet", "SCD", "Oral Tablet", "Pain", "g", "g", {}),
    ("197319", "allopurinol 100 MG Oral Tablet", "SCD", "Oral Tablet", "Pain", "g", "g", {}),
    # ---- anti-infectives
    ("308182", "amoxicillin 250 MG Oral Capsule", "SCD", "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("308191", "amoxicillin 500 MG Oral Capsule", "SCD", "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("308192", "amoxicillin 500 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("308194", "amoxicillin 875 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("313850", "amoxicillin 40 MG/ML Oral Suspension", "SCD", "Oral Suspension", "Anti-infective", "g", "g", {}),
    ("617296", "amoxicillin 500 MG / clavulanate 125 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g",
     "g", {}),
    ("562508", "amoxicillin 875 MG / clavulanate 125 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g",
     "g", {}),
    ("248656", "azithromycin 500 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("308459", "azithromycin 20 MG/ML Oral Suspension", "SCD", "Oral Suspension", "Anti-infective", "g", "g", {}),
    ("749783", "{6 (azithromycin 250 MG Oral Tablet) } Pack", "GPCK", "Pack", "Anti-infective", "g", "g", {}),
    ("309112", "cephalexin 250 MG Oral Capsule", "SCD", "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("309114", "cephalexin 500 MG Oral Capsule", "SCD", "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("200346", "cefdinir 300 MG Oral Capsule", "SCD", "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("309097", "cefuroxime 250 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("309098", "cefuroxime 500 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("197516", "clarithromycin 250 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("197517", "clarithromycin 500 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("197511", "ciprofloxacin 250 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("309309", "ciprofloxacin 500 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("199885", "levofloxacin 500 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("311296", "levofloxacin 750 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("198335", "sulfamethoxazole 800 MG / trimethoprim 160 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective",
     "g", "g", {}),
    ("1650143", "doxycycline hyclate 100 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("1649988", "doxycycline hyclate 100 MG Oral Capsule", "SCD", "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("197518", "clindamycin 150 MG Oral Capsule", "SCD", "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("284215", "clindamycin 300 MG Oral Capsule", "SCD", "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("311681", "metronidazole 500 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("1648755", "nitrofurantoin, macrocrystals 25 MG / nitrofurantoin, monohydrate 75 MG Oral Capsule", "SCD",
     "Oral Capsule", "Anti-infective", "g", "g", {}),
    ("834061", "penicillin V potassium 250 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    ("834102", "penicillin V potassium 500 MG Oral Tablet", "SCD", "Oral Tablet", "Anti-infective", "g", "g", {}),
    # ---- other
    ("312617", "prednisone 5 MG Oral Tablet", "SCD", "Oral Tablet", "Endocrine", "g", "g", {}),
    ("312615", "prednisone 20 MG Oral Tablet", "SCD", "Oral Tablet", "Endocrine", "g", "g", {}),
    ("966222", "levothyroxine sodium 0.075 MG Oral Tablet", "SCD", "Oral Tablet", "Endocrine", "g", "pg", {}),
    ("904419", "alendronic acid 10 MG Oral Tablet", "SCD", "Oral Tablet", "Endocrine", "g", "pg", {}),
    ("979092", "hydroxychloroquine sulfate 200 MG Oral Tablet", "SCD", "Oral Tablet", "Immunology", "g", "g", {}),
    ("105585", "methotrexate 2.5 MG Oral Tablet", "SCD", "Oral Tablet", "Immunology", "g", "g", {}),
    ("1000126", "1 ML medroxyprogesterone acetate 150 MG/ML Injection", "SCD", "Injection", "Women's health", "g",
     None, {}),
    ("198240", "tamoxifen 10 MG Oral Tablet", "SCD", "Oral Tablet", "Oncology", "g", "g", {}),
    ("199224", "anastrozole 1 MG Oral Tablet", "SCD", "Oral Tablet", "Oncology", "g", "g", {}),
    ("200064", "letrozole 2.5 MG Oral Tablet", "SCD", "Oral Tablet", "Oncology", "g", "g", {}),
    ("310261", "exemestane 25 MG Oral Tablet", "SCD", "Oral Tablet", "Oncology", "g", "g", {}),
    # ---- specialty
    ("1601380", "palbociclib 100 MG Oral Capsule", "SCD", "Oral Capsule", "Oncology", "s", "s",
     {"PA": True, "QL": (21, 28)}),
    ("1873983", "ribociclib 200 MG Oral Tablet", "SCD", "Oral Tablet", "Oncology", "s", "s",
     {"PA": True, "QL": (63, 28)}),
    ("672149", "lapatinib 250 MG Oral Tablet", "SCD", "Oral Tablet", "Oncology", "s", "s", {"PA": True}),
    ("2047241", "baricitinib 2 MG Oral Tablet", "SCD", "Oral Tablet", "Immunology", "s", "s",
     {"PA": True, "ST": True, "QL": (30, 30)}),
    ("727711", "0.67 ML anakinra 149 MG/ML Prefilled Syringe", "SCD", "Prefilled Syringe", "Immunology", "s", "s",
     {"PA": True, "QL": (28, 28)}),
    ("360110", "sirolimus 2 MG Oral Tablet", "SCD", "Oral Tablet", "Transplant", "s", "s", {}),
    ("1664463", "24 HR tacrolimus 1 MG Extended Release Oral Tablet", "SCD", "Extended Release Oral Tablet",
     "Transplant", "s", "s", {"PA": True}),
]
DRUG_BY_RXCUI = {d[0]: d for d in DRUGS}
NDCS_BY_RXCUI = {}
for _ndc, _rx in CLAIM_NDC.items():
    NDCS_BY_RXCUI.setdefault(_rx, []).append(_ndc)

# Formularies: id, identifier, name, start, which tier column of DRUGS (5 commercial, 6 Medicare)
FORMULARIES = [
    ("formulary-dhp-commercial", "DHP-RX-COMM", "Demo Health Plan Commercial Formulary", "2019-01-01", 5),
    ("formulary-dhp-medicare", "DHP-RX-PARTD", "Demo Health Plan Medicare Part D Formulary", "2022-01-01", 6),
]

# Cost sharing per tier and pharmacy benefit type: (copay in dollars or None, coinsurance % or None).
# 90-day fills at retail cost the 30-day copay (the members' 90-day claims show it); mail order
# generics cost nothing. Out-of-network retail fills are covered at the in-network copay and the
# plan pays its allowed amount.
COMMERCIAL_COSTS = {"generic": (10, None), "non-preferred-generic": (25, None), "preferred-brand": (30, None),
                    "non-preferred-brand": (60, None), "specialty": (None, 25)}
MEDICARE_COSTS = {"preferred-generic": (5, None), "generic": (12, None), "non-preferred-generic": (25, None),
                  "preferred-brand": (47, None), "non-preferred-brand": (None, 40), "specialty": (None, 33)}

# Demo Health Plan products with drug coverage: ids and names as in the members' Coverage class
# of type plan (the directory's InsurancePlan carries the same identifier).
# id, plan identifier, name, product type, formulary, costs, states, alias, start
PAYER_PLANS = [
    ("payerplan-dhp-gold-ppo", "DHP-GOLD-PPO", "Demo Gold PPO", ("commppo", "Commercial PPO"),
     "formulary-dhp-commercial", COMMERCIAL_COSTS, ("MA", "CO", "IL", "WA", "GA", "NY"), None, "2019-01-01"),
    ("payerplan-dhp-complete-ppo", "DHP-CMP-PPO", "Demo Complete PPO (medical and dental)", ("commppo", "Commercial PPO"),
     "formulary-dhp-commercial", COMMERCIAL_COSTS, ("MA", "CO", "IL", "WA", "GA", "NY"), None, "2019-01-01"),
    ("payerplan-dhp-family-hmo", "DHP-FAM-HMO", "Demo Family HMO", ("commhmo", "Commercial HMO"),
     "formulary-dhp-commercial", COMMERCIAL_COSTS, ("WA",), None, "2019-01-01"),
    ("payerplan-dhp-ma-hmo", "DHP-MA-HMO", "Demo Medicare Advantage HMO", ("mediadvhmo", "Medicare Advantage HMO"),
     "formulary-dhp-medicare", MEDICARE_COSTS, ("IL", "GA"), "Demo Health Plan Medicare Advantage HMO", "2022-01-01"),
    ("payerplan-dhp-ma-ppo", "DHP-MA-PPO", "Demo Medicare Advantage PPO", ("mediadv", "Medicare Advantage"),
     "formulary-dhp-medicare", MEDICARE_COSTS, ("GA", "NC", "TN", "FL", "LA"),
     "Demo Health Plan Medicare Advantage PPO", "2024-01-01"),
]
STATE_NAMES = {"MA": "Massachusetts", "IL": "Illinois", "WA": "Washington", "CO": "Colorado", "GA": "Georgia",
               "NY": "New York", "NC": "North Carolina", "TN": "Tennessee", "FL": "Florida", "LA": "Louisiana"}


def money(dollars):
    return {"value": dollars, "system": "urn:iso:std:iso:4217", "code": "USD"}


def cost_entries(copay, coinsurance, network):
    applicability = cc("http://terminology.hl7.org/CodeSystem/applicability", network,
                       {"in-network": "In Network", "out-of-network": "Out of Network"}[network])
    out = []
    copay_entry = {"type": cc(COST_TYPE_CS, "copay", "Copay"), "applicability": applicability}
    if copay is None:
        copay_entry["qualifiers"] = [cc(COST_SHARE_CS, "copay-not-applicable", "Copay Not Applicable")]
    elif copay == 0:
        copay_entry["qualifiers"] = [cc(COST_SHARE_CS, "no-charge", "No Charge")]
        copay_entry["value"] = money(0)
    else:
        copay_entry["qualifiers"] = [cc(COST_SHARE_CS, "charge", "Charge")]
        copay_entry["value"] = money(copay)
    out.append(copay_entry)
    co = {"type": cc(COST_TYPE_CS, "coinsurance", "Coinsurance"), "applicability": applicability}
    if coinsurance is None:
        co["qualifiers"] = [cc(COST_SHARE_CS, "coinsurance-not-applicable", "Coinsurance Not Applicable")]
    else:
        co["qualifiers"] = [cc(COST_SHARE_CS, "after-deductible", "After Deductible")]
        co["value"] = {"value": coinsurance, "system": "http://unitsofmeasure.org", "code": "%"}
    out.append(co)
    return out


def specific_costs(costs):
    out = []
    for benefit in BENEFITS:
        network = "out-of-network" if "-out-" in benefit else "in-network"
        tiers = []
        for tier, (copay, coinsurance) in costs.items():
            if tier == "specialty" and benefit != "1-month-in-retail":
                continue
            if benefit == "3-month-in-mail" and tier in GENERIC_TIERS:
                copay = 0
            elif benefit == "3-month-in-mail" and copay:
                copay = copay * 2
            tiers.append({"type": cc(TIER_CS, tier, TIERS[tier]), "cost": cost_entries(copay, coinsurance, network)})
        out.append({"category": cc(BENEFIT_CS, benefit, BENEFITS[benefit]), "benefit": tiers})
    return out


def location(state):
    import directory
    lid = "loc-area-" + state.lower()
    res = {"resourceType": "Location", "id": lid, "meta": meta("usdf-InsurancePlanLocation", "2024-01-08", lid)}
    if state in directory.REGION_SHAPES:
        res["extension"] = [directory.region(state)]
    res.update({"status": "active", "name": f"State of {STATE_NAMES[state]}",
                "address": {"state": state, "country": "US"}})
    return res


def formulary(fid, ident, name, start):
    return {"resourceType": "InsurancePlan", "id": fid, "meta": meta("usdf-Formulary", "2025-10-15", fid),
            "identifier": [{"system": DHP_BASE + "/formulary-id", "value": ident}],
            "status": "active",
            "type": [cc("http://terminology.hl7.org/CodeSystem/v3-ActCode", "DRUGPOL", "drug policy")],
            "name": name, "period": {"start": start},
            "plan": [{"type": cc("http://terminology.hl7.org/CodeSystem/insurance-plan-type", "drug", "Drug")}]}


def payer_plan(pid, ident, name, ptype, fid, costs, states, alias, start):
    res = {"resourceType": "InsurancePlan", "id": pid, "meta": meta("usdf-PayerInsurancePlan", "2025-10-15", pid),
           "identifier": [{"system": DHP_BASE + "/plan-id", "value": ident}],
           "status": "active",
           "type": [cc("http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/InsuranceProductTypeCS", *ptype)],
           "name": name}
    if alias:
        res["alias"] = [alias]
    page = DHP_BASE + "/plans/" + ident.lower()
    res.update({
        "period": {"start": start},
        "coverageArea": [ref("Location", "loc-area-" + s.lower()) for s in states],
        "contact": [
            {"purpose": cc(CONTACT_CS, "MARKETING", "Plan Marketing Information"),
             "name": {"use": "official", "text": f"{name} plan information"},
             "telecom": [{"system": "url", "value": page, "use": "work"}]},
            {"purpose": cc(CONTACT_CS, "SUMMARY", "Plan Summary Information"),
             "name": {"text": f"{name} summary of benefits"},
             "telecom": [{"system": "url", "value": page + "/summary-of-benefits", "use": "work"}]},
            {"purpose": cc(CONTACT_CS, "FORMULARY", "Plan Formulary Information"),
             "name": {"text": f"{name} drug formulary"},
             "telecom": [{"system": "url", "value": page + "/formulary", "use": "work"},
                         {"system": "phone", "value": catalog.PAYER_BY_ID[DHP][7], "use": "work"}]}],
        "coverage": [{
            "extension": [ext("usdf-FormularyReference-extension", valueReference=ref("InsurancePlan", fid))],
            "type": cc("http://terminology.hl7.org/CodeSystem/v3-ActCode", "DRUGPOL", "drug policy"),
            "benefit": [{"type": cc("http://terminology.hl7.org/CodeSystem/insurance-plan-type", "drug", "Drug")}]}],
        "plan": [{"type": cc("http://terminology.hl7.org/CodeSystem/insurance-plan-type", "drug", "Drug"),
                  "specificCost": specific_costs(costs)}],
    })
    return res


def drug(d):
    rxcui, name, tty, form = d[0], d[1], d[2], d[3]
    codings = [coding(RXNORM, rxcui, name)]
    codings += [coding(NDC, n) for n in sorted(NDCS_BY_RXCUI.get(rxcui, []))]
    return {"resourceType": "MedicationKnowledge", "id": "formularydrug-" + rxcui,
            "meta": meta("usdf-FormularyDrug", "2025-10-15", rxcui),
            "code": {"coding": codings, "text": name}, "status": "active", "doseForm": {"text": form}}


def item(fid, d, tier, n):
    rxcui, name, tty, form, klass, _, _, um = d
    iid = f"formularyitem-{fid[len('formulary-dhp-'):]}-{rxcui}"
    exts = [ext("usdf-FormularyReference-extension", valueReference=ref("InsurancePlan", fid)),
            ext("usdf-AvailabilityStatus-extension", valueCode="active")]
    if n % 7 == 3 and rxcui not in NDCS_BY_RXCUI:
        exts.append(ext("usdf-AvailabilityPeriod-extension", valuePeriod={"start": "2026-01-01"}))
    benefits = ["1-month-in-retail"] if tier == "specialty" else list(BENEFITS)
    exts += [ext("usdf-PharmacyBenefitType-extension", valueCodeableConcept=cc(BENEFIT_CS, b, BENEFITS[b]))
             for b in benefits]
    exts.append(ext("usdf-DrugTierID-extension", valueCodeableConcept=cc(TIER_CS, tier, TIERS[tier])))
    exts.append(ext("usdf-PriorAuthorization-extension", valueBoolean=bool(um.get("PA") or um.get("PA-new"))))
    if um.get("PA-new"):
        exts.append(ext("usdf-PriorAuthorizationNewStartsOnly-extension", valueBoolean=True))
    exts.append(ext("usdf-StepTherapyLimit-extension", valueBoolean=bool(um.get("ST"))))
    if um.get("ST") and klass == "Mental health":
        exts.append(ext("usdf-StepTherapyLimitNewStartsOnly-extension", valueBoolean=True))
    exts.append(ext("usdf-QuantityLimit-extension", valueBoolean="QL" in um))
    if "QL" in um:
        count, days = um["QL"]
        exts.append(ext("usdf-QuantityLimitDetail-extension", extension=[
            {"url": "Description", "valueString": f"{count} per {days} days"},
            {"url": "Rolling", "valueTiming": {"repeat": {"count": count, "period": days, "periodUnit": "d"}}}]))
    if um.get("ST"):
        exts.append(ext("usdf-AdditionalCoverageInformation-extension", valueMarkdown=(
            "Covered after a trial of a preferred generic alternative in the same class.")))
    return {"resourceType": "Basic", "id": iid, "meta": meta("usdf-FormularyItem", "2025-10-15", iid),
            "extension": exts,
            "code": cc(USDFCS + "usdf-InsuranceItemTypeCS", "formulary-item", "Formulary Item"),
            "subject": ref("MedicationKnowledge", "formularydrug-" + rxcui, name)}


def generate():
    """-> {resource type: [resources]} of the formulary, in a stable order."""
    out = {"InsurancePlan": [], "Basic": [], "MedicationKnowledge": [], "Location": []}
    states = sorted({s for p in PAYER_PLANS for s in p[6]})
    out["Location"] = [location(s) for s in states]
    for fid, ident, name, start, _ in FORMULARIES:
        out["InsurancePlan"].append(formulary(fid, ident, name, start))
    for p in PAYER_PLANS:
        out["InsurancePlan"].append(payer_plan(*p))
    out["MedicationKnowledge"] = [drug(d) for d in DRUGS]
    for fid, _, _, _, column in FORMULARIES:
        for n, d in enumerate(DRUGS):
            if d[column]:
                out["Basic"].append(item(fid, d, T[d[column]], n))
    return out
