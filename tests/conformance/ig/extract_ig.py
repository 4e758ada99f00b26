#!/usr/bin/env python3
"""Extracts what the conformance suite needs from FHIR IG packages.

    python3 extract_ig.py PACKAGE_DIR > carin-bb-2.0.0.json
    python3 extract_ig.py --only pdex-priorauthorization,extension-reviewAction,... \
        PDEX_PACKAGE_DIR PAS_PACKAGE_DIR > davinci-pdex-2.0.0-pa.json
    python3 extract_ig.py --rules --only us-core-observation-lab,us-core-encounter,... \
        US_CORE_PACKAGE_DIR > us-core-6.1.0.json

PACKAGE_DIR is an unpacked `package/` folder: hl7.fhir.us.carin-bb#2.0.0, or
hl7.fhir.us.davinci-pdex#2.0.0 with hl7.fhir.us.davinci-pas#2.0.1, or hl7.fhir.us.core#6.1.0
(all CC0-1.0).
Keeps, per StructureDefinition, the snapshot elements with the properties a validator
reads (cardinality, mustSupport, slicing, types, fixed/pattern values, bindings), the
ValueSet compose definitions and the CodeSystem concepts, and drops the narrative.
With --only, keeps only the StructureDefinitions with those ids (every ValueSet and
CodeSystem of the packages is kept). Several packages are merged into one file.
With --rules, also keeps each element's invariants (key, severity, human text, FHIRPath
expression; the base-resource ele-/ext-/dom- ones are left out), the must-support flag of
each type of a choice element (elementdefinition-type-must-support), the ids of the
elements the profile's differential touches, and the resource type of every
StructureDefinition of the package (`profileTypes`, for reference targets to profiles
that were not kept).
"""

import glob
import json
import os
import sys

KEEP = ("id", "path", "sliceName", "min", "max", "mustSupport", "slicing", "binding")


TYPE_MUST_SUPPORT = "http://hl7.org/fhir/StructureDefinition/elementdefinition-type-must-support"
BASE_INVARIANTS = ("ele-", "ext-", "dom-")


def element(e, rules=False):
    out = {k: e[k] for k in KEEP if k in e}
    if "binding" in out:
        out["binding"] = {k: v for k, v in out["binding"].items() if k in ("strength", "valueSet")}
    if "slicing" in out:
        out["slicing"] = {k: v for k, v in out["slicing"].items() if k in ("discriminator", "rules")}
    if "type" in e:
        out["type"] = [{k: t[k] for k in ("code", "profile", "targetProfile") if k in t} for t in e["type"]]
        if rules:
            for t, kept in zip(e["type"], out["type"]):
                if any(x.get("url") == TYPE_MUST_SUPPORT and x.get("valueBoolean") for x in t.get("extension", [])):
                    kept["mustSupport"] = True
    for k, v in e.items():
        if k.startswith("fixed") or k.startswith("pattern"):
            out[k] = v
    if rules:
        inv = [{k: c[k] for k in ("key", "severity", "human", "expression") if k in c}
               for c in e.get("constraint", []) if not c["key"].startswith(BASE_INVARIANTS)]
        if inv:
            out["constraint"] = inv
    return out


def concepts(items):
    for c in items:
        yield c["code"], c.get("display")
        yield from concepts(c.get("concept", []))


def main(pkgs, only=None, rules=False):
    manifests = [json.load(open(os.path.join(pkg, "package.json"))) for pkg in pkgs]
    out = {"package": " + ".join(f"{m['name']}#{m['version']}" for m in manifests),
           "fhirVersion": manifests[0]["fhirVersions"][0],
           "profiles": {}, "valueSets": {}, "codeSystems": {}}
    if rules:
        out["profileTypes"] = {}
    for pkg in pkgs:
        extract(pkg, out, only, rules)
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


def extract(pkg, out, only, rules=False):
    for f in sorted(glob.glob(os.path.join(pkg, "StructureDefinition-*.json"))):
        sd = json.load(open(f))
        if rules:
            out["profileTypes"][sd["url"]] = sd["type"]
        if only is not None and sd["id"] not in only:
            continue
        out["profiles"][sd["url"]] = {
            "name": sd["id"], "version": sd["version"], "type": sd["type"], "abstract": sd.get("abstract", False),
            "baseDefinition": sd.get("baseDefinition"),
            "elements": [element(e, rules) for e in sd["snapshot"]["element"]],
        }
        if rules:
            out["profiles"][sd["url"]]["differential"] = [e["id"] for e in sd["differential"]["element"]]
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
    rules = False
    while args and args[0].startswith("--"):
        if args[0] == "--rules":
            rules = True
            args = args[1:]
        elif args[0] == "--only" and len(args) >= 2:
            only = set(args[1].split(","))
            args = args[2:]
        else:
            sys.exit(__doc__)
    if not args:
        sys.exit(__doc__)
    main(args, only, rules)
