"""Prior authorizations: Da Vinci PDex 2.0.0 "PDex Prior Authorization" resources (an
ExplanationOfBenefit with use = preauthorization) with the item extensions of Da Vinci PAS 2.0.1.

A prior authorization is built from its requested items and one decision per item:

    approved   X12 306 action A1 "Certified in total": units approved = units requested
    partial    A2 "Certified - partial": fewer units approved, the rest denied with a reason
    denied     A3 "Not Certified": no units approved, a coded denial reason (X12 CARC)
    pending    A4 "Pended": no decision yet (the resource's outcome is queued)
    cancelled  C "Cancelled": approved, then withdrawn by the provider (status cancelled)

An approved authorization whose preAuthRefPeriod has ended is expired; nothing else marks it.
Units approved are `allowedunits` on the item and the quantity of the PAS itemAuthorizedDetail
extension; units already used (by claims that carry the authorization number in
ExplanationOfBenefit.preAuthRef) are `consumedunits` on the item and the PDex
PriorAuthorizationUtilization extension on the `utilized` total.
"""

import catalog
from claims import AMOUNT_DISPLAY
from fhirkit import CS, cc, coding, money, ref

PROFILE = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/pdex-priorauthorization|2.0.0"
PDEX = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/"
PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
PDEX_CS = "http://hl7.org/fhir/us/davinci-pdex/CodeSystem/"
X12 = "https://codesystem.x12.org/005010/"
SERVICE_TYPE = "https://x12.org/codes/service-type-codes"

# X12 element 306 (HCR01, the 278 response's action code).
ACTION = {
    "approved": ("A1", "Certified in total"),
    "partial": ("A2", "Certified - partial"),
    "denied": ("A3", "Not Certified"),
    "pending": ("A4", "Pended"),
    "cancelled": ("C", "Cancelled"),
}
# X12 element 1338 (UM06, level of service).
LEVEL = {"E": "Elective", "U": "Urgent", "03": "Emergency"}
DISCRIMINATOR_DISPLAY = {"allowedunits": "allowed units", "consumedunits": "consumed units",
                         "denialreason": "Denial Reason"}
PA_AMOUNT_DISPLAY = {"submitted": "Submitted", "eligible": "Eligible", "utilized": "Utilized"}


def units(value, unit):
    """A count of authorized units ("visit", "day", "session", "month", "study", "unit")."""
    return {"value": value, "unit": unit, "system": CS["ucum"], "code": "{" + unit + "}"}


# PAS 2.0.1 binds the authorized product code to X12278RequestedServiceType, which spells the
# HCPCS system with http (CARIN BB and PDex use https).
PAS_HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"


def pas_code(concept):
    return {"coding": [dict(c, system=PAS_HCPCS) if c["system"] == CS["hcpcs"] else c for c in concept["coding"]]}


def review_action(decision, number):
    code, display = ACTION[decision]
    sub = [{"url": PDEX + "extension-reviewActionCode",
            "valueCodeableConcept": {"coding": [{"system": X12 + "306", "code": code, "display": display}]}}]
    if decision != "pending":
        sub.insert(0, {"url": "number", "valueString": number})
    return {"url": PDEX + "extension-reviewAction", "extension": sub}


def discriminator(code):
    return {"coding": [{"system": PDEX_CS + "PDexAdjudicationDiscriminator", "code": code,
                        "display": DISCRIMINATOR_DISPLAY[code]}]}


