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


def load_public(seed_dir):
    """(data set, type, id) -> resource of the public data sets (directory/, formulary/)."""
    out = {}
    for folder in ("directory", "formulary"):
        path = os.path.join(seed_dir, folder)
        for name in sorted(os.listdir(path)) if os.path.isdir(path) else []:
            if name.endswith(".ndjson"):
                for line in open(os.path.join(path, name), encoding="utf-8"):
                    if line.strip():
                        r = json.loads(line)
                        out[(folder, r["resourceType"], r["id"])] = r
    return out


def pub(public, dataset, rtype, rid=None, pred=lambda r: True):
    """A copy of a public resource: by id, or the first of its type that pred accepts."""
    if rid:
        return copy.deepcopy(public[(dataset, rtype, rid)])
    return copy.deepcopy(next(r for (d, t, _), r in sorted(public.items()) if d == dataset and t == rtype and pred(r)))


PN = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
USDF = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/"


def public_mutations(public):
    """-> list of (description, data set, resource, expected text): breaks of single directory and
    formulary resources (profiles, invariants, the public data sets' own rules)."""
    m = []
    role = lambda: pub(public, "directory", "PractitionerRole", "role-amelia-chen")
    r = role()
    r["extension"] = [e for e in r["extension"] if e["url"] != PN + "newpatients"]
    m.append(("PractitionerRole without newpatients", "directory", r, "no newpatients extension"))
    r = role()
    r["extension"].append({"url": PN + "network-reference", "valueReference": {"reference": "Organization/net-demo-medicare-ppo"}})
    m.append(("PractitionerRole in two networks", "directory", r,
              "PractitionerRole.extension:network-reference: maximum cardinality 1 exceeded"))
    r = role()
    r["active"] = False
    m.append(("inactive PractitionerRole (active is fixed to true)", "directory", r, "patternBoolean"))
    r = role()
    np = next(e for e in r["extension"] if e["url"] == PN + "newpatients")
    np["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] = "nopt"
    np["extension"][0]["valueCodeableConcept"]["coding"][0].pop("display", None)
    np["extension"].append({"url": "characteristics", "valueString": "Adults only"})
    m.append(("not accepting new patients, with characteristics of new patients", "directory", r,
              "new-patients-characteristics"))
    r = role()
    r["specialty"] = [{"coding": [{"system": "http://nucc.org/provider-taxonomy", "code": "261QP2300X"}]}]
    m.append(("PractitionerRole with an organization's taxonomy as specialty", "directory", r,
              "is not in the required value set http://hl7.org/fhir/us/davinci-pdex-plan-net/ValueSet/IndividualAndGroupSpecialtiesVS"))
    r = role()
    r["meta"]["profile"] = ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-practitionerrole|6.1.0"]
    m.append(("directory PractitionerRole without its Plan-Net profile", "directory", r,
              "requires http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-PractitionerRole|1.1.0"))
    r = role()
    for e in r["extension"]:
        if e["url"] == PN + "network-reference":
            e["valueReference"] = {"reference": "Organization/net-demo-puget-sound-hmo"}
        if e["url"] == PN + "newpatients":
            e["extension"] = [x for x in e["extension"] if x["url"] != "fromNetwork"]
    m.append(("practitioner in a network his organization is not in", "directory", r,
              "has no affiliation with network net-demo-puget-sound-hmo"))
    loc = lambda: pub(public, "directory", "Location", "loc-beacon-hill-general")
    r = loc()
    del r["address"]
    m.append(("provider Location without address", "directory", r, "no street address"))
    r = loc()
    del r["position"]
    m.append(("provider Location without position", "directory", r, "no position (latitude and longitude)"))
    r = loc()
    del r["name"]
    m.append(("Location without name", "directory", r, "Location.name: minimum cardinality 1"))
    r = loc()
    r["status"] = "suspended"
    m.append(("suspended Location (status is fixed to active)", "directory", r, "fixedCode"))
    net = lambda: pub(public, "directory", "Organization", "net-demo-ppo")
    r = net()
    r["telecom"] = [{"system": "phone", "value": "617-555-0100"}]
    m.append(("network with a telecom (prohibited)", "directory", r, "Organization.telecom: element is prohibited"))
    r = net()
    del r["partOf"]
    m.append(("network that is part of no organization", "directory", r, "Organization.partOf: minimum cardinality 1"))
    r = pub(public, "directory", "Organization", "org-beacon-hill-general")
    r["address"][0]["use"] = "home"
    m.append(("organization with a home address", "directory", r, "org-2"))
    r = pub(public, "directory", "Organization", "org-beacon-hill-general")
    del r["type"]
    m.append(("organization without type", "directory", r, "Organization.type: minimum cardinality 1"))
    r = pub(public, "directory", "OrganizationAffiliation", "aff-beacon-hill-general-demo-ppo")
    del r["organization"], r["participatingOrganization"]
    m.append(("affiliation without organizations", "directory", r, "organization-or-participatingOrganization"))
    r = pub(public, "directory", "InsurancePlan", "insplan-dhp-gold-ppo")
    r["plan"].append(copy.deepcopy(r["plan"][0]))
    m.append(("product with two plans of the same type", "directory", r, "plan-type-is-distinct"))
    r = pub(public, "directory", "InsurancePlan", "insplan-dhp-gold-ppo")
    del r["ownedBy"]
    m.append(("product owned by nobody", "directory", r, "InsurancePlan.ownedBy: minimum cardinality 1"))
    r = pub(public, "directory", "Practitioner", "pract-amelia-chen")
    r["identifier"][0]["value"] = r["identifier"][0]["value"][:-1] + str((int(r["identifier"][0]["value"][-1]) + 1) % 10)
    m.append(("practitioner with an NPI whose check digit is wrong", "directory", r, "is not valid"))
    r = pub(public, "directory", "Practitioner", "pract-amelia-chen")
    r["identifier"].append(dict(r["identifier"][0], value="1234567893"))
    m.append(("practitioner with two NPIs", "directory", r, "Practitioner.identifier:NPI: maximum cardinality 1"))
    r = pub(public, "directory", "Endpoint", "ep-dhp-provider-directory")
    del r["address"]
    m.append(("endpoint without address", "directory", r, "Endpoint.address: minimum cardinality 1"))
    r = pub(public, "directory", "HealthcareService", "hs-beacon-hill-general")
    r["category"].append(r["category"][0])
    m.append(("service in two categories", "directory", r, "HealthcareService.category: maximum cardinality 1"))
    # ---- formulary
    item = lambda: pub(public, "formulary", "Basic", "formularyitem-commercial-861007")
    r = item()
    r["extension"] = [e for e in r["extension"] if e["url"] != USDF + "usdf-DrugTierID-extension"]
    m.append(("FormularyItem without tier", "formulary", r,
              "Basic.extension:usdf-DrugTierID-extension: minimum cardinality 1"))
    r = item()
    r["extension"] = [e for e in r["extension"] if e["url"] != USDF + "usdf-PharmacyBenefitType-extension"]
    m.append(("FormularyItem without pharmacy benefit type", "formulary", r,
              "Basic.extension:usdf-PharmacyBenefitType-extension: minimum cardinality 1"))
    r = item()
    r["code"]["coding"][0]["code"] = "drug"
    m.append(("FormularyItem with another code", "formulary", r, "Basic.code: does not match the profile's patternCodeableConcept"))
    r = item()
    r["subject"] = {"reference": "Location/loc-area-ma"}
    m.append(("FormularyItem about a Location", "formulary", r, "must point to MedicationKnowledge"))
    r = item()
    r["extension"][0]["valueReference"] = {"reference": "InsurancePlan/payerplan-dhp-gold-ppo"}
    m.append(("FormularyItem on a payer plan instead of a formulary", "formulary", r,
              "target InsurancePlan/payerplan-dhp-gold-ppo does not declare profile"))
    r = item()
    for e in r["extension"]:
        if e["url"] == USDF + "usdf-AvailabilityStatus-extension":
            e["valueCode"] = "withdrawn"
    m.append(("FormularyItem with an availability status outside publication-status", "formulary", r,
              "code 'withdrawn' is not in the required value set http://hl7.org/fhir/ValueSet/publication-status"))
    r = pub(public, "formulary", "Basic", "formularyitem-commercial-198053")
    for e in r["extension"]:
        if e["url"] == USDF + "usdf-QuantityLimitDetail-extension":
            e["extension"][1]["valueTiming"]["repeat"]["offset"] = 30
    m.append(("quantity limit timing with an offset and no when", "formulary", r, "tim-9"))
    r = pub(public, "formulary", "MedicationKnowledge", "formularydrug-861007")
    r["code"]["coding"] = [c for c in r["code"]["coding"] if "rxnorm" not in c["system"]]
    m.append(("FormularyDrug without RxNorm code", "formulary", r,
              "MedicationKnowledge.code.coding:semantic-drug: minimum cardinality 1"))
    plan = lambda: pub(public, "formulary", "InsurancePlan", "payerplan-dhp-gold-ppo")
    r = plan()
    del r["coverage"]
    m.append(("payer plan without drug coverage", "formulary", r, "InsurancePlan.coverage: minimum cardinality 1"))
    r = plan()
    r["plan"][0]["specificCost"][0]["benefit"][0]["cost"][0]["value"]["system"] = "http://unitsofmeasure.org"
    m.append(("copay in a unit that is not a currency", "formulary", r, "mqty-1"))
    r = pub(public, "formulary", "InsurancePlan", "formulary-dhp-commercial")
    del r["identifier"]
    m.append(("formulary without identifier", "formulary", r, "InsurancePlan.identifier: minimum cardinality 1"))
    r = pub(public, "formulary", "Location", "loc-area-co")
    del r["address"]
    m.append(("coverage area without address or boundary", "formulary", r, "Location-address-or-geolocation"))
    return m


def public_seed_mutations():
    """-> list of (description, mutate(data set, resource) -> resource, None or [resources], expected
    text): breaks of the directory and formulary as a whole that the consistency rules report."""
    def drop(dataset, rtype, rid):
        return lambda d, r: None if (d, r["resourceType"], r["id"]) == (dataset, rtype, rid) else r

    def edit(dataset, rtype, rid, fn):
        def mutate(d, r):
            if (d, r["resourceType"], r["id"]) == (dataset, rtype, rid):
                r = copy.deepcopy(r)
                fn(r)
            return r
        return mutate

    def wrong_npi(r):
        v = r["identifier"][0]["value"]
        r["identifier"][0]["value"] = v[:-1] + str((int(v[-1]) + 5) % 10)

    def rename(r):
        r["name"] = "Lakeview Drugs"

    def to_brand_tier(r):
        for e in r["extension"]:
            if e["url"] == USDF + "usdf-DrugTierID-extension":
                e["valueCodeableConcept"]["coding"][0].update(code="preferred-brand", display="Preferred Brand")

    def leah_in_ppo(d, r):
        if (d, r["resourceType"], r["id"]) == ("directory", "PractitionerRole", "role-leah-goldberg"):
            extra = copy.deepcopy(r)
            extra["id"] = "role-leah-goldberg-selftest-ppo"
            for e in extra["extension"]:
                if e["url"] == PN + "network-reference":
                    e["valueReference"] = {"reference": "Organization/net-demo-ppo"}
                if e["url"] == PN + "newpatients":
                    e["extension"] = [x for x in e["extension"] if x["url"] != "fromNetwork"]
            return [r, extra]
        return r

    return [
        ("a claim's practitioner missing from the directory", drop("directory", "Practitioner", "pract-amelia-chen"),
         "[the members' providers are in the directory under the same id] Practitioner/pract-amelia-chen"),
        ("a claim's practitioner with another NPI in the directory",
         edit("directory", "Practitioner", "pract-helen-kowalski", wrong_npi), "in the member data"),
        ("a claim's pharmacy under another name in the directory",
         edit("directory", "Organization", "org-lakeview-pharmacy", rename),
         "name 'Lakeview Pharmacy' in the member data, 'Lakeview Drugs' in the directory"),
        ("a coverage's plan missing from the directory", drop("directory", "InsurancePlan", "insplan-dhp-family-hmo"),
         "no InsurancePlan with identifier DHP-FAM-HMO"),
        ("an in-network claim's pharmacy not in the network",
         drop("directory", "OrganizationAffiliation", "aff-ansley-pharmacy-demo-atlanta-medicare-hmo"),
         "provider Organization/org-ansley-pharmacy is not in network"),
        ("an out-of-network claim's practitioner in the network", leah_in_ppo,
         "provider Practitioner/pract-leah-goldberg is in network ['net-demo-ppo']"),
        ("a claim's drug missing from the formulary", drop("formulary", "Basic", "formularyitem-medicare-861007"),
         "NDC 00093104801 (formularydrug-861007) is not on InsurancePlan/formulary-dhp-medicare"),
        ("a generic claim's drug on a brand tier",
         edit("formulary", "Basic", "formularyitem-commercial-314076", to_brand_tier),
         "generic fill on tier preferred-brand"),
    ]


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
    public_cases = public_seed_mutations()
    with tempfile.TemporaryDirectory() as tmp:
        for folder in ("directory", "formulary"):
            os.makedirs(os.path.join(tmp, folder))
            for name in sorted(os.listdir(os.path.join(seed_dir, folder))):
                lines = []
                for line in open(os.path.join(seed_dir, folder, name), encoding="utf-8"):
                    rs = [json.loads(line)]
                    for _, mutate, _ in public_cases:
                        nxt = []
                        for r in rs:
                            got = mutate(folder, r)
                            nxt.extend(got if isinstance(got, list) else [got] if got is not None else [])
                        rs = nxt
                    lines.extend(json.dumps(r) + "\n" for r in rs)
                with open(os.path.join(tmp, folder, name), "w") as f:
                    f.writelines(lines)
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
    for n, (desc, _, expected) in enumerate(cases + public_cases, start=1):
        hit = any(expected in line for line in failures)
        print(f"{'ok  ' if hit else 'MISS'} seed-{n:02d}: {desc} (expects '{expected}')")
        missed += not hit
    return len(cases) + len(public_cases), missed


def main():
    seed_dir = os.path.join(os.path.dirname(os.path.dirname(HERE)), "seed-data")
    seed = load_seed(seed_dir)
    cases = mutations(seed)
    public_cases = public_mutations(load_public(seed_dir))
    with tempfile.TemporaryDirectory() as tmp:
        # Broken copies of directory and formulary resources go to the extra directory's directory/
        # and formulary/ folders, so that they join those data sets.
        for k, (desc, dataset, r, _) in enumerate(public_cases, start=len(cases) + 1):
            r["id"] = f"selftest-{k:02d}"
            os.makedirs(os.path.join(tmp, dataset), exist_ok=True)
            with open(os.path.join(tmp, dataset, f"selftest-{k:02d}.json"), "w") as f:
                json.dump(r, f)
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
    for n, (desc, r, expected) in enumerate(cases + [(d, r, e) for d, _, r, e in public_cases], start=1):
        rid = f"selftest-{n:02d}"
        hit = any(re.search(rf"/{rid}\b", line) and expected in line for line in failures)
        print(f"{'ok  ' if hit else 'MISS'} {rid}: {desc} (expects '{expected}')")
        missed += not hit
    n_seed, missed_seed = run_seed_mutations(seed_dir)
    total, missed = len(cases) + len(public_cases) + n_seed, missed + missed_seed
    print(f"\n{total - missed} of {total} deliberate errors detected")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
