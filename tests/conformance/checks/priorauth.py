"""Data-set rules for prior authorizations (Da Vinci PDex 2.0.0 "PDex Prior Authorization": an
ExplanationOfBenefit with use = preauthorization) and for the claims that cite them.

The profile itself (cardinalities, fixed `use`, required bindings, closed adjudication slicing,
the PDex and PAS extensions) is checked by the profile engine from the package snapshots; these
are the rules that need more than one element or more than one resource:
  - use and profile agree; status is present;
  - outcome is `queued` exactly while no decision has been made;
  - the authorization number (preAuthRef) is the identifier's value and insurance.preAuthRef,
    and unique;
  - units: per item, units approved (allowedunits) = the quantity of the PAS itemAuthorizedDetail
    extension; units used (consumedunits) never above units approved and equal to the
    quantities of the lines with the item's code on the claims that carry the number in
    ExplanationOfBenefit.preAuthRef; the PriorAuthorizationUtilization total equals units used;
  - a denied (X12 306 A3) or partially approved (A2) item has a coded denial reason
    (adjudication `denialreason` with an X12 CARC or RARC code), and a denial approves nothing;
  - states (pending, approved, partially approved, denied, cancelled, expired) are read from
    status, outcome, the X12 306 action codes and preAuthRefPeriod, as of the data's newest
    meta.lastUpdated;
  - dates: issue date >= created <= lastUpdated; item authorization periods inside
    preAuthRefPeriod; decided authorizations have one, pending and denied ones none;
  - the `submitted` total is the sum of the items' submitted amounts;
  - a claim that carries an authorization number cites an authorization of the same patient
    that approved something, and was served inside its period.
"""

import datetime

from .profiles import codings_of, ref_key

PDEX_PA = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/pdex-priorauthorization"
PDEX = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/"
PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
REVIEW_ACTION = PDEX + "extension-reviewAction"
REVIEW_ACTION_CODE = PDEX + "extension-reviewActionCode"
UTILIZATION = PDEX + "PriorAuthorizationUtilization"
AUTHORIZED_DETAIL = PAS + "extension-itemAuthorizedDetail"
ISSUE_DATE = PAS + "extension-itemPreAuthIssueDate"
ITEM_PERIOD = PAS + "extension-itemPreAuthPeriod"
DENIAL_SYSTEMS = ("https://x12.org/codes/claim-adjustment-reason-codes",
                  "https://x12.org/codes/remittance-advice-remark-codes")
STATES = ("pending", "approved", "partially approved", "denied", "cancelled", "expired")


def declares_pa_profile(eob):
    return any(p.split("|")[0] == PDEX_PA for p in eob.get("meta", {}).get("profile", []))


def is_pa(eob):
    return eob.get("use") == "preauthorization" or declares_pa_profile(eob)


def _ext(obj, url):
    return [e for e in obj.get("extension", []) if e.get("url") == url]


def _adj(item, code):
    return [a for a in item.get("adjudication", []) if code in {c.get("code") for c in codings_of(a.get("category"))}]


def action_codes(item):
    """X12 306 action codes of the item's reviewAction extensions."""
    out = []
    for a in item.get("adjudication", []):
        for ra in _ext(a, REVIEW_ACTION):
            for code_ext in _ext(ra, REVIEW_ACTION_CODE):
                out.extend(c.get("code") for c in codings_of(code_ext.get("valueCodeableConcept")))
    return out


def units_approved(item):
    vals = [a.get("value") for a in _adj(item, "allowedunits")]
    return vals[0] if vals else None


def units_used(item):
    vals = [a.get("value") for a in _adj(item, "consumedunits")]
    return vals[0] if vals else None


def authorized_quantity(item):
    for ext in _ext(item, AUTHORIZED_DETAIL):
        for sub in ext.get("extension", []):
            if sub.get("url") == "quantity":
                return (sub.get("valueQuantity") or {}).get("value")
    return None


