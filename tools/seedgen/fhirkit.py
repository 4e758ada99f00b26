"""Small helpers for building FHIR R4 JSON as plain Python dicts.

Everything here is deterministic: no clocks, no global random state.
"""

import hashlib

# ---------------------------------------------------------------- canonicals
C4BB = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/"
USCORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
C4BB_VERSION = "2.0.0"
USCORE_VERSION = "6.1.0"
# PractitionerRole and Location also declare US Core 3.1.1: the PDex 2.0.0 prior authorizations
# (built on US Core 3.1.1) reference them as us-core-practitionerrole / us-core-location, and the
# US Core 6.1.0 clinical resources reference them too; the resources meet both versions.
USCORE_311 = "3.1.1"


def _us(name, *versions):
    return tuple(USCORE + name + "|" + v for v in versions or (USCORE_VERSION,))


PROFILES = {
    "Patient": C4BB + "C4BB-Patient|" + C4BB_VERSION,
    "Coverage": C4BB + "C4BB-Coverage|" + C4BB_VERSION,
    "Organization": C4BB + "C4BB-Organization|" + C4BB_VERSION,
    "Practitioner": C4BB + "C4BB-Practitioner|" + C4BB_VERSION,
    "RelatedPerson": C4BB + "C4BB-RelatedPerson|" + C4BB_VERSION,
    "inpatient": C4BB + "C4BB-ExplanationOfBenefit-Inpatient-Institutional|" + C4BB_VERSION,
    "outpatient": C4BB + "C4BB-ExplanationOfBenefit-Outpatient-Institutional|" + C4BB_VERSION,
    "professional": C4BB + "C4BB-ExplanationOfBenefit-Professional-NonClinician|" + C4BB_VERSION,
    "pharmacy": C4BB + "C4BB-ExplanationOfBenefit-Pharmacy|" + C4BB_VERSION,
    "oral": C4BB + "C4BB-ExplanationOfBenefit-Oral|" + C4BB_VERSION,
    "PractitionerRole": _us("us-core-practitionerrole", USCORE_VERSION, USCORE_311),
    "Location": _us("us-core-location", USCORE_VERSION, USCORE_311),
    # US Core 6.1.0 clinical profiles; Observation and Condition by kind
    "lab": _us("us-core-observation-lab"),
    "blood-pressure": _us("us-core-blood-pressure"),
    "body-height": _us("us-core-body-height"),
    "body-weight": _us("us-core-body-weight"),
    "bmi": _us("us-core-bmi"),
    "heart-rate": _us("us-core-heart-rate"),
    "smoking-status": _us("us-core-smokingstatus"),
    "screening-assessment": _us("us-core-observation-screening-assessment"),
    "problem": _us("us-core-condition-problems-health-concerns"),
    "encounter-diagnosis": _us("us-core-condition-encounter-diagnosis"),
    "Encounter": _us("us-core-encounter"),
    "AllergyIntolerance": _us("us-core-allergyintolerance"),
    "Immunization": _us("us-core-immunization"),
    "MedicationRequest": _us("us-core-medicationrequest"),
    "Procedure": _us("us-core-procedure"),
}

# ---------------------------------------------------------------- code systems
CS = {
    "v2-0203": "http://terminology.hl7.org/CodeSystem/v2-0203",
    "c4bb-id": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType",
    "claim-type": "http://terminology.hl7.org/CodeSystem/claim-type",
    "inst-subtype": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBInstitutionalClaimSubType",
    "adjudication": "http://terminology.hl7.org/CodeSystem/adjudication",
    "c4bb-adj": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication",
    "c4bb-adj-disc": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator",
    "c4bb-status": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayerAdjudicationStatus",
    "c4bb-si": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType",
    "c4bb-careteam": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole",
    "careteam": "http://terminology.hl7.org/CodeSystem/claimcareteamrole",
    "c4bb-dx": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimDiagnosisType",
    "dx": "http://terminology.hl7.org/CodeSystem/ex-diagnosistype",
    "c4bb-px": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimProcedureType",
    "c4bb-payee": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayeeType",
    "payee": "http://terminology.hl7.org/CodeSystem/payeetype",
    "c4bb-related": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBRelatedClaimRelationshipCodes",
    "related": "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship",
    "c4bb-compound": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBCompoundLiteral",
    "c4bb-surface": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSurfaceCodes",
    "coverage-class": "http://terminology.hl7.org/CodeSystem/coverage-class",
    "subscriber-rel": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
    "v3-actcode": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "v3-rolecode": "http://terminology.hl7.org/CodeSystem/v3-RoleCode",
    "dar": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "icd10pcs": "http://www.cms.gov/Medicare/Coding/ICD10",
    "cpt": "http://www.ama-assn.org/go/cpt",
    "hcpcs": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "ndc": "http://hl7.org/fhir/sid/ndc",
    "cdt": "http://www.ada.org/cdt",
    "revenue": "https://www.nubc.org/CodeSystem/RevenueCodes",
    "tob": "https://www.nubc.org/CodeSystem/TypeOfBill",
    "poo": "https://www.nubc.org/CodeSystem/PointOfOrigin",
    "admtype": "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit",
    "discharge": "https://www.nubc.org/CodeSystem/PatDischargeStatus",
    "poa": "https://www.nubc.org/CodeSystem/PresentOnAdmissionIndicator",
    "msdrg": "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software",
    "pos": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
    "carc": "https://x12.org/codes/claim-adjustment-reason-codes",
    "rarc": "https://x12.org/codes/remittance-advice-remark-codes",
    "nucc": "http://nucc.org/provider-taxonomy",
    "daw": "http://terminology.hl7.org/CodeSystem/NCPDPDispensedAsWrittenOrProductSelectionCode",
    "brandgeneric": "http://terminology.hl7.org/CodeSystem/NCPDPBrandGenericIndicator",
    "rxorigin": "http://terminology.hl7.org/CodeSystem/NCPDPPrescriptionOriginCode",
    "compound": "http://terminology.hl7.org/CodeSystem/NCPDPCompoundCode",
    "reject": "http://terminology.hl7.org/CodeSystem/NCPDPRejectCode",
    "ambulance": "https://x12.org/codesystem.x12.org/ambulance-transport-reason-codes",
    "tooth": "http://terminology.hl7.org/CodeSystem/ADAUniversalToothDesignationSystem",
    "oralarea": "http://terminology.hl7.org/CodeSystem/ADAAreaOralCavitySystem",
    "ucum": "http://unitsofmeasure.org",
    "loinc": "http://loinc.org",
    "snomed": "http://snomed.info/sct",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "cvx": "http://hl7.org/fhir/sid/cvx",
    "npi": "http://hl7.org/fhir/sid/us-npi",
    "tax": "urn:oid:2.16.840.1.113883.4.4",
    "naic": "urn:oid:2.16.840.1.113883.6.300",
    "race-eth": "urn:oid:2.16.840.1.113883.6.238",
    "lang": "urn:ietf:bcp:47",
    "obs-category": "http://terminology.hl7.org/CodeSystem/observation-category",
    "us-core-category": "http://hl7.org/fhir/us/core/CodeSystem/us-core-category",
    "cond-category": "http://terminology.hl7.org/CodeSystem/condition-category",
    "us-core-cond-category": "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
    "cond-clinical": "http://terminology.hl7.org/CodeSystem/condition-clinical",
    "cond-verification": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
    "allergy-clinical": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
    "allergy-verification": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
    "interpretation": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
    "mr-category": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
    "act-reason": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    "discharge-disposition": "http://www.nubc.org/patient-discharge",
    "participation-type": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
}


