"""Value set membership for the required bindings of the CARIN BB, PDex and US Core profiles.

Value sets and code systems of the IG come from the extracted package. External code
systems (ICD-10, CPT, NDC, NUBC, X12, ...) cannot be enumerated offline, so membership is
decided by system, plus a format check of the code where the format is well defined.
The base FHIR value sets that the profiles bind with strength `required` are built in. A
value set that includes a code system by filter (SNOMED CT is-a, LOINC class) cannot be
expanded offline: any code of that system is accepted for it.
"""

import re

EXTERNAL_FORMATS = {
    "http://hl7.org/fhir/sid/icd-10-cm": r"[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?",
    "http://terminology.hl7.org/CodeSystem/icd9": r"[0-9EV][0-9]{2,3}(\.[0-9]{1,2})?",
    "http://www.cms.gov/Medicare/Coding/ICD10": r"[0-9A-HJ-NP-Z]{7}",
    "http://www.ama-assn.org/go/cpt": r"[0-9]{4}[0-9FTU]|[0-9A-Z]{2}",
    "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": r"[A-V][0-9]{4}|[0-9A-Z]{2}",
    # Da Vinci PAS 2.0.1 spells the HCPCS system with http.
    "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": r"[A-V][0-9]{4}|[0-9A-Z]{2}",
    "https://x12.org/codes/service-type-codes": r"[0-9A-Z]{1,2}",
    "http://hl7.org/fhir/sid/ndc": r"[0-9]{11}|[0-9]{4,5}-[0-9]{3,4}-[0-9]{1,2}",
    "http://www.ada.org/cdt": r"D[0-9]{4}",
    "https://www.nubc.org/CodeSystem/RevenueCodes": r"[0-9]{4}",
    "https://www.nubc.org/CodeSystem/TypeOfBill": r"0?[0-9]{3}",
    "https://www.nubc.org/CodeSystem/PointOfOrigin": r"[0-9A-Z]",
    "https://www.nubc.org/CodeSystem/PointOfOriginNewborn": r"[0-9A-Z]",
    "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit": r"[1-59]",
    "https://www.nubc.org/CodeSystem/PatDischargeStatus": r"[0-9]{2}",
    "https://www.nubc.org/CodeSystem/PresentOnAdmissionIndicator": r"[YNUW1]",
    "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/MS-DRG-Classifications-and-Software": r"[0-9]{3}",
    "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set": r"[0-9]{2}",
    "https://x12.org/codes/claim-adjustment-reason-codes": r"[A-Z]?[0-9]{1,3}",
    "https://x12.org/codes/remittance-advice-remark-codes": r"[A-Z]{1,2}[0-9]{1,3}",
    "https://x12.org/codesystem.x12.org/ambulance-transport-reason-codes": r"[A-E]",
    "http://nucc.org/provider-taxonomy": r"[0-9]{3}[0-9A-Z]{6}X",
    "http://terminology.hl7.org/CodeSystem/ADAUniversalToothDesignationSystem": r"[1-9]|[12][0-9]|3[0-2]|[A-T]",
    "http://terminology.hl7.org/CodeSystem/ADAAreaOralCavitySystem": r"00|01|02|09|10|20|30|40|L|R",
    "http://terminology.hl7.org/CodeSystem/NCPDPDispensedAsWrittenOrProductSelectionCode": r"[0-9]",
    "http://terminology.hl7.org/CodeSystem/NCPDPBrandGenericIndicator": r"[12]",
    "http://terminology.hl7.org/CodeSystem/NCPDPPrescriptionOriginCode": r"[0-5]",
    "http://terminology.hl7.org/CodeSystem/NCPDPCompoundCode": r"[0-2]",
    "http://terminology.hl7.org/CodeSystem/NCPDPRejectCode": r"[0-9A-Z]{2,3}",
    # the clinical resources' code systems
    "http://loinc.org": r"[0-9]{1,7}-[0-9]|L[AP][0-9]{1,7}-[0-9]",
    "http://snomed.info/sct": r"[1-9][0-9]{5,17}",
    "http://www.nlm.nih.gov/research/umls/rxnorm": r"[1-9][0-9]{0,9}",
    "http://hl7.org/fhir/sid/cvx": r"[0-9]{1,3}",
    "http://unitsofmeasure.org": r"[!-~]+",
}
EXTERNAL_FORMATS = {k: re.compile(f"(?:{v})\\Z") for k, v in EXTERNAL_FORMATS.items()}

