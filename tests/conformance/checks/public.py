"""Rules for the public data sets of payer-sandbox: the provider directory (Da Vinci PDex Plan-Net
1.1.0, `directory/`) and the drug formulary (Da Vinci US Drug Formulary 2.0.1, `formulary/`).

  - which profile: a directory resource must declare the Plan-Net 1.1.0 profile of its kind (an
    Organization whose type is `ntwk` plannet-Network, any other plannet-Organization), a
    formulary resource the USDF 2.0.1 profile of its kind (an InsurancePlan typed DRUGPOL
    usdf-Formulary, any other usdf-PayerInsurancePlan);
  - the profiles' FHIRPath invariants, written out in Python (INVARIANTS, keyed as in the
    packages); an invariant of a declared profile without an implementation fails, as for US Core;
  - data set rules of each public data set (`run_directory`, `run_formulary`);
  - consistency with the member data (`run_consistency`): the members' providers are in the
    directory under the same id, NPI and name; each Coverage's plan is a product with that network;
    the providers of in-network claims are in the member's network on the day of service and those
    of out-of-network claims are not; each pharmacy claim's drug is on the formulary of the plan
    that paid it, at a tier whose cost sharing is the claim's.
"""

from .profiles import codings_of, ref_key

PLANNET = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/"
PLANNET_VERSION = "1.1.0"
USDF = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/"
USDF_VERSION = "2.0.1"
PNCS = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/"
NPI = "http://hl7.org/fhir/sid/us-npi"
NDC = "http://hl7.org/fhir/sid/ndc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NEWPATIENTS = PLANNET + "newpatients"
NETWORK_REF = PLANNET + "network-reference"
GEOJSON = "http://hl7.org/fhir/StructureDefinition/location-boundary-geojson"

# Data sets: the top-level folder of a data directory that holds each public data set.
DATASETS = ("directory", "formulary")
EXPECTED = {"directory": (PLANNET, PLANNET_VERSION, "Plan-Net"), "formulary": (USDF, USDF_VERSION, "US Drug Formulary")}


def dataset_of(rel_path):
    """'directory' or 'formulary' for a file below that top-level folder, else 'member'."""
    head = rel_path.replace("\\", "/").split("/", 1)[0]
    return head if head in DATASETS and "/" in rel_path.replace("\\", "/") else "member"


def _ext(obj, url):
    return [e for e in obj.get("extension", []) if isinstance(e, dict) and e.get("url") == url]


def _sub(ext, url):
    return [e for e in ext.get("extension", []) if e.get("url") == url]


def _codes(cc):
    return {(c.get("system"), c.get("code")) for c in codings_of(cc)}


def _all_ext(obj, url):
    """Every extension with this url anywhere in obj."""
    out = []
    if isinstance(obj, dict):
        if obj.get("url") == url and ("extension" in obj or any(k.startswith("value") for k in obj)):
            out.append(obj)
        for v in obj.values():
            out.extend(_all_ext(v, url))
    elif isinstance(obj, list):
        for x in obj:
            out.extend(_all_ext(x, url))
    return out


# ---------------------------------------------------------------- which profile
def is_public(prof):
    return (prof.url.startswith(PLANNET) and prof.version == PLANNET_VERSION) or \
        (prof.url.startswith(USDF) and prof.version == USDF_VERSION)


def kind_profile(resource, dataset):
    """The profile (name) a public resource must declare, from its type and content."""
    t = resource.get("resourceType")
    if dataset == "directory":
        if t == "Organization":
            net = any(c == (PNCS + "OrgTypeCS", "ntwk") for ty in resource.get("type", []) for c in _codes(ty))
            return "plannet-Network" if net else "plannet-Organization"
        return "plannet-" + t
    if t == "InsurancePlan":
        drugpol = any(c[1] == "DRUGPOL" for ty in resource.get("type", []) for c in _codes(ty))
        return "usdf-Formulary" if drugpol else "usdf-PayerInsurancePlan"
    return {"Basic": "usdf-FormularyItem", "MedicationKnowledge": "usdf-FormularyDrug",
            "Location": "usdf-InsurancePlanLocation"}.get(t)


