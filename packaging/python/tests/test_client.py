"""The client's helpers against the real server, through the plugin's fixtures.

Tests that change the sandbox (clock, faults, log) take ``fresh_payer_sandbox``, which is reset
before each test; the read-only ones share the session's ``payer_sandbox``.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from payer_sandbox import (
    SANDBOX_PUBLIC_APP,
    App,
    Sandbox,
    SandboxAPIError,
    SandboxError,
    TokenError,
)


def test_members_lists_the_test_members(payer_sandbox: Sandbox) -> None:
    members = payer_sandbox.members
    assert len(members) >= 6
    jason = members[0]
    assert jason == {
        "member_id": "08-testmemid",
        "patient_id": "jason-argonaut",
        "given": "Jason",
        "family": "Argonaut",
        "birth_date": "1986-01-01",
        "postal_code": "02114",
    }
    assert {m["member_id"] for m in members} >= {"08-testmemid2", "08-testmemid3", "08-testmemid6"}


def test_login_returns_the_token_response(payer_sandbox: Sandbox) -> None:
    tokens = payer_sandbox.login("08-testmemid2")
    assert re.fullmatch(r"[0-9a-f]{32}", tokens.access_token)
    assert tokens.token_type == "Bearer"
    assert tokens.expires_in == 3600
    assert tokens.patient == "rosa-delgado"
    assert tokens.scopes == ["patient/*.read", "openid", "fhirUser", "offline_access"]
    assert tokens.refresh_token and tokens.id_token
    assert tokens.app.client_id == "sandbox-app"
    assert tokens.fhir_base == payer_sandbox.base_url + "/r4"
    claims = tokens.id_token_claims()
    assert claims["sub"] == "rosa-delgado"
    assert claims["aud"] == "sandbox-app"
    assert claims["iss"] == payer_sandbox.base_url
    assert claims["nonce"] == tokens.nonce
    assert claims["fhirUser"] == f"{payer_sandbox.base_url}/r4/Patient/rosa-delgado"


def test_login_with_a_narrow_scope_has_no_id_token(payer_sandbox: Sandbox) -> None:
    tokens = payer_sandbox.login("08-testmemid", scope="patient/Patient.read")
    assert tokens.scope == "patient/Patient.read"
    assert tokens.id_token is None
    with pytest.raises(SandboxError, match="no id_token"):
        tokens.id_token_claims()
    assert payer_sandbox.fhir("Patient/jason-argonaut", tokens).status == 200
    # The scope does not cover claims: 403 from the FHIR API.
    assert payer_sandbox.fhir("ExplanationOfBenefit", tokens, params={"patient": "jason-argonaut"}).status == 403


def test_fhir_search_and_paging_by_absolute_next_link(payer_sandbox: Sandbox) -> None:
    tokens = payer_sandbox.login("08-testmemid2")
    page = payer_sandbox.fhir("ExplanationOfBenefit", tokens, params={"patient": tokens.patient, "_count": 10})
    assert page.status == 200
    bundle = page.json()
    assert bundle["type"] == "searchset" and bundle["total"] > 10
    next_url = next(link["url"] for link in bundle["link"] if link["relation"] == "next")
    second = payer_sandbox.fhir(next_url, tokens)
    assert second.status == 200
    assert second.json()["entry"][0]["resource"]["id"] != bundle["entry"][0]["resource"]["id"]
    assert second.headers["content-type"].startswith("application/fhir+json")


def test_fhir_without_a_token_is_401(payer_sandbox: Sandbox) -> None:
    response = payer_sandbox.fhir("Patient/jason-argonaut")
    assert response.status == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    with pytest.raises(SandboxAPIError) as info:
        response.raise_for_status()
    assert info.value.status == 401
    # Discovery needs no token.
    assert payer_sandbox.get("/.well-known/smart-configuration").json()["token_endpoint"].endswith("/oauth2/token")


def test_public_app_logs_in_with_pkce_and_its_refresh_token_rotates(payer_sandbox: Sandbox) -> None:
    tokens = payer_sandbox.login("08-testmemid", client="sandbox-public-app")
    assert tokens.app == SANDBOX_PUBLIC_APP
    refreshed = payer_sandbox.refresh(tokens)
    assert refreshed.refresh_token and refreshed.refresh_token != tokens.refresh_token
    assert payer_sandbox.fhir("Patient/jason-argonaut", refreshed).status == 200
    # The rotated refresh token is spent: using it again is theft, and revokes the grant.
    with pytest.raises(TokenError) as info:
        payer_sandbox.refresh(tokens)
    assert info.value.status == 400 and info.value.error == "invalid_grant"
    assert payer_sandbox.fhir("Patient/jason-argonaut", refreshed).status == 401


def test_login_without_pkce_for_a_public_app_is_refused(payer_sandbox: Sandbox) -> None:
    with pytest.raises(SandboxAPIError) as info:
        payer_sandbox.login("08-testmemid", client=SANDBOX_PUBLIC_APP, pkce=False)
    assert info.value.error == "invalid_request"
    assert "PKCE" in (info.value.error_description or "")


def test_login_of_an_unknown_member_is_refused(payer_sandbox: Sandbox) -> None:
    with pytest.raises(SandboxAPIError) as info:
        payer_sandbox.login("no-such-member")
    assert info.value.status == 400
    assert info.value.error == "invalid_request"


def test_login_with_both_client_authentication_methods(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    sb.login("08-testmemid", auth="basic")
    sb.login("08-testmemid", auth="post")
    methods = [entry.get("client_auth") for entry in sb.requests(path="/oauth2/token")]
    assert methods == ["client_secret_basic", "client_secret_post"]


def test_decline_and_representative(payer_sandbox: Sandbox) -> None:
    declined = payer_sandbox.login("08-testmemid", scope="patient/*.read", decline=["Coverage"])
    assert "Coverage" not in declined.scope
    assert payer_sandbox.fhir("Coverage", declined, params={"patient": "jason-argonaut"}).status == 403

    mother = payer_sandbox.representatives[0]
    tokens = payer_sandbox.login(mother["member_id"], representative=mother["related_person_id"])
    assert tokens.patient == mother["patient_id"]
    assert tokens.id_token_claims()["sub"] == mother["related_person_id"]


def test_login_to_other_plans_picks_their_client_authentication(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    # Cascade: HTTP Basic only, v2 scopes, launch/patient and PKCE required.
    cascade = sb.login("CHA204518736", scope="launch/patient patient/*.rs openid fhirUser", plan="cascade")
    assert cascade.expires_in == 900
    assert cascade.fhir_base == sb.base_url + "/plans/cascade/r4"
    assert sb.fhir(f"Patient/{cascade.patient}", cascade).status == 200
    # Lakeshore: the secret in the body only, v1 scopes, no patient in the token response.
    lakeshore = sb.login("LMH-40718265", scope="patient/*.read openid fhirUser", plan="lakeshore")
    assert lakeshore.patient is None
    patient_url = lakeshore.id_token_claims()["fhirUser"]
    assert sb.fhir(patient_url, lakeshore).status == 200
    auths = [(e.get("plan"), e.get("client_auth")) for e in sb.requests(path="/oauth2/token")]
    assert auths == [("cascade", "client_secret_basic"), ("lakeshore", "client_secret_post")]
    assert [m["member_id"] for m in sb.plan_members("cascade")][0] == "CHA204518736"


def test_clock_advance_expires_the_access_token(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    tokens = sb.login("08-testmemid")
    assert sb.fhir("Patient/jason-argonaut", tokens).status == 200
    before = sb.clock.now()

    state = sb.clock.advance(tokens.expires_in - 1)
    assert state["offset_seconds"] == tokens.expires_in - 1
    assert sb.fhir("Patient/jason-argonaut", tokens).status == 200

    state = sb.clock.advance(timedelta(seconds=2))
    assert state["offset_seconds"] == tokens.expires_in + 1
    assert sb.clock.now() - before >= timedelta(seconds=tokens.expires_in)
    expired = sb.fhir("Patient/jason-argonaut", tokens)
    assert expired.status == 401
    assert "expired" in expired.headers["www-authenticate"]

    # The refresh token lives 90 days: refreshing gets a working access token.
    assert sb.fhir("Patient/jason-argonaut", sb.refresh(tokens)).status == 200
    assert sb.clock.reset()["offset_seconds"] == 0


def test_clock_refuses_what_the_server_refuses(fresh_payer_sandbox: Sandbox) -> None:
    with pytest.raises(SandboxAPIError) as info:
        fresh_payer_sandbox.clock.advance(-5)
    assert info.value.status == 400
    with pytest.raises(ValueError):
        fresh_payer_sandbox.clock.advance(timedelta(milliseconds=1500))
    assert fresh_payer_sandbox.clock.get()["offset_seconds"] == 0


def test_fault_on_the_fhir_api(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    tokens = sb.login("08-testmemid")
    fault = sb.faults.add("fhir", status=429, retry_after=2, path="/r4/ExplanationOfBenefit", count=2)
    assert fault["target"] == "fhir" and fault["count"] == 2 and fault["remaining"] == 2
    assert sb.faults.list() == [fault]

    eob = {"patient": "jason-argonaut"}
    assert sb.fhir("Patient/jason-argonaut", tokens).status == 200  # another path: untouched
    first = sb.fhir("ExplanationOfBenefit", tokens, params=eob)
    assert first.status == 429
    assert first.headers["retry-after"] == "2"
    assert first.json()["issue"][0]["code"] == "throttled"
    assert sb.faults.list()[0]["remaining"] == 1
    assert sb.fhir("ExplanationOfBenefit", tokens, params=eob).status == 429
    assert sb.faults.list() == []
    assert sb.fhir("ExplanationOfBenefit", tokens, params=eob).status == 200

    statuses = [(e["status"], e.get("fault")) for e in sb.requests(path="/r4/ExplanationOfBenefit")]
    assert statuses == [(429, fault["id"]), (429, fault["id"]), (200, None)]


def test_fault_on_the_token_endpoint_fails_the_login(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    sb.faults.add("token", error="temporarily_unavailable", error_description="down for a test")
    with pytest.raises(TokenError) as info:
        sb.login("08-testmemid")
    assert info.value.status == 503
    assert info.value.error == "temporarily_unavailable"
    assert info.value.error_description == "down for a test"
    assert sb.login("08-testmemid").access_token  # the fault fired once


def test_faults_remove_and_clear(fresh_payer_sandbox: Sandbox) -> None:
    faults = fresh_payer_sandbox.faults
    first = faults.add("any", delay_ms=1, count=5)
    faults.add("userinfo", status=500)
    faults.remove(first["id"])
    assert [f["target"] for f in faults.list()] == ["userinfo"]
    with pytest.raises(SandboxAPIError) as info:
        faults.remove(first["id"])
    assert info.value.status == 404 and info.value.error == "not_found"
    assert faults.clear() == 1
    assert faults.list() == []
    with pytest.raises(SandboxAPIError, match="invalid_request"):
        faults.add("fhir", retry_after=2)  # needs a status or an error
    with pytest.raises(SandboxAPIError):
        faults.add("fhir", status=503, retry_afterr=2)  # an unknown field is refused


def test_requests_log_filters_and_clears(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    mine = sb.register_app(name="log test")
    tokens = sb.login("08-testmemid", client=mine)
    sb.login("08-testmemid2")
    sb.fhir("Patient/jason-argonaut", tokens)
    log = sb.requests()
    # Registering is an app's request too; the headless authorize is the harness's, not logged.
    assert [e["path"] for e in log] == ["/oauth2/register", "/oauth2/token", "/oauth2/token", "/r4/Patient/jason-argonaut"]
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
    assert [e["path"] for e in sb.requests(client_id=mine.client_id)] == ["/oauth2/token", "/r4/Patient/jason-argonaut"]
    assert sb.requests(path="/r4/")[0]["status"] == 200
    token_request = sb.requests(path="/oauth2/token")[0]
    assert token_request["grant_type"] == "authorization_code"
    assert token_request["client_auth"] == "client_secret_basic"
    assert sb.clear_requests() == 4
    assert sb.requests() == []


def test_report_sets_what_the_client_did_against_the_checks(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    app = sb.register_app(name="report test")
    tokens = sb.login("08-testmemid", client=app)
    sb.get("/.well-known/smart-configuration")
    sb.fhir("Patient/jason-argonaut", tokens)
    sb.fhir("ExplanationOfBenefit", tokens, params={"patient": "jason-argonaut", "_include": "ExplanationOfBenefit:*"})
    sb.fhir("Coverage", tokens, params={"patient": "jason-argonaut"})
    report = sb.report(app.client_id)
    assert report["client_id"] == app.client_id
    assert report["oauth"]["code_exchanges"] == 1
    checks = {name: check["status"] for name, check in report["checks"].items()}
    for name in ("discovery", "patient_read", "eob_search", "eob_include", "coverage", "references", "tokens_not_in_urls"):
        assert checks[name] == "met", (name, report["checks"][name])
    assert checks["token_refresh"] == "not_met"

    # Sending the token after it expired breaks refreshes_before_expiry, which names the
    # request; the 401 it got, never recovered from, breaks handles_401.
    sb.clock.advance(3601)
    sb.fhir("Patient/jason-argonaut", tokens)
    checks_after = sb.report(app.client_id)["checks"]
    late = checks_after["refreshes_before_expiry"]
    assert late["status"] == "not_met"
    assert late.get("offending") == [sb.requests(client_id=app.client_id)[-1]["seq"]]
    assert checks_after["handles_401"]["status"] == "not_met"

    junit = sb.report_junit(app.client_id)
    assert junit.startswith("<?xml")
    assert re.search(r'<testcase [^>]*name="handles_401">\s*<failure', junit)


def test_reset_forgets_tokens_faults_log_and_clock(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    app = sb.register_app(name="reset test")
    tokens = sb.login("08-testmemid", client=app)
    sb.faults.add("fhir", status=500, count=10)
    sb.clock.advance(60)
    sb.reset()
    assert sb.faults.list() == []
    assert sb.requests() == []
    assert sb.clock.get()["offset_seconds"] == 0
    assert sb.fhir("Patient/jason-argonaut", tokens).status == 401  # the token is forgotten
    assert sb.login("08-testmemid", client=app).access_token  # the registered app stays


def test_expire_grants_revokes_the_members_tokens(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    tokens = sb.login("08-testmemid")
    other = sb.login("08-testmemid2")
    assert sb.expire_grants("08-testmemid") == 2  # the access token and the refresh token
    assert sb.fhir("Patient/jason-argonaut", tokens).status == 401
    assert sb.fhir("Patient/rosa-delgado", other).status == 200
    with pytest.raises(TokenError):
        sb.refresh(tokens)
    with pytest.raises(SandboxAPIError) as info:
        sb.expire_grants("nobody")
    assert info.value.status == 404


def test_control_reaches_the_endpoints_without_a_helper(fresh_payer_sandbox: Sandbox) -> None:
    sb = fresh_payer_sandbox
    before = sb.control("GET", "keys")
    rotated = sb.control("POST", "keys/rotate")
    assert rotated["kid"] != before["kid"]
    assert sb.login("08-testmemid").id_token is not None


def test_registered_confidential_and_public_apps(payer_sandbox: Sandbox) -> None:
    confidential = payer_sandbox.register_app(["http://localhost:9999/cb"], name="conf")
    assert confidential.client_secret and not confidential.public
    assert confidential.redirect_uri == "http://localhost:9999/cb"
    public = payer_sandbox.register_app(name="pub", public=True)
    assert public.public
    for app in (confidential, public):
        assert payer_sandbox.login("08-testmemid", client=app).app == app
    wrong = App(confidential.client_id, "not-the-secret")
    with pytest.raises(TokenError) as info:
        payer_sandbox.login("08-testmemid", client=wrong)
    assert info.value.status == 401 and info.value.error == "invalid_client"


@pytest.mark.payer_sandbox("--access-token-ttl", "60")
def test_marker_flags_reach_the_server(fresh_payer_sandbox: Sandbox, payer_sandbox: Sandbox) -> None:
    assert fresh_payer_sandbox is not payer_sandbox
    assert fresh_payer_sandbox.args[-2:] == ["--access-token-ttl", "60"]
    tokens = fresh_payer_sandbox.login("08-testmemid")
    assert tokens.expires_in == 60
    fresh_payer_sandbox.clock.advance(61)
    assert fresh_payer_sandbox.fhir("Patient/jason-argonaut", tokens).status == 401
    assert payer_sandbox.login("08-testmemid").expires_in == 3600


@pytest.mark.payer_sandbox("--access-token-ttl", "60")
def test_same_marker_flags_share_one_server(fresh_payer_sandbox: Sandbox, payer_sandbox_factory: object) -> None:
    from payer_sandbox.pytest_plugin import SandboxFactory

    assert isinstance(payer_sandbox_factory, SandboxFactory)
    ttl60 = [s for s in payer_sandbox_factory.started if s.args[-2:] == ["--access-token-ttl", "60"]]
    assert ttl60 == [fresh_payer_sandbox]
    # Reset before this test, whatever the one before it left.
    assert fresh_payer_sandbox.clock.get()["offset_seconds"] == 0


def test_factory_starts_a_server_with_other_flags(payer_sandbox_factory: object) -> None:
    from payer_sandbox.pytest_plugin import SandboxFactory

    assert isinstance(payer_sandbox_factory, SandboxFactory)
    strict = payer_sandbox_factory("--strict")
    assert strict.running and strict.args[-1] == "--strict"
    # Under --strict even a confidential app must send PKCE.
    with pytest.raises(SandboxAPIError, match="PKCE"):
        strict.login("08-testmemid", pkce=False)
    assert strict.login("08-testmemid").access_token


def test_a_slow_answer_times_out_and_a_stopped_server_cannot_be_reached(
    fresh_payer_sandbox: Sandbox, payer_sandbox_factory: object
) -> None:
    from payer_sandbox import SandboxClient, SandboxConnectionError
    from payer_sandbox.pytest_plugin import SandboxFactory

    fresh_payer_sandbox.faults.add("discovery", delay_ms=1500)
    impatient = SandboxClient(fresh_payer_sandbox.base_url, timeout=0.3)
    with pytest.raises(TimeoutError, match="no answer within 0.3 s"):
        impatient.get("/.well-known/smart-configuration")

    assert isinstance(payer_sandbox_factory, SandboxFactory)
    gone = payer_sandbox_factory()
    gone.stop()
    with pytest.raises(SandboxConnectionError, match="could not reach the sandbox"):
        gone.members
