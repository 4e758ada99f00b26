"""US Core 6.1.0 rules for the clinical resources (Observation, Condition, Encounter,
Immunization, AllergyIntolerance, MedicationRequest, Procedure) and for PractitionerRole and
Location, beyond what the snapshot-driven engine (profiles.py) checks:

  - which profile a resource must declare: every profile of the package whose mandatory
    category slices, code pattern and enumerated code value set a resource fits, derived from
    the snapshots (an Observation coded 85354-9 with category vital-signs fits
    us-core-blood-pressure; a Condition with category encounter-diagnosis fits
    us-core-condition-encounter-diagnosis), must include one the resource declares;
  - the profiles' FHIRPath invariants, written out in Python (INVARIANTS, keyed as in the
    package). The invariants a declared profile carries are read from its snapshot; one
    without an implementation here is a failure, so a new profile cannot slip past
    unchecked. Invariants of severity `warning` in the package are reported as warnings.
"""

from .profiles import codings_of, pattern_match

USCORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
VERSION = "6.1.0"
# Types whose resources must declare a US Core 6.1.0 profile.
CLINICAL = ("Observation", "Condition", "Encounter", "Immunization", "AllergyIntolerance", "MedicationRequest",
            "Procedure")
# PractitionerRole and Location declare both US Core 3.1.1 (what CARIN BB 2.0.0 and PDex 2.0.0
# build on) and 6.1.0 (what the clinical resources reference).
BOTH_VERSIONS = {"PractitionerRole": "us-core-practitionerrole", "Location": "us-core-location"}
# Profiles loaded only as the base of others: nothing declares them, and their must-support
# elements are demonstrated through the profiles derived from them.
BASES = ("us-core-observation-clinical-result", "us-core-vital-signs")

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
NDC = "http://hl7.org/fhir/sid/ndc"
CONDITION_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
ALLERGY_VER = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


def _choice(res, base):
    """(key, value) of the choice element `base[x]` in res, or (None, None)."""
    for k, v in res.items():
        if k.startswith(base) and len(k) > len(base) and k[len(base)].isupper():
            return k, v
    return None, None


def _has(system, *codes):
    def test(cc):
        return any(c.get("system") == system and c.get("code") in codes for c in codings_of(cc))
    return test


# ---------------------------------------------------------------- invariants
def obs_6(r):
    if r.get("dataAbsentReason") and _choice(r, "value")[0]:
        return ["dataAbsentReason only when there is no value"]
    return []


def obs_7(r):
    own = {(c.get("system"), c.get("code")) for c in codings_of(r.get("code"))}
    if _choice(r, "value")[0] and any(own & {(c.get("system"), c.get("code")) for c in codings_of(comp.get("code"))}
                                      for comp in r.get("component", [])):
        return ["a component with the Observation's own code must not sit beside a value"]
    return []


def obs_3(r):
    return [f"referenceRange[{i}]: low, high or text required" for i, rr in enumerate(r.get("referenceRange", []))
            if not (rr.get("low") or rr.get("high") or rr.get("text"))]


def value_or_absent(r):  # us-core-2, vs-2
    if not r.get("component") and not r.get("hasMember") and not r.get("dataAbsentReason") \
            and not _choice(r, "value")[0]:
        return ["a value, a dataAbsentReason, components or members required"]
    return []


def us_core_1(r):
    v = r.get("effectiveDateTime")
    if isinstance(v, str) and len(v) < 10:
        return [f"effectiveDateTime '{v}' must be at least a day (YYYY-MM-DD)"]
    return []


def vs_1(r):
    v = r.get("effectiveDateTime")
    if isinstance(v, str) and len(v) < 8:
        return [f"effectiveDateTime '{v}' must be at least a month"]
    return []


def us_core_3(r):
    q = r.get("valueQuantity")
    if isinstance(q, dict) and q.get("system") not in (None, UCUM):
        return [f"valueQuantity.system must be {UCUM}"]
    return []


def us_core_4(r):
    systems = [c.get("system") for c in codings_of(r.get("valueCodeableConcept")) if c.get("system")]
    if systems and systems != [SNOMED]:
        return ["a coded result should be coded with SNOMED CT"]
    return []