# Base FHIR / THO value sets bound `required` by the profiles (codes only).
BUILTIN = {
    "http://hl7.org/fhir/ValueSet/claim-type": ("http://terminology.hl7.org/CodeSystem/claim-type",
                                                {"institutional", "oral", "pharmacy", "professional", "vision"}),
    "http://hl7.org/fhir/ValueSet/subscriber-relationship": (
        "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
        {"child", "parent", "spouse", "common", "other", "self", "injured"}),
    "http://hl7.org/fhir/ValueSet/process-priority": ("http://terminology.hl7.org/CodeSystem/processpriority",
                                                      {"stat", "normal", "deferred"}),
    "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.1066": ("http://nucc.org/provider-taxonomy", None),
    "http://hl7.org/fhir/ValueSet/remittance-outcome": (None, {"queued", "complete", "error", "partial"}),
    "http://hl7.org/fhir/ValueSet/claim-use": (None, {"claim", "preauthorization", "predetermination"}),
    "http://hl7.org/fhir/ValueSet/fm-status": (None, {"active", "cancelled", "draft", "entered-in-error"}),
    "http://hl7.org/fhir/ValueSet/explanationofbenefit-status": (None, {"active", "cancelled", "draft", "entered-in-error"}),
    "http://hl7.org/fhir/ValueSet/note-type": (None, {"display", "print", "printoper"}),
    "http://hl7.org/fhir/ValueSet/address-use": (None, {"home", "work", "temp", "old", "billing"}),
    "http://hl7.org/fhir/ValueSet/address-type": (None, {"postal", "physical", "both"}),
    "http://hl7.org/fhir/ValueSet/administrative-gender": (None, {"male", "female", "other", "unknown"}),
    "http://hl7.org/fhir/ValueSet/contact-point-system": (None, {"phone", "fax", "email", "pager", "url", "sms", "other"}),
    "http://hl7.org/fhir/ValueSet/contact-point-use": (None, {"home", "work", "temp", "old", "mobile"}),
    "http://hl7.org/fhir/ValueSet/identifier-use": (None, {"usual", "official", "temp", "secondary", "old"}),
    "http://hl7.org/fhir/ValueSet/name-use": (None, {"usual", "official", "temp", "nickname", "anonymous", "old", "maiden"}),
    "http://hl7.org/fhir/ValueSet/link-type": (None, {"replaced-by", "replaces", "refer", "seealso"}),
    "http://hl7.org/fhir/ValueSet/quantity-comparator": (None, {"<", "<=", ">=", ">"}),
    # ... and by the US Core 6.1.0 profiles (clinical resources, PractitionerRole, Location).
    "http://hl7.org/fhir/ValueSet/observation-status": (None, {"registered", "preliminary", "final", "amended",
                                                               "corrected", "cancelled", "entered-in-error",
                                                               "unknown"}),
    "http://hl7.org/fhir/ValueSet/condition-clinical": (
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}),
    "http://hl7.org/fhir/ValueSet/condition-ver-status": (
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}),
    "http://hl7.org/fhir/ValueSet/allergyintolerance-clinical": (
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", {"active", "inactive", "resolved"}),
    "http://hl7.org/fhir/ValueSet/allergyintolerance-verification": (
        "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
        {"unconfirmed", "confirmed", "refuted", "entered-in-error"}),
    "http://hl7.org/fhir/ValueSet/allergy-intolerance-category": (None, {"food", "medication", "environment",
                                                                        "biologic"}),
    "http://hl7.org/fhir/ValueSet/allergy-intolerance-criticality": (None, {"low", "high", "unable-to-assess"}),
    "http://hl7.org/fhir/ValueSet/allergy-intolerance-type": (None, {"allergy", "intolerance"}),
    "http://hl7.org/fhir/ValueSet/reaction-event-severity": (None, {"mild", "moderate", "severe"}),
    "http://hl7.org/fhir/ValueSet/encounter-status": (None, {"planned", "arrived", "triaged", "in-progress",
                                                            "onleave", "finished", "cancelled", "entered-in-error",
                                                            "unknown"}),
    "http://hl7.org/fhir/ValueSet/encounter-location-status": (None, {"planned", "active", "reserved", "completed"}),
    "http://hl7.org/fhir/ValueSet/event-status": (None, {"preparation", "in-progress", "not-done", "on-hold",
                                                        "stopped", "completed", "entered-in-error", "unknown"}),
    "http://hl7.org/fhir/ValueSet/immunization-status": (None, {"completed", "entered-in-error", "not-done"}),
    "http://hl7.org/fhir/ValueSet/medicationrequest-status": (None, {"active", "on-hold", "cancelled", "completed",
                                                                    "entered-in-error", "stopped", "draft",
                                                                    "unknown"}),
    "http://hl7.org/fhir/ValueSet/medicationrequest-intent": (None, {"proposal", "plan", "order", "original-order",
                                                                    "reflex-order", "filler-order",
                                                                    "instance-order", "option"}),
    "http://hl7.org/fhir/ValueSet/medicationrequest-category": (
        "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
        {"inpatient", "outpatient", "community", "discharge"}),
    "http://hl7.org/fhir/ValueSet/request-priority": (None, {"routine", "urgent", "asap", "stat"}),
    "http://hl7.org/fhir/ValueSet/location-status": (None, {"active", "suspended", "inactive"}),
    "http://hl7.org/fhir/ValueSet/location-mode": (None, {"instance", "kind"}),
    "http://hl7.org/fhir/ValueSet/days-of-week": (None, {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}),
    "http://hl7.org/fhir/ValueSet/ucum-bodyweight": ("http://unitsofmeasure.org", {"kg", "[lb_av]", "g"}),
    "http://hl7.org/fhir/ValueSet/ucum-bodylength": ("http://unitsofmeasure.org", {"cm", "[in_i]"}),
    # ... and by the Plan-Net 1.1.0 and US Drug Formulary 2.0.1 profiles and extensions.
    "http://hl7.org/fhir/ValueSet/publication-status": (None, {"draft", "active", "retired", "unknown"}),
    "http://hl7.org/fhir/ValueSet/insuranceplan-applicability": (
        "http://terminology.hl7.org/CodeSystem/applicability", {"in-network", "out-of-network", "other"}),
    "http://hl7.org/fhir/ValueSet/endpoint-status": (None, {"active", "suspended", "error", "off",
                                                            "entered-in-error", "test"}),
    "http://hl7.org/fhir/ValueSet/medicationknowledge-status": (None, {"active", "inactive", "entered-in-error"}),
    "http://hl7.org/fhir/ValueSet/units-of-time": ("http://unitsofmeasure.org", {"s", "min", "h", "d", "wk", "mo",
                                                                                  "a"}),
}


