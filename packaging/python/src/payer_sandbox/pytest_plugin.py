"""The pytest plugin: fixtures that start payer-sandbox and hand the test a ready client.

Registered through the ``pytest11`` entry point, so installing the package is enough.

Fixtures
    ``payer_sandbox`` (session)
        One server for the whole session, started with the ``payer_sandbox_args`` ini option's
        flags on a free port. Never reset by the plugin: call ``payer_sandbox.reset()`` where a
        test needs a clean sandbox.
    ``fresh_payer_sandbox`` (function)
        A server with the flags of the test's ``@pytest.mark.payer_sandbox(...)`` marker
        (added to the ini's), reset before the test. Every test with the same flags shares one
        server, started when the first of them needs it and stopped at the end of the session;
        it is never the ``payer_sandbox`` one, so resetting it cannot end the tokens a
        session-scoped fixture holds.
    ``payer_sandbox_factory`` (session)
        ``payer_sandbox_factory("--strict", ...)`` starts another server and returns it; each is
        stopped at the end of the session.

ini options
    ``payer_sandbox_args``: flags for every server (shell-like: ``--access-token-ttl 60 --strict``).
    ``payer_sandbox_binary``: the executable (relative paths from the ini file's directory); the
    ``PAYER_SANDBOX_BIN`` environment variable wins over it.
    ``payer_sandbox_start_timeout``: seconds to wait for the listening line (default 30).

When a test fails, the report shows what each server printed while it ran (its request log
lines, warnings), as a "payer-sandbox log" section.
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Any, Dict, Generator, Iterator, List, Mapping, Optional, Sequence, Tuple

import pytest

from ._binary import BINARY_ENV
from .sandbox import Sandbox, running_sandboxes

__all__ = ["SandboxFactory"]

MARKER = "payer_sandbox"
_STARTED = pytest.StashKey[float]()


class SandboxFactory:
    """Starts payer-sandbox servers for a pytest session and stops them all at its end.

    Call it with flags, added after the ``payer_sandbox_args`` ini option's unless
    ``inherit_ini=False``: ``payer_sandbox_factory("--access-token-ttl", "60")``.
    """

    def __init__(self, *, ini_args: Sequence[str], binary: Optional[str], start_timeout: float) -> None:
        self.ini_args: List[str] = list(ini_args)
        self.binary = binary
        self.start_timeout = start_timeout
        self._started: List[Sandbox] = []
        self._shared: Dict[Tuple[str, ...], Sandbox] = {}

    def _flags(self, args: Sequence[str], inherit_ini: bool) -> List[str]:
        return (list(self.ini_args) if inherit_ini else []) + [str(a) for a in args]

    def __call__(
        self,
        *args: str,
        inherit_ini: bool = True,
        env: Optional[Mapping[str, Optional[str]]] = None,
    ) -> Sandbox:
        """Start a new server with these flags and return it, listening."""
        sandbox = Sandbox(
            self._flags(args, inherit_ini), binary=self.binary, env=env, start_timeout=self.start_timeout
        )
        self._started.append(sandbox)
        return sandbox.start()

    def shared(self, args: Sequence[str] = (), *, inherit_ini: bool = True) -> Sandbox:
        """The session's shared server for these flags (``fresh_payer_sandbox``'s), started on
        first use, or again if it has exited."""
        key = tuple(self._flags(args, inherit_ini))
        sandbox = self._shared.get(key)
        if sandbox is None or not sandbox.running:
            sandbox = self(*key, inherit_ini=False)
            self._shared[key] = sandbox
        return sandbox

    @property
    def started(self) -> List[Sandbox]:
        """Every server this factory started, in order."""
        return list(self._started)

    def stop_all(self) -> None:
        """Stop every server this factory started."""
        for sandbox in reversed(self._started):
            sandbox.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "payer_sandbox_args",
        type="args",
        default=[],
        help="payer-sandbox: flags for every server the fixtures start (shell-like quoting)",
    )
    parser.addini(
        "payer_sandbox_binary",
        default="",
        help=f"payer-sandbox: the executable to run (the {BINARY_ENV} environment variable wins)",
    )
    parser.addini(
        "payer_sandbox_start_timeout",
        default="30",
        help="payer-sandbox: seconds to wait for a server's listening line (default 30)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*flags, args=None, inherit_ini=True): the payer-sandbox flags of the "
        "fresh_payer_sandbox fixture for this test, added after the payer_sandbox_args ini "
        "option's (inherit_ini=False: instead of them)",
    )


def _settings(config: pytest.Config) -> Tuple[List[str], Optional[str], float]:
    ini_args = [str(a) for a in config.getini("payer_sandbox_args")]
    binary: Optional[str] = os.environ.get(BINARY_ENV) or str(config.getini("payer_sandbox_binary")).strip() or None
    if binary and not os.environ.get(BINARY_ENV) and not os.path.isabs(binary):
        base = config.inipath.parent if config.inipath else config.rootpath
        binary = str(Path(base) / binary)
    raw_timeout = str(config.getini("payer_sandbox_start_timeout")).strip()
    try:
        start_timeout = float(raw_timeout)
    except ValueError:
        raise pytest.UsageError(f"payer_sandbox_start_timeout must be a number of seconds, not {raw_timeout!r}")
    return ini_args, binary, start_timeout


def _marker_flags(marker: Optional[pytest.Mark]) -> Tuple[List[str], bool]:
    if marker is None:
        return [], True
    unknown = set(marker.kwargs) - {"args", "inherit_ini"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: unknown argument(s) {', '.join(sorted(unknown))}")
    flags: List[str] = []
    for arg in marker.args:
        if isinstance(arg, (list, tuple)):
            flags.extend(str(a) for a in arg)
        else:
            flags.append(str(arg))
    extra: Any = marker.kwargs.get("args")
    if isinstance(extra, str):
        flags.extend(shlex.split(extra))
    elif extra is not None:
        flags.extend(str(a) for a in extra)
    return flags, bool(marker.kwargs.get("inherit_ini", True))


@pytest.fixture(scope="session")
def payer_sandbox_factory(pytestconfig: pytest.Config) -> Iterator[SandboxFactory]:
    """Start more payer-sandbox servers: ``payer_sandbox_factory("--strict")`` returns a
    running :class:`~payer_sandbox.Sandbox`; all of them are stopped at the end of the
    session."""
    ini_args, binary, start_timeout = _settings(pytestconfig)
    factory = SandboxFactory(ini_args=ini_args, binary=binary, start_timeout=start_timeout)
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="session")
def payer_sandbox(payer_sandbox_factory: SandboxFactory) -> Sandbox:
    """The session's payer-sandbox, running with the ``payer_sandbox_args`` ini flags: a
    :class:`~payer_sandbox.Sandbox` (a :class:`~payer_sandbox.SandboxClient` with ``members``,
    ``login()``, ``fhir()``, ``clock``, ``faults``, ``requests()``, ``report()``, ``reset()``).
    It is not reset between tests."""
    return payer_sandbox_factory()


@pytest.fixture
def fresh_payer_sandbox(request: pytest.FixtureRequest, payer_sandbox_factory: SandboxFactory) -> Sandbox:
    """A payer-sandbox with the flags of the test's ``@pytest.mark.payer_sandbox(...)``,
    reset before the test (shared by the session's tests with the same flags)."""
    flags, inherit_ini = _marker_flags(request.node.get_closest_marker(MARKER))
    sandbox = payer_sandbox_factory.shared(flags, inherit_ini=inherit_ini)
    sandbox.reset()
    return sandbox


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED] = time.time()
    fixtures = getattr(item, "fixturenames", ())
    if item.get_closest_marker(MARKER) is not None and "payer_sandbox" in fixtures and "fresh_payer_sandbox" not in fixtures:
        pytest.fail(
            f"@pytest.mark.{MARKER} sets the flags of the fresh_payer_sandbox fixture, but this test "
            "uses payer_sandbox, the session's server, whose flags come from the payer_sandbox_args "
            "ini option only: use fresh_payer_sandbox",
            pytrace=False,
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.failed:
        return
    started = item.stash.get(_STARTED, 0.0)
    funcargs = getattr(item, "funcargs", None) or {}
    used = {id(v) for v in funcargs.values() if isinstance(v, Sandbox)}
    for sandbox in running_sandboxes(include_exited=True):
        sandbox.wait_for_quiet()
        text = sandbox.log_since(started)
        if not text and id(sandbox) not in used:
            continue
        if not text:
            text = "(nothing printed since the test began)"
        if not sandbox.running:
            text += f"\n(payer-sandbox exited with status {sandbox.returncode})"
        where = sandbox._base_url or "not listening"
        flags = " ".join(sandbox.args)
        report.sections.append((f"payer-sandbox log: {where}" + (f" [{flags}]" if flags else ""), text))