def period_of(pa):
    periods = pa.get("preAuthRefPeriod") or []
    return periods[0] if periods else None


def state(pa, today):
    """One of STATES, from status, outcome, the items' review actions and the period."""
    if pa.get("status") == "cancelled":
        return "cancelled"
    if pa.get("outcome") == "queued":
        return "pending"
    actions = [set(action_codes(it)) for it in pa.get("item", [])]
    if actions and all("A3" in a for a in actions):
        return "denied"
    if any("A2" in a or "A3" in a for a in actions):
        return "partially approved"
    p = period_of(pa)
    if p and p.get("end") and p["end"][:10] < today.isoformat():
        return "expired"  # today: the data's own day (as_of), not the calendar
    return "approved"


def _codes(cc):
    return {(c.get("system"), c.get("code")) for c in codings_of(cc)}


def claim_units(claims, item):
    """Units of the claims' lines with the item's product code."""
    wanted = _codes(item.get("productOrService"))
    total = 0
    for claim in claims:
        for line in claim.get("item", []):
            if _codes(line.get("productOrService")) & wanted:
                total += (line.get("quantity") or {}).get("value", 1)
    return total


def as_of(ds):
    """The day the data describes: its newest meta.lastUpdated. An approval is expired when its
    period ended before that day, so a state does not change as the calendar moves on."""
    days = [r.get("meta", {}).get("lastUpdated", "")[:10] for r in ds.resources]
    days = [d for d in days if d]
    return datetime.date.fromisoformat(max(days)) if days else datetime.date.today()


def _first_copies(resources):
    seen = set()
    out = []
    for r in resources:
        if r["id"] not in seen:
            seen.add(r["id"])
            out.append(r)
    return out