def check_meta(resource, dataset):
    """meta.profile of a public resource: versioned Plan-Net/USDF profiles, and the one of its kind."""
    errors = []
    profiles = resource.get("meta", {}).get("profile") or []
    for p in profiles:
        for base, version, _ in EXPECTED.values():
            if p.startswith(base) and p.partition("|")[2] != version:
                errors.append(f"meta.profile: '{p}' should be version {version}")
    if dataset in EXPECTED:
        base, version, label = EXPECTED[dataset]
        want = kind_profile(resource, dataset)
        if want is None:
            errors.append(f"{resource.get('resourceType')}: not a resource type of the {label} data set")
        elif f"{base}{want}|{version}" not in profiles:
            errors.append(f"meta.profile: the {label} data set requires {base}{want}|{version}")
    return errors


# ---------------------------------------------------------------- invariants
def ipn_1(r):
    return [] if r.get("identifier") or r.get("name") else ["an identifier or a name is required"]


def org_2(r):
    return [f"address[{i}] has use 'home'" for i, a in enumerate(r.get("address", [])) if a.get("use") == "home"]


def org_3(r):
    return [f"telecom[{i}] has use 'home'" for i, t in enumerate(r.get("telecom", [])) if t.get("use") == "home"]


def network_or_plan_network(r):
    if r.get("network"):
        return []
    plans = r.get("plan", [])
    if plans and all(p.get("network") for p in plans):
        return []
    return ["the product names no network, and not every plan does"]


def plan_type_is_distinct(r):
    codes = [c.get("code") for p in r.get("plan", []) for c in codings_of(p.get("type"))]
    return [] if len(codes) == len(set(codes)) else [f"plan types repeat: {codes}"]


def new_patients_characteristics(r):
    # The published expression tests `code = 'no'`, a code AcceptingPatientsCS does not have; its
    # "not accepting" code is `nopt`. Both are held to the rule.
    out = []
    for e in _all_ext(r, NEWPATIENTS):
        accepting = {c for a in _sub(e, "acceptingPatients") for _, c in _codes(a.get("valueCodeableConcept"))}
        if accepting & {"no", "nopt"} and _sub(e, "characteristics"):
            out.append("characteristics of new patients on a provider not accepting new patients")
    return out


def practitioner_or_org(r):
    if any(r.get(k) for k in ("practitioner", "organization", "healthcareService", "location")):
        return []
    return ["practitioner, organization, healthcareService or location required"]


def organization_or_participating(r):
    return [] if r.get("organization") or r.get("participatingOrganization") else \
        ["organization or participatingOrganization required"]


def address_or_geolocation(r):
    return [] if r.get("address") or _ext(r, GEOJSON) else ["an address or a boundary (GeoJSON) required"]


def _copay_values(r):
    for p in r.get("plan", []):
        for sc in p.get("specificCost", []):
            for b in sc.get("benefit", []):
                for c in b.get("cost", []):
                    if any(code == "copay" for _, code in _codes(c.get("type"))) and isinstance(c.get("value"), dict):
                        yield c["value"]


def mqty_1(r):
    out = []
    for v in _copay_values(r):
        if not (v.get("code") or "value" not in v) or v.get("system") not in (None, "urn:iso:std:iso:4217"):
            out.append(f"copay {v}: a currency code (ISO 4217) is required")
    return out


def qty_3(r):
    return [f"copay {v}: a unit code needs a system" for v in _copay_values(r) if v.get("code") and not v.get("system")]


def _repeats(r):
    for e in _all_ext(r, USDF + "usdf-QuantityLimitDetail-extension"):
        for sub in e.get("extension", []):
            rep = (sub.get("valueTiming") or {}).get("repeat")
            if isinstance(rep, dict):
                yield rep


def _timing(check, text):
    def fn(r):
        return [f"{text}: {rep}" for rep in _repeats(r) if not check(rep)]
    return fn


