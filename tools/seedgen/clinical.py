"""US Core 6.1.0 clinical resources for the members that have them.

Each Observation and Condition declares the US Core 6.1.0 profile of its kind, and carries the
category codes that SMART v2 granular scopes select (`patient/Observation.rs?category=...`):
laboratory results (us-core-observation-lab, `laboratory`), vital signs (the specific
us-core-blood-pressure, -body-weight, -body-height, -bmi and -heart-rate profiles, `vital-signs`),
smoking status (us-core-smokingstatus, `social-history`), screening answers
(us-core-observation-screening-assessment, `survey`, plus the US Core `sdoh` category where it
applies); problems and health concerns (us-core-condition-problems-health-concerns,
`problem-list-item` or the US Core `health-concern`) and encounter diagnoses
(us-core-condition-encounter-diagnosis, `encounter-diagnosis`).
"""

from fhirkit import CS, cc, coding, later, meta, ref, timestamp

OBS_CATEGORY = {
    "laboratory": ("obs-category", "Laboratory"),
    "vital-signs": ("obs-category", "Vital Signs"),
    "social-history": ("obs-category", "Social History"),
    "survey": ("obs-category", "Survey"),
    "sdoh": ("us-core-category", "SDOH"),
}
COND_CATEGORY = {
    "problem-list-item": ("cond-category", "Problem List Item"),
    "encounter-diagnosis": ("cond-category", "Encounter Diagnosis"),
    "health-concern": ("us-core-cond-category", "Health Concern"),
    "sdoh": ("us-core-category", "SDOH"),
}
ASSERTED_DATE = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"

