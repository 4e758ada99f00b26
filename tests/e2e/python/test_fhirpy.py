"""fhirpy (beda.software), unmodified, sync and async clients, with a token from the sandbox's
headless authorize and an ordinary code exchange: reads, searches, `.count()`, `fetch_all()`
across pages, includes, sorting and the errors it maps to exceptions; and an app's incremental
sync (`_lastUpdated=gt`) across a week of the sandbox clock, `_history` and `$everything?_since`."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
import requests
from fhirpy import AsyncFHIRClient, SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, ResourceNotFound

from conftest import headless_token
from seed_data import instant, retired, served

JASON = "08-testmemid"
ROSA = "08-testmemid2"

# Rosa Delgado's ExplanationOfBenefits (claims and prior authorizations), counted in the embedded
# data itself rather than asked of the server, so paging and counting are checked against it.
# A prior authorization last changed more than a year ago is not served, so the count applies
# that rule against the wall clock, which the server runs on.
ROSA_EOBS = len(served("member-02-rosa-delgado.json", "ExplanationOfBenefit"))


@pytest.fixture(scope="module")
def rosa(sandbox_url, fhir_base):
    token = headless_token(sandbox_url, ROSA, "patient/*.read")
    return token, SyncFHIRClient(fhir_base, authorization=f"Bearer {token['access_token']}")


@pytest.fixture(scope="module")
def jason(sandbox_url, fhir_base):
    token = headless_token(sandbox_url, JASON, "patient/*.read")
    return token, SyncFHIRClient(fhir_base, authorization=f"Bearer {token['access_token']}")


def test_read_patient(jason, members):
    token, fhir = jason
    patient = fhir.reference("Patient", token["patient"]).to_resource()
    assert patient.resourceType == "Patient"
    assert patient["name"][0]["family"] == "Argonaut"
    member_ids = [
        i["value"] for i in patient["identifier"] if i.get("type", {}).get("coding", [{}])[0].get("code") == "MB"
    ]
    assert member_ids == [JASON]
    assert patient.get_by_path(["name", 0, "given", 0]) == "Jason"
    same = fhir.get("Patient", token["patient"])
    assert same.id == patient.id


def test_count_uses_count_only_request(rosa):
    _, fhir = rosa
    assert fhir.resources("ExplanationOfBenefit").count() == ROSA_EOBS


def test_fetch_all_follows_every_page(rosa):
    _, fhir = rosa
    everything = fhir.resources("ExplanationOfBenefit").limit(40).fetch_all()
    assert len(everything) == ROSA_EOBS
    assert len({r.id for r in everything}) == ROSA_EOBS
    first_page = fhir.resources("ExplanationOfBenefit").limit(40).fetch()
    assert len(first_page) == 40


def test_search_by_type_and_date(rosa):
    token, fhir = rosa
    pharmacy = fhir.resources("ExplanationOfBenefit").search(
        patient=token["patient"],
        type="http://terminology.hl7.org/CodeSystem/claim-type|pharmacy",
    )
    n = pharmacy.count()
    assert 0 < n < ROSA_EOBS
    rows = pharmacy.fetch_all()
    assert len(rows) == n
    assert all(r["type"]["coding"][0]["code"] == "pharmacy" for r in rows)

    recent = fhir.resources("ExplanationOfBenefit").search(service_date__ge="2024-01-01")
    older = fhir.resources("ExplanationOfBenefit").search(service_date__lt="2024-01-01")
    assert recent.count() + older.count() == ROSA_EOBS


def test_sort_newest_first(rosa):
    _, fhir = rosa
    rows = fhir.resources("ExplanationOfBenefit").sort("-_lastUpdated").limit(20).fetch()
    stamps = [r["meta"]["lastUpdated"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)
    rows = fhir.resources("ExplanationOfBenefit").sort("_lastUpdated").limit(20).fetch()
    stamps = [r["meta"]["lastUpdated"] for r in rows]
    assert stamps == sorted(stamps)


def test_elements_and_summary_subsets(rosa):
    _, fhir = rosa
    rows = fhir.resources("ExplanationOfBenefit").elements("billablePeriod").limit(5).fetch()
    assert len(rows) == 5
    for row in rows:
        assert set(row) <= {"resourceType", "id", "meta", "billablePeriod"}, set(row)
        assert any(t.get("code") == "SUBSETTED" for t in row["meta"].get("tag", []))
    raw = fhir.resources("ExplanationOfBenefit").search(_summary="count").fetch_raw()
    assert raw["total"] == ROSA_EOBS and not [e for e in raw.get("entry", []) if e.get("search", {}).get("mode") == "match"]


def test_include_and_iterate(jason):
    token, fhir = jason
    raw = (
        fhir.resources("ExplanationOfBenefit")
        .search(patient=token["patient"])
        .include("ExplanationOfBenefit", "coverage")
        .include("Coverage", "payor", iterate=True)
        .limit(5)
        .fetch_raw()
    )
    kinds = {e["resource"]["resourceType"] for e in raw["entry"]}
    assert {"ExplanationOfBenefit", "Coverage", "Organization"} <= kinds, kinds
    assert raw["entry"][0]["fullUrl"].startswith(fhir.url)


def test_revinclude_and_first(jason):
    token, fhir = jason
    raw = (
        fhir.resources("Patient")
        .search(_id=token["patient"])
        .revinclude("Coverage", "beneficiary")
        .fetch_raw()
    )
    coverages = [e for e in raw["entry"] if e["resource"]["resourceType"] == "Coverage"]
    assert len(coverages) == 2
    assert fhir.resources("Coverage").first()["beneficiary"]["reference"] == f"Patient/{token['patient']}"


def test_reference_resolution(jason):
    token, fhir = jason
    eob = fhir.resources("ExplanationOfBenefit").first()
    insurer = fhir.reference(reference=eob["insurer"]["reference"]).to_resource()
    assert insurer.resourceType == "Organization"


def test_other_members_are_not_found(jason, members):
    _, fhir = jason
    with pytest.raises(ResourceNotFound):
        fhir.get("Patient", members[ROSA]["patient_id"])
    assert fhir.resources("ExplanationOfBenefit").search(patient=members[ROSA]["patient_id"]).count() == 0


def test_async_client(sandbox_url, fhir_base):
    token = headless_token(sandbox_url, ROSA, "patient/*.read")

    async def run():
        fhir = AsyncFHIRClient(fhir_base, authorization=f"Bearer {token['access_token']}")
        total = await fhir.resources("ExplanationOfBenefit").count()
        rows = await fhir.resources("ExplanationOfBenefit").limit(100).fetch_all()
        patient = await fhir.reference("Patient", token["patient"]).to_resource()
        return total, rows, patient

    total, rows, patient = asyncio.run(run())
    assert total == len(rows) == ROSA_EOBS
    assert patient["name"][0]["family"] == "Delgado"


# ---- incremental sync across a clock advance -------------------------------------------------
#
# A consumer app keeps a copy of the member's claims and coverage: one full sync, then, now and
# then, only what changed since the last one (`_lastUpdated=gt<watermark>`). The embedded data's
# timeline (seed-data/timeline.ndjson) changes it as the sandbox clock passes a day, three days,
# six days and three weeks after start-up; the control API changes a prior authorization at once.

WEEK = 7 * 24 * 3600
SYNCED = ("ExplanationOfBenefit", "Coverage")
JASON_CLAIM = "eob-jason-argonaut-20261124-professional"  # posts at P6D
JASON_MRI_PA = "pa-jason-argonaut-20261123-1"  # pending; approved at P3D
JASON_THERAPY_PA = "pa-jason-argonaut-20260727-1"  # 5 of 12 visits used; the sixth at P6D
ROSA_CLAIM = "eob-rosa-delgado-20261103-pharmacy"  # posts at P1D
# What the timeline's first week changes, by member: each resource and the version it becomes.
# (Walter Okafor's coverage ends at P21D, after the week.)
WEEK_ONE = {
    JASON: {JASON_CLAIM: "1", JASON_MRI_PA: "2", JASON_THERAPY_PA: "2"},
    ROSA: {ROSA_CLAIM: "1"},
}


class SandboxClock:
    """The control API's clock and the changes it brings (plain HTTP: not FHIR)."""

    def __init__(self, sandbox_url: str):
        self.api = f"{sandbox_url}/sandbox/api"

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        r = requests.request(method, f"{self.api}{path}", json=body, timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def now(self) -> datetime:
        return instant(self._call("GET", "/clock")["now"])

    def offset(self) -> int:
        return self._call("GET", "/clock")["offset_seconds"]

    def advance(self, seconds: int) -> None:
        self._call("POST", "/clock/advance", {"seconds": seconds})

    def reset(self) -> None:
        self._call("POST", "/clock/reset")

    def applied(self) -> dict[str, dict]:
        """The changes applied by now, by resource id (the newest when one changed twice)."""
        return {
            c["resource"].split("/", 1)[1]: c for c in self._call("GET", "/changes")["changes"] if c["applied"]
        }

    def decide(self, prior_authorization: str, decision: dict) -> dict:
        return self._call("POST", f"/prior-authorizations/{prior_authorization}/decision", decision)


@pytest.fixture
def sandbox_clock(sandbox_url):
    """For a test that moves the sandbox clock: it starts with the server as loaded (on the wall
    clock, no change applied) and the server is left so whatever happens, as the other tests of
    every suite expect: `clock/reset` goes back to the wall clock, puts the data back as loaded
    and forgets the control API's changes."""
    clock = SandboxClock(sandbox_url)
    assert clock.offset() == 0 and clock.applied() == {}, (
        "expected the sandbox on the wall clock with none of the data's changes applied yet "
        "(a server run.sh started, less than a day ago)"
    )
    yield clock
    clock.reset()


def fhirpy_client(fhir_base: str, token: dict) -> SyncFHIRClient:
    return SyncFHIRClient(fhir_base, authorization=f"Bearer {token['access_token']}")


def refreshed(sandbox_url: str, token: dict) -> dict:
    """What an app syncing a week later does first: its access token has expired, it refreshes."""
    r = requests.post(
        f"{sandbox_url}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=("sandbox-app", "sandbox-secret"),
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()


def pages(fhir: SyncFHIRClient, bundle: dict):
    """A Bundle and the pages after it, by their `next` links, through the client."""
    while True:
        yield bundle
        link = next((l["url"] for l in bundle.get("link", []) if l["relation"] == "next"), None)
        if link is None:
            return
        bundle = fhir.execute(link, method="get")


def sync(fhir: SyncFHIRClient, resource_type: str, since: str | None = None) -> tuple[dict[str, dict], str]:
    """A consumer's sync of one type: every resource by id, or with `since` (the last sync's
    watermark) only those changed after it; and the new watermark, the first page's
    `Bundle.meta.lastUpdated` (the server's time of the search, so that a change made while
    paging is not missed)."""
    search = fhir.resources(resource_type).limit(50)
    if since is not None:
        search = search.search(_lastUpdated__gt=since)
    found: dict[str, dict] = {}
    watermark = None
    for bundle in pages(fhir, search.fetch_raw()):
        watermark = watermark or bundle["meta"]["lastUpdated"]
        for entry in bundle.get("entry", []):
            assert entry["search"]["mode"] == "match", entry["search"]
            resource = entry["resource"]
            assert resource["id"] not in found, f"{resource['id']} twice"
            found[resource["id"]] = resource
    return found, watermark


def sync_all(fhir: SyncFHIRClient, since: dict[str, str] | None = None):
    synced = {t: sync(fhir, t, since[t] if since else None) for t in SYNCED}
    return {t: rows for t, (rows, _) in synced.items()}, {t: w for t, (_, w) in synced.items()}


def versions(rows: dict[str, dict]) -> dict[str, str]:
    return {id_: r["meta"]["versionId"] for id_, r in rows.items()}


def newest(rows: dict[str, dict]) -> str:
    """The newest `meta.lastUpdated` among the rows: the other watermark an app may keep."""
    return max((r["meta"]["lastUpdated"] for r in rows.values()), key=instant)


def everything_since(fhir: SyncFHIRClient, patient_id: str, since: str) -> dict[str, str]:
    """`Patient/{id}/$everything?_since=`, every page, as `Type/id` → version."""
    first = fhir.reference("Patient", patient_id).execute("$everything", method="get", params={"_since": since})
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]["meta"]["versionId"]
        for bundle in pages(fhir, first)
        for e in bundle.get("entry", [])
    }


