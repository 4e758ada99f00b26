"""Member-level builders: Patient, RelatedPerson, Coverage, and one method per CARIN EOB
type that fills in the care team, supporting information, cost sharing and dates the way
a payer's adjudication system would."""

import datetime

import catalog
from claims import build_eob, qty, si
from priorauth import build_prior_auth
from fhirkit import cc, meta, ref, timestamp, us_core_birthsex, us_core_ethnicity, us_core_race


def add_days(day, n):
    return (datetime.date.fromisoformat(day) + datetime.timedelta(days=n)).isoformat()


class ClaimNumbers:
    """Claim numbers unique across the whole data set, per payer and year."""

    PREFIX = {"org-demo-health-plan": "DHP", "org-bright-smile-dental": "BSD"}

    def __init__(self, start=1001, tag=""):
        self.next = {}
        self.start = start
        self.tag = tag

    def take_prior_auth(self, payer_id, day):
        """Prior authorization numbers, a series of their own per payer and year."""
        key = ("PA", payer_id, day[:4])
        n = self.next.get(key, 4001)
        self.next[key] = n + 1
        return f"{self.PREFIX[payer_id]}{self.tag}-PA-{day[:4]}-{n:06d}"

    def take(self, payer_id, day):
        key = (payer_id, day[:4])
        n = self.next.get(key, self.start)
        self.next[key] = n + 1
        return f"{self.PREFIX[payer_id]}{self.tag}-{day[:4]}-{n:06d}"


def patient_resource(*, pid, given, family, gender, birth_date, member_id, payer_id, address,
                     phone, email, last_updated, race=("2106-3", "White"),
                     ethnicity=("2186-5", "Not Hispanic or Latino"), birthsex=None,
                     language=("en", "English"), unique_member_id=None, deceased=None,
                     address_since=None, middle=None):
    ids = [{
        "use": "usual",
        "type": cc("v2-0203", "MB", "Member Number"),
        "system": catalog.member_system(payer_id),
        "value": member_id,
        "assigner": ref("Organization", payer_id, catalog.org_name(payer_id)),
    }]
    if unique_member_id:
        ids.append({
            "type": cc("c4bb-id", "um", "Unique Member ID"),
            "system": catalog.PAYER_BY_ID[payer_id][5] + "/unique-member-id",
            "value": unique_member_id,
        })
    given_names = [given] + ([middle] if middle else [])
    line, city, state, postal = address
    addr = {"use": "home", "type": "both", "line": [line], "city": city, "state": state,
            "postalCode": postal, "country": "US"}
    if address_since:
        addr["period"] = {"start": address_since}
    res = {
        "resourceType": "Patient",
        "id": pid,
        "meta": meta("Patient", last_updated),
        "extension": [us_core_race(*race), us_core_ethnicity(*ethnicity),
                      us_core_birthsex(birthsex or ("M" if gender == "male" else "F"))],
        "identifier": ids,
        "active": True,
        "name": [{"use": "official", "family": family, "given": given_names}],
        "telecom": [{"system": "phone", "value": phone, "use": "mobile"},
                    {"system": "email", "value": email, "use": "home"}],
        "gender": gender,
        "birthDate": birth_date,
    }
    if deceased is not None:
        res["deceasedBoolean"] = deceased
    res["address"] = [addr]
    res["communication"] = [{"language": cc("lang", language[0], language[1]), "preferred": True}]
    return res


def related_person_resource(*, rid, patient_id, given, family, gender, relationship, address,
                            phone, last_updated, birth_date=None):
    line, city, state, postal = address
    res = {
        "resourceType": "RelatedPerson",
        "id": rid,
        "meta": meta("RelatedPerson", last_updated),
        "active": True,
        "patient": ref("Patient", patient_id),
        "relationship": [cc("v3-rolecode", relationship[0], relationship[1])],
        "name": [{"use": "official", "family": family, "given": [given]}],
        "telecom": [{"system": "phone", "value": phone, "use": "mobile"}],
        "gender": gender,
    }
    if birth_date:
        res["birthDate"] = birth_date
    res["address"] = [{"use": "home", "line": [line], "city": city, "state": state,
                       "postalCode": postal, "country": "US"}]
    return res


