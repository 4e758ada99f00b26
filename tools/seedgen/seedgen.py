#!/usr/bin/env python3
"""payer-sandbox seed data generator (standard library only).

    python3 tools/seedgen/seedgen.py
        Regenerates the curated data set in seed-data/ (one Bundle per test member plus
        shared.json) and the network's other plans in seed-data/plans/ (plans.py). The output is
        byte-identical from run to run.

    python3 tools/seedgen/seedgen.py --members N --out DIR [--seed S] [--format ndjson|bundle]
        Writes N synthetic members for benchmarks: shared.json plus, per 500 members,
        Patient-NNNNN.ndjson, Coverage-NNNNN.ndjson and ExplanationOfBenefit-NNNNN.ndjson
        (or members/bench-NNNNNN.json, one Bundle per member, with --format bundle). Each
        member has a Patient with a member ID (08-benchNNNNNN) and postal code, a Coverage and
        10-20 EOBs of mixed CARIN types. Compact JSON without display texts. Deterministic
        for a given N and seed, whatever the number of --jobs.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import catalog  # noqa: E402
import directory  # noqa: E402
import formulary  # noqa: E402
import members  # noqa: E402
import plans  # noqa: E402
from builder import ClaimNumbers  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
FULL_URL_BASE = "https://example.org/fhir/"


def full_url(resource):
    return f"{FULL_URL_BASE}{resource['resourceType']}/{resource['id']}"


def bundle(bundle_id, resources):
    newest = max(r["meta"]["lastUpdated"] for r in resources)
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": {"lastUpdated": newest},
        "type": "collection",
        "timestamp": newest,
        "entry": [{"fullUrl": full_url(r), "resource": r} for r in resources],
    }


def as_served(resource):
    """The resource with `meta.versionId` "1" where the server would put it (last in `meta`, or a
    `meta` of its own last in the resource): each line is then byte for byte the JSON the server
    serves, which it serves from the embedded file itself (docs/data.md#seed-data)."""
    meta = resource.get("meta", {})
    # A `meta` that is not an object the server leaves alone, as it leaves a string `versionId`.
    if not isinstance(meta, dict) or isinstance(meta.get("versionId"), str):
        return resource
    # Replacing a key keeps its place in a dict; a new key goes last.
    return {**resource, "meta": {**meta, "versionId": "1"}}


def dump_ndjson(resources):
    return "".join(json.dumps(as_served(r), ensure_ascii=False, separators=(",", ":")) + "\n"
                   for r in resources)


def write_public(out_dir, folder, by_type):
    """One NDJSON file per resource type in out_dir/folder (compact, no narrative); removes the
    folder's other files (stale types). -> the relative paths written."""
    path = os.path.join(out_dir, folder)
    os.makedirs(path, exist_ok=True)
    written = []
    for rtype, resources in by_type.items():
        if resources:
            name = rtype + ".ndjson"
            write(os.path.join(path, name), dump_ndjson(resources))
            written.append(name)
    for name in sorted(os.listdir(path)):
        if name not in written and os.path.isfile(os.path.join(path, name)):
            os.remove(os.path.join(path, name))
    return [f"{folder}/{n}" for n in written]


def dump_pretty(obj):
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


TYPE_ORDER = ["Patient", "RelatedPerson", "Coverage", "ExplanationOfBenefit", "Encounter", "Condition",
              "AllergyIntolerance", "Immunization", "MedicationRequest", "Procedure", "Observation"]


def _sort_member(resources):
    """Patient first, then by type; EOBs and clinical resources in date order (stable)."""
    return sorted(resources, key=lambda r: TYPE_ORDER.index(r["resourceType"]))


def curated(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    numbers = ClaimNumbers()
    written = []
    shared = catalog.shared_resources()
    write(os.path.join(out_dir, "shared.json"), dump_pretty(bundle("seed-shared", shared)))
    written.append("shared.json")
    table = []
    timelines = []
    for fn in members.ALL:
        slug, m = fn(numbers)
        timelines.append(m.timeline)
        resources = _sort_member(m.resources)
        table.append((slug, resources))
        name = slug + ".json"
        write(os.path.join(out_dir, name), dump_pretty(bundle("seed-" + slug, resources)))
        written.append(name)
    timeline = [entry for fn_entries in timelines for entry in fn_entries]
    write(os.path.join(out_dir, "timeline.ndjson"),
          "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in timeline))
    written.append("timeline.ndjson")
    public = {"directory": directory.generate(), "formulary": formulary.generate()}
    for folder, by_type in public.items():
        written += write_public(out_dir, folder, by_type)
    # The network's other plans: a data directory each, below plans/ (tools/seedgen/plans.py).
    plan_files, other_plans = plans.write_all(out_dir, sys.modules[__name__])
    written += plan_files
    write(os.path.join(out_dir, "README.md"), readme(table, public, other_plans))
    # Remove stale generated member files (renamed or dropped members).
    for name in sorted(os.listdir(out_dir)):
        if name.endswith(".json") and name not in written and (name.startswith("member-") or name == "shared.json"):
            os.remove(os.path.join(out_dir, name))
    return written


def _is_pa(r):
    return r["resourceType"] == "ExplanationOfBenefit" and r.get("use") == "preauthorization"


def pa_state(pa, as_of):
    """The state of a prior authorization, for the README, as of the data's newest lastUpdated."""
    if pa["status"] == "cancelled":
        return "cancelled"
    if pa["outcome"] == "queued":
        return "pending"
    codes = [a["extension"][0]["extension"][-1]["valueCodeableConcept"]["coding"][0]["code"]
             for it in pa["item"] for a in it["adjudication"] if a.get("extension")]
    if all(c == "A3" for c in codes):
        return "denied"
    if any(c in ("A2", "A3") for c in codes):
        return "partially approved"
    if pa["preAuthRefPeriod"][0]["end"] < as_of:
        return "expired"
    return "approved"


def _units(it, code):
    return next((a["value"] for a in it["adjudication"] if a["category"]["coding"][0]["code"] == code), None)


def _pa_rows(table):
    rows, tracked = [], []
    as_of = max(r["meta"]["lastUpdated"] for _, resources in table for r in resources)[:10]
    for slug, resources in table:
        patient = next(r for r in resources if r["resourceType"] == "Patient")
        name = " ".join([patient["name"][0]["given"][0], patient["name"][0]["family"]])
        for pa in (r for r in resources if _is_pa(r)):
            state = pa_state(pa, as_of)
            services = []
            for it in pa["item"]:
                code = it["productOrService"]["coding"][0]["code"]
                req = it["quantity"]["value"]
                unit = it["quantity"]["unit"]
                approved = _units(it, "allowedunits")
                used = _units(it, "consumedunits")
                text = f"{code} x {req} {unit}{'s' if req != 1 else ''}"
                if approved is not None and approved != req:
                    text += f", {approved} approved"
                if used is not None:
                    text += f", {used} used"
                    tracked.append(f"`{pa['id']}` ({approved} {unit}s approved, {used} used)")
                services.append(text)
            rows.append(f"| `{pa['id']}` | {name} | `{pa['preAuthRef'][0]}` | {'; '.join(services)} | {state} |")
    return "\n".join(rows), ", ".join(tracked), as_of


def _member_row(slug, resources):
    p = next(r for r in resources if r["resourceType"] == "Patient")
    name = p["name"][0]
    mid = next(i["value"] for i in p["identifier"] if i["type"]["coding"][0]["code"] == "MB")
    counts = {}
    for r in resources:
        counts[r["resourceType"]] = counts.get(r["resourceType"], 0) + 1
    role, note = members.NOTES[slug]
    return (f"| {role} | {name['given'][0]} {name['family']} | {p['birthDate']} | `{mid}` | "
            f"{p['address'][0]['postalCode']} | `{p['id']}` | {counts.get('ExplanationOfBenefit', 0)} | "
            f"{sum(1 for r in resources if _is_pa(r))} | {note} |")


def _counts(by_type):
    return ", ".join(f"{len(rs)} {t}" for t, rs in by_type.items() if rs)


def _public_tables(public):
    d, f = public["directory"], public["formulary"]
    products = "\n".join(
        f"| `{p['identifier'][0]['value']}` | {p['name']} | `{p['id']}` | "
        f"{', '.join(n['display'] for n in p['network'])} |" for p in d["InsurancePlan"])
    drugs = formulary.DRUG_BY_RXCUI
    claim_drugs = "\n".join(
        f"| `{ndc}` | `{rx}` | {drugs[rx][1]} | {drugs[rx][2]} | "
        f"{formulary.T[drugs[rx][5]]} | {formulary.T[drugs[rx][6]] if drugs[rx][6] else '-'} |"
        for ndc, rx in formulary.CLAIM_NDC.items())
    items = len(f["Basic"])
    return dict(directory_counts=_counts(d), formulary_counts=_counts(f), products=products,
                claim_drugs=claim_drugs, n_items=items, n_drugs=len(f["MedicationKnowledge"]),
                n_practitioners=len(d["Practitioner"]), n_cities=len(directory.CITIES))


def readme(table, public, other_plans):
    rows = "\n".join(_member_row(slug, res) for slug, res in table)
    files = "\n".join(f"- `{slug}.json`: {members.NOTES[slug][0]}, {len(res)} resource{'s' if len(res) != 1 else ''}" for slug, res in table)
    pas, tracked, as_of = _pa_rows(table)
    return README_TEMPLATE.format(rows=rows, files=files, pas=pas, tracked=tracked, as_of=as_of,
                                  other_plans=other_plans, **_public_tables(public))


README_TEMPLATE = """# seed-data

The default data set of payer-sandbox: synthetic members of the "Demo Health Plan", served by
the FHIR API and used to derive the test members that can sign in. Every name, address,
identifier, NPI and amount is invented. Code values (ICD-10, CPT/HCPCS, NDC, CDT, NUBC, NUCC,
RxNorm, LOINC, SNOMED CT, CVX) are used to make the data realistic; NDC product codes are
illustrative.

**These files are generated. Do not edit them by hand**: change `tools/seedgen/` (the member
scripts are in `tools/seedgen/members.py`, the shared directory in `tools/seedgen/catalog.py`),
run

    python3 tools/seedgen/seedgen.py

and commit the generator and the regenerated files together. The output is byte-identical
from run to run. Check the result with `tests/conformance/run.sh`.

## Files

Each member data file is a FHIR R4 `Bundle` of type `collection`, pretty-printed. Entry `fullUrl`s are
`https://example.org/fhir/{{type}}/{{id}}`; references inside resources are relative and
versionless (`Patient/jason-argonaut`). Resource ids are unique per type across the member data
files; the directory and the formulary are data sets of their own, whose references resolve
within them and whose ids may repeat the member data's (the same provider under the same id).

- `shared.json`: the payers, provider organizations, practitioners, practitioner roles and
  locations that the members' claims reference
{files}
- `timeline.ndjson`: changes due after the server starts (not resources)
- `directory/`, `formulary/`: the public provider directory and drug formulary (below); not
  member data
- `plans/`: the network's other health plans (below); not part of this data set

Every resource has `meta.lastUpdated` (fixed timestamps, so newest-first ordering is
meaningful) and a versioned `meta.profile`: the CARIN Blue Button 2.0.0 profile
(`http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-...|2.0.0`) for Patient, Coverage,
ExplanationOfBenefit (claims), Organization, Practitioner and RelatedPerson; the Da Vinci PDex
2.0.0 Prior Authorization profile
(`http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/pdex-priorauthorization|2.0.0`) for
the prior authorizations, which are ExplanationOfBenefit resources too (`use`
`preauthorization`); and the US Core 6.1.0 profile
(`http://hl7.org/fhir/us/core/StructureDefinition/us-core-...|6.1.0`) for the clinical
resources, PractitionerRole and Location. PractitionerRole and Location declare US Core 3.1.1
as well (`...|3.1.1`), the version CARIN BB 2.0.0 and PDex 2.0.0 build on.

The clinical resources declare the US Core 6.1.0 profile of their kind:

| Resource | Profile (`us-core-...`) | Category |
|---|---|---|
| Observation, lab result | `observation-lab` | `laboratory` |
| Observation, vital sign | `blood-pressure`, `body-height`, `body-weight`, `bmi`, `heart-rate` | `vital-signs` |
| Observation, smoking status | `smokingstatus` | `social-history` |
| Observation, screening answer (PHQ-2, Hunger Vital Sign) | `observation-screening-assessment` | `survey` (and US Core `sdoh` for the food insecurity screening) |
| Condition, problem or health concern | `condition-problems-health-concerns` | `problem-list-item`, or US Core `health-concern` (with `sdoh`) |
| Condition, encounter diagnosis | `condition-encounter-diagnosis` | `encounter-diagnosis` |
| Encounter, Immunization, AllergyIntolerance, MedicationRequest, Procedure | `encounter`, `immunization`, `allergyintolerance`, `medicationrequest`, `procedure` | |

Observation categories are from `http://terminology.hl7.org/CodeSystem/observation-category`,
Condition categories from `http://terminology.hl7.org/CodeSystem/condition-category`
(`health-concern` from `http://hl7.org/fhir/us/core/CodeSystem/condition-category`, `sdoh`
from `http://hl7.org/fhir/us/core/CodeSystem/us-core-category`): SMART v2 granular scopes such
as `patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory`
select by them. Jason Argonaut and Rosa Delgado have Observations of all four categories and
Conditions of more than one.

## Test members

A Patient is a test member when it has a name, an address postal code and a member ID (an
identifier whose type is `http://terminology.hl7.org/CodeSystem/v2-0203|MB`). When the member is
the subscriber of a Demo Health Plan coverage, `Coverage.subscriberId` holds the same value.

| | Name | Birth date | Member ID | Postal code | Patient id | EOBs | of which prior authorizations | What is special |
|---|---|---|---|---|---|---|---|---|
{rows}

### Prior authorizations

Each member with claims has prior authorizations (CMS-0057-F), as ExplanationOfBenefit
resources with `use` `preauthorization` conforming to Da Vinci PDex 2.0.0 "PDex Prior
Authorization", with the Da Vinci PAS 2.0.1 item extensions. The authorization number is the
`identifier` value and `preAuthRef` (and `insurance.preAuthRef`); each item carries its review
action (PDex `reviewAction`, X12 306 action code), units approved (`adjudication` `allowedunits`
and the PAS `itemAuthorizedDetail` quantity), the authorization period (PAS `itemPreAuthPeriod`,
and `preAuthRefPeriod` for the whole authorization), the issue date, trace and administration
reference numbers and the authorized provider.

| Id | Member | Number | Service | State (as of {as_of}, the newest `meta.lastUpdated`) |
|---|---|---|---|---|
{pas}

States: pending (`outcome` `queued`, no decision); approved (X12 306 A1); partially approved
(A2, the units not approved denied with a reason); denied (A3, a `denialreason` adjudication
coded with an X12 claim adjustment reason code); cancelled (`status` `cancelled`); expired (an
approval whose `preAuthRefPeriod` has ended). Units used are `consumedunits` on the item and the
PDex `PriorAuthorizationUtilization` extension on the `utilized` total, and equal the units of
the claims that carry the authorization number in `preAuthRef`: {tracked}.

## Rules the data follows

- Every claim EOB has `outcome` `complete`; its `insurer` is the `payor` of its focal Coverage, the
  Coverage's `beneficiary` is the EOB's patient and its `period` contains the billable period.
  A prior authorization's `outcome` is `queued` while it is pending and `complete` once decided;
  its `insurer` and coverage follow the same rule, with the request date for the billable period.
- Claim identifiers (`identifier` of type `uc`) are unique across all EOBs. A claim that was
  corrected is kept with `status` `cancelled` and `related` `replacedby` pointing to the
  corrected claim's identifier, which in turn has `related` `prior` pointing back; there is
  one such pair for each of the five EOB types.
- Amounts add up on every line and in the totals: eligible = submitted - noncovered - discount;
  member liability = deductible + coinsurance + copay + noncovered; benefit (= paid) = eligible -
  deductible - coinsurance - copay; totals are the sums of the lines (or of the header amounts for
  claims adjudicated at the header level). A member's deductible accumulates over a plan year.
- Each member's newest claim EOB carries careTeam, payee, provider, insurer and coverage.
- Prior authorizations: units used never exceed units approved and equal the units of the
  claims citing the authorization number; a denied or partially approved item has a coded denial
  reason; a claim cites only an approved authorization of its own patient, inside its period.
- Across the members, every must-support element of every CARIN BB 2.0.0 EOB, Patient,
  Coverage, Organization, Practitioner and RelatedPerson profile, of PDex Prior
  Authorization, and of every US Core 6.1.0 profile above (PractitionerRole and Location
  included), appears at least once.

## Provider directory (`directory/`)

Public data for the provider directory API (`/directory/r4`), kept apart from the member data:
one NDJSON file per resource type, compact, without narrative, each line as the server serves
it. Every resource declares its
Da Vinci PDex Plan-Net 1.1.0 profile
(`http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-...|1.1.0`;
networks are Organizations declaring `plannet-Network`). {directory_counts}.

- **The members' providers**: every organization, practitioner, practitioner role and location
  in `shared.json` (the payers, provider organizations, practitioners, roles and locations the
  members' claims, prior authorizations and clinical records name) is in the directory under the
  same id, with the same NPI and name, as a Plan-Net resource. A practitioner in more than one
  network has one PractitionerRole per network (Plan-Net allows one `network-reference` per
  role): the first keeps the id of `shared.json` (`role-amelia-chen`), the others add the
  network (`role-leah-goldberg-demo-medicare-ppo`).
- **Networks and products**: each Coverage `class` of type plan has an InsurancePlan with the
  same plan identifier (`identifier.value`) and name, and `Coverage.network` names one of its
  networks (`InsurancePlan.network`). Walter Okafor's unlinked claims name their plan in
  `insurance.coverage.display`, which starts with the plan's `alias`.

| Plan identifier | Name | InsurancePlan | Networks |
|---|---|---|---|
{products}

- **In and out of network**: a provider is in a network when an OrganizationAffiliation
  (`participatingOrganization`, `network`) or a PractitionerRole (`network-reference`) says so,
  from its `period.start`. The members' claims agree (the C4BB `billingnetworkstatus` and
  `renderingnetworkstatus` adjudications): Colfax Avenue Pharmacy joined the PPO network on
  2026-01-01, so Carin Bluebutton's fill of July 2025 was out of network and her fill of May 2026 in
  network; Peachtree Medical Group and Dr. Leah Goldberg are in the Medicare networks but not the
  PPO network; Front Range Hospital and Dr. Nora Whitfield are not in the Puget Sound HMO network.
- **The rest**: {n_practitioners} practitioners in {n_cities} cities (the members' five, Minneapolis
  and 24 more), with NUCC specialties from Plan-Net's IndividualAndGroupSpecialtiesVS, each city
  with a hospital, clinics, a pharmacy or two, a dental office, an eye care center and a
  laboratory; locations with addresses and `position` coordinates, hours and accessibility;
  services with delivery methods; roles with `newpatients` (accepting, existing patients only,
  not accepting) and `network-reference`; Direct and FHIR endpoints. Names, addresses, phone
  numbers (555-01xx) and NPIs (valid check digit) are synthetic; the generator draws them from a
  random generator seeded with a fixed string.

## Drug formulary (`formulary/`)

Public data for the drug formulary API (`/formulary/r4`), one NDJSON file per resource type:
{formulary_counts}. Profiles: Da Vinci US Drug Formulary 2.0.1
(`http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/usdf-...|2.0.1`): the two
formularies (InsurancePlan `usdf-Formulary`, commercial and Medicare Part D), the Demo Health
Plan products that use them (InsurancePlan `usdf-PayerInsurancePlan`, same plan identifiers and
names as the members' coverages, with the cost sharing per pharmacy benefit type and tier), one
FormularyItem (Basic `usdf-FormularyItem`: tier, pharmacy benefit types, availability, prior
authorization, step therapy, quantity limits) per drug and formulary ({n_items}), one
FormularyDrug (MedicationKnowledge `usdf-FormularyDrug`) per drug ({n_drugs}), and the states the
products cover (Location `usdf-InsurancePlanLocation`).

**NDC and RxNorm**: a FormularyDrug is identified by its RxNorm code (the first coding of
`MedicationKnowledge.code`, the profile's `semantic-drug` slice); the NDC product codes the
members' pharmacy claims dispense are further codings of the same `code`
(`http://hl7.org/fhir/sid/ndc`), so a claim's NDC finds its drug with
`MedicationKnowledge?code=http://hl7.org/fhir/sid/ndc|<ndc>`. The claims' drugs:

| NDC (claims) | RxNorm | RxNorm name | Term type | Commercial tier | Medicare tier |
|---|---|---|---|---|---|
{claim_drugs}

Not on any formulary: esomeprazole magnesium 40 mg capsules (brand, NDC `00186504031`), which
Jason Argonaut's claim of 2025-05-15 was refused for (NCPDP reject code 70, not covered).
Compounded prescriptions (Jason Argonaut's hydrocortisone and ketoconazole cream of 2023-08-21)
are covered under the compound benefit at the generic copay; their bulk ingredients are not
formulary items. The RxNorm codes and names come from published sources: the eCQM value sets of
the NLM's VSAC (atorvastatin, metoprolol succinate, amoxicillin suspension, azithromycin and most of
the other generics), the RxNorm codes of the Synthea generator (Ventolin HFA, Flovent HFA,
lisinopril, clopidogrel, naproxen) and the NDC-to-RxNorm crosswalk (metformin, generic albuterol);
omeprazole is the code the members' clinical records already use.

**Tiers and cost sharing**: a claim's drug is on the formulary of the plan that paid it, at a tier
whose copay in the product's cost sharing (`plan.specificCost`, by pharmacy benefit type: 30-day
or 90-day, in or out of network, retail or mail) is the claim's copay, and generic fills
(NCPDP brand/generic indicator 2) are on a generic tier. Commercial plans: generic $10,
non-preferred generic $25, preferred brand $30, non-preferred brand $60, specialty 25%
coinsurance. Medicare: preferred generic $5, generic $12, non-preferred generic $25, preferred
brand $47, non-preferred brand 40%, specialty 33%. A 90-day retail fill costs the 30-day copay;
90-day mail-order generics cost nothing.

## Other plans

payer-sandbox emulates a small network of health plans. This folder is the default plan, Demo
Health Plan; `plans/` holds the others, generated by `tools/seedgen/plans.py` with the same
builders. Each is a data directory of its own with this folder's layout (`shared.json`, one
Bundle per member, `directory/`, `formulary/` when the plan publishes one), plus its `logo.svg`
and a `README.md` listing its members; start the server on one with
`--data seed-data/plans/cascade`. Their resource ids start with the plan's key, so none repeats
this data set's, and their references resolve within their own folder.

{other_plans}

Marisol Vega-Lindqvist is a member of both: of Lakeshore Mutual Health in Chicago until her
coverage ended on 2025-03-31, then of Cascade Health Alliance in Portland from 2025-04-01, under
another member ID, Patient id and address (same name and birth date).

## Benchmark data

The same generator writes any number of synthetic members for load tests (not committed):

    python3 tools/seedgen/seedgen.py --members 10000 --out /path/to/dir

See `python3 tools/seedgen/seedgen.py --help`.
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", type=int, help="scale mode: number of synthetic members to write")
    ap.add_argument("--out", help="output directory (default: seed-data/ for the curated set)")
    ap.add_argument("--seed", default="payer-sandbox", help="scale mode: seed for the random choices")
    ap.add_argument("--format", choices=("ndjson", "bundle"), default="ndjson", help="scale mode: output layout")
    ap.add_argument("--jobs", type=int, default=0, help="scale mode: worker processes (default: CPU count, max 8)")
    args = ap.parse_args(argv)
    if args.members is None:
        out = args.out or os.path.join(REPO, "seed-data")
        names = curated(out)
        print(f"wrote {len(names)} files to {out}")
        return 0
    if not args.out:
        ap.error("--members needs --out DIR")
    if args.members < 1:
        ap.error("--members must be at least 1")
    import scale
    stats = scale.generate(args.members, args.out, seed=args.seed, fmt=args.format, jobs=args.jobs)
    print(f"wrote {stats['members']} members, {stats['eobs']} EOBs, {stats['resources']} resources to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
