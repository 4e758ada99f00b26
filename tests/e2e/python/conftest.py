"""Shared fixtures: the running sandbox (its URL comes from run.sh) and its test members."""

from __future__ import annotations

import os

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
