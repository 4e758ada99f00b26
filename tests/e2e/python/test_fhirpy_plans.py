"""fhirpy (beda.software), unmodified, as an app that aggregates a person's claims across health
plans: Marisol Vega-Lindqvist is a member of both Cascade Health Alliance and Lakeshore Mutual
Health, and authorizes the app at each (tokens from the sandbox's headless authorize, asked for
the way each plan wants: HTTP Basic, PKCE, launch/patient and v2 scopes at Cascade; the secret
in the form body, v1 scopes and openid fhirUser at Lakeshore, whose token response names no
patient). What the app sees: one person twice, each plan's own claims, `.count()` working even
where pages have no `total`, each plan's page size and includes, and Cascade's rate limit."""

from __future__ import annotations

import asyncio
import time

import pytest
import requests
from fhirpy import AsyncFHIRClient, SyncFHIRClient
from fhirpy.base.exceptions import AuthorizationError, OperationOutcome

from conftest import jwt_claims, plan_member, plan_token
from seed_data import served

CASCADE_SCOPE = "launch/patient openid fhirUser patient/*.rs"
LAKESHORE_SCOPE = "openid fhirUser patient/*.read"
MARISOL_FILE = "plans/{}/member-01-marisol-vega-lindqvist.json"
MEMBER_NUMBER = "http://terminology.hl7.org/CodeSystem/v2-0203"


def claims_in_seed_data(plan: str) -> set[str]:
    """Marisol's ExplanationOfBenefits in the plan's embedded data that the API serves now."""
    return {r["id"] for r in served(MARISOL_FILE.format(plan), "ExplanationOfBenefit")}


class Member:
    """One plan's view of Marisol: her token, her Patient id as the app learns it, a client."""

    def __init__(self, plan: dict, token: dict, patient_id: str):
        self.plan, self.token, self.patient_id = plan, token, patient_id
        self.fhir = SyncFHIRClient(plan["fhir_base"], authorization=f"Bearer {token['access_token']}")


@pytest.fixture
def marisol(sandbox_url, plans) -> dict[str, Member]:
    """Marisol at both plans, a fresh token at each for each test (Cascade answers 10 requests
    per second per token)."""
    cascade, lakeshore = plans["cascade"], plans["lakeshore"]
    at_cascade = plan_token(
        sandbox_url, "cascade", plan_member(cascade, "Marisol")["member_id"], CASCADE_SCOPE, "basic"
    )
    at_lakeshore = plan_token(
        sandbox_url, "lakeshore", plan_member(lakeshore, "Marisol")["member_id"], LAKESHORE_SCOPE, "body"
    )
    # Lakeshore's token response names no patient: the id_token's fhirUser does.
    assert "patient" not in at_lakeshore and "refresh_token" not in at_lakeshore
    lakeshore_patient = jwt_claims(at_lakeshore["id_token"])["fhirUser"].rsplit("/", 1)[1]
    return {
        "cascade": Member(cascade, at_cascade, at_cascade["patient"]),
        "lakeshore": Member(lakeshore, at_lakeshore, lakeshore_patient),
    }


def test_an_aggregating_app_sees_one_person_twice(marisol, plans):
    patients = {plan: m.fhir.reference("Patient", m.patient_id).to_resource() for plan, m in marisol.items()}
    cascade, lakeshore = patients["cascade"], patients["lakeshore"]
    assert cascade.id != lakeshore.id, "two Patient ids"
    member_ids = {
        plan: [
            i["value"]
            for i in p["identifier"]
            if any(c["system"] == MEMBER_NUMBER and c["code"] == "MB" for c in i["type"]["coding"])
        ]
        for plan, p in patients.items()
    }
    assert member_ids == {plan: [plan_member(plans[plan], "Marisol")["member_id"]] for plan in patients}
    assert member_ids["cascade"] != member_ids["lakeshore"], "two member IDs"
    # The same name and birth date: only the app can tell that these are one person.
    assert cascade["name"][0]["family"] == lakeshore["name"][0]["family"] == "Vega-Lindqvist"
    assert cascade["name"][0]["given"] == lakeshore["name"][0]["given"] == ["Marisol"]
    assert cascade["birthDate"] == lakeshore["birthDate"]
    # Each token opens its own plan only.
    wrong = SyncFHIRClient(
        plans["lakeshore"]["fhir_base"], authorization=f"Bearer {marisol['cascade'].token['access_token']}"
    )
    with pytest.raises(AuthorizationError):
        wrong.reference("Patient", lakeshore.id).to_resource()


def test_each_plan_serves_its_own_claims_only(marisol):
    claims = {plan: m.fhir.resources("ExplanationOfBenefit").limit(50).fetch_all() for plan, m in marisol.items()}
    for plan, rows in claims.items():
        assert {r.id for r in rows} == claims_in_seed_data(plan), plan
        assert {r["patient"]["reference"] for r in rows} == {f"Patient/{marisol[plan].patient_id}"}
        insurers = {r["insurer"]["reference"] for r in rows}
        assert len(insurers) == 1, insurers
        insurer = marisol[plan].fhir.reference(reference=insurers.pop()).to_resource()
        assert insurer["name"] == marisol[plan].plan["name"]
    assert not {r.id for r in claims["cascade"]} & {r.id for r in claims["lakeshore"]}


