"""A small StructureDefinition-driven validator for the CARIN BB 2.0.0 profiles.

It walks a resource along the profile's snapshot and checks, for every element that is
present in the instance (and every element whose parent is present):
  - cardinality (min/max) of elements and of slices;
  - slice membership by the profile's discriminators (pattern, value, type) and closed
    slicing;
  - allowed types of choice elements ([x]);
  - fixed[x] and pattern[x] values;
  - required bindings (value sets of the IG, a few base value sets, code formats of the
    external code systems);
  - reference targets (resource type, and the target's declared profile when it resolves).
It also records which element ids carry a value, for the must-support coverage report.
FHIRPath invariants are not interpreted here; checks/invariants.py implements them.

The same engine reads the Da Vinci PDex 2.0.0 Prior Authorization profile and the PDex and
PAS 2.0.1 extensions it uses. Two rules matter there:
  - an extension whose slice names its StructureDefinition (type.profile) is validated
    against that definition when it is loaded (sub-extensions, value types, bindings);
  - a value that matches a slice is held to the slice's own pattern, fixed value or binding
    where the slice sets one, instead of the base element's (the slice is the narrower
    definition; e.g. PDex binds item.adjudication.category to a value set that leaves out
    the codes its own allowedunits/consumedunits/denialreason slices fix by pattern).
"""

import collections

from .terminology import Terminology


def _cap(code):
    return code[0].upper() + code[1:]


