"""Exceptions raised by the package."""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "BinaryNotFoundError",
    "SandboxAPIError",
    "SandboxConnectionError",
    "SandboxError",
    "SandboxStartError",
    "TokenError",
]


class SandboxError(Exception):
    """Base class of every error this package raises."""


class BinaryNotFoundError(SandboxError):
    """The ``payer-sandbox`` executable could not be found (see :func:`payer_sandbox.find_binary`)."""


class SandboxStartError(SandboxError):
    """The server exited, or did not print its listening line in time, while starting.

    ``log`` holds everything it printed (the reason is usually in it); ``returncode`` is its exit
    status, or ``None`` when it was still running and was stopped after the time-out.
    """

    def __init__(self, message: str, *, log: str, returncode: Optional[int]) -> None:
        super().__init__(message + (f"\n--- payer-sandbox output ---\n{log.rstrip()}" if log.strip() else ""))
        self.log = log
        self.returncode = returncode


class SandboxConnectionError(SandboxError):
    """The sandbox could not be reached (connection refused or reset: is it running?)."""


class SandboxAPIError(SandboxError):
    """An HTTP request to the sandbox was answered with an error status.

    ``error`` and ``error_description`` are the RFC 6749-style JSON members the sandbox answers
    with (``invalid_request``, ``not_found``, ``invalid_scope``, …), when the body had them.
    """

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        body: Any,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.error: Optional[str] = None
        self.error_description: Optional[str] = None
        if isinstance(body, dict):
            error = body.get("error")
            description = body.get("error_description")
            self.error = error if isinstance(error, str) else None
            self.error_description = description if isinstance(description, str) else None
        what = self.error or "error"
        if self.error_description:
            what += f": {self.error_description}"
        elif not isinstance(body, dict) and body:
            what += f": {str(body)[:500]}"
        super().__init__(f"{method} {url} -> {status} {what}")


class TokenError(SandboxAPIError):
    """The token endpoint refused an exchange or a refresh (the body is RFC 6749 §5.2 JSON)."""