def vs_3(r):
    return [f"component[{i}]: a value or a dataAbsentReason required" for i, c in enumerate(r.get("component", []))
            if not c.get("dataAbsentReason") and not _choice(c, "value")[0]]


def con_3(r):
    if not r.get("clinicalStatus") and not _has(CONDITION_VER, "entered-in-error")(r.get("verificationStatus")) \
            and any(c.get("code") == "problem-list-item" for cat in r.get("category", []) for c in codings_of(cat)):
        return ["a problem list item should have a clinicalStatus"]
    return []


def con_4(r):
    if _choice(r, "abatement")[0] and not _has(CONDITION_CLINICAL, "inactive", "resolved", "remission")(
            r.get("clinicalStatus")):
        return ["an abated condition must be inactive, resolved or in remission"]
    return []


def con_5(r):
    if _has(CONDITION_VER, "entered-in-error")(r.get("verificationStatus")) and r.get("clinicalStatus"):
        return ["no clinicalStatus on a condition entered in error"]
    return []


def con_1(r):
    return [f"stage[{i}]: summary or assessment required" for i, s in enumerate(r.get("stage", []))
            if not (s.get("summary") or s.get("assessment"))]


def con_2(r):
    return [f"evidence[{i}]: code or detail required" for i, e in enumerate(r.get("evidence", []))
            if not (e.get("code") or e.get("detail"))]


def ait_1(r):
    if not r.get("clinicalStatus") and not _has(ALLERGY_VER, "entered-in-error")(r.get("verificationStatus")):
        return ["clinicalStatus required unless entered in error"]
    return []


def ait_2(r):
    if _has(ALLERGY_VER, "entered-in-error")(r.get("verificationStatus")) and r.get("clinicalStatus"):
        return ["no clinicalStatus on an allergy entered in error"]
    return []


def imm_1(r):
    return [f"education[{i}]: documentType or reference required" for i, e in enumerate(r.get("education", []))
            if not (e.get("documentType") or e.get("reference"))]


def us_core_5(r):
    if any(c.get("system") == NDC for c in codings_of(r.get("vaccineCode"))):
        return ["vaccineCode should be CVX, not NDC"]
    return []


def us_core_21(r):
    if r.get("intent") in ("order", "original-order", "reflex-order", "filler-order", "instance-order") \
            and not r.get("requester"):
        return [f"intent '{r.get('intent')}' requires a requester"]
    return []


def us_core_7(r):
    if r.get("status") in ("completed", "in-progress") and not _choice(r, "performed")[0]:
        return [f"status '{r.get('status')}' requires performed[x]"]
    return []


def pd_1(r):
    return [] if r.get("telecom") or r.get("endpoint") else ["telecom or endpoint required"]


def us_core_13(r):
    if not any(r.get(k) for k in ("practitioner", "organization", "healthcareService", "location")):
        return ["practitioner, organization, healthcareService or location required"]
    return []


INVARIANTS = {
    "obs-3": obs_3, "obs-6": obs_6, "obs-7": obs_7,
    "us-core-1": us_core_1, "us-core-2": value_or_absent, "us-core-3": us_core_3, "us-core-4": us_core_4,
    "vs-1": vs_1, "vs-2": value_or_absent, "vs-3": vs_3,
    "con-1": con_1, "con-2": con_2, "con-3": con_3, "con-4": con_4, "con-5": con_5,
    "ait-1": ait_1, "ait-2": ait_2,
    "imm-1": imm_1, "us-core-5": us_core_5,
    "us-core-21": us_core_21, "us-core-7": us_core_7,
    "pd-1": pd_1, "us-core-13": us_core_13,
}


def invariants_of(prof):
    """{key: (severity, human)} of every invariant in a profile's snapshot (kept by --rules)."""
    out = {}
    for e in prof.elements.values():
        for c in e.get("constraint", []):
            out.setdefault(c["key"], (c.get("severity", "error"), c.get("human", "")))
    return out