INVARIANTS = {
    "ipn-1": ipn_1, "org-1": ipn_1, "org-2": org_2, "org-3": org_3,
    "network-or-plan-Network": network_or_plan_network, "plan-type-is-distinct": plan_type_is_distinct,
    "new-patients-characteristics": new_patients_characteristics,
    "practitioner-or-organization-or-healthcareservice-or-location": practitioner_or_org,
    "organization-or-participatingOrganization": organization_or_participating,
    "Location-address-or-geolocation": address_or_geolocation,
    "mqty-1": mqty_1, "qty-3": qty_3,
    "tim-1": _timing(lambda t: "duration" not in t or "durationUnit" in t, "a duration needs its unit"),
    "tim-2": _timing(lambda t: "period" not in t or "periodUnit" in t, "a period needs its unit"),
    "tim-4": _timing(lambda t: t.get("duration", 0) >= 0, "duration must not be negative"),
    "tim-5": _timing(lambda t: t.get("period", 0) >= 0, "period must not be negative"),
    "tim-6": _timing(lambda t: "periodMax" not in t or "period" in t, "periodMax needs a period"),
    "tim-7": _timing(lambda t: "durationMax" not in t or "duration" in t, "durationMax needs a duration"),
    "tim-8": _timing(lambda t: "countMax" not in t or "count" in t, "countMax needs a count"),
    "tim-9": _timing(lambda t: "offset" not in t or (t.get("when") and not set(t["when"]) & {"C", "CM", "CD", "CV"}),
                     "an offset needs a when (not C, CM, CD, CV)"),
    "tim-10": _timing(lambda t: not (t.get("timeOfDay") and t.get("when")), "timeOfDay and when exclude each other"),
}


# ---------------------------------------------------------------- helpers over the data sets
def npi_of(r):
    return sorted(i.get("value") for i in r.get("identifier", []) if i.get("system") == NPI)


def npi_is_valid(value):
    if not (isinstance(value, str) and len(value) == 10 and value.isdigit()):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + value)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return total % 10 == 0


def person_name(r):
    n = (r.get("name") or [{}])[0]
    return " ".join((n.get("given") or []) + [n.get("family") or ""]).strip()


def in_period(period, day):
    if not period:
        return True
    s, e = (period.get("start") or "")[:10], (period.get("end") or "")[:10]
    return (not s or s <= day) and (not e or day <= e)


def refs(obj, key):
    v = obj.get(key)
    vals = v if isinstance(v, list) else [v] if v else []
    return [ref_key(x.get("reference")) for x in vals if isinstance(x, dict) and x.get("reference")]


def networks_of_role(role):
    return [ref_key((e.get("valueReference") or {}).get("reference")) for e in _ext(role, NETWORK_REF)]


class Directory:
    """Indexes of the directory data set."""

    def __init__(self, ds):
        self.ds = ds
        self.networks = {r["id"]: r for r in ds.of_type("Organization") if kind_profile(r, "directory") == "plannet-Network"}
        self.network_by_name = {r.get("name"): r["id"] for r in self.networks.values()}
        self.products = ds.of_type("InsurancePlan")
        self.affiliations = {}
        for a in ds.of_type("OrganizationAffiliation"):
            for key in refs(a, "participatingOrganization"):
                self.affiliations.setdefault(key[1], []).append(a)
        self.roles = {}
        for role in ds.of_type("PractitionerRole"):
            for key in refs(role, "practitioner"):
                self.roles.setdefault(key[1], []).append(role)

    def product_networks(self, product):
        keys = refs(product, "network") + [k for p in product.get("plan", []) for k in refs(p, "network")]
        return sorted({k[1] for k in keys if k})

    def in_network(self, provider, network_ids, day):
        """Whether provider (rtype, id) is in one of the networks on day."""
        rtype, pid = provider
        if rtype == "Organization":
            return any(a.get("active") is not False and in_period(a.get("period"), day)
                       and {k[1] for k in refs(a, "network")} & set(network_ids)
                       for a in self.affiliations.get(pid, []))
        if rtype == "Practitioner":
            return any(r.get("active") is not False and in_period(r.get("period"), day)
                       and {k[1] for k in networks_of_role(r) if k} & set(network_ids)
                       for r in self.roles.get(pid, []))
        return None