def review_action(pa: dict) -> str:
    """The X12 306 review action of a prior authorization's first item (A1 certified, A4 pended,
    C cancelled, ...)."""
    for adjudication in pa["item"][0]["adjudication"]:
        for ext in adjudication.get("extension", []):
            for part in ext.get("extension", []):
                if part["url"].endswith("extension-reviewActionCode"):
                    return part["valueCodeableConcept"]["coding"][0]["code"]
    raise AssertionError(f"{pa['id']} has no review action")


def units(pa: dict, code: str) -> float | None:
    """The first item's `allowedunits` or `consumedunits` adjudication."""
    for adjudication in pa["item"][0]["adjudication"]:
        if any(c["code"] == code for c in adjudication["category"]["coding"]):
            return adjudication["value"]
    return None


def brought_up_to_date(mirror: dict[str, dict], changed: dict[str, dict], now: datetime) -> dict[str, str]:
    """The versions a copy holds once the changes are merged in, less the prior authorizations
    that have meanwhile dropped out of the API (which an incremental sync cannot see go)."""
    merged = {**mirror, **changed}
    return {id_: r["meta"]["versionId"] for id_, r in merged.items() if not retired(r, now)}


def test_incremental_sync_across_a_clock_advance(sandbox_url, fhir_base, sandbox_clock):
    token = headless_token(sandbox_url, JASON, "patient/*.read offline_access")
    patient_id = token["patient"]
    first_client = fhir = fhirpy_client(fhir_base, token)

    # The full sync.
    mirror, watermark = sync_all(fhir)
    loaded = {t: versions(rows) for t, rows in mirror.items()}
    eobs = mirror["ExplanationOfBenefit"]
    assert JASON_CLAIM not in eobs
    assert eobs[JASON_MRI_PA]["meta"]["versionId"] == "1" and review_action(eobs[JASON_MRI_PA]) == "A4"
    assert units(eobs[JASON_THERAPY_PA], "consumedunits") == 5
    for t in SYNCED:
        assert instant(newest(mirror[t])) <= instant(watermark[t])
    # Nothing has changed since: an incremental sync straight away brings nothing.
    assert sync_all(fhir, since=watermark)[0] == {t: {} for t in SYNCED}

    # A week passes. The access token has expired; the app refreshes, then syncs.
    sandbox_clock.advance(WEEK)
    with pytest.raises(AuthorizationError):
        fhir.resources("ExplanationOfBenefit").search(_lastUpdated__gt=watermark["ExplanationOfBenefit"]).fetch()
    fhir = fhirpy_client(fhir_base, refreshed(sandbox_url, token))
    applied = sandbox_clock.applied()
    assert {id_: c["version_id"] for id_, c in applied.items()} == WEEK_ONE[JASON] | WEEK_ONE[ROSA]

    changed, watermark_2 = sync_all(fhir, since=watermark)
    eobs = changed["ExplanationOfBenefit"]
    # Exactly the week's changes of Jason's: the new claim and the new versions of both prior
    # authorizations; not Rosa's new claim, no coverage.
    assert versions(eobs) == WEEK_ONE[JASON]
    assert changed["Coverage"] == {}
    for id_, resource in eobs.items():
        assert resource["meta"]["lastUpdated"] == applied[id_]["at"], id_
        assert instant(resource["meta"]["lastUpdated"]) > instant(watermark["ExplanationOfBenefit"])
    assert eobs[JASON_CLAIM]["use"] == "claim" and eobs[JASON_CLAIM]["patient"]["reference"] == f"Patient/{patient_id}"
    assert review_action(eobs[JASON_MRI_PA]) == "A1" and eobs[JASON_MRI_PA]["outcome"] == "complete"
    therapy = eobs[JASON_THERAPY_PA]
    assert (units(therapy, "consumedunits"), units(therapy, "allowedunits")) == (6, 12)
    # The newest resource's `meta.lastUpdated`, the other watermark an app may keep, gives the same.
    by_newest = {t: sync(fhir, t, since=newest(mirror[t]))[0] for t in SYNCED}
    assert {t: versions(rows) for t, rows in by_newest.items()} == {t: versions(rows) for t, rows in changed.items()}
    # The copy, brought up to date, is what a full sync now gives.
    now = sandbox_clock.now()
    fresh = sync_all(fhir)[0]
    for t in SYNCED:
        assert versions(fresh[t]) == brought_up_to_date(mirror[t], changed[t], now), t
        mirror[t] = {**mirror[t], **changed[t]}

    # A reviewer cancels the approved MRI (control API): the next sync brings exactly that one,
    # with a higher version.
    decided = sandbox_clock.decide(JASON_MRI_PA, {"decision": "cancel"})
    assert decided["version_id"] == "3"
    changed_2, _ = sync_all(fhir, since=watermark_2)
    assert versions(changed_2["ExplanationOfBenefit"]) == {JASON_MRI_PA: "3"}
    assert changed_2["Coverage"] == {}
    cancelled = changed_2["ExplanationOfBenefit"][JASON_MRI_PA]
    assert int(cancelled["meta"]["versionId"]) > int(mirror["ExplanationOfBenefit"][JASON_MRI_PA]["meta"]["versionId"])
    assert cancelled["status"] == "cancelled" and review_action(cancelled) == "C"
    assert cancelled["meta"]["lastUpdated"] == decided["last_updated"]

    # Its history through the client: newest first, each version as vread gives it.
    mri = fhir.reference("ExplanationOfBenefit", JASON_MRI_PA)
    history = mri.execute("_history", method="get")
    assert history["resourceType"] == "Bundle" and history["type"] == "history"
    past = [e["resource"] for e in history["entry"]]
    assert [r["meta"]["versionId"] for r in past] == ["3", "2", "1"]
    assert [review_action(r) for r in past] == ["C", "A1", "A4"]
    stamps = [instant(r["meta"]["lastUpdated"]) for r in past]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == 3
    assert past[1]["meta"]["lastUpdated"] == applied[JASON_MRI_PA]["at"]
    for r in past:
        assert mri.execute(f"_history/{r['meta']['versionId']}", method="get") == r
    assert fhir.get("ExplanationOfBenefit", JASON_MRI_PA)["meta"]["versionId"] == "3"
    with pytest.raises(ResourceNotFound):
        mri.execute("_history/4", method="get")
    therapy_history = fhir.reference("ExplanationOfBenefit", JASON_THERAPY_PA).execute("_history", method="get")
    assert [(e["resource"]["meta"]["versionId"], units(e["resource"], "consumedunits")) for e in therapy_history["entry"]] == [
        ("2", 6),
        ("1", 5),
    ]

    # $everything?_since= agrees with the searches.
    since_full = min(watermark.values(), key=instant)
    assert everything_since(fhir, patient_id, since_full) == {
        f"ExplanationOfBenefit/{id_}": v for id_, v in (WEEK_ONE[JASON] | {JASON_MRI_PA: "3"}).items()
    }
    since_week = min(watermark_2.values(), key=instant)
    assert everything_since(fhir, patient_id, since_week) == {f"ExplanationOfBenefit/{JASON_MRI_PA}": "3"}

    # Back on the wall clock the data is as loaded again, for the tests that follow.
    sandbox_clock.reset()
    assert {t: versions(rows) for t, rows in sync_all(first_client)[0].items()} == loaded
    with pytest.raises(ResourceNotFound):
        first_client.get("ExplanationOfBenefit", JASON_CLAIM)
    only = first_client.reference("ExplanationOfBenefit", JASON_MRI_PA).execute("_history", method="get")
    assert [e["resource"]["meta"]["versionId"] for e in only["entry"]] == ["1"]


