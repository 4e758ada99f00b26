"""Data-set level rules: the business rules payers follow (and validators check), the
member rules of payer-sandbox, and the edge cases the seed data must contain."""

import datetime

from . import priorauth
from .profiles import codings_of, ref_key

C4BB = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/"
EOB_KINDS = {
    C4BB + "C4BB-ExplanationOfBenefit-Inpatient-Institutional": "inpatient",
    C4BB + "C4BB-ExplanationOfBenefit-Outpatient-Institutional": "outpatient",
    C4BB + "C4BB-ExplanationOfBenefit-Professional-NonClinician": "professional",
    C4BB + "C4BB-ExplanationOfBenefit-Pharmacy": "pharmacy",
    C4BB + "C4BB-ExplanationOfBenefit-Oral": "oral",
}
MB = ("http://terminology.hl7.org/CodeSystem/v2-0203", "MB")
AMOUNT_KEYS = ("submitted", "noncovered", "discount", "eligible", "deductible", "coinsurance", "copay",
               "memberliability", "benefit", "paidtoprovider", "paidtopatient", "priorpayerpaid")
CLINICAL = ("Observation", "Encounter", "Condition", "AllergyIntolerance", "Immunization", "MedicationRequest",
            "Procedure")


def eob_kind(eob):
    for p in eob.get("meta", {}).get("profile", []):
        k = EOB_KINDS.get(p.split("|")[0])
        if k:
            return k
    return None


def cents(money):
    return round(float(money["value"]) * 100)


def amounts_of(adjudications):
    out = {}
    for a in adjudications or []:
        if "amount" not in a:
            continue
        for c in codings_of(a.get("category")):
            if c.get("code") in AMOUNT_KEYS:
                out[c["code"]] = out.get(c["code"], 0) + cents(a["amount"])
    return out


def arithmetic(a):
    """-> list of problems with eligible / member liability arithmetic (cents)."""
    problems = []
    g = a.get
    if "eligible" in a and "submitted" in a:
        want = g("submitted") - g("noncovered", 0) - g("discount", 0)
        if g("eligible") != want:
            problems.append(f"eligible {g('eligible') / 100:.2f} != submitted - noncovered - discount = {want / 100:.2f}")
    if "memberliability" in a:
        want = g("deductible", 0) + g("coinsurance", 0) + g("copay", 0) + g("noncovered", 0)
        if g("memberliability") != want:
            problems.append(f"memberliability {g('memberliability') / 100:.2f} != deductible + coinsurance + copay + "
                            f"noncovered = {want / 100:.2f}")
    if "benefit" in a and "eligible" in a:
        want = g("eligible") - g("deductible", 0) - g("coinsurance", 0) - g("copay", 0) - g("priorpayerpaid", 0)
        if g("benefit") != want:
            problems.append(f"benefit {g('benefit') / 100:.2f} != eligible - deductible - coinsurance - copay"
                            f"{' - priorpayerpaid' if 'priorpayerpaid' in a else ''} = {want / 100:.2f}")
    return problems


def member_id(patient):
    for ident in patient.get("identifier", []):
        for c in codings_of(ident.get("type")):
            if (c.get("system"), c.get("code")) == MB and ident.get("value"):
                return ident["value"]
    return None


def period_contains(period, start, end):
    if not period:
        return True
    ps, pe = period.get("start"), period.get("end")
    if ps and start and start[:10] < ps[:10]:
        return False
    if pe and (end or start) and (end or start)[:10] > pe[:10]:
        return False
    return True


def age_on(birth, day):
    b = datetime.date.fromisoformat(birth)
    return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