# ---------------------------------------------------------------- directory rules
def run_directory(ds, report):
    d = Directory(ds)
    npis = {}
    for r in ds.of_type("Practitioner") + ds.of_type("Organization"):
        for v in npi_of(r):
            # The same resource may come twice (the seed's copy and the API's): one provider.
            who = npis.setdefault(v, [])
            if f"{r['resourceType']}/{r['id']}" not in who:
                who.append(f"{r['resourceType']}/{r['id']}")
            report.rule("NPI is well formed (10 digits, Luhn check digit with prefix 80840)",
                        f"{r['resourceType']}/{r['id']}", [] if npi_is_valid(v) else [f"NPI {v} is not valid"])
    for v, who in sorted(npis.items()):
        report.rule("NPI names one provider in the directory", f"NPI {v}",
                    [] if len(who) == 1 else [f"used by {', '.join(who)}"])
    affiliation_start = {}
    for org_id, affs in d.affiliations.items():
        for a in affs:
            for net in refs(a, "network"):
                start = (a.get("period") or {}).get("start", "")
                key = (org_id, net[1])
                affiliation_start[key] = min(affiliation_start.get(key, start), start)
    for role in ds.of_type("PractitionerRole"):
        subj = f"PractitionerRole/{role['id']}"
        problems = []
        accepting = _ext(role, NEWPATIENTS)
        report.rule("a practitioner role says whether it accepts new patients (newpatients)", subj,
                    [] if accepting else ["no newpatients extension"])
        nets = [k[1] for k in networks_of_role(role) if k]
        if not nets:
            problems.append("no network-reference")
        for e in accepting:
            for f in _sub(e, "fromNetwork"):
                k = ref_key((f.get("valueReference") or {}).get("reference"))
                if k and k[1] not in nets:
                    problems.append(f"newpatients fromNetwork {k[1]} is not the role's network {nets}")
        orgs = refs(role, "organization")
        start = (role.get("period") or {}).get("start", "")
        for net in nets:
            for org in orgs:
                since = affiliation_start.get((org[1], net))
                if since is None:
                    problems.append(f"its organization {org[1]} has no affiliation with network {net}")
                elif start < since:
                    problems.append(f"starts {start}, before {org[1]} joined {net} ({since})")
        report.rule("a practitioner is in a network through an organization in that network", subj, problems)
    for loc in ds.of_type("Location"):
        addr = loc.get("address")
        if isinstance(addr, dict) and not addr.get("city") and addr.get("state"):
            continue  # a service area (a state) has no street address
        problems = []
        if not (loc.get("address") or {}).get("line"):
            problems.append("no street address")
        pos = loc.get("position") or {}
        if not (isinstance(pos.get("latitude"), (int, float)) and isinstance(pos.get("longitude"), (int, float))):
            problems.append("no position (latitude and longitude)")
        elif not (18 <= pos["latitude"] <= 72 and -180 <= pos["longitude"] <= -65):
            problems.append(f"position {pos} is outside the United States")
        report.rule("a provider location has a street address and a position", f"Location/{loc['id']}", problems)
    used = set()
    for p in d.products:
        used.update(d.product_networks(p))
    for nid in sorted(d.networks):
        report.rule("every network is a network of a product (InsurancePlan)", f"Organization/{nid}",
                    [] if nid in used else ["no InsurancePlan names it"])


# ---------------------------------------------------------------- formulary rules
class Formulary:
    """Indexes of the formulary data set."""

    def __init__(self, ds):
        self.ds = ds
        plans = ds.of_type("InsurancePlan")
        self.formularies = {p["id"]: p for p in plans if kind_profile(p, "formulary") == "usdf-Formulary"}
        self.payer_plans = [p for p in plans if kind_profile(p, "formulary") == "usdf-PayerInsurancePlan"]
        self.drug_by_ndc = {}
        for mk in ds.of_type("MedicationKnowledge"):
            for c in codings_of(mk.get("code")):
                if c.get("system") == NDC:
                    drugs = self.drug_by_ndc.setdefault(c.get("code"), [])
                    if mk["id"] not in drugs:  # the seed's copy and the API's are one drug
                        drugs.append(mk["id"])
        self.items = {}  # (formulary id, drug id) -> [items]
        for b in ds.of_type("Basic"):
            f = [ref_key((e.get("valueReference") or {}).get("reference"))
                 for e in _ext(b, USDF + "usdf-FormularyReference-extension")]
            s = ref_key((b.get("subject") or {}).get("reference"))
            for k in f:
                if k and s:
                    self.items.setdefault((k[1], s[1]), []).append(b)

    def formulary_of(self, payer_plan):
        for c in payer_plan.get("coverage", []):
            for e in _ext(c, USDF + "usdf-FormularyReference-extension"):
                k = ref_key((e.get("valueReference") or {}).get("reference"))
                if k:
                    return k[1]
        return None


