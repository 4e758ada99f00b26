"""The embedded data (seed-data/), read independently of the server, and what of it the Patient
Access API serves at an instant: a prior authorization (an ExplanationOfBenefit with `use`
preauthorization) last changed more than a year before then has dropped out (docs/data.md)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED_DATA = Path(__file__).resolve().parents[3] / "seed-data"

# The server's PRIOR_AUTH_RETENTION_DAYS.
PRIOR_AUTH_RETENTION = timedelta(days=365)


def instant(text: str) -> datetime:
    """A FHIR instant (`…Z` or with an offset) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_prior_authorization(resource: dict) -> bool:
    return resource.get("resourceType") == "ExplanationOfBenefit" and resource.get("use") == "preauthorization"


def retired(resource: dict, now: datetime) -> bool:
    """Whether the resource has dropped out of the API at `now`: a prior authorization whose
    `meta.lastUpdated` is more than a year before."""
    last_updated = resource.get("meta", {}).get("lastUpdated")
    return (
        is_prior_authorization(resource)
        and last_updated is not None
        and instant(last_updated) < now - PRIOR_AUTH_RETENTION
    )


def served(file_name: str, resource_type: str, now: datetime | None = None) -> list[dict]:
    """The resources of one type in a seed file that the API serves at `now` (the wall clock,
    which the server runs on unless the sandbox clock is moved)."""
    now = now or datetime.now(timezone.utc)
    entries = json.loads((SEED_DATA / file_name).read_text())["entry"]
    return [
        e["resource"]
        for e in entries
        if e["resource"]["resourceType"] == resource_type and not retired(e["resource"], now)
    ]