def run(ds, report, seed_mode, today=None):
    today = as_of(ds)
    eobs = ds.of_type("ExplanationOfBenefit")
    pas = [e for e in eobs if is_pa(e)]
    claims = [e for e in eobs if not is_pa(e)]
    # The data set may hold two copies of a resource (the seed's and the API's): resources that
    # cite or share a number are counted once per id (the first copy).
    citing = {}
    for c in _first_copies(claims):
        for number in c.get("preAuthRef", []):
            citing.setdefault(number, []).append(c)
    numbers = {}
    for pa in _first_copies(pas):
        for n in pa.get("preAuthRef", []):
            numbers.setdefault(n, []).append(pa)

    states = {}
    for pa in pas:
        subj = f"ExplanationOfBenefit/{pa['id']}"
        problems = []
        if pa.get("use") != "preauthorization":
            problems.append(f"use is '{pa.get('use')}' on a PDex Prior Authorization (must be preauthorization)")
        if not declares_pa_profile(pa):
            problems.append("use is preauthorization but meta.profile does not declare PDex Prior Authorization")
        report.rule("PA: use is preauthorization and the PDex Prior Authorization profile is declared", subj, problems)
        report.rule("PA: status is present", subj,
                    [] if pa.get("status") in ("active", "cancelled", "draft", "entered-in-error") else
                    [f"status is {pa.get('status')!r}"])

        items = pa.get("item", [])
        decided = [it for it in items if set(action_codes(it)) - {"A4"}]
        problems = []
        if pa.get("outcome") == "queued" and decided:
            problems.append("outcome is 'queued' but items carry a decision")
        if pa.get("outcome") != "queued" and not decided:
            problems.append(f"outcome is '{pa.get('outcome')}' but no item carries a decision (expected queued)")
        if pa.get("outcome") not in ("queued", "complete"):
            problems.append(f"outcome is '{pa.get('outcome')}': a decided authorization is complete")
        report.rule("PA: outcome is queued while pending and complete once decided", subj, problems)

        problems = []
        refs = pa.get("preAuthRef", [])
        idents = [i.get("value") for i in pa.get("identifier", [])]
        if len(refs) != 1:
            problems.append(f"preAuthRef has {len(refs)} values, expected the authorization number")
        else:
            if refs[0] not in idents:
                problems.append(f"preAuthRef {refs[0]} is not the identifier's value {idents}")
            for ins in pa.get("insurance", []):
                if ins.get("focal") and ins.get("preAuthRef") not in (None, refs):
                    problems.append(f"insurance.preAuthRef {ins.get('preAuthRef')} != preAuthRef {refs}")
            others = [x["id"] for x in numbers.get(refs[0], []) if x["id"] != pa["id"]]
            if others:
                problems.append(f"authorization number {refs[0]} also used by {', '.join(others)}")
        report.rule("PA: the authorization number is preAuthRef, the identifier and unique", subj, problems)

        st = state(pa, today)
        states.setdefault(st, []).append(pa["id"])
        cited_by = [c for n in refs for c in citing.get(n, [])]
        problems = []
        used_sum = 0
        for n, it in enumerate(items, start=1):
            approved = units_approved(it)
            used = units_used(it)
            detail = authorized_quantity(it)
            if approved is not None and detail is not None and detail != approved:
                problems.append(f"item {n}: itemAuthorizedDetail quantity {detail} != allowedunits {approved}")
            if used is not None:
                used_sum += used
                if approved is None:
                    problems.append(f"item {n}: {used} units used but no units approved (allowedunits)")
                elif used > approved:
                    problems.append(f"item {n}: {used} units used (consumedunits) above the {approved} units approved")
            from_claims = claim_units(cited_by, it)
            # Units used recorded through the control API need no claim: only the seed data's
            # are derived from its claims.
            if seed_mode and used is not None and from_claims != used:
                problems.append(f"item {n}: consumedunits {used} != {from_claims} units on the claims that "
                                "carry the authorization number")
            if seed_mode and approved is not None and from_claims > approved:
                problems.append(f"item {n}: claims carrying the authorization number use {from_claims} units "
                                f"above the {approved} units approved")
            if approved is None and from_claims:
                problems.append(f"item {n}: claims use {from_claims} units of an item with no units approved")
        for t in pa.get("total", []):
            for ext in _ext(t, UTILIZATION):
                q = ext.get("valueQuantity")
                if q is not None and q.get("value") != used_sum:
                    problems.append(f"PriorAuthorizationUtilization {q.get('value')} != units used {used_sum}")
        report.rule("PA: units used never above units approved, and equal to the claims' units", subj, problems)

        problems = []
        for n, it in enumerate(items, start=1):
            acts = set(action_codes(it))
            reasons = [a for a in _adj(it, "denialreason")
                       if any(c.get("system") in DENIAL_SYSTEMS and c.get("code") for c in codings_of(a.get("reason")))]
            if acts & {"A3", "A2"} and not reasons:
                problems.append(f"item {n}: {'denied' if 'A3' in acts else 'partially approved'} (X12 306 "
                                f"{'/'.join(sorted(acts))}) without a coded denial reason (adjudication denialreason, "
                                "X12 CARC or RARC)")
            if "A3" in acts and units_approved(it):
                problems.append(f"item {n}: denied but {units_approved(it)} units approved")
            if not acts:
                problems.append(f"item {n}: no reviewAction (X12 306 action code)")
        report.rule("PA: a denied item has a coded denial reason", subj, problems)

        problems = []
        created = (pa.get("created") or "")[:10]
        updated = pa.get("meta", {}).get("lastUpdated", "")[:10]
        if created and updated and updated < created:
            problems.append(f"meta.lastUpdated {updated} before created {created}")
        period = period_of(pa)
        if st in ("pending", "denied") and period:
            problems.append(f"a {st} authorization has a preAuthRefPeriod")
        if st not in ("pending", "denied") and not period:
            problems.append(f"a {st} authorization has no preAuthRefPeriod")
        if period and period.get("start") and period.get("end") and period["end"] < period["start"]:
            problems.append(f"preAuthRefPeriod ends before it starts {period}")
        for n, it in enumerate(items, start=1):
            for e in _ext(it, ISSUE_DATE):
                if created and e.get("valueDate", "") < created:
                    problems.append(f"item {n}: issued {e.get('valueDate')} before the request {created}")
            for e in _ext(it, ITEM_PERIOD):
                ip = e.get("valuePeriod") or {}
                if period and not (period.get("start", "") <= ip.get("start", "") and
                                   ip.get("end", "9999") <= period.get("end", "9999")):
                    problems.append(f"item {n}: period {ip} outside preAuthRefPeriod {period}")
        report.rule("PA: dates are consistent", subj, problems)

        def amounts(adjs, code):
            return sum(round(float(a["amount"]["value"]) * 100) for a in adjs
                       if "amount" in a and code in {c.get("code") for c in codings_of(a.get("category"))})
        submitted = sum(amounts(it.get("adjudication", []), "submitted") for it in items)
        problems = []
        total = [t for t in pa.get("total", []) if "submitted" in {c.get("code") for c in codings_of(t.get("category"))}]
        if total and amounts(total, "submitted") != submitted:
            problems.append(f"total submitted {amounts(total, 'submitted') / 100:.2f} != sum of the items "
                            f"{submitted / 100:.2f}")
        report.rule("PA: the submitted total is the sum of the items", subj, problems)

    for c in claims:
        if not c.get("preAuthRef"):
            continue
        subj = f"ExplanationOfBenefit/{c['id']}"
        problems = []
        for number in c["preAuthRef"]:
            hits = numbers.get(number, [])
            if not hits:
                # What the API serves: an authorization whose last change is more than a year old
                # has left it (docs/data.md#retention), and a claim older than a year may cite
                # one. The seed data itself must hold every authorization its claims cite.
                created = (c.get("created") or "")[:10]
                year_ago = (datetime.date.today() - datetime.timedelta(days=365)).isoformat()
                if not seed_mode and created and created < year_ago:
                    continue
                problems.append(f"preAuthRef {number} is not the number of any prior authorization")
                continue
            pa = hits[0]
            if ref_key((pa.get("patient") or {}).get("reference")) != ref_key((c.get("patient") or {}).get("reference")):
                problems.append(f"preAuthRef {number} belongs to another patient ({pa['id']})")
            st = state(pa, today)
            if st in ("pending", "denied", "cancelled"):
                problems.append(f"preAuthRef {number} cites a {st} authorization ({pa['id']})")
            period = period_of(pa) or {}
            bp = c.get("billablePeriod", {})
            if period and not (period.get("start", "") <= bp.get("start", "")[:10] and
                               (bp.get("end") or bp.get("start", ""))[:10] <= period.get("end", "9999")):
                problems.append(f"served {bp} outside the authorization period {period} of {number}")
        report.rule("claims citing a prior authorization: same patient, approved, inside its period", subj, problems)

    if not seed_mode:
        return
    report.rule("PA: every state appears (pending, approved, partially approved, denied, cancelled, expired)",
                "seed-data", [f"no {s} prior authorization" for s in STATES if s not in states])
    found = []
    for pa in _first_copies(pas):
        if state(pa, today) != "approved":
            continue
        cited_by = [c for n in pa.get("preAuthRef", []) for c in citing.get(n, [])]
        for it in pa.get("item", []):
            if (units_approved(it) == 12 and authorized_quantity(it) == 12 and units_used(it) == 5
                    and len(cited_by) == 5 and claim_units(cited_by, it) == 5):
                found.append(pa["id"])
    report.rule("PA: an approved authorization of 12 units, 5 used by 5 claims carrying its number", "seed-data",
                [] if found else ["none found"])
    with_claims = {ref_key((c.get("patient") or {}).get("reference")) for c in claims}
    with_pas = {ref_key((p.get("patient") or {}).get("reference")) for p in pas}
    report.rule("PA: every member with claims has prior authorizations", "seed-data",
                [f"{k[1]} has claims but no prior authorization" for k in sorted(with_claims - with_pas)])