def item_tier(item):
    for e in _ext(item, USDF + "usdf-DrugTierID-extension"):
        for _, c in _codes(e.get("valueCodeableConcept")):
            return c
    return None


def item_benefits(item):
    return {c for e in _ext(item, USDF + "usdf-PharmacyBenefitType-extension")
            for _, c in _codes(e.get("valueCodeableConcept"))}


def item_flag(item, name):
    return any(e.get("valueBoolean") is True for e in _ext(item, USDF + name))


def plan_cost(payer_plan, benefit, tier):
    """-> (copay dollars or None, coinsurance percent or None, found) for a benefit type and tier."""
    for p in payer_plan.get("plan", []):
        for sc in p.get("specificCost", []):
            if benefit not in {c for _, c in _codes(sc.get("category"))}:
                continue
            for b in sc.get("benefit", []):
                if tier not in {c for _, c in _codes(b.get("type"))}:
                    continue
                copay = coins = None
                for cost in b.get("cost", []):
                    kind = {c for _, c in _codes(cost.get("type"))}
                    quals = {c for q in cost.get("qualifiers", []) for _, c in _codes(q)}
                    value = (cost.get("value") or {}).get("value")
                    if "copay" in kind:
                        copay = 0 if quals & {"no-charge", "copay-not-applicable"} else value
                    if "coinsurance" in kind and not quals & {"coinsurance-not-applicable", "no-charge"}:
                        coins = value
                return copay, coins, True
    return None, None, False


def run_formulary(ds, report):
    f = Formulary(ds)
    for ndc, drugs in sorted(f.drug_by_ndc.items()):
        report.rule("an NDC names one formulary drug", f"NDC {ndc}",
                    [] if len(drugs) == 1 else [f"on {', '.join(drugs)}"])
    for b in ds.of_type("Basic"):
        problems = []
        fs = [ref_key((e.get("valueReference") or {}).get("reference"))
              for e in _ext(b, USDF + "usdf-FormularyReference-extension")]
        for k in fs:
            if k and k[1] not in f.formularies:
                problems.append(f"formulary {k[1]} is not a usdf-Formulary of the data set")
        report.rule("a formulary item is on a formulary of the data set", f"Basic/{b['id']}", problems)
    for p in f.payer_plans:
        subj = f"InsurancePlan/{p['id']}"
        fid = f.formulary_of(p)
        problems = [] if fid in f.formularies else [f"formulary {fid} not found"]
        if fid in f.formularies:
            tiers = {item_tier(i) for (form, _), items in f.items.items() if form == fid for i in items}
            benefits = {b for (form, _), items in f.items.items() if form == fid for i in items for b in item_benefits(i)}
            for tier in sorted(t for t in tiers if t):
                for benefit in sorted(benefits):
                    if tier == "specialty" and benefit != "1-month-in-retail":
                        continue
                    if not plan_cost(p, benefit, tier)[2]:
                        problems.append(f"no cost sharing for tier {tier} and {benefit}")
        report.rule("a product states the cost sharing of every tier and pharmacy benefit type of its formulary",
                    subj, problems)


# ---------------------------------------------------------------- consistency with the member data
def _plan_of_coverage(cov):
    for c in cov.get("class", []):
        if ("http://terminology.hl7.org/CodeSystem/coverage-class", "plan") in _codes(c.get("type")):
            return c.get("value"), c.get("name")
    return None, None


def _plan_identifiers(plan):
    return {i.get("value") for i in plan.get("identifier", [])}


def _adj_status(adjudications, discriminator):
    for a in adjudications or []:
        if discriminator in {c for _, c in _codes(a.get("category"))}:
            for _, c in _codes(a.get("reason")):
                return c
    return None


