"""The CARIN BB 2.0.0 FHIRPath invariants, written out in Python, plus the US Core 3.1.1
requirements of PractitionerRole and Location (which declare US Core 3.1.1 beside 6.1.0; the
3.1.1 package is not vendored, so these few are written out by hand). The US Core 6.1.0 rules
of the clinical resources are in uscore.py.

One deliberate difference from the published expressions: EOB-pharm-careTeam-practitioner
(2.0.0) reads `... provider.all(resolve() is Organization)` while its human text says the
prescribing/primary care team members "refer to a practitioner". The text is implemented
(later CARIN BB versions corrected the expression the same way).
"""

import re

from . import uscore
from .profiles import codings_of, ref_type

C4BB = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/"
PDEX = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/"
C4BB_ADJ_VS = "http://hl7.org/fhir/us/carin-bb/ValueSet/C4BBAdjudication"
TRANSPORT = {"patientweight", "ambulancetransportreason", "transportationdistance", "roudtrippurpose",
             "stretcherpurpose", "pickuplocation", "dropofflocation"}
TOOTH = "http://terminology.hl7.org/CodeSystem/ADAUniversalToothDesignationSystem"
NUCC = "http://nucc.org/provider-taxonomy"

VERSIONED = re.compile(r"^https?://\S+\|\d+\.\d+\.\d+$")


def codes(cc):
    return {c.get("code") for c in codings_of(cc)}


def has_code(cc, *wanted):
    return bool(codes(cc).intersection(wanted))


def si_code(si):
    return next(iter(codes(si.get("category"))), None)


def check_meta(resource, member_data=True):
    """meta.lastUpdated present; every meta.profile versioned; the expected profile present (the
    US Core ones for member data only: the public data sets declare Plan-Net and USDF profiles)."""
    errors = []
    meta = resource.get("meta") or {}
    if not meta.get("lastUpdated"):
        errors.append("meta.lastUpdated: missing")
    profiles = meta.get("profile") or []
    for p in profiles:
        if not VERSIONED.match(p):
            errors.append(f"meta.profile: '{p}' is not a versioned canonical (url|x.y.z)")
        if p.startswith(C4BB) and not p.endswith("|2.0.0"):
            errors.append(f"meta.profile: '{p}' should be version 2.0.0")
        if p.startswith(PDEX) and not p.endswith("|2.0.0"):
            errors.append(f"meta.profile: '{p}' should be version 2.0.0")
    if member_data:
        errors.extend(uscore.check_meta(resource))
    return errors


def check_references(obj, path, errors):
    """References are relative or absolute but never versioned."""
    if isinstance(obj, dict):
        r = obj.get("reference")
        if isinstance(r, str) and "/_history/" in r:
            errors.append(f"{path}.reference: '{r}' is versioned; references must be versionless")
        for k, v in obj.items():
            check_references(v, f"{path}.{k}", errors)
    elif isinstance(obj, list):
        for i, x in enumerate(obj):
            check_references(x, f"{path}[{i}]", errors)


