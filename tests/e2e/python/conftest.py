"""Shared fixtures: the running sandbox (its URL comes from run.sh) and its test members; the
network's other plans and tokens of theirs, asked for the way each plan wants."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets

import pytest
import requests

from member_browser import MemberBrowser


@pytest.fixture(scope="session")
def sandbox_url() -> str:
    url = os.environ.get("PAYER_SANDBOX_URL")
    if not url:
        pytest.exit("PAYER_SANDBOX_URL is not set: run tests/e2e/run.sh", returncode=2)
    return url.rstrip("/")


@pytest.fixture(scope="session")
def fhir_base(sandbox_url: str) -> str:
    return f"{sandbox_url}/r4"


@pytest.fixture(scope="session")
def members(sandbox_url: str) -> dict[str, dict]:
    listing = requests.get(f"{sandbox_url}/sandbox/api/members", timeout=30).json()
    return {m["member_id"]: m for m in listing}


@pytest.fixture
def browser(sandbox_url: str) -> MemberBrowser:
    return MemberBrowser(sandbox_url)


def headless_token(sandbox_url: str, member_id: str, scope: str) -> dict:
    """A token for the built-in confidential app, the CI way: the control API approves for the
    member, then an ordinary authorization_code exchange."""
    r = requests.post(
        f"{sandbox_url}/sandbox/api/authorize",
        json={"client_id": "sandbox-app", "member_id": member_id, "scope": scope},
        timeout=30,
    )
    r.raise_for_status()
    r = requests.post(
        f"{sandbox_url}/oauth2/token",
        data={"grant_type": "authorization_code", "code": r.json()["code"]},
        auth=("sandbox-app", "sandbox-secret"),
        timeout=30,
    )
    r.raise_for_status()
    return r.json()


@pytest.fixture(scope="session")
def plans(sandbox_url: str) -> dict[str, dict]:
    """Every plan of the network by id: name, fhir_base, authorize, profile and members."""
    listing = requests.get(f"{sandbox_url}/sandbox/api/plans", timeout=30).json()
    return {p["id"]: p for p in listing}


def plan_member(plan: dict, given: str) -> dict:
    """The member of `plan` (an entry of the `plans` fixture) with the given first name."""
    found = [m for m in plan["members"] if m["given"] == given]
    assert len(found) == 1, f"no member {given} in {plan['id']}"
    return found[0]


def plan_token(sandbox_url: str, plan: str, member_id: str, scope: str, auth: str) -> dict:
    """A token of another plan for the built-in confidential app, the CI way: headless authorize
    with PKCE (Cascade requires it of every app), then the code exchange with the secret in HTTP
    Basic (`auth` "basic", Cascade's way) or in the form body ("body", Lakeshore's way)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    r = requests.post(
        f"{sandbox_url}/sandbox/api/authorize",
        json={
            "plan": plan,
            "client_id": "sandbox-app",
            "member_id": member_id,
            "scope": scope,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        timeout=30,
    )
    assert r.status_code == 200, r.text
    form = {"grant_type": "authorization_code", "code": r.json()["code"], "code_verifier": verifier}
    basic = None
    if auth == "basic":
        basic = ("sandbox-app", "sandbox-secret")
    else:
        form |= {"client_id": "sandbox-app", "client_secret": "sandbox-secret"}
    r = requests.post(f"{sandbox_url}/oauth2/token", data=form, auth=basic, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def jwt_claims(jwt: str) -> dict:
    """The claims of a JWT's payload (no signature check: the suites compare, not trust)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def token_requests(sandbox_url: str, client_id: str) -> list[tuple]:
    """An app's token requests as the sandbox logged them: grant type, client auth, status."""
    log = requests.get(
        f"{sandbox_url}/sandbox/api/requests", params={"client_id": client_id, "path": "/oauth2/token"}, timeout=30
    ).json()
    return [(e["grant_type"], e["client_auth"], e["status"]) for e in log]