def claim_plan(eob, member_ds, products):
    """-> (plan identifier, Coverage or None, how) of the claim's focal coverage: the Coverage's class
    of type plan, or, for a claim that does not link to a Coverage, the product of the insurer whose
    name or alias starts the coverage's display."""
    focal = [i for i in eob.get("insurance", []) if i.get("focal")] or eob.get("insurance", [])[:1]
    cov_ref = (focal[0].get("coverage") or {}) if focal else {}
    if cov_ref.get("reference"):
        cov = member_ds.resolve(cov_ref["reference"])
        if cov is not None:
            return _plan_of_coverage(cov)[0], cov, "coverage"
        return None, None, "unresolved"
    display = cov_ref.get("display") or ""
    insurer = ref_key((eob.get("insurer") or {}).get("reference"))
    for p in products:
        owner = ref_key((p.get("ownedBy") or {}).get("reference"))
        names = [p.get("name")] + list(p.get("alias", []))
        if (owner is None or owner == insurer) and any(n and display.startswith(n) for n in names):
            return next(iter(sorted(_plan_identifiers(p))), None), None, "display"
    return None, None, "unmatched"


def run_consistency(member_ds, directory_ds, formulary_ds, report, eob_kind):
    d = Directory(directory_ds) if directory_ds is not None else None
    f = Formulary(formulary_ds) if formulary_ds is not None else None
    if d is not None:
        _providers(member_ds, directory_ds, report)
        _coverages(member_ds, d, report)
        _networks(member_ds, d, report)
    if f is not None:
        _pharmacy(member_ds, f, d, report, eob_kind)


def _providers(member_ds, directory_ds, report):
    for rtype in ("Organization", "Practitioner", "PractitionerRole", "Location"):
        for r in member_ds.of_type(rtype):
            subj = f"{rtype}/{r['id']}"
            other = directory_ds.resolve(f"{rtype}/{r['id']}")
            if other is None:
                report.rule("the members' providers are in the directory under the same id", subj,
                            ["not in the directory"])
                continue
            problems = []
            if rtype in ("Organization", "Practitioner"):
                if npi_of(r) != npi_of(other):
                    problems.append(f"NPI {npi_of(r)} in the member data, {npi_of(other)} in the directory")
                a, b = (r.get("name"), other.get("name")) if rtype == "Organization" else \
                    (person_name(r), person_name(other))
                if a != b:
                    problems.append(f"name '{a}' in the member data, '{b}' in the directory")
            elif rtype == "PractitionerRole":
                for key in ("practitioner", "organization"):
                    if refs(r, key) != refs(other, key):
                        problems.append(f"{key} {refs(r, key)} in the member data, {refs(other, key)} in the directory")
            else:
                a, b = r.get("name"), other.get("name")
                if a != b:
                    problems.append(f"name '{a}' in the member data, '{b}' in the directory")
                pa, pb = (r.get("address") or {}), (other.get("address") or {})
                if [pa.get(k) for k in ("line", "city", "state", "postalCode")] != \
                        [pb.get(k) for k in ("line", "city", "state", "postalCode")]:
                    problems.append("the address differs")
            report.rule("the members' providers are in the directory with the same NPI and name", subj, problems)


def _coverages(member_ds, d, report):
    for cov in member_ds.of_type("Coverage"):
        subj = f"Coverage/{cov['id']}"
        value, name = _plan_of_coverage(cov)
        products = [p for p in d.products if value in _plan_identifiers(p)]
        problems = []
        if not products:
            problems.append(f"no InsurancePlan with identifier {value}")
        for p in products:
            if p.get("name") != name:
                problems.append(f"plan name '{name}', InsurancePlan name '{p.get('name')}'")
            payors = [ref_key(x.get("reference")) for x in cov.get("payor", [])]
            owner = ref_key((p.get("ownedBy") or {}).get("reference"))
            if owner not in payors:
                problems.append(f"InsurancePlan owned by {owner}, coverage paid by {payors}")
            nets = d.product_networks(p)
            if not nets:
                problems.append(f"InsurancePlan/{p['id']} names no network")
            if cov.get("network"):
                nid = d.network_by_name.get(cov["network"])
                if nid is None:
                    problems.append(f"no network named '{cov['network']}'")
                elif nid not in nets:
                    problems.append(f"network '{cov['network']}' is not a network of InsurancePlan/{p['id']}")
            start = (cov.get("period") or {}).get("start", "")
            if start and not in_period(p.get("period"), start):
                problems.append(f"coverage starts {start}, outside the product's period {p.get('period')}")
        report.rule("a coverage's plan is a product (InsurancePlan) with its network", subj, problems)