# code (LOINC), display, UCUM unit code, unit text: one row per vital sign profile.
VITALS = {
    "body-weight": ("29463-7", "Body weight", "kg", "kg"),
    "body-height": ("8302-2", "Body height", "cm", "cm"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", "kg/m2"),
    "heart-rate": ("8867-4", "Heart rate", "/min", "beats/minute"),
}
BLOOD_PRESSURE = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure")
DIASTOLIC = ("8462-4", "Diastolic blood pressure")
SMOKING_STATUS = ("72166-2", "Tobacco smoking status")


def ucum(value, unit, code):
    return {"value": value, "unit": unit, "system": CS["ucum"], "code": code}


def data_absent(code, display):
    return cc("dar", code, display)


def encounter(*, eid, patient_id, day, end=None, klass=("AMB", "ambulatory"), etype, practitioner,
              organization, location=None, reason=None, reason_reference=None, discharge=None,
              last_updated=None, identifier_system=None):
    res = {
        "resourceType": "Encounter",
        "id": eid,
        "meta": meta("Encounter", last_updated or timestamp(day, eid)),
    }
    if identifier_system:
        res["identifier"] = [{"system": identifier_system, "value": eid}]
    res.update({
        "status": "finished",
        "class": coding("v3-actcode", klass[0], klass[1]),
        "type": [etype],
        "subject": ref("Patient", patient_id),
        "participant": [{
            "type": [cc("participation-type", "PPRF", "primary performer")],
            "period": {"start": day, "end": end or day},
            "individual": ref("Practitioner", practitioner),
        }],
        "period": {"start": day, "end": end or day},
    })
    if reason:
        res["reasonCode"] = [reason]
    if reason_reference:
        res["reasonReference"] = [ref("Condition", reason_reference)]
    if discharge:
        res["hospitalization"] = {"dischargeDisposition": cc("discharge-disposition", discharge[0], discharge[1])}
    if location:
        res["location"] = [{"location": ref("Location", location)}]
    res["serviceProvider"] = ref("Organization", organization)
    return res


def condition(*, cid, patient_id, snomed, icd10=None, onset, recorded, category="problem-list-item",
              extra_categories=(), clinical="active", encounter_id=None, abatement=None, asserted=None,
              last_updated=None):
    """A problem or health concern (us-core-condition-problems-health-concerns), or an encounter
    diagnosis (us-core-condition-encounter-diagnosis), by `category`."""
    kind = "encounter-diagnosis" if category == "encounter-diagnosis" else "problem"
    res = {
        "resourceType": "Condition",
        "id": cid,
        "meta": meta(kind, last_updated or timestamp(recorded, cid)),
    }
    if asserted:
        res["extension"] = [{"url": ASSERTED_DATE, "valueDateTime": asserted}]
    codings = [coding("snomed", snomed[0], snomed[1])]
    if icd10:
        codings.append(coding("icd10cm", icd10[0], icd10[1]))
    res.update({
        "clinicalStatus": cc("cond-clinical", clinical, clinical.capitalize()),
        "verificationStatus": cc("cond-verification", "confirmed", "Confirmed"),
        "category": [cc(COND_CATEGORY[c][0], c, COND_CATEGORY[c][1]) for c in (category, *extra_categories)],
        "code": {"coding": codings, "text": snomed[1]},
        "subject": ref("Patient", patient_id),
    })
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    res["onsetDateTime"] = onset
    if abatement:
        res["abatementDateTime"] = abatement
    res["recordedDate"] = recorded
    return res


def _observation(kind, oid, categories, code, patient_id, day, encounter_id, last_updated, at=None):
    """`at` is the effective instant (by default a stable time of `day`); lab results were
    last updated at a time of their own that day, the other kinds a little after `at`."""
    at = at or timestamp(day, oid)
    if not last_updated:
        last_updated = timestamp(day, oid, "result") if kind == "lab" else later(at, oid)
    res = {
        "resourceType": "Observation",
        "id": oid,
        "meta": meta(kind, last_updated),
        "status": "final",
        "category": [cc(OBS_CATEGORY[c][0], c, OBS_CATEGORY[c][1]) for c in categories],
        "code": code,
        "subject": ref("Patient", patient_id),
    }
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    res["effectiveDateTime"] = at
    return res


def lab(*, oid, patient_id, day, loinc, value=None, unit=None, ucum_code=None, value_snomed=None,
        value_string=None, absent=None, low=None, high=None, interpretation=None, specimen=None,
        encounter_id=None, last_updated=None):
    """A laboratory result (us-core-observation-lab): a quantity (`value`, `unit`, `ucum_code`), a
    SNOMED CT coded result (`value_snomed`), a text result (`value_string`), or no value and a
    data-absent reason (`absent`). `specimen` is (identifier system, value, display): a logical
    reference, the sandbox serves no Specimen."""
    res = _observation("lab", oid, ("laboratory",), {"coding": [coding("loinc", loinc[0], loinc[1])], "text": loinc[1]},
                       patient_id, day, encounter_id, last_updated)
    if value is not None:
        res["valueQuantity"] = ucum(value, unit, ucum_code)
    elif value_snomed:
        res["valueCodeableConcept"] = cc("snomed", value_snomed[0], value_snomed[1])
    elif value_string:
        res["valueString"] = value_string
    else:
        res["dataAbsentReason"] = data_absent(*absent)
    if interpretation:
        res["interpretation"] = [cc("interpretation", interpretation[0], interpretation[1])]
    if specimen:
        res["specimen"] = {"identifier": {"system": specimen[0], "value": specimen[1]}, "display": specimen[2]}
    if low is not None or high is not None:
        rr = {}
        if low is not None:
            rr["low"] = ucum(low, unit, ucum_code)
        if high is not None:
            rr["high"] = ucum(high, unit, ucum_code)
        res["referenceRange"] = [rr]
    return res


def vital(*, oid, kind, patient_id, day, value=None, absent=None, encounter_id=None, at=None, last_updated=None):
    """A vital sign with its own US Core profile (VITALS): a quantity, or a data-absent reason."""
    code, display, ucum_code, unit = VITALS[kind]
    res = _observation(kind, oid, ("vital-signs",), {"coding": [coding("loinc", code, display)], "text": display},
                       patient_id, day, encounter_id, last_updated, at)
    if value is not None:
        res["valueQuantity"] = ucum(value, unit, ucum_code)
    else:
        res["dataAbsentReason"] = data_absent(*absent)
    return res


def blood_pressure(*, oid, patient_id, day, systolic, diastolic, absent=None, encounter_id=None, at=None,
                   last_updated=None):
    """us-core-blood-pressure: the panel code and a systolic and a diastolic component, each with
    a value in mm[Hg] or, when it is None, the data-absent reason `absent`."""
    res = _observation("blood-pressure", oid, ("vital-signs",),
                       {"coding": [coding("loinc", *BLOOD_PRESSURE)], "text": "Blood pressure"},
                       patient_id, day, encounter_id, last_updated, at)
    res["component"] = []
    for (code, display), value in ((SYSTOLIC, systolic), (DIASTOLIC, diastolic)):
        comp = {"code": {"coding": [coding("loinc", code, display)], "text": display}}
        if value is None:
            comp["dataAbsentReason"] = data_absent(*absent)
        else:
            comp["valueQuantity"] = ucum(value, "mmHg", "mm[Hg]")
        res["component"].append(comp)
    return res


def smoking_status(*, oid, patient_id, day, status, encounter_id=None, at=None, last_updated=None):
    """us-core-smokingstatus: `status` is a SNOMED CT (code, display) smoking status finding."""
    res = _observation("smoking-status", oid, ("social-history",),
                       {"coding": [coding("loinc", *SMOKING_STATUS)], "text": SMOKING_STATUS[1]},
                       patient_id, day, encounter_id, last_updated, at)
    res["valueCodeableConcept"] = cc("snomed", status[0], status[1])
    return res


def screening(*, oid, patient_id, day, loinc, performer, sdoh=False, answer=None, score=None, text=None,
              absent=None, members=(), derived_from=(), encounter_id=None, at=None, last_updated=None):
    """us-core-observation-screening-assessment: a survey question with its LOINC answer (`answer`),
    a score (`score`), a free-text answer (`text`) or a data-absent reason, or a panel grouping
    its questions (`members`)."""
    res = _observation("screening-assessment", oid, ("survey", "sdoh") if sdoh else ("survey",),
                       {"coding": [coding("loinc", loinc[0], loinc[1])], "text": loinc[1]},
                       patient_id, day, encounter_id, last_updated, at)
    res["performer"] = [ref("Practitioner", performer)]
    if answer:
        res["valueCodeableConcept"] = cc("loinc", answer[0], answer[1])
    elif score is not None:
        res["valueQuantity"] = ucum(score, "{score}", "{score}")
    elif text:
        res["valueString"] = text
    elif absent:
        res["dataAbsentReason"] = data_absent(*absent)
    if members:
        res["hasMember"] = [ref("Observation", m) for m in members]
    if derived_from:
        res["derivedFrom"] = [ref("Observation", d) for d in derived_from]
    return res


def allergy(*, aid, patient_id, code, recorded, manifestation, criticality="low", category="medication",
            last_updated=None):
    return {
        "resourceType": "AllergyIntolerance",
        "id": aid,
        "meta": meta("AllergyIntolerance", last_updated or timestamp(recorded, aid)),
        "clinicalStatus": cc("allergy-clinical", "active", "Active"),
        "verificationStatus": cc("allergy-verification", "confirmed", "Confirmed"),
        "type": "allergy",
        "category": [category],
        "criticality": criticality,
        "code": code,
        "patient": ref("Patient", patient_id),
        "recordedDate": recorded,
        "reaction": [{"manifestation": [manifestation], "severity": "mild"}],
    }


def immunization(*, iid, patient_id, day, cvx, lot=None, performer=None, performer_role=None, encounter_id=None,
                 not_done=None, last_updated=None):
    """A given immunization, or one not given (`not_done`: a v3 ActReason (code, display))."""
    res = {
        "resourceType": "Immunization",
        "id": iid,
        "meta": meta("Immunization", last_updated or timestamp(day, iid)),
        "status": "not-done" if not_done else "completed",
    }
    if not_done:
        res["statusReason"] = cc("act-reason", not_done[0], not_done[1])
    res.update({
        "vaccineCode": {"coding": [coding("cvx", cvx[0], cvx[1])], "text": cvx[1]},
        "patient": ref("Patient", patient_id),
    })
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    res["occurrenceDateTime"] = timestamp(day, iid, "given")
    res["primarySource"] = True
    if lot:
        res["lotNumber"] = lot
    if performer:
        res["performer"] = [{"actor": ref("Practitioner", performer)}]
    elif performer_role:
        res["performer"] = [{"function": cc("http://terminology.hl7.org/CodeSystem/v2-0443", "AP",
                                            "Administering Provider"),
                             "actor": ref("PractitionerRole", performer_role)}]
    return res


def medication_request(*, mid, patient_id, day, rxnorm, requester, dosage, dose=None, timing=None, as_needed=False,
                       status="active", intent="order", reported_by=None, encounter_id=None, refills=None,
                       supply_days=None, quantity=None, last_updated=None):
    """`dose` is (value, unit, UCUM code) per administration, `timing` (frequency, period, period
    unit), `quantity` (value, unit, UCUM code) to dispense; `reported_by` a Patient id when the
    member reported the medication (reportedReference) instead of it being ordered here."""
    res = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "meta": meta("MedicationRequest", last_updated or timestamp(day, mid)),
        "status": status,
        "intent": intent,
        "category": [cc("mr-category", "community", "Community")],
    }
    if reported_by:
        res["reportedReference"] = ref("Patient", reported_by)
    else:
        res["reportedBoolean"] = False
    res.update({
        "medicationCodeableConcept": {"coding": [coding("rxnorm", rxnorm[0], rxnorm[1])], "text": rxnorm[1]},
        "subject": ref("Patient", patient_id),
    })
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    res["authoredOn"] = timestamp(day, mid, "authored")
    res["requester"] = ref("PractitionerRole" if requester.startswith("role-") else "Practitioner", requester)
    instruction = {"text": dosage}
    if timing:
        instruction["timing"] = {"repeat": {"frequency": timing[0], "period": timing[1], "periodUnit": timing[2]}}
    if as_needed:
        instruction["asNeededBoolean"] = True
    if dose:
        instruction["doseAndRate"] = [{"doseQuantity": ucum(*dose)}]
    res["dosageInstruction"] = [instruction]
    if refills is not None or quantity:
        dispense = {}
        if refills is not None:
            dispense["numberOfRepeatsAllowed"] = refills
        if quantity:
            dispense["quantity"] = ucum(*quantity)
        if supply_days:
            dispense["expectedSupplyDuration"] = {"value": supply_days, "unit": "days", "system": CS["ucum"],
                                                  "code": "d"}
        res["dispenseRequest"] = dispense
    return res


def procedure(*, pid, patient_id, day, code, performer=None, encounter_id=None, end=None, last_updated=None,
              reason=None):
    res = {
        "resourceType": "Procedure",
        "id": pid,
        "meta": meta("Procedure", last_updated or timestamp(day, pid)),
        "status": "completed",
        "code": code,
        "subject": ref("Patient", patient_id),
    }
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    if end:
        res["performedPeriod"] = {"start": day, "end": end}
    else:
        res["performedDateTime"] = timestamp(day, pid, "performed")
    if performer:
        res["performer"] = [{"actor": ref("Practitioner", performer)}]
    if reason:
        res["reasonCode"] = [reason]
    return res