def pattern_match(pattern, actual):
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            return False
        return all(pattern_match(v, actual.get(k)) for k, v in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(actual, list):
            return False
        return all(any(pattern_match(p, a) for a in actual) for p in pattern)
    return pattern == actual


def fixed_or_pattern(ed):
    for k, v in ed.items():
        if k.startswith("fixed") or k.startswith("pattern"):
            return k, v
    return None, None


def codings_of(value):
    if isinstance(value, dict):
        if "coding" in value:
            return [c for c in value["coding"] if isinstance(c, dict)]
        if "code" in value or "system" in value:
            return [value]
    return []


def path_values(obj, path):
    """Every value at a dotted path below obj, lists flattened at each step."""
    values = [obj]
    for name in path.split("."):
        nxt = []
        for x in values:
            if isinstance(x, dict) and name in x:
                y = x[name]
                nxt.extend(y if isinstance(y, list) else [y])
        values = nxt
    return values


def ref_type(reference):
    if not isinstance(reference, str) or reference.startswith("#") or reference.startswith("urn:"):
        return None
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[:parts.index("_history")]
    if len(parts) >= 2:
        return parts[-2]
    return None


def ref_key(reference):
    if not isinstance(reference, str):
        return None
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[:parts.index("_history")]
    if len(parts) >= 2:
        return parts[-2], parts[-1]
    return None


def profile_resource_type(url, types):
    """The resource type a (target) profile constrains; `types` maps profile urls to types."""
    url = url.split("|")[0]
    if url in types:
        return types[url]
    tail = url.rsplit("/", 1)[-1]
    uscore = {"us-core-patient": "Patient", "us-core-organization": "Organization",
              "us-core-practitioner": "Practitioner", "us-core-location": "Location",
              "us-core-practitionerrole": "PractitionerRole", "us-core-encounter": "Encounter",
              "hrex-coverage": "Coverage", "profile-practitioner": "Practitioner",
              "profile-organization": "Organization"}
    if tail in uscore:
        return uscore[tail]
    if url.startswith("http://hl7.org/fhir/StructureDefinition/"):
        return tail
    return None


class Profile:
    def __init__(self, url, sd, checker):
        self.url = url
        self.name = sd["name"]
        self.version = sd["version"]
        self.type = sd["type"]
        self.abstract = sd.get("abstract", False)
        self.checker = checker
        self.elements = {}
        self.children = collections.defaultdict(list)
        self.slices = collections.defaultdict(list)
        for e in sd["elements"]:
            eid = e["id"]
            self.elements[eid] = e
            if "." not in eid:
                continue
            head, _, last = eid.rpartition(".")
            if ":" in last:
                name, _, slice_name = last.partition(":")
                if "/" in slice_name:  # re-slice: not used by CARIN BB 2.0.0
                    continue
                self.slices[head + "." + name].append(eid)
            else:
                self.children[head].append(eid)
        self.must_support = [e["id"] for e in sd["elements"] if e.get("mustSupport")]
        # Types of a choice element that the profile marks must-support on their own
        # (elementdefinition-type-must-support, kept by `extract_ig.py --rules`), as type
        # slices: `Observation.value[x]:valueQuantity`.
        for e in sd["elements"]:
            if e.get("mustSupport") and e["path"].endswith("[x]"):
                name = e["path"].rpartition(".")[2][:-3]
                for t in e.get("type", []):
                    tid = f"{e['id']}:{name}{_cap(t['code'])}"
                    if t.get("mustSupport") and tid not in self.must_support:
                        self.must_support.append(tid)
        self.differential = {self._snapshot_id(d) for d in sd.get("differential", [])}
        self._narrowing = {}

    def _snapshot_id(self, did):
        """A differential id in the snapshot's spelling: `Observation.valueQuantity.code` (the
        differential's shorthand for a type slice) is `Observation.value[x]:valueQuantity.code`."""
        if did in self.elements:
            return did
        parts = did.split(".")
        out = parts[0]
        for part in parts[1:]:
            name = part.partition(":")[0]
            if f"{out}.{part}" not in self.elements and f"{out}.{name}" not in self.elements:
                for choice in self.children.get(out, []):
                    base = choice.rpartition(".")[2]
                    if base.endswith("[x]") and name.startswith(base[:-3]) and name[len(base) - 3:][:1].isupper():
                        part = f"{base}:{part}"
                        break
            out = f"{out}.{part}"
        return out

    def ancestors(self, profiles):
        """The loaded profiles this one derives from, nearest first."""
        out = []
        base = self.checker.profile_defs.get(self.url, {}).get("baseDefinition")
        while base and base.split("|")[0] in profiles:
            prof = profiles[base.split("|")[0]]
            out.append(prof)
            base = self.checker.profile_defs.get(prof.url, {}).get("baseDefinition")
        return out

    # ------------------------------------------------------------ walking
    def validate(self, resource):
        errors = []
        seen = set()
        self._contained = {c.get("id"): c for c in resource.get("contained", []) if isinstance(c, dict)}
        self._walk(self.type, resource, self.type, errors, seen)
        return errors, seen

    @staticmethod
    def _values(obj, name):
        if not isinstance(obj, dict):
            return []
        if name.endswith("[x]"):
            base = name[:-3]
            out = []
            for k, v in obj.items():
                if k.startswith(base) and len(k) > len(base) and k[len(base)].isupper():
                    for x in (v if isinstance(v, list) else [v]):
                        out.append((k, x))
            return out
        if name not in obj:
            return []
        v = obj[name]
        return [(name, x) for x in (v if isinstance(v, list) else [v])]

    def _walk(self, eid, obj, path, errors, seen, narrowed=frozenset()):
        for cid in self.children.get(eid, []):
            ed = self.elements[cid]
            name = cid.rpartition(".")[2]
            vals = self._values(obj, name)
            self._card(ed, len(vals), f"{path}.{name}", errors)
            if vals:
                seen.add(cid)
                if name.endswith("[x]"):
                    seen.update(f"{cid}:{key}" for key, _ in vals)
            many = len(vals) > 1 or (isinstance(obj, dict) and isinstance(obj.get(name), list))
            for i, (key, v) in enumerate(vals):
                p = f"{path}.{key}[{i}]" if many else f"{path}.{key}"
                self._value(ed, key, v, p, errors, narrowed=cid in narrowed)
                if isinstance(v, dict):
                    self._walk(cid, v, p, errors, seen, narrowed | self._narrowed_by_slices(cid, ed, key, v))
            if cid in self.slices:
                self._walk_slices(cid, ed, vals, f"{path}.{name}", errors, seen)

    def _narrowed_by_slices(self, base_id, base_ed, key, v):
        """Base element ids below base_id whose pattern, fixed value or binding is replaced, for
        the value v, by those of a slice that v matches."""
        out = set()
        if base_id not in self.slices:
            return out
        slicing = base_ed.get("slicing", {})
        for sid in self.slices[base_id]:
            if not self._matches(sid, self.elements[sid], slicing, key, v):
                continue
            if sid not in self._narrowing:
                self._narrowing[sid] = {base_id + did[len(sid):] for did, ded in self.elements.items()
                                        if did.startswith(sid + ".")
                                        and ("binding" in ded or fixed_or_pattern(ded)[0])}
            out |= self._narrowing[sid]
        return out

    def _walk_slices(self, base_id, base_ed, vals, path, errors, seen):
        slicing = base_ed.get("slicing", {})
        matched_any = [False] * len(vals)
        for sid in self.slices[base_id]:
            sed = self.elements[sid]
            sname = sed.get("sliceName", sid.rpartition(":")[2])
            hits = []
            for i, (key, v) in enumerate(vals):
                if self._matches(sid, sed, slicing, key, v):
                    hits.append((i, key, v))
                    matched_any[i] = True
            self._card(sed, len(hits), f"{path}:{sname}", errors)
            if hits:
                seen.add(sid)
            for i, key, v in hits:
                p = f"{path}[{i}]"
                self._value(sed, key, v, p, errors)
                if isinstance(v, dict):
                    self._walk(sid, v, p, errors, seen)
        if slicing.get("rules") == "closed":
            for i, ok in enumerate(matched_any):
                if not ok:
                    errors.append(f"{path}[{i}]: '{vals[i][0]}' matches no slice of closed slicing")

    def _matches(self, sid, sed, slicing, key, v):
        for disc in slicing.get("discriminator", []):
            dtype, dpath = disc["type"], disc["path"]
            if dtype == "type" and dpath == "$this":
                if key != sed.get("sliceName"):
                    return False
                continue
            if dtype == "value" and dpath == "url":
                url_ed = self.elements.get(sid + ".url")
                want = None
                if url_ed:
                    _, want = fixed_or_pattern(url_ed)
                if want is None:
                    for t in sed.get("type", []):
                        for prof in t.get("profile", []):
                            want = prof
                if not isinstance(v, dict) or v.get("url") != want:
                    return False
                continue
            if dtype in ("pattern", "value"):
                target_id = sid if dpath == "$this" else f"{sid}.{dpath}"
                ted = self.elements.get(target_id)
                # A dotted path (US Core vital signs: `coding.code`) may reach several values; the
                # slice matches when one of them does.
                actuals = [v] if dpath == "$this" else path_values(v, dpath)
                _, pat = fixed_or_pattern(ted) if ted else (None, None)
                if pat is not None:
                    if "." not in dpath and dpath != "$this":
                        actuals = [v.get(dpath) if isinstance(v, dict) else None]
                    if not any(pattern_match(pat, a) for a in actuals):
                        return False
                    continue
                binding = (ted or {}).get("binding")
                if binding and binding.get("strength") == "required" and self.checker.term.known(binding["valueSet"]):
                    if not any(self.checker.term.check_coding(binding["valueSet"], c.get("system"), c.get("code"))[0]
                               for a in actuals for c in codings_of(a)):
                        return False
                    continue
                return False
            return False
        return True

    # ------------------------------------------------------------ checks
    @staticmethod
    def _card(ed, n, path, errors):
        lo = ed.get("min", 0)
        hi = ed.get("max", "*")
        if n < lo:
            errors.append(f"{path}: minimum cardinality {lo} not met (found {n})")
        if hi != "*" and n > int(hi):
            if hi == "0":
                errors.append(f"{path}: element is prohibited by the profile (max 0)")
            else:
                errors.append(f"{path}: maximum cardinality {hi} exceeded (found {n})")

    def _value(self, ed, key, v, path, errors, narrowed=False):
        types = ed.get("type", [])
        for t in types:
            for prof_url in t.get("profile", []) if t.get("code") == "Extension" else []:
                ext = self.checker.profiles.get(prof_url.split("|")[0])
                if ext is not None and ext.type == "Extension" and isinstance(v, dict):
                    ext._walk("Extension", v, path, errors, set())
        if narrowed:
            return
        name = ed["path"].rpartition(".")[2]
        if name.endswith("[x]") and types:
            suffix = key[len(name) - 3:]
            allowed = {_cap(t["code"]) for t in types}
            if suffix not in allowed:
                errors.append(f"{path}: type {suffix} not allowed here (allowed: {', '.join(sorted(allowed))})")
        fk, fv = fixed_or_pattern(ed)
        if fk:
            ok = (v == fv) if fk.startswith("fixed") else pattern_match(fv, v)
            if not ok:
                errors.append(f"{path}: does not match the profile's {fk} {fv}")
        binding = ed.get("binding")
        if binding and binding.get("strength") == "required":
            vs = binding.get("valueSet", "")
            term = self.checker.term
            if term.known(vs):
                if isinstance(v, str):
                    if not term.check_code(vs, v):
                        errors.append(f"{path}: code '{v}' is not in the required value set {vs}")
                else:
                    codings = codings_of(v)
                    results = [term.check_coding(vs, c.get("system"), c.get("code"), c.get("display"))
                               for c in codings]
                    if not any(ok for ok, _ in results):
                        shown = ", ".join(f"{c.get('system')}#{c.get('code')}" for c in codings) or "no coding"
                        errors.append(f"{path}: {shown} is not in the required value set {vs}")
            else:
                self.checker.unknown_value_sets.add(vs)
        for t in types:
            if t["code"] == "Reference" and t.get("targetProfile") and isinstance(v, dict):
                self._reference(t["targetProfile"], v, path, errors)

    def _reference(self, targets, v, path, errors):
        reference = v.get("reference")
        if reference is None:
            return  # identifier-only or display-only references are allowed
        if reference.startswith("#"):
            target = getattr(self, "_contained", {}).get(reference[1:])
            if target is None:
                errors.append(f"{path}: reference {reference} names no contained resource")
                return
            rtype = target.get("resourceType")
            allowed = {profile_resource_type(tp, self.checker.profile_types) for tp in targets}
            if "Resource" not in allowed and rtype not in allowed:
                errors.append(f"{path}: reference {reference} must point to {' or '.join(sorted(allowed))}")
            return
        rtype = ref_type(reference)
        allowed = {}
        for tp in targets:
            rt = profile_resource_type(tp, self.checker.profile_types)
            if rt:
                allowed.setdefault(rt, []).append(tp)
        if "Resource" in allowed:
            return
        if rtype not in allowed:
            errors.append(f"{path}: reference {reference} must point to {' or '.join(sorted(allowed))}")
            return
        target = self.checker.resolve(reference)
        if target is None:
            return
        wanted = [tp.split("|")[0] for tp in allowed[rtype] if tp.split("|")[0] in self.checker.profile_defs]
        if wanted:
            declared = {p.split("|")[0] for p in target.get("meta", {}).get("profile", [])}
            if not declared.intersection(wanted):
                errors.append(f"{path}: target {reference} does not declare profile {' or '.join(wanted)}")


class ProfileChecker:
    def __init__(self, ig, resolver):
        self.term = Terminology(ig)
        self.profile_defs = ig["profiles"]
        # Resource type per profile url: the kept profiles, and every profile of the packages
        # extracted with --rules (targets such as us-core-specimen that are not kept).
        self.profile_types = dict(ig.get("profileTypes", {}))
        self.profile_types.update({url: sd["type"] for url, sd in ig["profiles"].items()})
        self.profiles = {url: Profile(url, sd, self) for url, sd in ig["profiles"].items()}
        self.resolve = resolver
        self.unknown_value_sets = set()

    def scan_codings(self, obj, path, errors):
        """Known code systems and code formats for every Coding in the resource."""
        if isinstance(obj, dict):
            if isinstance(obj.get("system"), str) and "code" in obj and isinstance(obj.get("code"), str):
                for problem in self.term.coding_problems(obj["system"], obj["code"], obj.get("display")):
                    errors.append(f"{path}: {problem}")
            for k, v in obj.items():
                self.scan_codings(v, f"{path}.{k}", errors)
        elif isinstance(obj, list):
            for i, x in enumerate(obj):
                self.scan_codings(x, f"{path}[{i}]", errors)