def build_prior_auth(*, pa_id, number, payer_id, patient_id, coverage, created, decided, last_updated,
                     type_code, level, enterer, provider, requester, items, dx, facility=None,
                     period=None, status="active", disposition=None, notes=()):
    """items: dicts with category (X12 service type code, display), product (CodeableConcept),
    requested (units), unit, per_unit (cents, the provider's estimate), decision, approved
    (units), denial ((system key, code, display)), service (start, end),
    authorized_provider ((type, id)), previous (an earlier authorization number), modifier."""
    system = catalog.prior_auth_system(payer_id)
    base = catalog.PAYER_BY_ID[payer_id][5]
    decided_any = any(it["decision"] != "pending" for it in items)
    pa = {
        "resourceType": "ExplanationOfBenefit",
        "id": pa_id,
        "meta": {"lastUpdated": last_updated, "profile": [PROFILE]},
        "extension": [{"url": PDEX + "extension-levelOfServiceCode",
                       "valueCodeableConcept": {"coding": [{"system": X12 + "1338", "code": level,
                                                            "display": LEVEL[level]}]}}],
        "identifier": [{"system": system, "value": number}],
        "status": status,
        "type": cc("claim-type", type_code, type_code.capitalize()),
        "use": "preauthorization",
        "patient": ref("Patient", patient_id),
        "created": created,
        "enterer": ref("PractitionerRole", "role-" + requester[len("pract-"):], catalog.pract_name(requester)),
        "insurer": ref("Organization", payer_id, catalog.org_name(payer_id)),
        "provider": ref("Organization", provider, catalog.org_name(provider)),
    }
    if facility:
        pa["facility"] = ref("Location", "loc-" + facility[len("org-"):], catalog.org_name(facility))
    pa["outcome"] = "complete" if decided_any else "queued"
    if disposition:
        pa["disposition"] = disposition
    pa["preAuthRef"] = [number]
    if period:
        pa["preAuthRefPeriod"] = [{"start": period[0], "end": period[1]}]
    pa["careTeam"] = [{"sequence": 1, "provider": ref("Practitioner", requester, catalog.pract_name(requester)),
                       "responsible": True,
                       "qualification": cc("nucc", *catalog.pract_taxonomy(requester))}]
    pa["diagnosis"] = [{"sequence": i, "diagnosisCodeableConcept": cc("icd10cm", code, display),
                        "type": [cc("dx", "principal", "Principal Diagnosis") if i == 1 else
                                 cc("dx", "clinical", "Clinical Diagnosis")]}
                       for i, (code, display) in enumerate(dx, start=1)]
    pa["insurance"] = [{"focal": True, "coverage": coverage, "preAuthRef": [number]}]

    out_items = []
    submitted = approved_amount = 0
    for seq, it in enumerate(items, start=1):
        decision = it["decision"]
        requested = it["requested"]
        approved = {"approved": requested, "cancelled": requested, "partial": it.get("approved"),
                    "denied": 0, "pending": None}[decision]
        line_submitted = requested * it["per_unit"]
        submitted += line_submitted
        ext = [{"url": PAS + "extension-itemTraceNumber",
                "valueIdentifier": {"system": base + "/prior-authorization-trace-number",
                                    "value": f"{number}-{seq}"}}]
        if decision != "pending":
            ext.append({"url": PAS + "extension-administrationReferenceNumber",
                        "valueString": f"UM{number[-6:]}{seq:02d}"})
        if approved:
            ext.append({"url": PAS + "extension-itemPreAuthIssueDate", "valueDate": decided})
            ext.append({"url": PAS + "extension-itemPreAuthPeriod",
                        "valuePeriod": {"start": it["service"][0], "end": it["service"][1]}})
            if it.get("previous"):
                ext.append({"url": PAS + "extension-authorizationNumber", "valueString": it["previous"]})
            ext.append({"url": PAS + "extension-itemAuthorizedDetail", "extension": [
                {"url": "productOrServiceCode", "valueCodeableConcept": pas_code(it["product"])},
                {"url": "quantity", "valueQuantity": units(approved, it["unit"])},
            ]})
            ptype, pid = it["authorized_provider"]
            name = catalog.org_name(pid) if ptype == "Organization" else catalog.pract_name(pid)
            ext.append({"url": PAS + "extension-itemAuthorizedProvider", "extension": [
                {"url": "provider", "valueReference": ref(ptype, pid, name)},
                {"url": "providerType", "valueCodeableConcept": {"coding": [
                    {"system": X12 + "98", "code": "SJ", "display": "Service Provider"}]}},
            ]})
            approved_amount += approved * it["per_unit"]
        item = {"extension": ext, "sequence": seq, "careTeamSequence": [1], "diagnosisSequence": [1],
                "category": {"coding": [{"system": SERVICE_TYPE, "code": it["category"][0],
                                         "display": it["category"][1]}]},
                "productOrService": it["product"]}
        if it.get("modifier"):
            item["modifier"] = [cc(*m) for m in it["modifier"]]
        item["servicedPeriod"] = {"start": it["service"][0], "end": it["service"][1]}
        if it.get("pos"):
            item["locationCodeableConcept"] = cc("pos", *it["pos"])
        item["quantity"] = units(requested, it["unit"])
        adj = [{"extension": [review_action(decision, number)],
                "category": cc("adjudication", "submitted", AMOUNT_DISPLAY["submitted"]),
                "amount": money(line_submitted)}]
        if approved is not None and decision != "denied":
            adj.append({"category": discriminator("allowedunits"), "value": approved})
        if decision in ("denied", "partial"):
            sys_key, code, display = it["denial"]
            adj.append({"category": discriminator("denialreason"), "reason": cc(sys_key, code, display)})
        item["adjudication"] = adj
        out_items.append(item)
    pa["item"] = out_items

    overall = ("pending" if not decided_any else
               "cancelled" if status == "cancelled" else
               "denied" if all(it["decision"] == "denied" for it in items) else
               "approved" if all(it["decision"] == "approved" for it in items) else "partial")
    pa["adjudication"] = [{"extension": [review_action(overall, number)],
                           "category": cc("adjudication", "submitted", AMOUNT_DISPLAY["submitted"]),
                           "amount": money(submitted)}]
    totals = [{"category": {"coding": [coding(PDEX_CS + "PriorAuthorizationValueCodes", "submitted",
                                              PA_AMOUNT_DISPLAY["submitted"])]},
               "amount": money(submitted)}]
    if approved_amount:
        totals.append({"category": {"coding": [coding(PDEX_CS + "PriorAuthorizationValueCodes", "eligible",
                                                      PA_AMOUNT_DISPLAY["eligible"])]},
                       "amount": money(approved_amount)})
    pa["total"] = totals
    if notes:
        pa["processNote"] = [{"number": n, "type": "display", "text": t} for n, t in enumerate(notes, start=1)]
    return pa