class Terminology:
    def __init__(self, ig):
        self.value_sets = ig["valueSets"]
        self.code_systems = ig["codeSystems"]
        self._cache = {}

    def known(self, vs_url):
        vs_url = vs_url.split("|")[0]
        return vs_url in self.value_sets or vs_url in BUILTIN

    def _expand(self, vs_url):
        """-> list of (system, set-of-codes or None for 'any code of the system')."""
        vs_url = vs_url.split("|")[0]
        if vs_url in self._cache:
            return self._cache[vs_url]
        parts = []
        if vs_url in BUILTIN:
            system, codes = BUILTIN[vs_url]
            parts.append((system, codes))
        else:
            compose = self.value_sets.get(vs_url, {})
            for inc in compose.get("include", []):
                for sub in inc.get("valueSet", []):
                    parts.extend(self._expand(sub))
                if "system" in inc:
                    if "concept" in inc:
                        parts.append((inc["system"], {c["code"] for c in inc["concept"]}))
                    else:
                        parts.append((inc["system"], None))
        self._cache[vs_url] = parts
        return parts

    def check_coding(self, vs_url, system, code, display=None):
        """-> (in_value_set: bool, problems: list[str]) for one Coding."""
        problems = []
        ok = False
        for psys, codes in self._expand(vs_url):
            if psys is not None and psys != system:
                continue
            if codes is None:
                ok = True
            elif code in codes:
                ok = True
        if system in self.code_systems and self.code_systems[system].get("content") == "complete":
            cs = self.code_systems[system]["concepts"]
            if code not in cs:
                problems.append(f"code '{code}' is not defined in code system {system}")
                ok = False
            elif display is not None and cs.get(code) and display != cs[code]:
                problems.append(f"display '{display}' for {system}#{code} should be '{cs[code]}'")
        fmt = EXTERNAL_FORMATS.get(system)
        if fmt and code is not None and not fmt.match(code):
            problems.append(f"code '{code}' is not a well-formed code of {system}")
        return ok, problems

    def check_code(self, vs_url, code):
        for psys, codes in self._expand(vs_url):
            if codes is None or code in codes:
                return True
        return False

    def coding_problems(self, system, code, display=None):
        """Checks of a Coding that do not depend on a binding (known code systems, formats)."""
        problems = []
        if system in self.code_systems and self.code_systems[system].get("content") == "complete":
            cs = self.code_systems[system]["concepts"]
            if code not in cs:
                problems.append(f"code '{code}' is not defined in code system {system}")
            elif display is not None and cs.get(code) and display != cs[code]:
                problems.append(f"display '{display}' for {system}#{code} should be '{cs[code]}'")
        fmt = EXTERNAL_FORMATS.get(system)
        if fmt and isinstance(code, str) and not fmt.match(code):
            problems.append(f"code '{code}' is not a well-formed code of {system}")
        return problems