# Lean output (scale mode): no display strings on codings and no zero-valued amounts, to
# keep benchmark data sets small. The curated seed data is never lean.
LEAN = False


def coding(system_key, code, display=None):
    c = {"system": CS.get(system_key, system_key), "code": code}
    if display and not LEAN:
        c["display"] = display
    return c


_CC_CACHE = {}


def cc(system_key, code, display=None, text=None):
    if LEAN:
        # Lean mode shares identical CodeableConcepts between resources (nothing mutates them).
        key = (system_key, code, text)
        hit = _CC_CACHE.get(key)
        if hit is None:
            hit = _CC_CACHE[key] = {"coding": [coding(system_key, code)]}
            if text:
                hit["text"] = text
        return hit
    out = {"coding": [coding(system_key, code, display)]}
    if text:
        out["text"] = text
    return out


def ref(rtype, rid, display=None):
    out = {"reference": f"{rtype}/{rid}"}
    if display:
        out["display"] = display
    return out


def money(cents):
    """Money from integer cents: whole dollars as integers, else two decimals."""
    if cents % 100 == 0:
        value = cents // 100
    else:
        value = round(cents / 100, 2)
    return {"value": value, "currency": "USD"}


def stable_int(*parts, mod=1 << 32):
    h = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") % mod


def timestamp(day, *salt):
    """An instant on `day` (YYYY-MM-DD) with a stable, id-derived time of day."""
    secs = stable_int(day, *salt, mod=10 * 3600) + 7 * 3600  # 07:00..17:00 UTC
    return f"{day}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}Z"


def later(instant, *salt, lo=5, hi=120):
    """An instant a stable number of minutes (lo..hi) after `instant` (YYYY-MM-DDThh:mm:ssZ), the
    same day at the latest."""
    h, m, sec = (int(x) for x in instant[11:19].split(":"))
    secs = min(h * 3600 + m * 60 + sec + 60 * (lo + stable_int(instant, *salt, mod=hi - lo + 1)), 86399)
    return f"{instant[:10]}T{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}Z"


def meta(kind, last_updated):
    profile = PROFILES[kind]
    return {"lastUpdated": last_updated, "profile": list(profile) if isinstance(profile, tuple) else [profile]}


def npi(seed):
    """A 10-digit NPI with a valid Luhn check digit (prefix 80840), from a 9-digit base."""
    base = str(100000000 + seed % 900000000)
    base = ("1" + base[1:]) if base[0] not in "12" else base
    digits = "80840" + base
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    check = (10 - total % 10) % 10
    return base + str(check)


def npi_is_valid(value):
    if len(value) != 10 or not value.isdigit():
        return False
    digits = "80840" + value
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def npi_identifier(value):
    return {
        "type": cc("v2-0203", "NPI", "National provider identifier"),
        "system": CS["npi"],
        "value": value,
    }


def tax_identifier(value):
    return {
        "type": cc("v2-0203", "TAX", "Tax ID number"),
        "system": CS["tax"],
        "value": value,
    }


def us_core_race(code, display):
    return {
        "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
        "extension": [
            {"url": "ombCategory", "valueCoding": coding("race-eth", code, display)},
            {"url": "text", "valueString": display},
        ],
    }


def us_core_ethnicity(code, display):
    return {
        "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
        "extension": [
            {"url": "ombCategory", "valueCoding": coding("race-eth", code, display)},
            {"url": "text", "valueString": display},
        ],
    }


def us_core_birthsex(code):
    return {
        "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
        "valueCode": code,
    }
