"""SMART client-py (`fhirclient`), unmodified: standalone launch discovered from the
CapabilityStatement, the member signing in on the real pages, then reads, searches with
_include, paging through `next` links, and token refresh."""

from __future__ import annotations

import warnings

import pytest
import requests
from fhirclient import client
from fhirclient.models.bundle import Bundle
from fhirclient.models.coverage import Coverage
from fhirclient.models.explanationofbenefit import ExplanationOfBenefit
from fhirclient.models.organization import Organization
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRNotFoundException, FHIRUnauthorizedException

JASON = "08-testmemid"
ROSA = "08-testmemid2"
REDIRECT = "http://127.0.0.1:8000/fhir-app/"


def launch(fhir_base, browser, member, *, app_id="sandbox-app", app_secret="sandbox-secret"):
    saved = {}
    settings = {
        "app_id": app_id,
        "api_base": fhir_base,
        "redirect_uri": REDIRECT,
        "scope": "openid fhirUser offline_access patient/*.read",
    }
    if app_secret:
        settings["app_secret"] = app_secret
    smart = client.FHIRClient(settings=settings, save_func=saved.update)
    url = smart.authorize_url
    callback = browser.approve(url, member)
    smart.handle_callback(callback)
    return smart, url, callback, saved


@pytest.fixture(scope="module")
def jason(fhir_base, members, sandbox_url):
    from member_browser import MemberBrowser

    return launch(fhir_base, MemberBrowser(sandbox_url), members[JASON])


def test_discovers_oauth_endpoints_from_capability_statement(jason, sandbox_url):
    smart, url, callback, _ = jason
    assert url.startswith(f"{sandbox_url}/oauth2/authorize?"), url
    for part in ("response_type=code", "client_id=sandbox-app", "code_challenge_method=S256",
                 "aud=", "launch%2Fpatient"):
        assert part in url, (part, url)
    assert callback.startswith(REDIRECT + "?code="), callback


def test_callback_gives_patient_context_and_ready_client(jason, members):
    smart, _, _, saved = jason
    assert smart.ready
    assert smart.patient_id == members[JASON]["patient_id"]
    granted = smart.launch_context["scope"].split()
    assert "patient/*.read" in granted and "launch/patient" in granted
    assert saved["server"]["auth"]["refresh_token"], "state saved with the refresh token"


def test_saved_state_restores_a_working_client(jason):
    smart, _, _, saved = jason
    # A web app keeps `state` in its session between requests and rebuilds the client from it.
    restored = client.FHIRClient(state=dict(saved), save_func=lambda _: None)
    assert restored.ready
    assert restored.patient_id == smart.patient_id
    assert Patient.read(restored.patient_id, restored.server).id == smart.patient_id


def test_patient_read(jason):
    smart, *_ = jason
    patient = smart.patient
    assert isinstance(patient, Patient)
    assert smart.human_name(patient.name[0]) == "Jason Argonaut"
    assert patient.birthDate.isostring == "1986-01-01"


def test_eob_search_with_include(jason):
    smart, *_ = jason
    search = (
        ExplanationOfBenefit.where(struct={"patient": smart.patient_id, "_count": "10"})
        .include("patient")
        .include("insurer")
        .include("provider")
    )
    assert "_include=ExplanationOfBenefit:patient" in search.construct()
    bundle = Bundle.read_from(search.construct(), smart.server)
    matches = [e.resource for e in bundle.entry if e.search and e.search.mode == "match"]
    included = [e.resource for e in bundle.entry if e.search and e.search.mode == "include"]
    assert 0 < len(matches) <= 10
    assert all(isinstance(r, ExplanationOfBenefit) for r in matches)
    assert all(r.patient.reference == f"Patient/{smart.patient_id}" for r in matches)
    kinds = {type(r).__name__ for r in included}
    assert {"Patient", "Organization"} <= kinds, kinds
    assert bundle.total >= len(matches)
    assert all(e.fullUrl.startswith(smart.server.base_uri) for e in bundle.entry)


def test_eob_search_follows_next_pages(fhir_base, members, sandbox_url):
    from member_browser import MemberBrowser

    smart, *_ = launch(fhir_base, MemberBrowser(sandbox_url), members[ROSA])
    search = ExplanationOfBenefit.where(struct={"_count": "50"})
    pages = list(search.perform_iter(smart.server))
    assert len(pages) >= 3, "Rosa's EOBs fill three pages of 50"
    resources = [r for page in pages for r in (e.resource for e in page.entry or [])]
    ids = [r.id for r in resources]
    assert len(ids) == len(set(ids)) == pages[0].total
    assert all(isinstance(r, ExplanationOfBenefit) for r in resources)
    assert all(r.patient.reference == f"Patient/{smart.patient_id}" for r in resources)


def test_eob_date_search_with_r4_prefixes(jason):
    smart, *_ = jason
    # FHIRSearch's "$gte"/"$lt" operators write DSTU1's ">=" and "<", which R4 servers refuse;
    # the R4 prefixes go in the value.
    def ids(struct):
        return {r.id for r in ExplanationOfBenefit.where(struct=struct).perform_resources_iter(smart.server)}

    everything = ids({})
    recent = ids({"service-date": "ge2024-01-01"})
    older = ids({"service-date": "lt2024-01-01"})
    assert recent and older
    assert recent | older == everything and not recent & older


def test_coverage_search(jason):
    smart, *_ = jason
    coverages = list(
        Coverage.where(struct={"beneficiary": f"Patient/{smart.patient_id}"})
        .include("payor")
        .perform_resources_iter(smart.server)
    )
    own = [c for c in coverages if isinstance(c, Coverage)]
    payors = [o for o in coverages if isinstance(o, Organization)]
    assert len(own) == 2, "Jason has medical and dental coverage"
    assert len(payors) == 2, "from two payors"
    assert all(c.beneficiary.reference == f"Patient/{smart.patient_id}" for c in own)


def test_read_outside_the_compartment_is_not_found(jason, members):
    smart, *_ = jason
    with pytest.raises(FHIRNotFoundException):
        Patient.read(members[ROSA]["patient_id"], smart.server)


def test_refresh_with_reauthorize(jason, sandbox_url):
    smart, *_ = jason
    before = smart.server.auth.access_token
    # Expire the access token on the server: the sandbox clock moves past its hour.
    requests.post(f"{sandbox_url}/sandbox/api/clock/advance", json={"seconds": 3700}, timeout=30)
    try:
        with pytest.raises(FHIRUnauthorizedException):
            Patient.read(smart.patient_id, smart.server)
        assert smart.reauthorize(), "refresh_token grant gave a new launch context"
        assert smart.server.auth.access_token != before
        assert Patient.read(smart.patient_id, smart.server).id == smart.patient_id
    finally:
        requests.post(f"{sandbox_url}/sandbox/api/clock/reset", timeout=30)


def test_public_app_with_pkce(fhir_base, members, sandbox_url):
    from member_browser import MemberBrowser

    smart, url, _, _ = launch(
        fhir_base,
        MemberBrowser(sandbox_url),
        members["08-testmemidstu2"],
        app_id="sandbox-public-app",
        app_secret=None,
    )
    assert "code_challenge=" in url
    assert smart.patient.name[0].family == "Bluebutton"
    first_refresh = smart.server.auth.refresh_token
    assert smart.reauthorize()
    assert smart.server.auth.refresh_token != first_refresh, "a public app's refresh token rotates"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        eobs = ExplanationOfBenefit.where(struct={}).perform_resources(smart.server)
    assert eobs and all(r.patient.reference == f"Patient/{smart.patient_id}" for r in eobs)
