"""fhirpy (beda.software), unmodified, sync and async clients, with a token from the sandbox's
headless authorize and an ordinary code exchange: reads, searches, `.count()`, `fetch_all()`
across pages, includes, sorting and the errors it maps to exceptions."""

from __future__ import annotations

import asyncio

import pytest
from fhirpy import AsyncFHIRClient, SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound

from conftest import headless_token
from seed_data import served

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
