"""ExplanationOfBenefit builders for the five CARIN BB 2.0.0 EOB profiles.

Amounts are integer cents internally. Every line obeys
    eligible        = submitted - noncovered - discount
    memberliability = deductible + coinsurance + copay + noncovered
    benefit         = eligible - deductible - coinsurance - copay  (= amount paid)
and totals are the sums of the lines (or the header amounts, for an inpatient
claim adjudicated at the header level).
"""

import fhirkit
from fhirkit import CS, cc, meta, money, ref

KINDS = ("inpatient", "outpatient", "professional", "pharmacy", "oral")

AMOUNT_ORDER = (
    "submitted", "discount", "noncovered", "eligible", "deductible", "copay",
    "coinsurance", "memberliability", "benefit", "paidtoprovider", "paidtopatient",
)
AMOUNT_SYSTEM = {
    "submitted": "adjudication", "eligible": "adjudication", "deductible": "adjudication",
    "copay": "adjudication", "benefit": "adjudication",
}
AMOUNT_DISPLAY = {
    "submitted": "Submitted Amount", "discount": "Discount", "noncovered": "Noncovered",
    "eligible": "Eligible Amount", "deductible": "Deductible", "copay": "CoPay",
    "coinsurance": "Co-insurance", "memberliability": "Member liability",
    "benefit": "Benefit Amount", "paidtoprovider": "Paid to provider",
    "paidtopatient": "Paid to patient",
}


class CostShare:
    """Member cost sharing for one coverage year: deductible, coinsurance, copays."""

    def __init__(self, deductible=50000, coinsurance_pct=20, office_copay=2500,
                 er_copay=15000, rx_copay=1000):
        self.deductible = deductible
        self.coinsurance_pct = coinsurance_pct
        self.office_copay = office_copay
        self.er_copay = er_copay
        self.rx_copay = rx_copay
        self.met = {}

    def remaining(self, year):
        return self.deductible - self.met.get(year, 0)

    def line(self, year, submitted, allowed_pct=70, noncovered=0, copay=0,
             apply_deductible=True, coinsurance=True, paid_to="provider"):
        """Adjudicate one line; returns the amounts dict (cents)."""
        noncovered = min(noncovered, submitted)
        discount = (submitted - noncovered) * (100 - allowed_pct) // 100
        eligible = submitted - noncovered - discount
        copay = min(copay, eligible)
        deductible = 0
        if apply_deductible:
            deductible = max(0, min(self.remaining(year), eligible - copay))
            self.met[year] = self.met.get(year, 0) + deductible
        coins = 0
        if coinsurance:
            coins = (eligible - copay - deductible) * self.coinsurance_pct // 100
        benefit = eligible - copay - deductible - coins
        out = {
            "submitted": submitted,
            "discount": discount,
            "noncovered": noncovered,
            "eligible": eligible,
            "deductible": deductible,
            "copay": copay,
            "coinsurance": coins,
            "memberliability": deductible + coins + copay + noncovered,
            "benefit": benefit,
        }
        out["paidtopatient" if paid_to == "patient" else "paidtoprovider"] = benefit
        return out


def check_amounts(a):
    assert a["eligible"] == a["submitted"] - a["noncovered"] - a["discount"], a
    assert a["memberliability"] == a["deductible"] + a["coinsurance"] + a["copay"] + a["noncovered"], a
    assert a["benefit"] == a["eligible"] - a["deductible"] - a["coinsurance"] - a["copay"], a


ALWAYS_SHOWN = ("submitted", "eligible", "benefit")


def amount_adjudications(amounts):
    out = []
    for key in AMOUNT_ORDER:
        if key in amounts and (amounts[key] or not fhirkit.LEAN or key in ALWAYS_SHOWN):
            out.append({
                "category": cc(AMOUNT_SYSTEM.get(key, "c4bb-adj"), key, AMOUNT_DISPLAY[key]),
                "amount": money(amounts[key]),
            })
    return out


def status_adjudication(discriminator, status):
    return {
        "category": cc("c4bb-adj-disc", discriminator),
        "reason": cc("c4bb-status", status),
    }


def adjustment_reason(carc, amount=None):
    out = {
        "category": cc("c4bb-adj-disc", "adjustmentreason"),
        "reason": cc("carc", carc),
    }
    if amount is not None:
        out["amount"] = money(amount)
    return out