def test_incremental_sync_is_isolated_between_members(sandbox_url, fhir_base, sandbox_clock):
    tokens = {m: headless_token(sandbox_url, m, "patient/*.read offline_access") for m in (JASON, ROSA)}
    clients = {m: fhirpy_client(fhir_base, t) for m, t in tokens.items()}
    synced = {m: sync_all(fhir) for m, fhir in clients.items()}

    sandbox_clock.advance(WEEK)
    clients = {m: fhirpy_client(fhir_base, refreshed(sandbox_url, t)) for m, t in tokens.items()}
    now = sandbox_clock.now()
    changed, watermarks = {}, {}
    for member, fhir in clients.items():
        mirror, watermark = synced[member]
        changed[member], watermarks[member] = sync_all(fhir, since=watermark)
        # Each member's sync brings their own changes of the week and nobody else's.
        assert versions(changed[member]["ExplanationOfBenefit"]) == WEEK_ONE[member], member
        assert changed[member]["Coverage"] == {}, member
        fresh = sync_all(fhir)[0]
        for t in SYNCED:
            assert versions(fresh[t]) == brought_up_to_date(mirror[t], changed[member][t], now), (member, t)
        patient_id = tokens[member]["patient"]
        assert everything_since(fhir, patient_id, min(watermark.values(), key=instant)) == {
            f"ExplanationOfBenefit/{id_}": v for id_, v in WEEK_ONE[member].items()
        }, member

    rosa, jason = clients[ROSA], clients[JASON]
    # Rosa cannot reach what changed for Jason, by read, vread or history; nor Jason Rosa's claim.
    for id_ in WEEK_ONE[JASON]:
        with pytest.raises(ResourceNotFound):
            rosa.get("ExplanationOfBenefit", id_)
        with pytest.raises(ResourceNotFound):
            rosa.reference("ExplanationOfBenefit", id_).execute("_history", method="get")
        with pytest.raises(ResourceNotFound):
            rosa.reference("ExplanationOfBenefit", id_).execute("_history/1", method="get")
    with pytest.raises(ResourceNotFound):
        jason.get("ExplanationOfBenefit", ROSA_CLAIM)
    assert rosa.resources("ExplanationOfBenefit").search(_id=",".join(WEEK_ONE[JASON])).count() == 0

    # A decision on Jason's authorization reaches his next sync only.
    sandbox_clock.decide(JASON_MRI_PA, {"decision": "cancel"})
    assert versions(sync_all(jason, since=watermarks[JASON])[0]["ExplanationOfBenefit"]) == {JASON_MRI_PA: "3"}
    assert sync_all(rosa, since=watermarks[ROSA])[0] == {t: {} for t in SYNCED}


