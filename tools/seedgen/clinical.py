"""US Core 3.1.1 clinical resources for the members that have them."""

from fhirkit import CS, cc, coding, meta, ref, timestamp


def encounter(*, eid, patient_id, day, end=None, klass=("AMB", "ambulatory"), etype, practitioner,
              organization, location=None, reason=None, last_updated=None, identifier_system=None):
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
            "type": [cc("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer")],
            "individual": ref("Practitioner", practitioner),
        }],
        "period": {"start": day, "end": end or day},
    })
    if reason:
        res["reasonCode"] = [reason]
    if location:
        res["location"] = [{"location": ref("Location", location)}]
    res["serviceProvider"] = ref("Organization", organization)
    return res


def condition(*, cid, patient_id, snomed, icd10, onset, recorded, category="problem-list-item",
              clinical="active", encounter_id=None, abatement=None, last_updated=None):
    res = {
        "resourceType": "Condition",
        "id": cid,
        "meta": meta("Condition", last_updated or timestamp(recorded, cid)),
        "clinicalStatus": cc("cond-clinical", clinical, clinical.capitalize()),
        "verificationStatus": cc("cond-verification", "confirmed", "Confirmed"),
        "category": [cc("cond-category", category,
                        "Problem List Item" if category == "problem-list-item" else "Encounter Diagnosis")],
        "code": {"coding": [coding("snomed", snomed[0], snomed[1]), coding("icd10cm", icd10[0], icd10[1])],
                 "text": snomed[1]},
        "subject": ref("Patient", patient_id),
    }
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    res["onsetDateTime"] = onset
    if abatement:
        res["abatementDateTime"] = abatement
    res["recordedDate"] = recorded
    return res


def lab(*, oid, patient_id, day, loinc, value, unit, ucum, low=None, high=None, interpretation=None,
        encounter_id=None, last_updated=None):
    res = {
        "resourceType": "Observation",
        "id": oid,
        "meta": meta("Observation", last_updated or timestamp(day, oid, "result")),
        "status": "final",
        "category": [cc("obs-category", "laboratory", "Laboratory")],
        "code": {"coding": [coding("loinc", loinc[0], loinc[1])], "text": loinc[1]},
        "subject": ref("Patient", patient_id),
    }
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    res["effectiveDateTime"] = timestamp(day, oid)
    res["valueQuantity"] = {"value": value, "unit": unit, "system": CS["ucum"], "code": ucum}
    if interpretation:
        res["interpretation"] = [cc("interpretation", interpretation[0], interpretation[1])]
    if low is not None or high is not None:
        rr = {}
        if low is not None:
            rr["low"] = {"value": low, "unit": unit, "system": CS["ucum"], "code": ucum}
        if high is not None:
            rr["high"] = {"value": high, "unit": unit, "system": CS["ucum"], "code": ucum}
        res["referenceRange"] = [rr]
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


def immunization(*, iid, patient_id, day, cvx, lot, performer=None, performer_role=None, encounter_id=None,
                 last_updated=None):
    res = {
        "resourceType": "Immunization",
        "id": iid,
        "meta": meta("Immunization", last_updated or timestamp(day, iid)),
        "status": "completed",
        "vaccineCode": {"coding": [coding("cvx", cvx[0], cvx[1])], "text": cvx[1]},
        "patient": ref("Patient", patient_id),
    }
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    res["occurrenceDateTime"] = timestamp(day, iid, "given")
    res["primarySource"] = True
    res["lotNumber"] = lot
    if performer:
        res["performer"] = [{"actor": ref("Practitioner", performer)}]
    elif performer_role:
        res["performer"] = [{"function": cc("http://terminology.hl7.org/CodeSystem/v2-0443", "AP",
                                            "Administering Provider"),
                             "actor": ref("PractitionerRole", performer_role)}]
    return res


def medication_request(*, mid, patient_id, day, rxnorm, requester, dosage, status="active",
                       encounter_id=None, refills=None, supply_days=None, last_updated=None):
    res = {
        "resourceType": "MedicationRequest",
        "id": mid,
        "meta": meta("MedicationRequest", last_updated or timestamp(day, mid)),
        "status": status,
        "intent": "order",
        "category": [cc("mr-category", "community", "Community")],
        "reportedBoolean": False,
        "medicationCodeableConcept": {"coding": [coding("rxnorm", rxnorm[0], rxnorm[1])], "text": rxnorm[1]},
        "subject": ref("Patient", patient_id),
    }
    if encounter_id:
        res["encounter"] = ref("Encounter", encounter_id)
    res["authoredOn"] = timestamp(day, mid, "authored")
    res["requester"] = ref("PractitionerRole" if requester.startswith("role-") else "Practitioner", requester)
    res["dosageInstruction"] = [{"text": dosage}]
    if refills is not None:
        res["dispenseRequest"] = {"numberOfRepeatsAllowed": refills,
                                  "expectedSupplyDuration": {"value": supply_days, "unit": "days",
                                                             "system": CS["ucum"], "code": "d"}}
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