def record_utilization(pa, claims):
    """Units used under an authorization, from the claims that carry its number: per item, the
    quantities of the claim lines with the item's product code (consumedunits), and on the
    `utilized` total (PriorAuthorizationUtilization, with the claims' eligible amounts). The
    authorization was last updated when the newest of those claims was processed."""
    number = pa["preAuthRef"][0]
    claims = [c for c in claims if number in c.get("preAuthRef", [])]
    used_total = 0
    eligible = 0
    unit = None
    for item in pa["item"]:
        codes = {(c["system"], c["code"]) for c in item["productOrService"]["coding"]}
        used = 0
        for claim in claims:
            for line in claim["item"]:
                if {(c["system"], c["code"]) for c in line["productOrService"]["coding"]} & codes:
                    used += line["quantity"]["value"]
                    eligible += sum(round(a["amount"]["value"] * 100) for a in line.get("adjudication", [])
                                    if a["category"]["coding"][0]["code"] == "eligible")
        adj = item["adjudication"]
        at = next(i for i, a in enumerate(adj) if a["category"]["coding"][0]["code"] == "allowedunits") + 1
        adj.insert(at, {"category": discriminator("consumedunits"), "value": used})
        used_total += used
        unit = item["quantity"]["unit"]
    pa["total"].append({"extension": [{"url": PDEX + "PriorAuthorizationUtilization",
                                       "valueQuantity": units(used_total, unit)}],
                        "category": {"coding": [coding(PDEX_CS + "PriorAuthorizationValueCodes", "utilized",
                                                       PA_AMOUNT_DISPLAY["utilized"])]},
                        "amount": money(eligible)})
    newest = max(c["meta"]["lastUpdated"] for c in claims)
    if newest > pa["meta"]["lastUpdated"]:
        pa["meta"]["lastUpdated"] = newest
    return used_total