# ------------------------------------------------------------ supporting info
def si(category, **kw):
    """A supportingInfo entry (sequence assigned later). kw: key=, code=, timingDate=,
    timingPeriod=, valueString=, valueQuantity=, valueReference=, valueBoolean=, reason=."""
    entry = {"category": cc("c4bb-si", category)}
    key = kw.pop("key", None)
    for field in ("code", "timingDate", "timingPeriod", "valueBoolean", "valueString",
                  "valueQuantity", "valueReference", "reason"):
        if field in kw:
            entry[field] = kw.pop(field)
    assert not kw, kw
    return key, entry


def qty(value, unit=None, code=None):
    q = {"value": value}
    if unit:
        q["unit"] = unit
        q["system"] = CS["ucum"]
        q["code"] = code or unit
    return q


# ---------------------------------------------------------------- the builder
def build_eob(*, kind, eob_id, last_updated, claim_id, claim_system, patient_id,
              billable, created, insurer, provider, coverage, lines,
              care_team=(), diagnoses=(), procedures=(), supporting=(),
              payee=None, related=(), network="innetwork", rendering_network=None,
              header_amounts=False, header_adjustment=None, notes=(),
              payment_date=None, status="active", type_code=None, paid_to="provider", pre_auth=None):
    assert kind in KINDS
    eob = {
        "resourceType": "ExplanationOfBenefit",
        "id": eob_id,
        "meta": meta(kind, last_updated),
        "identifier": [{
            "type": cc("c4bb-id", "uc", "Unique Claim ID"),
            "system": claim_system,
            "value": claim_id,
        }],
        "status": status,
    }
    if kind in ("inpatient", "outpatient"):
        eob["type"] = cc("claim-type", "institutional", "Institutional")
        eob["subType"] = cc("inst-subtype", kind, kind.capitalize())
    elif kind == "professional":
        code = type_code or "professional"
        eob["type"] = cc("claim-type", code, code.capitalize())
    else:
        eob["type"] = cc("claim-type", kind, kind.capitalize())
    eob["use"] = "claim"
    eob["patient"] = ref("Patient", patient_id)
    period = {"start": billable[0]}
    if len(billable) > 1 and billable[1]:
        period["end"] = billable[1]
    eob["billablePeriod"] = period
    eob["created"] = created
    eob["insurer"] = ref("Organization", insurer[0], insurer[1])
    eob["provider"] = ref(provider[0], provider[1], provider[2] if len(provider) > 2 else None)
    if related:
        eob["related"] = [
            {
                "relationship": cc(sys_key, code),
                "reference": {"type": cc("c4bb-id", "uc"), "system": claim_system, "value": value},
            }
            for (sys_key, code, value) in related
        ]
    if payee:
        p = {"type": cc(payee["type"][0], payee["type"][1])}
        if payee.get("party"):
            p["party"] = ref(*payee["party"])
        eob["payee"] = p
    eob["outcome"] = "complete"
    if pre_auth:
        eob["preAuthRef"] = [pre_auth]

    if care_team:
        team = []
        for i, m in enumerate(care_team, start=1):
            entry = {"sequence": i, "provider": ref(*m["provider"])}
            if m.get("responsible"):
                entry["responsible"] = True
            entry["role"] = cc(m["role"][0], m["role"][1], m["role"][2] if len(m["role"]) > 2 else None)
            if m.get("qualification"):
                entry["qualification"] = cc("nucc", *m["qualification"])
            team.append(entry)
        eob["careTeam"] = team

    seq_of = {}
    if supporting:
        infos = []
        for i, (key, entry) in enumerate(supporting, start=1):
            item = {"sequence": i}
            item.update(entry)
            infos.append(item)
            if key:
                seq_of[key] = i
        eob["supportingInfo"] = infos

    if diagnoses:
        dx = []
        for i, d in enumerate(diagnoses, start=1):
            entry = {
                "sequence": i,
                "diagnosisCodeableConcept": cc("icd10cm", d["code"], d.get("display")),
                "type": [cc(d["type"][0], d["type"][1])],
            }
            if d.get("poa"):
                entry["onAdmission"] = cc("poa", d["poa"])
            dx.append(entry)
        eob["diagnosis"] = dx

    if procedures:
        eob["procedure"] = [
            {
                "sequence": i,
                "type": [cc("c4bb-px", p["type"])],
                "date": p["date"],
                "procedureCodeableConcept": cc("icd10pcs", p["code"], p.get("display")),
            }
            for i, p in enumerate(procedures, start=1)
        ]

    eob["insurance"] = [{"focal": True, "coverage": coverage}]

    totals = {}
    items = []
    line_amount_level = not header_amounts
    for i, ln in enumerate(lines, start=1):
        item = {"sequence": i}
        if ln.get("careTeamSequence"):
            item["careTeamSequence"] = ln["careTeamSequence"]
        if ln.get("diagnosisSequence"):
            item["diagnosisSequence"] = ln["diagnosisSequence"]
        if ln.get("info"):
            item["informationSequence"] = [seq_of[k] for k in ln["info"]]
        if ln.get("revenue"):
            item["revenue"] = cc("revenue", *ln["revenue"])
        item["productOrService"] = ln["product"]
        if ln.get("modifier"):
            item["modifier"] = [cc(m[0], m[1], m[2] if len(m) > 2 else None) for m in ln["modifier"]]
        if ln.get("servicedPeriod"):
            item["servicedPeriod"] = {"start": ln["servicedPeriod"][0], "end": ln["servicedPeriod"][1]}
        elif ln.get("servicedDate"):
            item["servicedDate"] = ln["servicedDate"]
        if ln.get("pos"):
            item["locationCodeableConcept"] = cc("pos", *ln["pos"])
        if ln.get("quantity") is not None:
            item["quantity"] = {"value": ln["quantity"]} if not isinstance(ln["quantity"], dict) else ln["quantity"]
        if ln.get("bodySite"):
            item["bodySite"] = cc(*ln["bodySite"])
        if ln.get("subSite"):
            item["subSite"] = [cc("c4bb-surface", s) for s in ln["subSite"]]
        if ln.get("noteNumber"):
            item["noteNumber"] = ln["noteNumber"]
        adj = []
        amounts = ln.get("amounts")
        if amounts is not None:
            check_amounts(amounts)
            for k, v in amounts.items():
                totals[k] = totals.get(k, 0) + v
        if line_amount_level and amounts is not None:
            if kind in ("professional", "oral") or ln.get("line_status"):
                adj.append(status_adjudication("benefitpaymentstatus", ln.get("line_status", network)))
            adj.extend(amount_adjudications(amounts))
            if ln.get("adjustment"):
                adj.append(adjustment_reason(*ln["adjustment"]))
            if ln.get("allowedunits") is not None:
                adj.append({"category": cc("c4bb-adj-disc", "allowedunits"), "value": ln["allowedunits"]})
            if ln.get("reject"):
                adj.append({"category": cc("c4bb-adj-disc", "rejectreason"), "reason": cc("reject", *ln["reject"])})
        if adj:
            item["adjudication"] = adj
        if ln.get("detail"):
            item["detail"] = [
                {"sequence": j, "productOrService": d["product"], "quantity": d["quantity"]}
                for j, d in enumerate(ln["detail"], start=1)
            ]
        items.append(item)
    eob["item"] = items

    header = [status_adjudication("benefitpaymentstatus", network),
              status_adjudication("billingnetworkstatus", network)]
    if kind in ("professional", "oral") or rendering_network:
        header.append(status_adjudication("renderingnetworkstatus", rendering_network or network))
    if header_amounts:
        header.extend(amount_adjudications(totals))
    if header_adjustment:
        header.append(adjustment_reason(*header_adjustment))
    eob["adjudication"] = header

    eob["total"] = [
        {"category": cc(AMOUNT_SYSTEM.get(k, "c4bb-adj"), k, AMOUNT_DISPLAY[k]), "amount": money(totals[k])}
        for k in AMOUNT_ORDER if k in totals and (totals[k] or not fhirkit.LEAN or k in ALWAYS_SHOWN)
    ]
    paid = totals.get("benefit", 0)
    denied = [ln for ln in lines if ln.get("amounts") and ln["amounts"]["noncovered"] == ln["amounts"]["submitted"]]
    if denied and len(denied) == len(lines):
        ptype = "denied"
    elif denied:
        ptype = "partiallypaid"
    else:
        ptype = "paid"
    payment = {"type": cc("c4bb-status", ptype)}
    payment["date"] = payment_date or created[:10]
    payment["amount"] = money(paid)
    eob["payment"] = payment
    if notes:
        eob["processNote"] = [{"number": n, "type": "display", "text": t} for (n, t) in notes]
    return eob
