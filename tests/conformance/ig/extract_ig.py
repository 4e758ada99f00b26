#!/usr/bin/env python3
"""Extracts what the conformance suite needs from FHIR IG packages.

    python3 extract_ig.py PACKAGE_DIR > carin-bb-2.0.0.json
    python3 extract_ig.py --only pdex-priorauthorization,extension-reviewAction,... \
        PDEX_PACKAGE_DIR PAS_PACKAGE_DIR > davinci-pdex-2.0.0-pa.json

PACKAGE_DIR is an unpacked `package/` folder: hl7.fhir.us.carin-bb#2.0.0, or
hl7.fhir.us.davinci-pdex#2.0.0 with hl7.fhir.us.davinci-pas#2.0.1 (all CC0-1.0).
Keeps, per StructureDefinition, the snapshot elements with the properties a validator
reads (cardinality, mustSupport, slicing, types, fixed/pattern values, bindings), the
ValueSet compose definitions and the CodeSystem concepts, and drops the narrative.
With --only, keeps only the StructureDefinitions with those ids (every ValueSet and
CodeSystem of the packages is kept). Several packages are merged into one file.
"""

import glob
import json
import os
import sys

KEEP = ("id", "path", "sliceName", "min", "max", "mustSupport", "slicing", "binding")


def element(e):
    out = {k: e[k] for k in KEEP if k in e}
    if "binding" in out:
        out["binding"] = {k: v for k, v in out["binding"].items() if k in ("strength", "valueSet")}
    if "slicing" in out:
        out["slicing"] = {k: v for k, v in out["slicing"].items() if k in ("discriminator", "rules")}
    if "type" in e:
        out["type"] = [{k: t[k] for k in ("code", "profile", "targetProfile") if k in t} for t in e["type"]]
    for k, v in e.items():
        if k.startswith("fixed") or k.startswith("pattern"):
            out[k] = v
    return out


def concepts(items):
    for c in items:
        yield c["code"], c.get("display")
        yield from concepts(c.get("concept", []))


def main(pkgs, only=None):
    manifests = [json.load(open(os.path.join(pkg, "package.json"))) for pkg in pkgs]
    out = {"package": " + ".join(f"{m['name']}#{m['version']}" for m in manifests),
           "fhirVersion": manifests[0]["fhirVersions"][0],
           "profiles": {}, "valueSets": {}, "codeSystems": {}}
    for pkg in pkgs:
        extract(pkg, out, only)
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


def extract(pkg, out, only):
    for f in sorted(glob.glob(os.path.join(pkg, "StructureDefinition-*.json"))):
        sd = json.load(open(f))
        if only is not None and sd["id"] not in only:
            continue
        out["profiles"][sd["url"]] = {
            "name": sd["id"], "version": sd["version"], "type": sd["type"], "abstract": sd.get("abstract", False),
            "baseDefinition": sd.get("baseDefinition"),
            "elements": [element(e) for e in sd["snapshot"]["element"]],
        }
    for f in sorted(glob.glob(os.path.join(pkg, "ValueSet-*.json"))):
        vs = json.load(open(f))
        out["valueSets"][vs["url"]] = vs.get("compose", {})
    for f in sorted(glob.glob(os.path.join(pkg, "CodeSystem-*.json"))):
        cs = json.load(open(f))
        out["codeSystems"][cs["url"]] = {"content": cs.get("content"),
                                         "concepts": dict(concepts(cs.get("concept", [])))}


if __name__ == "__main__":
    args = sys.argv[1:]
    only = None
    if len(args) >= 2 and args[0] == "--only":
        only = set(args[1].split(","))
        args = args[2:]
    if not args:
        sys.exit(__doc__)
    main(args, only)
