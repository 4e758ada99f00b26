"""The shapes of what the sandbox's control API answers, as TypedDicts.

They describe the JSON documented in payer-sandbox's docs/sandbox-tools.md. The values are the
parsed JSON itself (plain dicts and lists), so a field a later server adds is there too, just
not in the type.
"""

from __future__ import annotations

from typing import Any, Dict, List, Literal, Optional, TypedDict

__all__ = [
    "ClockState",
    "Fault",
    "FaultTarget",
    "Member",
    "Plan",
    "Report",
    "ReportCheck",
    "RequestLogEntry",
    "Representative",
]

FaultTarget = Literal[
    "token", "authorize", "register", "introspect", "revoke", "userinfo", "discovery", "fhir", "any"
]
"""Where a fault fires: an OAuth endpoint, discovery, the FHIR API (``/r4``) or anywhere."""


class Member(TypedDict):
    """A test member of the loaded data (``GET /sandbox/api/members``)."""

    member_id: str
    patient_id: str
    given: str
    family: str
    birth_date: Optional[str]
    postal_code: str


class Representative(TypedDict):
    """A personal representative of a minor member (``GET /sandbox/api/representatives``)."""

    related_person_id: str
    given: str
    family: str
    relationship: str
    relationship_display: str
    member_id: str
    patient_id: str
    member_is_minor: bool


class Plan(TypedDict):
    """A plan of the network (``GET /sandbox/api/plans``), the default first."""

    id: str
    aliases: List[str]
    name: str
    default: bool
    issuer: str
    fhir_base: str
    authorize: str
    smart_configuration: str
    access_token_lifetime: int
    profile: Dict[str, Any]
    members: List[Member]


class ClockState(TypedDict):
    """The sandbox clock: ``now`` (RFC 3339) and how far it is ahead of the wall clock."""

    now: str
    offset_seconds: int


class _FaultRequired(TypedDict):
    id: int
    target: FaultTarget
    count: int
    remaining: int


class Fault(_FaultRequired, total=False):
    """An injected fault as the server answers it (``POST``/``GET /sandbox/api/faults``).

    Only the fields the fault was made with are present besides ``id``, ``target``, ``count``
    and ``remaining``.
    """

    path: str
    method: str
    client_id: str
    plan: str
    error: str
    error_description: str
    status: int
    retry_after: int
    delay_ms: int
    delay_after_ms: int
    id_token: str


class _RequestLogEntryRequired(TypedDict):
    seq: int
    time: str
    method: str
    path: str
    query: str
    client_id: Optional[str]
    status: int
    duration_ms: int


class RequestLogEntry(_RequestLogEntryRequired, total=False):
    """One request the sandbox answered (``GET /sandbox/api/requests``), secrets redacted.

    The optional fields are present only when they apply.
    """

    plan: str
    grant_type: str
    client_auth: str
    retry_after: int
    fault: int
    id_token_flaw: str
    followed_next: bool
    client_gone: bool


class _ReportCheckRequired(TypedDict):
    status: Literal["met", "not_met", "not_applicable"]
    expectation: str
    detail: str


class ReportCheck(_ReportCheckRequired, total=False):
    """One check of the report; ``offending`` lists the ``seq`` of each request that broke it."""

    offending: List[int]


class Report(TypedDict):
    """What a client did and how it measures up (``GET /sandbox/api/report``).

    ``checks`` maps each check's name (``discovery``, ``patient_read``, ``eob_search``,
    ``token_refresh``, ``handles_401``, ``handles_429``, …) to its :class:`ReportCheck`.
    """

    client_id: Optional[str]
    requests: int
    first: Optional[str]
    last: Optional[str]
    oauth: Dict[str, int]
    fhir: Dict[str, Any]
    error_handling: Dict[str, Dict[str, int]]
    checks: Dict[str, ReportCheck]
