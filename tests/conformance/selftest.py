#!/usr/bin/env python3
"""Self-test of the conformance suite: breaks copies of seed-data resources in known ways
and checks that every break is reported. Run it with `tests/conformance/run.sh --self-test`.

Each mutated copy gets a fresh id (and claim identifier, or authorization number), so it is validated as an extra
directory next to the untouched seed data; a mutation counts as detected when a failure
mentioning the copy's id contains the expected text. A second set of breaks applies to a copy
of the seed data as a whole (rules that only the seed data is held to: must-support coverage,
the categories that granular scopes select); each counts as detected when a failure contains
its expected text.
"""

import copy
import json
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import validate  # noqa: E402


def load_seed(seed_dir):
    out = {}
    for name in sorted(os.listdir(seed_dir)):
        if name.endswith(".json"):
            for e in json.load(open(os.path.join(seed_dir, name)))["entry"]:
                out[(e["resource"]["resourceType"], e["resource"]["id"])] = e["resource"]
    return out


def first(seed, rtype, pred=lambda r: True):
    return copy.deepcopy(next(r for (t, _), r in sorted(seed.items()) if t == rtype and pred(r)))


def kind(r, k):
    return any(k in p for p in r.get("meta", {}).get("profile", []))


def si(r, code):
    return [s for s in r.get("supportingInfo", []) if s["category"]["coding"][0]["code"] == code]


def adj(adjudications, code):
    return next(a for a in adjudications if a["category"]["coding"][0]["code"] == code)