def coverage_resource(*, cid, last_updated, payer_id, beneficiary_id, subscriber, subscriber_id,
                      member_id, relationship, period, plan, group, kind="medical",
                      dependent=None, network=None, status="active"):
    type_code = {"medical": ("HIP", "health insurance plan policy"),
                 "dental": ("DENTPRG", "dental program")}[kind]
    res = {
        "resourceType": "Coverage",
        "id": cid,
        "meta": meta("Coverage", last_updated),
        "identifier": [{
            "type": cc("v2-0203", "MB", "Member Number"),
            "system": catalog.member_system(payer_id),
            "value": member_id,
        }],
        "status": status,
        "type": cc("v3-actcode", type_code[0], type_code[1]),
        "policyHolder": ref(*subscriber),
        "subscriber": ref(*subscriber),
        "subscriberId": subscriber_id,
        "beneficiary": ref("Patient", beneficiary_id),
    }
    if dependent:
        res["dependent"] = dependent
    res["relationship"] = cc("subscriber-rel", relationship[0], relationship[1])
    res["period"] = dict(zip(("start", "end"), period)) if period[1] else {"start": period[0]}
    res["payor"] = [ref("Organization", payer_id, catalog.org_name(payer_id))]
    res["class"] = [
        {"type": cc("coverage-class", "group", "Group"), "value": group[0], "name": group[1]},
        {"type": cc("coverage-class", "plan", "Plan"), "value": plan[0], "name": plan[1]},
    ]
    if network:
        res["network"] = network
    return res


class CoverageRef:
    """How a member's EOBs point at a coverage: a resolvable reference, or (for payers whose
    claims do not link to a Coverage resource) an identifier and display only."""

    def __init__(self, payer_id, cost_share, coverage_id=None, member_id=None, display=None,
                 period=None):
        self.payer_id = payer_id
        self.cost = cost_share
        self.coverage_id = coverage_id
        self.member_id = member_id
        self.display = display
        self.period = period

    def reference(self):
        if self.coverage_id:
            return ref("Coverage", self.coverage_id)
        return {
            "identifier": {
                "type": cc("v2-0203", "MB", "Member Number"),
                "system": catalog.member_system(self.payer_id),
                "value": self.member_id,
            },
            "display": self.display,
        }