def _networks(member_ds, d, report):
    for eob in member_ds.of_type("ExplanationOfBenefit"):
        if eob.get("use") != "claim":
            continue
        subj = f"ExplanationOfBenefit/{eob['id']}"
        plan_id, cov, how = claim_plan(eob, member_ds, d.products)
        products = [p for p in d.products if plan_id in _plan_identifiers(p)]
        if not products:
            report.rule("a claim's plan is a product of the directory", subj, [f"plan {plan_id} ({how}) not found"])
            continue
        nets = d.product_networks(products[0])
        if cov is not None and cov.get("network"):
            nets = [d.network_by_name.get(cov["network"])]
        day = (eob.get("billablePeriod") or {}).get("start", "")[:10]
        problems = []
        checks = [("billingnetworkstatus", ref_key((eob.get("provider") or {}).get("reference")), "provider")]
        for m in eob.get("careTeam", []):
            if "rendering" in {c for _, c in _codes(m.get("role"))}:
                checks.append(("renderingnetworkstatus", ref_key((m.get("provider") or {}).get("reference")),
                               "rendering provider"))
        for discriminator, provider, label in checks:
            status = _adj_status(eob.get("adjudication"), discriminator)
            if status not in ("innetwork", "outofnetwork") or provider is None:
                continue
            member = d.in_network(provider, nets, day)
            if member is None:
                continue
            if status == "innetwork" and not member:
                problems.append(f"{label} {provider[0]}/{provider[1]} is not in network {nets} on {day}, "
                                "but the claim is in network")
            if status == "outofnetwork" and member:
                problems.append(f"{label} {provider[0]}/{provider[1]} is in network {nets} on {day}, "
                                "but the claim is out of network")
        report.rule("a claim's network status matches the directory on the day of service", subj, problems)


def _supporting(eob, code):
    for s in eob.get("supportingInfo", []):
        if code in {c for _, c in _codes(s.get("category"))}:
            return s
    return None


def _amount(adjudications, code):
    for a in adjudications or []:
        if code in {c for _, c in _codes(a.get("category"))} and a.get("amount"):
            return round(float(a["amount"]["value"]) * 100)
    return None


