#!/usr/bin/env python3
"""payer-sandbox seed data generator (standard library only).

    python3 tools/seedgen/seedgen.py
        Regenerates the curated data set in seed-data/ (one Bundle per test member plus
        shared.json). The output is byte-identical from run to run.

    python3 tools/seedgen/seedgen.py --members N --out DIR [--seed S] [--format ndjson|bundle]
        Writes N synthetic members for benchmarks: shared.json plus Patient.ndjson,
        Coverage.ndjson and ExplanationOfBenefit.ndjson (or one Bundle per member with
        --format bundle). Deterministic for a given N and seed.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import catalog  # noqa: E402
import members  # noqa: E402
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
    for fn in members.ALL:
        slug, m = fn(numbers)
        resources = _sort_member(m.resources)
        name = slug + ".json"
        write(os.path.join(out_dir, name), dump_pretty(bundle("seed-" + slug, resources)))
        written.append(name)
    # Remove stale generated member files (renamed or dropped members).
    for name in sorted(os.listdir(out_dir)):
        if name.endswith(".json") and name not in written and (name.startswith("member-") or name == "shared.json"):
            os.remove(os.path.join(out_dir, name))
    return written


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