def check_invariants(resource, prof, implementations=None, skip=()):
    """-> (errors, warnings) for the invariants of one declared profile (implementations: the table
    of invariant functions, by default the US Core ones; skip: keys already checked)."""
    errors, warnings = [], []
    table = INVARIANTS if implementations is None else implementations
    for key, (severity, human) in sorted(invariants_of(prof).items()):
        if key in skip:
            continue
        fn = table.get(key)
        if fn is None:
            errors.append(f"invariant {key} of {prof.name} ({human}) has no implementation in the conformance suite")
            continue
        for p in fn(resource):
            (warnings if severity == "warning" else errors).append(f"{key} ({prof.name}): {p}")
    return errors, warnings


# ---------------------------------------------------------------- which profile
def is_uscore(prof):
    return prof.url.startswith(USCORE) and prof.version == VERSION


def _enumerated(term, vs_url):
    """The (system, code) pairs of a package value set made only of listed codes (no filter, no
    whole code system, no value set from outside the package), else None."""
    out = set()
    for inc in term.value_sets.get(vs_url.split("|")[0], {}).get("include", []):
        for sub in inc.get("valueSet", []):
            listed = _enumerated(term, sub)
            if listed is None:
                return None
            out |= listed
        if "system" in inc:
            if "concept" not in inc or "filter" in inc:
                return None
            out |= {(inc["system"], c["code"]) for c in inc["concept"]}
    return out or None


def fits(prof, resource, term):
    """Whether the resource has what marks it as this profile's kind: a value in every mandatory
    slice of `category`, the profile's code pattern, and a code of the value set bound to `code`
    when that value set lists its codes."""
    t = prof.type
    cat_id = f"{t}.category"
    if cat_id in prof.slices:
        slicing = prof.elements[cat_id].get("slicing", {})
        cats = [("category", c) for c in resource.get("category", [])]
        for sid in prof.slices[cat_id]:
            sed = prof.elements[sid]
            if sed.get("min", 0) >= 1 and not any(prof._matches(sid, sed, slicing, k, v) for k, v in cats):
                return False
    code_ed = prof.elements.get(f"{t}.code")
    if code_ed:
        for k, v in code_ed.items():
            if k.startswith("pattern") and not pattern_match(v, resource.get("code")):
                return False
        binding = code_ed.get("binding")
        listed = _enumerated(term, binding["valueSet"]) if binding and term.known(binding["valueSet"]) else None
        if listed is not None and not any((c.get("system"), c.get("code")) in listed
                                          for c in codings_of(resource.get("code"))):
            return False
    return True


def profile_choice(resource, checker):
    """A clinical resource must declare a US Core 6.1.0 profile, and one of the profiles its
    content fits (the most specific ones: a fitting profile's base does not count when a
    profile derived from it fits too)."""
    rtype = resource.get("resourceType")
    if rtype not in CLINICAL:
        return []
    declared = {p.partition("|")[0] for p in resource.get("meta", {}).get("profile", [])
                if p.partition("|")[2] in ("", VERSION)}
    candidates = [prof for prof in checker.profiles.values()
                  if is_uscore(prof) and prof.type == rtype and prof.name not in BASES]
    if not any(p.url in declared for p in candidates):
        return [f"meta.profile: no US Core {VERSION} profile of {rtype} declared "
                f"(one of {', '.join(sorted(p.name for p in candidates))})"]
    fitting = [p for p in candidates if fits(p, resource, checker.term)]
    if fitting and not any(p.url in declared for p in fitting):
        return [f"meta.profile: the resource fits {' or '.join(sorted(p.name for p in fitting))} "
                f"(category and code) but does not declare it"]
    return []


def check_meta(resource):
    """The US Core part of meta.profile: versions and, for PractitionerRole and Location, both."""
    errors = []
    rtype = resource.get("resourceType")
    profiles = resource.get("meta", {}).get("profile") or []
    for p in profiles:
        if not p.startswith(USCORE):
            continue
        name, _, version = p[len(USCORE):].partition("|")
        allowed = (VERSION, "3.1.1") if name == BOTH_VERSIONS.get(rtype) else (VERSION,)
        if version not in allowed:
            errors.append(f"meta.profile: '{p}' should be version {' or '.join(allowed)}")
    if rtype in BOTH_VERSIONS:
        for version in (VERSION, "3.1.1"):
            want = f"{USCORE}{BOTH_VERSIONS[rtype]}|{version}"
            if want not in profiles:
                errors.append(f"meta.profile: expected {want}")
    return errors