def mutations(seed):
    """-> list of (description, resource, expected text)."""
    m = []
    inpatient = lambda: first(seed, "ExplanationOfBenefit", lambda r: kind(r, "Inpatient") and "adjudication" in r["item"][0])
    inpatient_header = lambda: first(seed, "ExplanationOfBenefit", lambda r: kind(r, "Inpatient") and "adjudication" not in r["item"][0])
    prof = lambda: first(seed, "ExplanationOfBenefit", lambda r: kind(r, "Professional") and r["status"] == "active")
    pharm = lambda: first(seed, "ExplanationOfBenefit", lambda r: kind(r, "Pharmacy"))
    oral = lambda: first(seed, "ExplanationOfBenefit", lambda r: kind(r, "Oral") and any(i.get("subSite") for i in r["item"]))
    linked = lambda: first(seed, "ExplanationOfBenefit", lambda r: "reference" in r["insurance"][0]["coverage"])

    r = first(seed, "Patient")
    r["identifier"] = [i for i in r["identifier"] if i["type"]["coding"][0]["code"] != "MB"]
    m.append(("patient without a member ID", r, "identifier:memberid: minimum cardinality 1"))
    r = first(seed, "Patient")
    r["meta"]["profile"] = [r["meta"]["profile"][0].split("|")[0]]
    m.append(("unversioned meta.profile", r, "not a versioned canonical"))
    r = first(seed, "Patient")
    r["meta"]["profile"] = [r["meta"]["profile"][0].split("|")[0] + "|1.0.0"]
    m.append(("wrong profile version", r, "should be version 2.0.0"))
    r = prof()
    del r["meta"]["lastUpdated"]
    m.append(("no meta.lastUpdated", r, "meta.lastUpdated: missing"))
    r = prof()
    r["outcome"] = "partial"
    m.append(("outcome partial", r, "outcome is 'partial'"))
    r = linked()
    r["insurer"] = {"reference": "Organization/org-beacon-hill-general"}
    m.append(("insurer is not the coverage's payor", r, "is not the payor"))
    r = linked()
    r["billablePeriod"] = {"start": "2001-01-01", "end": "2001-01-02"}
    m.append(("service before the coverage period", r, "outside coverage period"))
    r = linked()
    r["patient"] = {"reference": "Patient/rosa-delgado" if "jason" not in r["patient"]["reference"] else
                    "Patient/ethan-nakamura"}
    m.append(("EOB patient is not the coverage beneficiary", r, "!= patient"))
    r = prof()
    m.append(("duplicate claim identifier", r, "also used by"))
    r = prof()
    adj(r["item"][0]["adjudication"], "eligible")["amount"]["value"] += 1
    m.append(("line eligible amount does not add up", r, "eligible"))
    r = prof()
    adj(r["item"][0]["adjudication"], "memberliability")["amount"]["value"] += 5
    m.append(("line member liability does not add up", r, "memberliability"))
    r = prof()
    r["total"][0]["amount"]["value"] += 10
    m.append(("total does not match the lines", r, "sum of items"))
    r = inpatient()
    r["supportingInfo"] = [s for s in r["supportingInfo"] if s["category"]["coding"][0]["code"] != "admissionperiod"]
    m.append(("inpatient without admission period", r, "supportingInfo:admissionperiod: minimum cardinality"))
    r = inpatient()
    period = si(r, "admissionperiod")[0]
    period["timingDate"] = period.pop("timingPeriod")["start"]
    m.append(("admission period as a date", r, "matches no slice of closed slicing"))
    r = inpatient_header()
    r["item"][0]["adjudication"] = [{"category": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "submitted"}]},
                                     "amount": {"value": 1, "currency": "USD"}}]
    m.append(("amounts on both header and lines", r, "EOB-institutional-item-or-header-adjudication"))
    r = pharm()
    r["supportingInfo"] = [s for s in r["supportingInfo"] if s["category"]["coding"][0]["code"] != "dawcode"]
    m.append(("pharmacy without DAW code", r, "dawcode: minimum cardinality 1"))
    r = pharm()
    r["type"]["coding"][0]["code"] = "oral"
    m.append(("pharmacy EOB typed oral", r, "does not match the profile's patternCodeableConcept"))
    r = prof()
    r["item"][0]["locationCodeableConcept"]["coding"][0]["system"] = "http://example.org/place-of-service"
    m.append(("place of service from the wrong code system", r, "is not in the required value set"))
    r = prof()
    r["item"][0]["adjudication"] = [a for a in r["item"][0]["adjudication"]
                                    if a["category"]["coding"][0]["code"] != "benefitpaymentstatus"]
    m.append(("professional line without benefit payment status", r, "adjudication:benefitpaymentstatus: minimum"))
    r = prof()
    r["careTeam"][0]["provider"] = {"reference": "Organization/org-charles-river-family-medicine"}
    m.append(("rendering care team member is an organization", r, "EOB-prof-careTeam-practitioner"))
    r = prof()
    r["provider"] = {"reference": "Patient/jason-argonaut"}
    m.append(("provider is a Patient", r, "must point to Organization or Practitioner"))
    r = prof()
    r["item"][0]["careTeamSequence"] = [9]
    m.append(("line points to a missing care team member", r, "does not refer to an entry"))
    r = prof()
    r["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] = "XYZ"
    m.append(("malformed ICD-10-CM code", r, "not a well-formed code"))
    r = prof()
    r["careTeam"][0]["role"]["coding"][0]["display"] = "Renderer"
    m.append(("wrong display of a CARIN code", r, "should be 'Rendering provider'"))
    r = prof()
    r["patient"]["reference"] += "/_history/1"
    m.append(("versioned reference", r, "versionless"))
    r = oral()
    for it in r["item"]:
        if it.get("subSite"):
            it["bodySite"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/ADAAreaOralCavitySystem", "code": "10"}]}
    m.append(("tooth surface without a tooth number", r, "Oral-EOB-surface-subsite-requires-tooth-number"))
    r = prof()
    r["colour"] = "blue"
    m.append(("unknown element (fhirclient)", r, "Superfluous entry"))
    r = prof()
    r["colour"] = "blue"
    m.append(("unknown element (JSON schema)", r, "should NOT have additional properties"))
    r = prof()
    r["use"] = 7
    m.append(("wrong JSON type", r, "Wrong type"))
    r = first(seed, "Coverage")
    r["class"].append(copy.deepcopy(r["class"][0]))
    m.append(("two group classes on a coverage", r, "class:group: maximum cardinality 1"))
    r = first(seed, "Coverage")
    del r["subscriberId"]
    m.append(("coverage without subscriberId", r, "Coverage.subscriberId: minimum cardinality 1"))
    r = first(seed, "Practitioner")
    r["identifier"] = [i for i in r["identifier"] if i["type"]["coding"][0]["code"] not in ("NPI", "TAX")]
    m.append(("practitioner without NPI or tax ID", r, "Practitioner-identifier"))
    r = first(seed, "Condition")
    del r["code"]
    m.append(("condition without code", r, "Condition.code: minimum cardinality 1"))
    r = first(seed, "Immunization")
    r["meta"]["profile"] = []
    m.append(("immunization without its US Core profile", r, "no US Core 6.1.0 profile of Immunization declared"))

    # ---- US Core 6.1.0 clinical resources
    lab = lambda: first(seed, "Observation", lambda r: kind(r, "us-core-observation-lab") and "valueQuantity" in r)
    bp = lambda: first(seed, "Observation", lambda r: kind(r, "us-core-blood-pressure")
                       and "valueQuantity" in r["component"][0])
    weight = lambda: first(seed, "Observation", lambda r: kind(r, "us-core-body-weight") and "valueQuantity" in r)
    problem = lambda: first(seed, "Condition", lambda r: kind(r, "problems-health-concerns")
                            and not r.get("abatementDateTime"))
    diagnosis = lambda: first(seed, "Condition", lambda r: kind(r, "encounter-diagnosis"))
    score = lambda: first(seed, "Observation", lambda r: kind(r, "screening-assessment") and "valueQuantity" in r)
    r = lab()
    del r["category"]
    m.append(("Observation without category", r, "Observation.category: minimum cardinality 1"))
    r = lab()
    r["category"][0]["coding"][0]["code"] = "exam"
    m.append(("lab Observation without the laboratory category", r,
              "Observation.category:us-core: minimum cardinality 1 not met"))
    r = lab()
    r["meta"]["profile"] = [p.replace("|6.1.0", "|3.1.1") for p in r["meta"]["profile"]]
    m.append(("US Core 3.1.1 profile on a clinical resource", r, "should be version 6.1.0"))
    r = bp()
    r["meta"]["profile"] = [p.replace("us-core-blood-pressure", "us-core-observation-lab") for p in r["meta"]["profile"]]
    m.append(("blood pressure declared as a lab result", r, "fits us-core-blood-pressure"))
    r = bp()
    r["component"] = r["component"][:1]
    m.append(("blood pressure without a diastolic component", r,
              "Observation.component:diastolic: minimum cardinality 1 not met"))
    r = weight()
    r["valueQuantity"]["code"] = "lbs"
    m.append(("body weight in a unit outside the required UCUM value set", r,
              "'lbs' is not in the required value set http://hl7.org/fhir/ValueSet/ucum-bodyweight"))
    r = first(seed, "Observation", lambda r: kind(r, "us-core-smokingstatus"))
    r["status"] = "preliminary"
    m.append(("smoking status that is not final", r,
              "is not in the required value set http://hl7.org/fhir/us/core/ValueSet/us-core-observation-smoking-status-status"))
    r = lab()
    r["dataAbsentReason"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                                         "code": "error"}]}
    m.append(("lab result with a value and a data-absent reason", r, "obs-6"))
    r = score()
    r["valueQuantity"]["system"] = "http://example.org/units"
    m.append(("screening score with a non-UCUM unit system", r, "us-core-3"))
    r = problem()
    del r["category"]
    m.append(("Condition without category", r, "Condition.category: minimum cardinality 1"))
    r = problem()
    r["category"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "health-concern"}]}]
    m.append(("health concern coded in the wrong code system", r,
              "Condition.category:us-core: minimum cardinality 1 not met"))
    r = diagnosis()
    r["meta"]["profile"] = [p.replace("us-core-condition-encounter-diagnosis", "us-core-condition-problems-health-concerns")
                            for p in r["meta"]["profile"]]
    m.append(("encounter diagnosis declared as a problem", r, "fits us-core-condition-encounter-diagnosis"))
    r = problem()
    r["abatementDateTime"] = "2026-01-01"
    m.append(("abated Condition that is still active", r, "con-4"))
    r = first(seed, "Encounter")
    del r["type"]
    m.append(("Encounter without type", r, "Encounter.type: minimum cardinality 1"))
    r = first(seed, "Immunization")
    del r["occurrenceDateTime"]
    m.append(("Immunization without occurrence", r, "Immunization.occurrence[x]: minimum cardinality 1"))
    r = first(seed, "MedicationRequest", lambda r: r["intent"] == "order")
    del r["requester"]
    m.append(("medication order without a requester", r, "us-core-21"))
    r = first(seed, "Procedure")
    del r["performedDateTime"]
    m.append(("completed Procedure without performed[x]", r, "us-core-7"))
    r = first(seed, "PractitionerRole")
    r["meta"]["profile"] = [p for p in r["meta"]["profile"] if not p.endswith("|3.1.1")]
    m.append(("PractitionerRole without its US Core 3.1.1 profile", r,
              "expected http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitionerrole|3.1.1"))

    # ---- prior authorizations (PDex 2.0.0)
    pa = lambda pred=lambda r: True: first(seed, "ExplanationOfBenefit", lambda r: r.get("use") == "preauthorization" and pred(r))
    tracked = lambda: pa(lambda r: any(a["category"]["coding"][0]["code"] == "consumedunits"
                                       for i in r["item"] for a in i["adjudication"]))
    denied = lambda: pa(lambda r: "Denied" in r.get("disposition", ""))
    r = pa()
    del r["status"]
    m.append(("PA without status", r, "ExplanationOfBenefit.status: minimum cardinality 1"))
    r = pa()
    r["use"] = "claim"
    m.append(("PA with use claim", r, "use is 'claim' on a PDex Prior Authorization"))
    r = tracked()
    item = next(i for i in r["item"] if any(a["category"]["coding"][0]["code"] == "consumedunits" for a in i["adjudication"]))
    adj(item["adjudication"], "allowedunits")["value"] = 4
    for e in item["extension"]:
        for sub in e.get("extension", []):
            if sub["url"] == "quantity":
                sub["valueQuantity"]["value"] = 4
    m.append(("PA with more units used than approved", r, "units used (consumedunits) above the 4 units approved"))
    r = denied()
    for i in r["item"]:
        i["adjudication"] = [a for a in i["adjudication"] if a["category"]["coding"][0]["code"] != "denialreason"]
    m.append(("denied PA without a denial reason", r, "without a coded denial reason"))
    r = pa(lambda r: r["outcome"] == "complete" and r["status"] == "active")
    r["outcome"] = "queued"
    m.append(("decided PA with outcome queued", r, "outcome is 'queued' but items carry a decision"))
    r = pa()
    r["item"][0]["productOrService"] = {"coding": [{"system": "http://www.ada.org/cdt", "code": "D2740"}]}
    m.append(("PA item coded with CDT (required binding)", r,
              "is not in the required value set http://hl7.org/fhir/us/davinci-pdex/ValueSet/PDexPAInstitutionalProcedureCodesVS"))
    r = pa(lambda r: r["outcome"] == "complete")
    review = r["item"][0]["adjudication"][0]["extension"][0]
    number = next(x for x in review["extension"] if x["url"] == "number")
    number["valueInteger"] = 4001
    del number["valueString"]
    m.append(("reviewAction number as an integer (PDex extension definition)", r, "type Integer not allowed here"))
    r = pa()
    r["item"][0]["adjudication"].append({"category": {"coding": [{"system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator", "code": "benefitpaymentstatus"}]}})
    m.append(("PA item adjudication outside the profile's closed slicing", r, "matches no slice of closed slicing"))
    r = prof()
    r["preAuthRef"] = denied()["preAuthRef"]
    m.append(("claim citing a denied prior authorization", r, "cites a denied authorization"))
    return m