class Member:
    """Accumulates the resources of one member and builds their EOBs."""

    def __init__(self, numbers, slug, patient_id, account_prefix):
        self.numbers = numbers
        self.slug = slug
        self.pid = patient_id
        self.account_prefix = account_prefix
        self.resources = []
        # Changes for seed-data/timeline.ndjson, due `after` the server starts.
        self.timeline = []
        self.eob_ids = set()
        self.mrn_counter = 0
        self.resubmission_delay = 0

    def add(self, resource):
        self.resources.append(resource)
        return resource

    def schedule(self, after, note, *, resource=None, prior_authorization=None, decide=None, use=None):
        """A change of the timeline: `resource` (built by this member, so taken out of the data
        served at start-up) appears or replaces its current version `after` (an ISO 8601
        duration) the server starts; or a decision on, or units used of, a prior authorization."""
        entry = {"after": after, "note": note}
        if resource is not None:
            self.resources = [r for r in self.resources if r is not resource]
            entry["resource"] = resource
        else:
            entry["prior_authorization"] = prior_authorization
            if decide is not None:
                entry["decide"] = decide
            if use is not None:
                entry["use"] = use
        self.timeline.append(entry)

    # ----------------------------------------------------------- helpers
    def _eob_id(self, day, kind):
        base = f"eob-{self.slug}-{day.replace('-', '')}-{kind}"
        eid, n = base, 1
        while eid in self.eob_ids:
            n += 1
            eid = f"{base}-{n}"
        self.eob_ids.add(eid)
        return eid

    def _dates(self, end, lag):
        """Claim received, created, paid and last-updated dates after the service end."""
        received = add_days(end, 2 + lag % 5 + self.resubmission_delay)
        created_day = add_days(received, 1 + lag % 3)
        paid = add_days(created_day, 7 + lag % 9)
        updated = add_days(paid, 1 + lag % 2)
        return received, created_day, paid, updated

    def _account(self, day):
        self.mrn_counter += 1
        return f"{self.account_prefix}{day[2:4]}{self.mrn_counter:04d}"

    def _common(self, kind, cov, start, end, lag, claim_day=None):
        received, created_day, paid, updated = self._dates(end, lag)
        eid = self._eob_id(start, kind)
        return {
            "eob_id": eid,
            "claim_id": self.numbers.take(cov.payer_id, claim_day or created_day),
            "claim_system": catalog.claim_system(cov.payer_id),
            "patient_id": self.pid,
            "billable": (start, end),
            "created": timestamp(created_day, eid, "created"),
            "last_updated": timestamp(updated, eid),
            "payment_date": paid,
            "insurer": (cov.payer_id, catalog.org_name(cov.payer_id)),
            "coverage": cov.reference(),
        }, received

    @staticmethod
    def _dx(entries, types, institutional=False):
        """entries: (code, display[, poa[, type code]]); types: type tuples for the first
        diagnosis, then the rest. On institutional claims, external causes (V00-Y99) are
        typed externalcauseofinjury."""
        out = []
        for i, e in enumerate(entries):
            t = types[min(i, len(types) - 1)]
            if institutional and e[0][0] in "VWXY":
                t = ("c4bb-dx", "externalcauseofinjury")
            if len(e) > 3 and e[3]:
                t = ("c4bb-dx", e[3])
            d = {"code": e[0], "display": e[1], "type": t}
            if len(e) > 2 and e[2]:
                d["poa"] = e[2]
            out.append(d)
        return out

    def corrected(self, method, cov, original, replacement):
        """An EOB later replaced by a corrected claim, and the corrected claim. The
        replaced claim is cancelled and does not count towards the deductible."""
        saved = dict(cov.cost.met)
        first = method(cov, status="cancelled", **original)
        cov.cost.met = saved
        self.resubmission_delay = 28  # the corrected claim arrives about four weeks later
        try:
            second = method(cov, **replacement)
        finally:
            self.resubmission_delay = 0
        link_replacement(first, second)
        return first, second

    def _payee(self, payee, provider):
        if payee is None:
            return {"type": ("payee", "provider"), "party": provider[:2]}
        return payee

    # ----------------------------------------------------------- prior authorization
    def prior_authorization(self, cov, *, created, decided=None, updated=None, items, dx, requester, provider,
                            type_code="professional", level="E", facility=None, period=None,
                            status="active", disposition=None, notes=()):
        """A prior authorization request and its decision (PDex Prior Authorization). created:
        the day the request was received; decided: the day of the decision (None while pending);
        updated: the day of the last change (decision, cancellation). period: the authorization's
        preAuthRefPeriod (start, end). Returns the resource; its number is preAuthRef[0]."""
        base = f"pa-{self.slug}-{created.replace('-', '')}"
        n = 1
        while f"{base}-{n}" in self.eob_ids:
            n += 1
        pa_id = f"{base}-{n}"
        self.eob_ids.add(pa_id)
        last = updated or decided or created
        pa = build_prior_auth(
            pa_id=pa_id, number=self.numbers.take_prior_auth(cov.payer_id, created), payer_id=cov.payer_id,
            patient_id=self.pid, coverage=cov.reference(), created=timestamp(created, pa_id, "created"),
            decided=decided, last_updated=timestamp(last, pa_id), type_code=type_code, level=level,
            enterer=requester, provider=provider, requester=requester, items=items, dx=dx, facility=facility,
            period=period, status=status, disposition=disposition, notes=notes)
        return self.add(pa)

    # ----------------------------------------------------------- inpatient
    def inpatient(self, cov, *, start, end, facility, attending, dx, px, drg, lines, operating=None,
                  referring=None, admtype="1", origin="1", discharge="01", header_amounts=True,
                  header_adjustment=None, notes=(), lag=3, payee=None, related=(), network="innetwork",
                  status="active"):
        year = start[:4]
        common, received = self._common("inpatient", cov, start, end, lag)
        fac_name = catalog.org_name(facility)
        team = [{"provider": ("Practitioner", attending), "role": ("c4bb-careteam", "attending", "Attending"),
                 "responsible": True}]
        if operating:
            team.append({"provider": ("Practitioner", operating), "role": ("c4bb-careteam", "operating", "Operating")})
        if referring:
            team.append({"provider": ("Practitioner", referring), "role": ("c4bb-careteam", "referring", "Referring")})
        team.append({"provider": ("Organization", facility), "role": ("c4bb-careteam", "rendering", "Rendering provider"),
                     "qualification": catalog.org_taxonomy(facility)})
        account = self._account(start)
        supporting = [
            si("admissionperiod", timingPeriod={"start": start, "end": end}),
            si("clmrecvddate", timingDate=received),
            si("typeofbill", code=cc("tob", "0111", "Hospital Inpatient (Part A) - Admit through discharge claim")),
            si("pointoforigin", code=cc("poo", origin)),
            si("admtype", code=cc("admtype", admtype)),
            si("discharge-status", code=cc("discharge", discharge)),
            si("drg", code=cc("msdrg", drg[0], drg[1])),
            si("medicalrecordnumber", valueString=f"MRN{account}"),
            si("patientaccountnumber", valueString=f"PA{account}"),
        ]
        built_lines = []
        for ln in lines:
            rev, product, q, submitted = ln[:4]
            extra = ln[4] if len(ln) > 4 else {}
            amounts = cov.cost.line(year, submitted, allowed_pct=extra.get("allowed_pct", 62),
                                    noncovered=extra.get("noncovered", 0))
            item = {"revenue": rev, "product": product, "quantity": q, "servicedDate": extra.get("date"),
                    "amounts": amounts, "careTeamSequence": [1], "diagnosisSequence": [1]}
            if extra.get("modifier"):
                item["modifier"] = extra["modifier"]
            if not header_amounts:
                item["allowedunits"] = q
                if amounts["discount"]:
                    item["adjustment"] = ("45", amounts["discount"])
            if extra.get("noteNumber"):
                item["noteNumber"] = extra["noteNumber"]
            built_lines.append(item)
        eob = build_eob(
            kind="inpatient", provider=("Organization", facility, fac_name), care_team=team,
            diagnoses=self._dx(dx, [("dx", "principal"), ("dx", "admitting"), ("c4bb-dx", "other")], True),
            procedures=[{"type": "principal" if i == 0 else "other", "code": p[0], "display": p[1],
                         "date": p[2] if len(p) > 2 else start} for i, p in enumerate(px)],
            supporting=supporting, lines=built_lines, header_amounts=header_amounts,
            header_adjustment=header_adjustment, notes=notes, related=related, network=network,
            status=status, payee=self._payee(payee, ("Organization", facility)), **common)
        return self.add(eob)

    # ----------------------------------------------------------- outpatient
    def outpatient(self, cov, *, date, facility, attending, dx, lines, referring=None, admtype="3",
                   origin="1", discharge="01", notes=(), lag=2, payee=None, end=None, related=(),
                   network="innetwork", header_adjustment=None, copay=0, header_amounts=False,
                   status="active"):
        end = end or date
        year = date[:4]
        common, received = self._common("outpatient", cov, date, end, lag)
        fac_name = catalog.org_name(facility)
        team = [{"provider": ("Organization", facility), "role": ("c4bb-careteam", "rendering", "Rendering provider"),
                 "qualification": catalog.org_taxonomy(facility)},
                {"provider": ("Practitioner", attending), "role": ("c4bb-careteam", "attending", "Attending"),
                 "responsible": True}]
        if referring:
            team.append({"provider": ("Practitioner", referring), "role": ("c4bb-careteam", "referring", "Referring")})
        account = self._account(date)
        supporting = [
            si("clmrecvddate", timingDate=received),
            si("typeofbill", code=cc("tob", "0131", "Hospital Outpatient - Admit through discharge claim")),
            si("pointoforigin", code=cc("poo", origin)),
            si("admtype", code=cc("admtype", admtype)),
            si("discharge-status", code=cc("discharge", discharge)),
            si("medicalrecordnumber", valueString=f"MRN{account}"),
            si("patientaccountnumber", valueString=f"PA{account}"),
        ]
        built_lines = []
        for i, ln in enumerate(lines):
            rev, product, q, submitted = ln[:4]
            extra = ln[4] if len(ln) > 4 else {}
            amounts = cov.cost.line(year, submitted, allowed_pct=extra.get("allowed_pct", 65),
                                    noncovered=extra.get("noncovered", 0),
                                    copay=copay if i == 0 else 0)
            item = {"revenue": rev, "product": product, "quantity": q,
                    "servicedDate": extra.get("date", date), "amounts": amounts,
                    "careTeamSequence": [1], "diagnosisSequence": [1]}
            if extra.get("modifier"):
                item["modifier"] = extra["modifier"]
            if not header_amounts:
                item["allowedunits"] = q
                if amounts["noncovered"]:
                    item["adjustment"] = ("96", amounts["noncovered"])
                elif amounts["discount"]:
                    item["adjustment"] = ("45", amounts["discount"])
            if extra.get("noteNumber"):
                item["noteNumber"] = extra["noteNumber"]
            built_lines.append(item)
        eob = build_eob(
            kind="outpatient", provider=("Organization", facility, fac_name), care_team=team,
            diagnoses=self._dx(dx, [("dx", "principal"), ("c4bb-dx", "other")], True),
            supporting=supporting, lines=built_lines, notes=notes, related=related, network=network,
            header_adjustment=header_adjustment, header_amounts=header_amounts, status=status,
            payee=self._payee(payee, ("Organization", facility)), **common)
        return self.add(eob)

    # ----------------------------------------------------------- professional
    def professional(self, cov, *, date, billing, rendering, dx, lines, facility=None, referring=None,
                     supervisor=None, primary=None, purchased=None, pos=("11", "Office"), copay=0,
                     notes=(), lag=1, payee=None, end=None, type_code=None, extra_supporting=(),
                     network="innetwork", rendering_network=None, related=(), status="active",
                     bill_as_practitioner=False, paid_to="provider", apply_deductible=True, pre_auth=None):
        end = end or date
        year = date[:4]
        common, received = self._common("professional", cov, date, end, lag)
        team = [{"provider": ("Practitioner", rendering), "role": ("c4bb-careteam", "rendering", "Rendering provider"),
                 "responsible": True, "qualification": catalog.pract_taxonomy(rendering)}]
        if referring:
            team.append({"provider": ("Practitioner", referring), "role": ("c4bb-careteam", "referring", "Referring")})
        if supervisor:
            team.append({"provider": ("Practitioner", supervisor), "role": ("careteam", "supervisor", "Supervising Provider")})
        if primary:
            team.append({"provider": ("Practitioner", primary), "role": ("careteam", "primary", "Primary provider")})
        if purchased:
            team.append({"provider": ("Organization", purchased), "role": ("c4bb-careteam", "purchasedservice", "Purchased Service")})
        account = self._account(date)
        supporting = [si("clmrecvddate", timingDate=received)]
        supporting.append(si("servicefacility", valueReference=ref("Organization", facility or billing,
                                                                  catalog.org_name(facility or billing))))
        supporting.append(si("patientaccountnumber", valueString=f"PA{account}"))
        supporting.append(si("medicalrecordnumber", valueString=f"MRN{account}"))
        supporting.extend(extra_supporting)
        built_lines = []
        for i, ln in enumerate(lines):
            product, q, submitted = ln[:3]
            extra = ln[3] if len(ln) > 3 else {}
            amounts = cov.cost.line(year, submitted, allowed_pct=extra.get("allowed_pct", 68),
                                    noncovered=extra.get("noncovered", 0),
                                    copay=copay if i == 0 else 0,
                                    apply_deductible=extra.get("deductible", apply_deductible and not copay),
                                    coinsurance=extra.get("coinsurance", not copay),
                                    paid_to=paid_to)
            item = {"product": product, "quantity": q, "amounts": amounts, "pos": extra.get("pos", pos),
                    "careTeamSequence": [1], "diagnosisSequence": extra.get("dxseq", [1]),
                    "allowedunits": q, "line_status": extra.get("line_status", network)}
            if extra.get("period"):
                item["servicedPeriod"] = extra["period"]
            else:
                item["servicedDate"] = extra.get("date", date)
            if extra.get("modifier"):
                item["modifier"] = extra["modifier"]
            if extra.get("info"):
                item["info"] = extra["info"]
            if amounts["noncovered"]:
                item["adjustment"] = ("96", amounts["noncovered"])
            elif amounts["discount"]:
                item["adjustment"] = ("45", amounts["discount"])
            if extra.get("noteNumber"):
                item["noteNumber"] = extra["noteNumber"]
            built_lines.append(item)
        provider = ("Practitioner", rendering, catalog.pract_name(rendering)) if bill_as_practitioner \
            else ("Organization", billing, catalog.org_name(billing))
        eob = build_eob(
            kind="professional", provider=provider, care_team=team,
            diagnoses=self._dx(dx, [("dx", "principal"), ("c4bb-dx", "secondary")]),
            supporting=supporting, lines=built_lines, notes=notes, related=related,
            network=network, rendering_network=rendering_network, type_code=type_code,
            status=status, paid_to=paid_to, pre_auth=pre_auth,
            payee=self._payee(payee, provider), **common)
        return self.add(eob)

    # ----------------------------------------------------------- pharmacy
    def pharmacy(self, cov, *, date, pharmacy, prescriber, drug, quantity, days, submitted,
                 refill=0, refills_authorized=0, daw="0", brand=False, origin="3", copay=None,
                 compound=None, reject=None, notes=(), lag=0, payee=None, network="innetwork",
                 status="active"):
        """drug: (ndc, display) or None with compound=[((ndc, display), qty-dict), ...]."""
        year = date[:4]
        common, received = self._common("pharmacy", cov, date, date, lag)
        team = [{"provider": ("Practitioner", prescriber), "role": ("c4bb-careteam", "prescribing", "Prescribing provider")}]
        supporting = [
            si("dayssupply", valueQuantity=qty(days, "days", "d")),
            si("dawcode", code=cc("daw", daw)),
            si("refillnum", valueQuantity=qty(refill)),
            si("refillsauthorized", valueQuantity=qty(refills_authorized)),
            si("brandgenericindicator", code=cc("brandgeneric", "1" if brand else "2", "Brand" if brand else "Generic")),
            si("rxorigincode", code=cc("rxorigin", origin)),
            si("clmrecvddate", timingDate=received),
            si("compoundcode", code=cc("compound", "2" if compound else "1")),
        ]
        if copay is None:
            copay = cov.cost.rx_copay * (3 if brand else 1)
        if reject:
            amounts = cov.cost.line(year, submitted, allowed_pct=100, noncovered=submitted,
                                    apply_deductible=False, coinsurance=False)
        else:
            amounts = cov.cost.line(year, submitted, allowed_pct=80, copay=copay,
                                    apply_deductible=False, coinsurance=False)
        if compound:
            product = cc("c4bb-compound", "compound", "compound")
            detail = [{"product": cc("ndc", c[0][0], c[0][1]), "quantity": c[1]} for c in compound]
        else:
            product = cc("ndc", drug[0], drug[1])
            detail = None
        item = {"product": product, "servicedDate": date, "quantity": quantity, "amounts": amounts,
                "careTeamSequence": [1]}
        if detail:
            item["detail"] = detail
        if reject:
            item["reject"] = reject
            item["noteNumber"] = [1]
        eob = build_eob(
            kind="pharmacy", provider=("Organization", pharmacy, catalog.org_name(pharmacy)), care_team=team,
            supporting=supporting, lines=[item], notes=notes, network=network, status=status,
            payee=self._payee(payee, ("Organization", pharmacy)), **common)
        return self.add(eob)

    # ----------------------------------------------------------- oral
    def oral(self, cov, *, date, office, dentist, lines, dx=(), extra_supporting=(), notes=(),
             lag=2, payee=None, network="innetwork", pos=("11", "Office"), primary=None, status="active"):
        """lines: (cdt (code, display), body site tuple or None, surfaces list, submitted, extra)."""
        year = date[:4]
        common, received = self._common("oral", cov, date, date, lag)
        team = [{"provider": ("Practitioner", dentist), "role": ("c4bb-careteam", "rendering", "Rendering provider"),
                 "responsible": True, "qualification": catalog.pract_taxonomy(dentist)}]
        if primary:
            team.append({"provider": ("Practitioner", primary), "role": ("careteam", "primary", "Primary provider")})
        account = self._account(date)
        supporting = [
            si("clmrecvddate", timingDate=received),
            si("servicefacility", valueReference=ref("Organization", office, catalog.org_name(office))),
            si("patientaccountnumber", valueString=f"PA{account}"),
            si("medicalrecordnumber", valueString=f"MRN{account}"),
        ]
        supporting.extend(extra_supporting)
        built_lines = []
        for ln in lines:
            cdt, site, surfaces, submitted = ln[:4]
            extra = ln[4] if len(ln) > 4 else {}
            preventive = cdt[0] < "D2000"
            amounts = cov.cost.line(year, submitted, allowed_pct=extra.get("allowed_pct", 75),
                                    noncovered=extra.get("noncovered", 0),
                                    apply_deductible=not preventive, coinsurance=not preventive)
            item = {"product": cc("cdt", cdt[0], cdt[1]), "servicedDate": date, "pos": pos,
                    "quantity": 1, "amounts": amounts, "careTeamSequence": [1], "allowedunits": 1,
                    "line_status": network}
            if dx:
                item["diagnosisSequence"] = [1]
            if site:
                item["bodySite"] = site
            if surfaces:
                item["subSite"] = surfaces
            if extra.get("info"):
                item["info"] = extra["info"]
            if extra.get("modifier"):
                item["modifier"] = extra["modifier"]
            if amounts["noncovered"]:
                item["adjustment"] = ("96", amounts["noncovered"])
            elif amounts["discount"]:
                item["adjustment"] = ("45", amounts["discount"])
            if extra.get("noteNumber"):
                item["noteNumber"] = extra["noteNumber"]
            built_lines.append(item)
        eob = build_eob(
            kind="oral", provider=("Practitioner", dentist, catalog.pract_name(dentist)), care_team=team,
            diagnoses=self._dx(dx, [("dx", "principal"), ("c4bb-dx", "secondary")]),
            supporting=supporting, lines=built_lines, notes=notes, network=network, status=status,
            payee=self._payee(payee, ("Practitioner", dentist)), **common)
        return self.add(eob)