def test_fhirpy_count_works_at_cascade_too_whose_count_only_search_keeps_the_total(marisol):
    for plan, member in marisol.items():
        assert member.fhir.resources("ExplanationOfBenefit").count() == len(claims_in_seed_data(plan)), plan
    cascade = marisol["cascade"].fhir.resources("ExplanationOfBenefit")
    # Cascade's pages of claims have no total; `.count()` asks `_count=0`, which has one.
    assert "total" not in cascade.fetch_raw()
    raw = cascade.limit(0).fetch_raw()
    assert raw["total"] == len(claims_in_seed_data("cascade")) and "entry" not in raw


def test_each_plan_pages_at_its_own_size(marisol):
    cascade = marisol["cascade"].fhir.resources("ExplanationOfBenefit")
    page = cascade.fetch_raw()
    assert "_count=10" in next(l["url"] for l in page["link"] if l["relation"] == "self")
    assert len(page["entry"]) <= 10
    # `.limit(3).fetch_all()` follows every `next` link.
    assert {r.id for r in cascade.limit(3).fetch_all()} == claims_in_seed_data("cascade")
    assert len(cascade.limit(3).fetch()) == 3
    lakeshore = marisol["lakeshore"].fhir.resources("ExplanationOfBenefit").fetch_raw()
    assert "_count=100" in next(l["url"] for l in lakeshore["link"] if l["relation"] == "self")
    assert lakeshore["total"] == len(lakeshore["entry"]) == len(claims_in_seed_data("lakeshore"))
    assert not [l for l in lakeshore["link"] if l["relation"] == "next"]


def entries(bundle: dict, mode: str) -> list[dict]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def test_includes_and_how_each_plan_names_a_claims_coverage(marisol):
    cascade = (
        marisol["cascade"].fhir.resources("ExplanationOfBenefit")
        .include("ExplanationOfBenefit", "coverage")
        .include("ExplanationOfBenefit", "provider")
        .fetch_raw()
    )
    assert {r["resourceType"] for r in entries(cascade, "include")} == {"Coverage"}
    (outcome,) = entries(cascade, "outcome")
    assert "ExplanationOfBenefit:provider" in outcome["issue"][0]["diagnostics"]
    # Cascade's claims reference the Coverage the include brought.
    (coverage,) = entries(cascade, "include")
    assert {c["insurance"][0]["coverage"]["reference"] for c in entries(cascade, "match")} == {
        f"Coverage/{coverage['id']}"
    }

    fhir = marisol["lakeshore"].fhir
    lakeshore = fhir.resources("ExplanationOfBenefit").include("ExplanationOfBenefit", "coverage").fetch_raw()
    assert entries(lakeshore, "include") == [], "Lakeshore follows no _include"
    (outcome,) = entries(lakeshore, "outcome")
    assert "ExplanationOfBenefit:coverage" in outcome["issue"][0]["diagnostics"]
    # Lakeshore's claims name their coverage by identifier: the app searches for it.
    identifiers = {
        (c["insurance"][0]["coverage"]["identifier"]["system"], c["insurance"][0]["coverage"]["identifier"]["value"])
        for c in entries(lakeshore, "match")
    }
    assert all("reference" not in c["insurance"][0]["coverage"] for c in entries(lakeshore, "match"))
    ((system, value),) = identifiers
    found = fhir.resources("Coverage").search(identifier=f"{system}|{value}").fetch_all()
    assert len(found) == 1
    assert found[0]["beneficiary"]["reference"] == f"Patient/{marisol['lakeshore'].patient_id}"


def test_the_async_client_meets_cascades_rate_limit_as_an_operation_outcome(marisol, sandbox_url):
    member = marisol["cascade"]
    log = f"{sandbox_url}/sandbox/api/requests"
    path = f"/plans/cascade/r4/Patient/{member.patient_id}"
    logged = lambda: len(requests.get(log, params={"path": path}, timeout=30).json())  # noqa: E731
    before = logged()

    async def reads_at_once(n: int):
        fhir = AsyncFHIRClient(member.plan["fhir_base"], authorization=f"Bearer {member.token['access_token']}")
        reads = [fhir.reference("Patient", member.patient_id).to_resource() for _ in range(n)]
        return await asyncio.gather(*reads, return_exceptions=True)

    time.sleep(1.02 - time.time() % 1)  # the top of a second: the limit counts per second
    second = int(time.time())
    results = asyncio.run(reads_at_once(15))
    in_one_second = int(time.time()) == second
    read = [r for r in results if not isinstance(r, BaseException)]
    throttled = [r for r in results if isinstance(r, BaseException)]
    assert throttled, "some reads were throttled"
    if in_one_second:
        assert (len(read), len(throttled)) == (10, 5)
    for error in throttled:
        # The 429 and its Retry-After are not kept: fhirpy raises the body as OperationOutcome.
        assert isinstance(error, OperationOutcome), repr(error)
        assert error.resource["issue"][0]["code"] == "throttled"
    assert logged() - before == 15, "one request each: fhirpy does not retry"
    # A second later (Retry-After: 1) the app is answered again.
    time.sleep(1)
    (again,) = asyncio.run(reads_at_once(1))
    assert again.id == member.patient_id
