"""payer-sandbox for Python: the server's binary, a client for it, and a pytest plugin.

``pip install payer-sandbox`` puts the ``payer-sandbox`` executable on the environment's PATH.
This package runs it (:class:`Sandbox`), talks to it (:class:`SandboxClient`) and gives pytest
the ``payer_sandbox`` fixture (see :mod:`payer_sandbox.pytest_plugin`)::

    from payer_sandbox import Sandbox

    with Sandbox() as sb:
        tokens = sb.login("08-testmemid")
        patient = sb.fhir(f"Patient/{tokens.patient}", tokens).json()
"""

from __future__ import annotations

from ._binary import BINARY_ENV, binary_name, find_binary
from .client import (
    DEFAULT_SCOPE,
    SANDBOX_APP,
    SANDBOX_PUBLIC_APP,
    App,
    Clock,
    Faults,
    Response,
    SandboxClient,
    Tokens,
)
from .errors import (
    BinaryNotFoundError,
    SandboxAPIError,
    SandboxConnectionError,
    SandboxError,
    SandboxStartError,
    TokenError,
)
from .sandbox import LISTENING_PREFIX, Sandbox, running_sandboxes
from .types import (
    ClockState,
    Fault,
    FaultTarget,
    Member,
    Plan,
    Report,
    ReportCheck,
    RequestLogEntry,
    Representative,
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("payer-sandbox")
    except PackageNotFoundError:  # imported from a source tree
        return "0+unknown"


__version__ = _version()
"""The package's version, which is the server's: both come from the repository's Cargo.toml."""

__all__ = [
    "BINARY_ENV",
    "DEFAULT_SCOPE",
    "LISTENING_PREFIX",
    "SANDBOX_APP",
    "SANDBOX_PUBLIC_APP",
    "App",
    "BinaryNotFoundError",
    "Clock",
    "ClockState",
    "Fault",
    "FaultTarget",
    "Faults",
    "Member",
    "Plan",
    "Report",
    "ReportCheck",
    "RequestLogEntry",
    "Representative",
    "Response",
    "Sandbox",
    "SandboxAPIError",
    "SandboxClient",
    "SandboxConnectionError",
    "SandboxError",
    "SandboxStartError",
    "Tokens",
    "TokenError",
    "__version__",
    "binary_name",
    "find_binary",
    "running_sandboxes",
]
