"""SMART client-py (`fhirclient`), unmodified, against the network's other plans: the same
standalone launch as test_fhirclient.py (discovery from the plan's CapabilityStatement, the
member signing in on the plan's own branded pages), showing what each plan's profile does to it.

client-py sends a client secret in HTTP Basic only, always sends PKCE (S256) and `aud`, prepends
`launch/patient` to the scope, takes the patient id from the token response only (it logs that
it ignores the id_token), and has no answer when there is no refresh token: so Cascade (HTTP
Basic, PKCE, launch/patient) suits it, and Lakeshore (secret in the body, patient in the
id_token, no refresh tokens) does not."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import pytest
import requests
from fhirclient import client
from fhirclient.models.bundle import Bundle
from fhirclient.models.explanationofbenefit import ExplanationOfBenefit
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRUnauthorizedException

from conftest import jwt_claims, plan_member, token_requests
from member_browser import MemberBrowser

REDIRECT = "http://127.0.0.1:8000/fhir-app/"
# client-py prepends launch/patient itself.
LAKESHORE_SCOPE = "openid fhirUser offline_access patient/*.read"
CASCADE_SCOPE = "openid fhirUser offline_access patient/*.rs"


def smart_client(plan: dict, scope: str, *, app_id="sandbox-app", app_secret="sandbox-secret"):
    settings = {"app_id": app_id, "api_base": plan["fhir_base"], "redirect_uri": REDIRECT, "scope": scope}
    if app_secret:
        settings["app_secret"] = app_secret
    return client.FHIRClient(settings=settings, save_func=lambda _: None)


def sign_in(sandbox_url: str, plan: dict, smart, given: str) -> tuple[str, str]:
    """The member `given` of `plan` signs in on its pages: the authorize URL and the callback."""
    url = smart.authorize_url
    callback = MemberBrowser(sandbox_url).approve(url, plan_member(plan, given), plan_name=plan["name"])
    assert callback.startswith(REDIRECT + "?code="), callback
    return url, callback


@pytest.fixture
def clock(sandbox_url):
    """The sandbox clock, put back on the wall clock after the test."""
    yield lambda seconds: requests.post(
        f"{sandbox_url}/sandbox/api/clock/advance", json={"seconds": seconds}, timeout=30
    ).raise_for_status()
    requests.post(f"{sandbox_url}/sandbox/api/clock/reset", timeout=30).raise_for_status()


# ---- Lakeshore Mutual Health ------------------------------------------------------------------


def test_lakeshore_refuses_client_py_confidential_app_which_sends_its_secret_in_http_basic(sandbox_url, plans):
    lakeshore = plans["lakeshore"]
    smart = smart_client(lakeshore, LAKESHORE_SCOPE)
    url, callback = sign_in(sandbox_url, lakeshore, smart, "Yesenia")
    assert url.startswith(lakeshore["authorize"] + "?"), url
    before = len(token_requests(sandbox_url, "sandbox-app"))
    with pytest.raises(FHIRUnauthorizedException) as refused:
        smart.handle_callback(callback)
    error = refused.value.response.json()
    assert error["error"] == "invalid_client"
    assert "use client_secret_post" in error["error_description"]
    # client-py has no setting for client_secret_post: `app_secret` always goes in HTTP Basic.
    assert token_requests(sandbox_url, "sandbox-app")[before:] == [("authorization_code", "client_secret_basic", 401)]
    assert not smart.ready


def test_lakeshore_public_app_gets_no_patient_id_since_client_py_ignores_the_id_token(sandbox_url, plans, caplog):
    lakeshore = plans["lakeshore"]
    marisol = plan_member(lakeshore, "Marisol")
    smart = smart_client(lakeshore, LAKESHORE_SCOPE, app_id="sandbox-public-app", app_secret=None)
    url, callback = sign_in(sandbox_url, lakeshore, smart, "Marisol")
    assert "launch%2Fpatient" in url and "code_challenge_method=S256" in url
    with caplog.at_level(logging.WARNING, logger="fhirclient.client"):
        smart.handle_callback(callback)
    assert smart.ready
    assert "Received an id_token, ignoring" in caplog.text
    # No `patient` in the token response: client-py has no patient, and `smart.patient` is None.
    assert "patient" not in smart.launch_context
    assert smart.patient_id is None
    assert smart.patient is None
    # The app reads the id_token client-py kept in the launch context.
    fhir_user = jwt_claims(smart.launch_context["id_token"])["fhirUser"]
    assert fhir_user == f"{lakeshore['fhir_base']}/Patient/{marisol['patient_id']}"
    patient_id = fhir_user.rsplit("/", 1)[1]
    patient = Patient.read(patient_id, smart.server)
    assert (patient.name[0].family, patient.birthDate.isostring) == (marisol["family"], marisol["birth_date"])
    # Lakeshore's claims: every one on one page with total, coverage by identifier only.
    bundle = Bundle.read_from(
        ExplanationOfBenefit.where(struct={"patient": patient_id}).include("coverage").construct(), smart.server
    )
    claims = [e.resource for e in bundle.entry if e.search.mode == "match"]
    assert bundle.total == len(claims) > 0
    assert not [e for e in bundle.entry if e.search.mode == "include"], "no _include followed"
    assert all(c.insurance[0].coverage.reference is None and c.insurance[0].coverage.identifier.value for c in claims)


def test_lakeshore_without_refresh_token_client_py_reauthorize_raises_type_error(sandbox_url, plans, clock):
    lakeshore = plans["lakeshore"]
    smart = smart_client(lakeshore, LAKESHORE_SCOPE, app_id="sandbox-public-app", app_secret=None)
    _, callback = sign_in(sandbox_url, lakeshore, smart, "Tobias")
    smart.handle_callback(callback)
    assert "offline_access" in smart.launch_context["scope"].split(), "granted, yet ..."
    assert smart.server.auth.refresh_token is None, "... no refresh token"
    patient_id = jwt_claims(smart.launch_context["id_token"])["fhirUser"].rsplit("/", 1)[1]
    clock(3601)
    with pytest.raises(FHIRUnauthorizedException):
        Patient.read(patient_id, smart.server)
    # client-py's reauthorize() finds no refresh token, gets no launch context back, and then
    # fails on it: the app has to catch that and send the member to sign in again.
    with pytest.raises(TypeError, match="NoneType"):
        smart.reauthorize()


# ---- Cascade Health Alliance ------------------------------------------------------------------


@pytest.fixture
def cascade_launch(sandbox_url, plans):
    """Marisol launched at Cascade by client-py as a confidential app (each test its own token:
    Cascade answers 10 requests per second per token)."""
    cascade = plans["cascade"]
    smart = smart_client(cascade, CASCADE_SCOPE)
    url, callback = sign_in(sandbox_url, cascade, smart, "Marisol")
    smart.handle_callback(callback)
    return smart, url


def test_cascade_client_py_launches_with_http_basic_pkce_aud_and_launch_patient(
    cascade_launch, plans, sandbox_url
):
    smart, url = cascade_launch
    cascade = plans["cascade"]
    assert url.startswith(cascade["authorize"] + "?"), url
    for part in ("code_challenge_method=S256", "aud=" + requests.utils.quote(cascade["fhir_base"], safe=""),
                 "scope=launch%2Fpatient+openid+fhirUser+offline_access+patient%2F%2A.rs"):
        assert part in url, (part, url)
    assert smart.ready
    assert smart.patient_id == plan_member(cascade, "Marisol")["patient_id"]
    assert smart.patient.birthDate.isostring == plan_member(cascade, "Marisol")["birth_date"]
    assert token_requests(sandbox_url, "sandbox-app")[-1] == ("authorization_code", "client_secret_basic", 200)
    # A 900-second access token: client-py counts down from expires_in.
    left = smart.server.auth.expires_at - datetime.now()
    assert timedelta(seconds=880) < left <= timedelta(seconds=900)


def test_cascade_searches_pages_of_ten_without_total_and_reports_includes_it_ignores(cascade_launch):
    smart, _ = cascade_launch
    search = (
        ExplanationOfBenefit.where(struct={"patient": smart.patient_id})
        .include("insurer")
        .include("provider")
    )
    bundle = Bundle.read_from(search.construct(), smart.server)
    matches = [e.resource for e in bundle.entry if e.search.mode == "match"]
    assert 0 < len(matches) <= 10
    assert bundle.total is None
    assert "_count=10" in next(l.url for l in bundle.link if l.relation == "self")
    included = {type(e.resource).__name__ for e in bundle.entry if e.search.mode == "include"}
    assert included == {"Organization"}, included
    outcome = [e.resource for e in bundle.entry if e.search.mode == "outcome"]
    assert len(outcome) == 1 and "ExplanationOfBenefit:provider" in outcome[0].issue[0].diagnostics
    # perform_iter() follows `next` links; no page carries a total.
    pages = list(ExplanationOfBenefit.where(struct={"_count": "3"}).perform_iter(smart.server))
    assert len(pages) >= 3 and all(p.total is None for p in pages)
    ids = [e.resource.id for p in pages for e in p.entry]
    assert sorted(ids) == sorted(r.id for r in matches)


def test_cascade_refuses_a_v1_scope_before_sign_in(plans, sandbox_url):
    cascade = plans["cascade"]
    smart = smart_client(cascade, "openid fhirUser patient/*.read")
    callback = MemberBrowser(sandbox_url).open(smart.authorize_url)
    assert isinstance(callback, str) and callback.startswith(REDIRECT), "straight back to the app"
    assert "error=invalid_scope" in callback
    # client-py raises a plain Exception with the error_description alone.
    with pytest.raises(Exception, match=r"this plan accepts SMART v2 scopes only") as refused:
        smart.handle_callback(callback)
    assert type(refused.value) is Exception
    assert not smart.ready


def test_cascade_reauthorize_rotates_the_refresh_token_and_reuse_revokes(cascade_launch, sandbox_url, clock):
    smart, _ = cascade_launch
    first = smart.server.auth.refresh_token
    clock(901)
    with pytest.raises(FHIRUnauthorizedException):
        Patient.read(smart.patient_id, smart.server)
    assert smart.reauthorize()
    second = smart.server.auth.refresh_token
    assert second != first, "client-py keeps the rotated refresh token"
    assert token_requests(sandbox_url, "sandbox-app")[-1] == ("refresh_token", "client_secret_basic", 200)
    assert Patient.read(smart.patient_id, smart.server).id == smart.patient_id
    # The old refresh token, used again, is refused and revokes the authorization: client-py's
    # next reauthorize() gets invalid_grant as a requests HTTPError.
    reuse = requests.post(
        f"{sandbox_url}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": first},
        auth=("sandbox-app", "sandbox-secret"),
        timeout=30,
    )
    assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")
    with pytest.raises(requests.HTTPError) as refused:
        smart.reauthorize()
    assert refused.value.response.json()["error"] == "invalid_grant"
    assert smart.server.auth.refresh_token == second, "client-py keeps the dead refresh token"


def test_cascade_rate_limit_surfaces_as_a_requests_http_error_without_retry(cascade_launch):
    smart, _ = cascade_launch
    time.sleep(1.02 - time.time() % 1)  # the top of a second: the limit counts per second
    statuses = []
    for _ in range(12):
        try:
            Patient.read(smart.patient_id, smart.server)
            statuses.append(200)
        except requests.HTTPError as e:
            statuses.append(e.response.status_code)
            assert e.response.headers["Retry-After"] == "1"
            assert e.response.json()["issue"][0]["code"] == "throttled"
    assert 429 in statuses and statuses.index(429) <= 10, statuses
    time.sleep(1)
    assert Patient.read(smart.patient_id, smart.server).id == smart.patient_id