def seed_mutations():
    """-> list of (description, mutate(resource) -> resource or None to drop it, expected text):
    breaks of the seed data as a whole (must-support coverage, edge cases), applied together to
    a copy of seed-data/."""
    def strip(rtype, key):
        def mutate(r):
            if r["resourceType"] == rtype:
                r.pop(key, None)
            return r
        return mutate

    def only_reported_boolean(r):
        if r["resourceType"] == "MedicationRequest" and "reportedReference" in r:
            r = {k: v for k, v in r.items()}
            del r["reportedReference"]
        return r

    def jason_only_labs(r):
        if r["resourceType"] == "Observation" and r["subject"]["reference"] == "Patient/jason-argonaut" \
                and r["category"][0]["coding"][0]["code"] != "laboratory":
            return None
        return r

    def no_health_concerns(r):
        if r["resourceType"] == "Condition" and any(c["coding"][0]["code"] == "health-concern" for c in r["category"]):
            return None
        return r

    return [
        ("no lab result names its specimen", strip("Observation", "specimen"),
         "us-core-observation-lab Observation.specimen: never present in the data"),
        ("no Encounter has a discharge disposition", strip("Encounter", "hospitalization"),
         "us-core-encounter Encounter.hospitalization.dischargeDisposition: never present in the data"),
        ("no MedicationRequest was reported by the member", only_reported_boolean,
         "us-core-medicationrequest MedicationRequest.reported[x]:reportedReference: never present in the data"),
        ("Jason Argonaut has lab results only", jason_only_labs,
         "not a real subset of Jason Argonaut's Observation resources"),
        ("no health concern", no_health_concerns, "no Condition with category "
         "http://hl7.org/fhir/us/core/CodeSystem/condition-category|health-concern"),
    ]