def run(ds, report, seed_mode, today=None):
    """ds: Dataset; report.rule(name, subject, problems) records one check."""
    today = today or datetime.date.today()
    eobs = ds.of_type("ExplanationOfBenefit")
    patients = ds.of_type("Patient")
    coverages = ds.of_type("Coverage")

    # ---------------------------------------------------------------- per EOB
    claim_ids = {}
    for eob in eobs:
        ident = [i for i in eob.get("identifier", []) if "uc" in {c.get("code") for c in codings_of(i.get("type"))}]
        for i in ident:
            ids = claim_ids.setdefault((i.get("system"), i.get("value")), [])
            if eob["id"] not in ids:
                ids.append(eob["id"])
    for eob in eobs:
        subj = f"ExplanationOfBenefit/{eob['id']}"
        pa = priorauth.is_pa(eob)  # prior authorizations: checks/priorauth.py has their rules
        if not pa:
            report.rule("outcome is complete", subj,
                        [] if eob.get("outcome") == "complete" else [f"outcome is '{eob.get('outcome')}'"])
            dup = []
            for i in eob.get("identifier", []):
                key = (i.get("system"), i.get("value"))
                if key in claim_ids and len(claim_ids[key]) > 1:
                    dup.append(f"claim identifier {key[1]} also used by {', '.join(x for x in claim_ids[key] if x != eob['id'])}")
            report.rule("claim identifier (uc) is unique", subj, dup)

        focal = [i for i in eob.get("insurance", []) if i.get("focal")] or eob.get("insurance", [])[:1]
        cov_ref = (focal[0].get("coverage") or {}) if focal else {}
        if cov_ref.get("reference"):
            cov = ds.resolve(cov_ref["reference"])
            if cov is None:
                report.rule("focal coverage resolves", subj, [f"{cov_ref['reference']} not found"],
                            warning=not seed_mode)
            else:
                problems = []
                payors = [p.get("reference") for p in cov.get("payor", [])]
                insurer = (eob.get("insurer") or {}).get("reference")
                if insurer not in payors:
                    problems.append(f"insurer {insurer} is not the payor {payors} of {cov_ref['reference']}")
                report.rule("insurer equals the focal coverage's payor", subj, problems)
                bene = (cov.get("beneficiary") or {}).get("reference")
                pat = (eob.get("patient") or {}).get("reference")
                report.rule("focal coverage's beneficiary is the EOB's patient", subj,
                            [] if ref_key(bene) == ref_key(pat) else [f"beneficiary {bene} != patient {pat}"])
                if pa:
                    report.rule("coverage period contains the date of the request", subj,
                                [] if period_contains(cov.get("period"), eob.get("created"), None) else
                                [f"created {eob.get('created')} outside coverage period {cov.get('period')}"])
                else:
                    bp = eob.get("billablePeriod", {})
                    report.rule("coverage period contains the date of service", subj,
                                [] if period_contains(cov.get("period"), bp.get("start"), bp.get("end")) else
                                [f"billablePeriod {bp} outside coverage period {cov.get('period')}"])
        elif not cov_ref.get("identifier") and not cov_ref.get("display"):
            report.rule("focal coverage present", subj, ["insurance.coverage is empty"])
        if pa:
            continue

        # dates: service <= received <= created <= paid <= lastUpdated; lines inside the claim
        bp = eob.get("billablePeriod", {})
        start, end = bp.get("start", "")[:10], (bp.get("end") or bp.get("start", ""))[:10]
        problems = []
        if end < start:
            problems.append(f"billablePeriod ends ({end}) before it starts ({start})")
        created = (eob.get("created") or "")[:10]
        if created and created < start:
            problems.append(f"created {created} before the service started {start}")
        for si in eob.get("supportingInfo", []):
            if "clmrecvddate" in {c.get("code") for c in codings_of(si.get("category"))}:
                rec = si.get("timingDate", "")
                if rec and rec < start:
                    problems.append(f"claim received {rec} before the service started {start}")
                if rec and created and rec > created:
                    problems.append(f"claim received {rec} after the EOB was created {created}")
        paid = (eob.get("payment") or {}).get("date")
        if paid and created and paid < created:
            problems.append(f"payment date {paid} before created {created}")
        updated = eob.get("meta", {}).get("lastUpdated", "")[:10]
        if updated and created and updated < created:
            problems.append(f"meta.lastUpdated {updated} before created {created}")
        for n, it in enumerate(eob.get("item", [])):
            d = it.get("servicedDate") or (it.get("servicedPeriod") or {}).get("start")
            if d and not (start <= d[:10] <= end):
                problems.append(f"item {it.get('sequence', n + 1)} served {d} outside the billable period")
        if seed_mode and updated and updated > today.isoformat():
            problems.append(f"meta.lastUpdated {updated} is in the future")
        report.rule("dates are consistent", subj, problems)

        # amounts
        kind = eob_kind(eob)
        item_sums = {}
        item_level = False
        for n, it in enumerate(eob.get("item", [])):
            a = amounts_of(it.get("adjudication"))
            if a:
                item_level = True
                report.rule("item amounts add up", f"{subj} item {it.get('sequence', n + 1)}", arithmetic(a))
                for k, v in a.items():
                    item_sums[k] = item_sums.get(k, 0) + v
        header = amounts_of(eob.get("adjudication"))
        if header:
            report.rule("header amounts add up", subj, arithmetic(header))
        totals = amounts_of(eob.get("total"))
        problems = arithmetic(totals)
        basis = item_sums if item_level else header
        for k, v in totals.items():
            if k in basis and basis[k] != v:
                problems.append(f"total {k} {v / 100:.2f} != sum of {'items' if item_level else 'header'} "
                                f"{basis[k] / 100:.2f}")
        for k in basis:
            if k not in totals:
                problems.append(f"total {k} missing")
        pay = eob.get("payment", {}).get("amount")
        if pay is not None:
            paid = totals.get("paidtoprovider", 0) + totals.get("paidtopatient", 0)
            if ("paidtoprovider" in totals or "paidtopatient" in totals) and cents(pay) != paid:
                problems.append(f"payment.amount {cents(pay) / 100:.2f} != total paid {paid / 100:.2f}")
        if kind is not None or totals:
            report.rule("totals add up and match the lines", subj, problems)

    # ---------------------------------------------------------------- per member
    eobs_by_patient = {}
    for eob in eobs:
        key = ref_key((eob.get("patient") or {}).get("reference"))
        if key:
            eobs_by_patient.setdefault(key[1], []).append(eob)
    covs_by_patient = {}
    for cov in coverages:
        key = ref_key((cov.get("beneficiary") or {}).get("reference"))
        if key:
            covs_by_patient.setdefault(key[1], []).append(cov)
    ids_seen = {}
    for p in patients:
        subj = f"Patient/{p['id']}"
        mid = member_id(p)
        problems = []
        if not p.get("name"):
            problems.append("no name")
        if not any(a.get("postalCode") for a in p.get("address", [])):
            problems.append("no address postalCode")
        if not mid:
            problems.append("no member ID (identifier of type v2-0203#MB)")
        if seed_mode:
            report.rule("patient is a test member (name, postal code, member ID)", subj, problems)
        if mid:
            if p["id"] not in ids_seen.setdefault(mid, []):
                ids_seen[mid].append(p["id"])
            mb = next(i for i in p["identifier"] if i.get("value") == mid)
            assigner = (mb.get("assigner") or {}).get("reference")
            for cov in covs_by_patient.get(p["id"], []):
                sub = ref_key((cov.get("subscriber") or {}).get("reference"))
                same_payer = assigner is None or assigner in [x.get("reference") for x in cov.get("payor", [])]
                if sub == ("Patient", p["id"]) and same_payer:
                    report.rule("subscriberId equals the member ID when the member is the subscriber",
                                f"Coverage/{cov['id']}",
                                [] if cov.get("subscriberId") == mid else
                                [f"subscriberId {cov.get('subscriberId')} != member ID {mid}"])
        mine = [e for e in eobs_by_patient.get(p["id"], []) if not priorauth.is_pa(e)]
        if mine:
            newest = max(mine, key=lambda e: (e.get("meta", {}).get("lastUpdated", ""), e["id"]))
            missing = []
            if not newest.get("careTeam"):
                missing.append("careTeam")
            if not newest.get("payee"):
                missing.append("payee")
            if not newest.get("provider"):
                missing.append("provider")
            if not newest.get("insurer"):
                missing.append("insurer")
            if not any(i.get("coverage") for i in newest.get("insurance", [])):
                missing.append("insurance.coverage")
            report.rule("newest claim EOB carries careTeam, payee, provider, insurer and coverage",
                        f"{subj} (newest EOB {newest['id']})", [f"missing {m}" for m in missing])
    for mid, pids in sorted(ids_seen.items()):
        report.rule("member ID is unique", f"member {mid}",
                    [] if len(pids) == 1 else [f"used by {', '.join(pids)}"])

    priorauth.run(ds, report, seed_mode, today)

    if not seed_mode:
        return

    # ---------------------------------------------------------------- required content
    by_mid = {member_id(p): p for p in patients}
    jason = by_mid.get("08-testmemid")
    problems = []
    if not jason:
        problems.append("no patient with member ID 08-testmemid")
    else:
        name = (jason.get("name") or [{}])[0]
        if name.get("family") != "Argonaut" or "Jason" not in name.get("given", []):
            problems.append(f"name is {name}")
        if jason.get("birthDate") != "1986-01-01":
            problems.append(f"birthDate is {jason.get('birthDate')}")
        if not any(a.get("postalCode") == "02114" for a in jason.get("address", [])):
            problems.append("postal code is not 02114")
    report.rule("Test Member 1 is Jason Argonaut, 1986-01-01, 08-testmemid, 02114", "seed-data", problems)
    if jason:
        kinds = {eob_kind(e) for e in eobs_by_patient.get(jason["id"], [])}
        report.rule("Jason Argonaut has EOBs of all five CARIN types", f"Patient/{jason['id']}",
                    [f"missing {k}" for k in sorted(set(EOB_KINDS.values()) - kinds)])
        years = {e.get("billablePeriod", {}).get("start", "")[:4] for e in eobs_by_patient.get(jason["id"], [])}
        report.rule("Jason Argonaut's EOBs span several years", f"Patient/{jason['id']}",
                    [] if len(years) >= 3 else [f"only {sorted(years)}"])
        clin = {r["resourceType"] for r in ds.resources
                if r["resourceType"] in CLINICAL and ref_key((r.get("subject") or r.get("patient") or {})
                                                              .get("reference")) == ("Patient", jason["id"])}
        report.rule("Jason Argonaut has every clinical resource type", f"Patient/{jason['id']}",
                    [f"missing {t}" for t in CLINICAL if t not in clin])
    report.rule("at least four test members", "seed-data",
                [] if sum(1 for p in patients if member_id(p)) >= 4 else ["fewer than four members"])
    kinds = {eob_kind(e) for e in eobs}
    report.rule("EOBs of all five CARIN types", "seed-data",
                [f"missing {k}" for k in sorted(set(EOB_KINDS.values()) - kinds)])
    counts = {pid: len(v) for pid, v in eobs_by_patient.items()}
    report.rule("a member with at least 120 EOBs (three pages of 50)", "seed-data",
                [] if counts and max(counts.values()) >= 120 else [f"largest is {max(counts.values(), default=0)}"])
    unlinked = [pid for pid, v in eobs_by_patient.items()
                if all(not (i.get("coverage") or {}).get("reference") for e in v for i in e.get("insurance", []))]
    report.rule("a member whose EOBs do not link to a Coverage", "seed-data",
                [] if unlinked else ["none found"])
    minors = []
    for p in patients:
        if p.get("birthDate") and age_on(p["birthDate"], today) < 18:
            covs = covs_by_patient.get(p["id"], [])
            sub_rp = [c for c in covs if ref_key((c.get("subscriber") or {}).get("reference"), )
                      and ref_key(c["subscriber"]["reference"])[0] == "RelatedPerson"]
            payee_rp = [e for e in eobs_by_patient.get(p["id"], [])
                        if ref_key(((e.get("payee") or {}).get("party") or {}).get("reference") or "")
                        and ref_key(e["payee"]["party"]["reference"])[0] == "RelatedPerson"]
            if sub_rp and payee_rp:
                minors.append(p["id"])
    report.rule("a minor whose parent (RelatedPerson) is the subscriber and the payee", "seed-data",
                [] if minors else ["none found"])
    multi = [pid for pid, v in covs_by_patient.items()
             if len(v) >= 2 and len({x.get("reference") for c in v for x in c.get("payor", [])}) >= 2]
    report.rule("a member with two coverages from different payors", "seed-data", [] if multi else ["none found"])
    clinical_members = {ref_key((r.get("subject") or r.get("patient") or {}).get("reference"))
                        for r in ds.resources if r["resourceType"] in CLINICAL}
    report.rule("clinical resources for at least two members", "seed-data",
                [] if len(clinical_members) >= 2 else [f"only {clinical_members}"])
    granular_categories(ds, jason, report)
    # A member may have nothing on file but the Patient: apps must handle empty searchsets.
    owned = set(clinical_members) | {("Patient", pid) for pid in eobs_by_patient} | \
        {ref_key((c.get(k) or {}).get("reference")) for c in coverages for k in ("beneficiary", "subscriber")} | \
        {ref_key((r.get("patient") or {}).get("reference")) for r in ds.of_type("RelatedPerson")}
    empty = [p["id"] for p in patients if member_id(p) and ("Patient", p["id"]) not in owned]
    report.rule("a member with nothing on file (no Coverage, EOB, RelatedPerson or clinical resource)",
                "seed-data", [] if empty else ["none found"])