def _pharmacy(member_ds, f, d, report, eob_kind):
    for eob in member_ds.of_type("ExplanationOfBenefit"):
        if eob.get("use") != "claim" or eob_kind(eob) != "pharmacy":
            continue
        subj = f"ExplanationOfBenefit/{eob['id']}"
        plan_id, _, how = claim_plan(eob, member_ds, f.payer_plans)
        plans = [p for p in f.payer_plans if plan_id in _plan_identifiers(p)]
        if not plans:
            report.rule("a pharmacy claim's plan has a formulary", subj, [f"no usdf-PayerInsurancePlan for plan "
                                                                          f"{plan_id} ({how})"])
            continue
        plan = plans[0]
        fid = f.formulary_of(plan)
        form = f.formularies.get(fid)
        day = (eob.get("billablePeriod") or {}).get("start", "")[:10]
        days = ((_supporting(eob, "dayssupply") or {}).get("valueQuantity") or {}).get("value", 30)
        network = _adj_status(eob.get("adjudication"), "billingnetworkstatus") or "innetwork"
        benefit = f"{'1' if days <= 34 else '3'}-month-{'in' if network == 'innetwork' else 'out'}-retail"
        generic = ("http://terminology.hl7.org/CodeSystem/NCPDPBrandGenericIndicator", "2") in \
            _codes((_supporting(eob, "brandgenericindicator") or {}).get("code"))
        for n, it in enumerate(eob.get("item", [])):
            isubj = f"{subj} item {it.get('sequence', n + 1)}"
            problems = []
            rejected = _adj_status(it.get("adjudication"), "rejectreason")
            copay = _amount(it.get("adjudication"), "copay") or 0
            ndcs = [c.get("code") for c in codings_of(it.get("productOrService")) if c.get("system") == NDC]
            if form is None:
                report.rule("a pharmacy claim's drug is on the formulary of its plan", isubj,
                            [f"formulary {fid} of InsurancePlan/{plan['id']} not found"])
                continue
            if not in_period(form.get("period"), day):
                problems.append(f"filled {day}, outside the period {form.get('period')} of InsurancePlan/{fid}")
            if not ndcs:  # a compound: covered under the compound benefit at a generic copay
                generic_copays = {plan_cost(plan, benefit, t)[0] for t in ("preferred-generic", "generic")} - {None}
                if not rejected and generic_copays and copay not in {round(c * 100) for c in generic_copays}:
                    problems.append(f"compound copay {copay / 100:.2f} is not a generic copay of {benefit}")
                report.rule("a compound claim is paid at a generic copay", isubj, problems)
                continue
            for ndc in ndcs:
                drugs = f.drug_by_ndc.get(ndc, [])
                items = [i for drug in drugs for i in f.items.get((fid, drug), [])]
                if rejected == "70":
                    report.rule("a drug refused as not covered (NCPDP 70) is not on the formulary", isubj,
                                [f"NDC {ndc} is on InsurancePlan/{fid}"] if items else [])
                    continue
                if rejected:
                    continue
                if not drugs:
                    problems.append(f"NDC {ndc} is on no FormularyDrug")
                elif not items:
                    problems.append(f"NDC {ndc} ({', '.join(drugs)}) is not on InsurancePlan/{fid}")
                for i in items:
                    tier = item_tier(i)
                    status = [e.get("valueCode") for e in _ext(i, USDF + "usdf-AvailabilityStatus-extension")]
                    if status != ["active"]:
                        problems.append(f"Basic/{i['id']} availability {status}")
                    for e in _ext(i, USDF + "usdf-AvailabilityPeriod-extension"):
                        if not in_period(e.get("valuePeriod"), day):
                            problems.append(f"filled {day}, outside the availability period of Basic/{i['id']}")
                    if benefit not in item_benefits(i):
                        problems.append(f"Basic/{i['id']} does not cover {benefit}")
                    if generic != (tier in ("generic", "preferred-generic", "non-preferred-generic")):
                        problems.append(f"{'generic' if generic else 'brand'} fill on tier {tier}")
                    plan_copay, coins, found = plan_cost(plan, benefit, tier)
                    if not found:
                        problems.append(f"InsurancePlan/{plan['id']} has no cost sharing for {tier}, {benefit}")
                    elif plan_copay is not None and round(plan_copay * 100) != copay:
                        problems.append(f"copay {copay / 100:.2f}, but tier {tier} costs {plan_copay:.2f} "
                                        f"({benefit}) in InsurancePlan/{plan['id']}")
                    if item_flag(i, "usdf-PriorAuthorization-extension") and not eob.get("preAuthRef"):
                        problems.append(f"Basic/{i['id']} requires prior authorization, the claim cites none")
                    for e in _ext(i, USDF + "usdf-QuantityLimitDetail-extension"):
                        for sub in _sub(e, "Rolling"):
                            rep = (sub.get("valueTiming") or {}).get("repeat") or {}
                            qty = (it.get("quantity") or {}).get("value", 0)
                            if rep.get("count") and rep.get("period"):
                                allowed = rep["count"] * max(1, days / rep["period"])
                                if qty > allowed:
                                    problems.append(f"quantity {qty} above the limit of {rep['count']} per "
                                                    f"{rep['period']} days of Basic/{i['id']}")
            report.rule("a pharmacy claim's drug is on the formulary of its plan, at the tier of its cost sharing",
                        isubj, problems)
    if d is not None:
        for p in f.payer_plans:
            ids = _plan_identifiers(p)
            same = [x for x in d.products if _plan_identifiers(x) & ids]
            report.rule("a formulary product is a product of the directory (same identifier and name)",
                        f"InsurancePlan/{p['id']} (formulary)",
                        [] if same and same[0].get("name") == p.get("name") else
                        [f"no directory InsurancePlan with identifier {sorted(ids)} and name '{p.get('name')}'"])