def run_seed_mutations(seed_dir):
    """Applies every seed mutation to a copy of seed-data/; -> number missed."""
    cases = seed_mutations()
    with tempfile.TemporaryDirectory() as tmp:
        for name in sorted(os.listdir(seed_dir)):
            if not name.endswith(".json"):
                continue
            bundle = json.load(open(os.path.join(seed_dir, name)))
            entries = []
            for e in bundle["entry"]:
                r = e["resource"]
                for _, mutate, _ in cases:
                    r = mutate(r) if r is not None else None
                if r is not None:
                    entries.append(dict(e, resource=r))
            bundle["entry"] = entries
            with open(os.path.join(tmp, name), "w") as f:
                json.dump(bundle, f)
        report, _, _ = validate.validate(tmp, [], node=False, quiet=True)
    failures = [line for s in report.sections for line in s.failures]
    missed = 0
    for n, (desc, _, expected) in enumerate(cases, start=1):
        hit = any(expected in line for line in failures)
        print(f"{'ok  ' if hit else 'MISS'} seed-{n:02d}: {desc} (expects '{expected}')")
        missed += not hit
    return len(cases), missed


def main():
    seed_dir = os.path.join(os.path.dirname(os.path.dirname(HERE)), "seed-data")
    seed = load_seed(seed_dir)
    cases = mutations(seed)
    with tempfile.TemporaryDirectory() as tmp:
        for n, (desc, r, _) in enumerate(cases, start=1):
            r["id"] = f"selftest-{n:02d}"
            if r["resourceType"] == "ExplanationOfBenefit" and desc != "duplicate claim identifier":
                r["identifier"][0]["value"] = f"SELFTEST-{n:02d}"
                if any("pdex-priorauthorization" in p for p in r["meta"].get("profile", [])):
                    # a copy of a prior authorization gets its own authorization number too
                    r["preAuthRef"] = [f"SELFTEST-{n:02d}"]
                    for ins in r.get("insurance", []):
                        ins["preAuthRef"] = [f"SELFTEST-{n:02d}"]
            with open(os.path.join(tmp, f"selftest-{n:02d}.json"), "w") as f:
                json.dump(r, f)
        report, _, _ = validate.validate(seed_dir, [tmp], quiet=True)
    failures = [line for s in report.sections for line in s.failures]
    missed = 0
    for n, (desc, r, expected) in enumerate(cases, start=1):
        rid = f"selftest-{n:02d}"
        hit = any(re.search(rf"/{rid}\b", line) and expected in line for line in failures)
        print(f"{'ok  ' if hit else 'MISS'} {rid}: {desc} (expects '{expected}')")
        missed += not hit
    n_seed, missed_seed = run_seed_mutations(seed_dir)
    total, missed = len(cases) + n_seed, missed + missed_seed
    print(f"\n{total - missed} of {total} deliberate errors detected")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