# SMART v2 granular scopes select Observations and Conditions by category
# (`patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory`).
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CAT = "http://terminology.hl7.org/CodeSystem/condition-category"
US_CORE_COND_CAT = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
GRANULAR = {
    "Observation": [(OBS_CAT, c) for c in ("laboratory", "vital-signs", "social-history", "survey")],
    "Condition": [(COND_CAT, "problem-list-item"), (COND_CAT, "encounter-diagnosis"),
                  (US_CORE_COND_CAT, "health-concern")],
}
# The scope the tests and the documentation use for each type: it must select a real subset
# (some but not all) of Jason Argonaut's resources and of another member's.
SUBSET = {"Observation": (OBS_CAT, "laboratory"), "Condition": (COND_CAT, "problem-list-item")}


def _categories(r):
    return {(c.get("system"), c.get("code")) for cat in r.get("category", []) for c in codings_of(cat)}


def granular_categories(ds, jason, report):
    for rtype, wanted in GRANULAR.items():
        present = set().union(*(_categories(r) for r in ds.of_type(rtype)))
        report.rule(f"{rtype} categories for granular scopes are all in the data", "seed-data",
                    [f"no {rtype} with category {s}|{c}" for s, c in wanted if (s, c) not in present])
        by_patient = {}
        for r in ds.of_type(rtype):
            by_patient.setdefault(ref_key((r.get("subject") or {}).get("reference")), []).append(r)
        scope = SUBSET[rtype]
        real = sorted(pid for (_, pid), rs in ((k, v) for k, v in by_patient.items() if k)
                      if 0 < sum(1 for r in rs if scope in _categories(r)) < len(rs))
        problems = []
        if jason and jason["id"] not in real:
            problems.append(f"not a real subset of Jason Argonaut's {rtype} resources")
        if len([p for p in real if not jason or p != jason["id"]]) < 1:
            problems.append("not a real subset for any other member")
        report.rule(f"category {scope[1]} selects some but not all {rtype} resources of Jason Argonaut and of "
                    "another member", "seed-data", problems)