NPI = "http://hl7.org/fhir/sid/us-npi"
NDC = "http://hl7.org/fhir/sid/ndc"
DRUG_TIER = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/usdf-DrugTierID-extension"


def test_a_claims_provider_and_drug_in_the_public_directory_and_formulary(jason, sandbox_url):
    """An app resolves the provider of a member's claim in the provider directory and looks up the
    tier of a drug the member's pharmacy claim paid for in the formulary: fhirpy clients without
    a token on /directory/r4 and /formulary/r4, beside the member's on /r4."""
    _, fhir = jason
    directory = SyncFHIRClient(f"{sandbox_url}/directory/r4")
    formulary = SyncFHIRClient(f"{sandbox_url}/formulary/r4")

    claims = fhir.resources("ExplanationOfBenefit").search(use="claim").limit(200).fetch_all()
    professional = next(c for c in claims if c["type"]["coding"][0]["code"] == "professional")
    kind, provider_id = professional["provider"]["reference"].split("/")
    on_claim = fhir.reference(kind, provider_id).to_resource()
    listed = directory.reference(kind, provider_id).to_resource()
    npi = lambda r: sorted(i["value"] for i in r.get("identifier", []) if i.get("system") == NPI)
    assert npi(listed) == npi(on_claim) and npi(listed)
    assert listed["name"] == on_claim["name"]
    assert any("davinci-pdex-plan-net" in p for p in listed["meta"]["profile"])
    # The directory knows the provider's roles in the plan's network.
    if kind == "Organization":
        roles = directory.resources("PractitionerRole").search(organization=f"Organization/{provider_id}").fetch()
    else:
        roles = directory.resources("PractitionerRole").search(practitioner=f"Practitioner/{provider_id}").fetch()
    assert roles

    pharmacy = [c for c in claims if c["type"]["coding"][0]["code"] == "pharmacy"]
    paid = [
        coding["code"]
        for c in pharmacy
        for item in c["item"]
        if not any(a["category"]["coding"][0]["code"] == "rejectreason" for a in item.get("adjudication", []))
        for coding in item["productOrService"].get("coding", [])
        if coding.get("system") == NDC
    ]
    assert paid
    drug = formulary.resources("MedicationKnowledge").search(code=f"{NDC}|{paid[0]}").first()
    assert drug is not None, paid[0]
    assert any(c["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm" for c in drug["code"]["coding"])
    items = formulary.resources("Basic").search(subject=f"MedicationKnowledge/{drug['id']}").include("Basic", "formulary").fetch_raw()
    entries = [e["resource"] for e in items["entry"]]
    on_formulary = [r for r in entries if r["resourceType"] == "Basic"]
    assert on_formulary
    tiers = {e["valueCodeableConcept"]["coding"][0]["code"] for r in on_formulary for e in r["extension"] if e["url"] == DRUG_TIER}
    assert tiers, on_formulary[0]["id"]
    assert any(r["resourceType"] == "InsurancePlan" for r in entries), "the formulary came along"