EOB_ORDER = ["resourceType", "id", "meta", "identifier", "status", "type", "subType", "use", "patient",
             "billablePeriod", "created", "insurer", "provider", "related", "payee", "outcome", "preAuthRef",
             "careTeam",
             "supportingInfo", "diagnosis", "procedure", "insurance", "item", "adjudication", "total",
             "payment", "processNote"]


def link_replacement(original, replacement):
    """original.related = replacedby -> replacement; replacement.related = prior -> original.
    The original was last updated when the correction was processed (cancelled)."""
    oid, rid = original["identifier"][0], replacement["identifier"][0]
    if replacement["created"] > original["meta"]["lastUpdated"]:
        original["meta"]["lastUpdated"] = replacement["created"]
    original["related"] = [{"relationship": cc("c4bb-related", "replacedby", "Replaced by claim number"),
                            "reference": {"type": cc("c4bb-id", "uc", "Unique Claim ID"),
                                          "system": rid["system"], "value": rid["value"]}}]
    replacement["related"] = [{"relationship": cc("related", "prior", "Prior Claim"),
                               "reference": {"type": cc("c4bb-id", "uc", "Unique Claim ID"),
                                             "system": oid["system"], "value": oid["value"]}}]
    for eob in (original, replacement):
        items = dict(eob)
        eob.clear()
        for k in EOB_ORDER:
            if k in items:
                eob[k] = items.pop(k)
        eob.update(items)


def tooth(n):
    return ("tooth", str(n))


def area(code, display):
    return ("oralarea", code, display)


def cpt(code, display):
    return cc("cpt", code, display)


def hcpcs(code, display):
    return cc("hcpcs", code, display)


def not_applicable():
    return cc("dar", "not-applicable", "Not Applicable")


def rev(code, display):
    return (code, display)