# ---------------------------------------------------------------- CARIN invariants
def eob_invariants(eob, kind, resolve, term):
    errors = []
    infos = eob.get("supportingInfo", [])
    items = eob.get("item", [])
    team = eob.get("careTeam", [])

    # EOB-insurance-focal
    if sum(1 for i in eob.get("insurance", []) if i.get("focal") is True) > 1:
        errors.append("EOB-insurance-focal: more than one insurance with focal = true")
    # EOB-payee-other-type-requires-party
    payee = eob.get("payee")
    if payee and has_code(payee.get("type"), "other") and not payee.get("party"):
        errors.append("EOB-payee-other-type-requires-party: payee type 'other' without party")

    def is_amount(adj):
        return any(term.check_coding(C4BB_ADJ_VS, c.get("system"), c.get("code"))[0]
                   for c in codings_of(adj.get("category")))

    # adjudication-has-amount-type-slice (per item)
    for i, it in enumerate(items):
        adj = it.get("adjudication", [])
        if adj and not any(is_amount(a) for a in adj):
            errors.append(f"item[{i}] adjudication-has-amount-type-slice: adjudication without an amount type")

    def target_type(member):
        ref = (member.get("provider") or {}).get("reference")
        t = ref_type(ref)
        resolved = resolve(ref) if ref else None
        return (resolved or {}).get("resourceType", t)

    def roles_point_to(role_codes, rtype, key):
        for j, m in enumerate(team):
            if has_code(m.get("role"), *role_codes) and target_type(m) != rtype:
                errors.append(f"careTeam[{j}] {key}: role {sorted(codes(m.get('role')))} must refer to a {rtype}")

    if kind in ("inpatient", "outpatient"):
        header_amounts = any(is_amount(a) for a in eob.get("adjudication", []))
        item_amounts = any(is_amount(a) for it in items for a in it.get("adjudication", []))
        if header_amounts == item_amounts:
            errors.append("EOB-institutional-item-or-header-adjudication: amounts must be at the item level or "
                          "the header level, not both (and not neither)")
        roles_point_to(("attending", "primary", "referring", "supervising"), "Practitioner",
                       "EOB-inst-careTeam-practitioner")
        roles_point_to(("rendering",), "Organization", "EOB-inst-careTeam-organization")
        # EOB-inst-pointoforigin (newborn admission type and point-of-origin code systems agree)
        adm = [s for s in infos if si_code(s) == "admtype"]
        poo = [s for s in infos if si_code(s) == "pointoforigin"]
        newborn = any(has_code(s.get("code"), "4") for s in adm)
        poo_systems = {c.get("system") for s in poo for c in codings_of(s.get("code"))}
        if adm and poo:
            if newborn and "https://www.nubc.org/CodeSystem/PointOfOrigin" in poo_systems:
                errors.append("EOB-inst-pointoforigin: newborn admission needs a newborn point of origin")
            if not newborn and "https://www.nubc.org/CodeSystem/PointOfOriginNewborn" in poo_systems:
                errors.append("EOB-inst-pointoforigin: newborn point of origin on a non-newborn admission")
        if kind == "outpatient":
            for j, m in enumerate(team):
                if has_code(m.get("role"), "rendering"):
                    if not any(c.get("system") == NUCC for c in codings_of(m.get("qualification"))):
                        errors.append(f"careTeam[{j}] EOB-careteam-qualification: rendering provider needs a NUCC "
                                      "taxonomy qualification")
    if kind in ("professional", "oral"):
        roles_point_to(("rendering", "primary", "referring", "supervising", "supervisor"), "Practitioner",
                       "EOB-prof-careTeam-practitioner")
    if kind == "pharmacy":
        roles_point_to(("primary", "prescribing"), "Practitioner", "EOB-pharm-careTeam-practitioner")
        roles_point_to(("rendering",), "Organization", "EOB-pharm-careTeam-organization")
    if kind == "professional":
        linked = {s for it in items for s in it.get("informationSequence", [])}
        for s in infos:
            if si_code(s) in TRANSPORT and s.get("sequence") not in linked:
                errors.append(f"supportingInfo {s.get('sequence')} EOB-prof-all-transportation-supportinginfo-"
                              "linked-to-line: transportation information not referenced by any item")
        is_vision = has_code(eob.get("type"), "vision")
        for i, it in enumerate(items):
            if has_code(it.get("productOrService"), "not-applicable") and not is_vision:
                errors.append(f"item[{i}] EOB-vision-item-productorservice: not-applicable only on vision claims")
    if kind == "oral":
        body_seqs = {s.get("sequence") for s in infos if si_code(s) == "additionalbodysite"}
        linked = {s for it in items for s in it.get("informationSequence", [])}
        for seq in sorted(body_seqs - linked):
            errors.append(f"supportingInfo {seq} Oral-EOB-supportinginfo-additionalbodysite-requires-line-item")
        for i, it in enumerate(items):
            if body_seqs.intersection(it.get("informationSequence", [])) and not it.get("bodySite"):
                errors.append(f"item[{i}] Oral-line-item-with-linked-additionalbody-site-requires-bodysite")
            if it.get("subSite"):
                tooth_site = any(c.get("system") == TOOTH for c in codings_of(it.get("bodySite")))
                tooth_info = any(s.get("sequence") in it.get("informationSequence", []) and
                                 any(c.get("system") == TOOTH for c in codings_of(s.get("code")))
                                 for s in infos if si_code(s) == "additionalbodysite")
                if not (tooth_site or tooth_info):
                    errors.append(f"item[{i}] Oral-EOB-surface-subsite-requires-tooth-number")

    # Internal sequence links (careTeamSequence, diagnosisSequence, ... noteNumber).
    def seqs(name, key="sequence"):
        vals = [x.get(key) for x in eob.get(name, [])]
        if len(vals) != len(set(vals)):
            errors.append(f"{name}: duplicate {key} values {vals}")
        return set(vals)

    targets = {"careTeamSequence": seqs("careTeam"), "diagnosisSequence": seqs("diagnosis"),
               "procedureSequence": seqs("procedure"), "informationSequence": seqs("supportingInfo"),
               "noteNumber": seqs("processNote", "number")}
    seqs("item")
    for i, it in enumerate(items):
        for field, valid in targets.items():
            for n in it.get(field, []):
                if n not in valid:
                    errors.append(f"item[{i}].{field}: {n} does not refer to an entry of the claim")
    return errors


def patient_invariants(p):
    errors = []
    for i, n in enumerate(p.get("name", [])):
        if not (n.get("family") or n.get("given")):
            errors.append(f"name[{i}] us-core-8: family or given required")
    return errors


def practitioner_invariants(p):
    if not any(has_code(i.get("type"), "NPI", "TAX") for i in p.get("identifier", [])):
        return ["Practitioner-identifier: an NPI or a Tax ID is required"]
    return []


def related_person_invariants(r):
    if not (r.get("name") or r.get("relationship")):
        return ["relatedperson-name-or-relationship: name or relationship required"]
    return []


# ---------------------------------------------------------------- US Core 3.1.1
def us_core_311(res):
    """US Core 3.1.1 PractitionerRole and Location."""
    t = res.get("resourceType")
    e = []
    if t == "PractitionerRole":
        if not (res.get("practitioner") or res.get("organization")):
            e.append("practitioner or organization: required by US Core 3.1.1")
        if not (res.get("telecom") or res.get("endpoint")):
            e.append("us-core-13 (3.1.1): contact information or an endpoint is required")
    elif t == "Location":
        if not res.get("name"):
            e.append("name: required by US Core 3.1.1")
    return e
