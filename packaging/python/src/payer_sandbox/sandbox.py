"""Running the payer-sandbox binary as a child process."""

from __future__ import annotations

import atexit
import collections
import itertools
import os
import re
import subprocess
import threading
import time
import weakref
from datetime import datetime, timezone
from types import TracebackType
from typing import IO, Deque, Dict, List, Mapping, Optional, Sequence, Tuple, Type

from ._binary import find_binary
from .client import SandboxClient
from .errors import SandboxStartError

__all__ = ["LISTENING_PREFIX", "Sandbox", "running_sandboxes"]

LISTENING_PREFIX = "payer-sandbox listening on "
"""The start of the one line the server prints on stdout once it accepts connections; the rest of
the line is its public URL."""

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z")


def _stamp(line: str) -> Optional[float]:
    """The epoch time of the RFC 3339 UTC time near the start of a log line, if it has one."""
    match = _STAMP.search(line, 0, 64)
    if match is None:
        return None
    try:
        whole = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None
    return whole.timestamp() + float("0." + (match.group(2) or "0"))
_order = itertools.count()
_live: "weakref.WeakSet[Sandbox]" = weakref.WeakSet()


def running_sandboxes(*, include_exited: bool = False) -> List[Sandbox]:
    """Every :class:`Sandbox` of this process that is running, in the order they were started.

    ``include_exited`` adds those whose process exited by itself (a crash) and that nobody has
    :meth:`~Sandbox.stop`-ped yet.
    """
    return sorted((s for s in list(_live) if include_exited or s.running), key=lambda s: s._order)


@atexit.register
def _stop_all_at_exit() -> None:
    for sandbox in running_sandboxes():
        sandbox.stop(timeout=2.0)


class Sandbox(SandboxClient):
    """A payer-sandbox server run as a child process, and a :class:`SandboxClient` for it.

    ::

        with Sandbox(["--access-token-ttl", "60"]) as sb:
            tokens = sb.login("08-testmemid")
            assert sb.fhir("Patient/" + tokens.patient, tokens).status == 200

    :meth:`start` runs ``payer-sandbox --listen 127.0.0.1:0 ARGS…`` (port 0: a free port; an
    ``args`` with its own ``--listen`` replaces it), reads its output until the
    ``payer-sandbox listening on URL`` line and takes ``URL`` as :attr:`base_url`. A thread keeps
    reading the output (stdout and stderr together) into :attr:`log`, so the pipe never fills.
    :meth:`stop` sends SIGTERM (the server finishes the requests in flight and exits 0) and kills
    it after ``timeout``.

    - ``binary``: the executable; by default :func:`payer_sandbox.find_binary`'s choice.
    - ``env``: variables added to (or, with a ``None`` value, removed from) the inherited
      environment. The server reads ``PAYER_SANDBOX_<FLAG>`` variables as flags; ``NO_COLOR=1``
      is set unless given, so the log has no terminal colours.
    - ``start_timeout``: seconds to wait for the listening line.
    - ``max_log_lines``: the newest lines of output kept in :attr:`log`.
    """

    def __init__(
        self,
        args: Sequence[str] = (),
        *,
        binary: Optional[str] = None,
        env: Optional[Mapping[str, Optional[str]]] = None,
        host: str = "127.0.0.1",
        start_timeout: float = 30.0,
        timeout: float = 75.0,
        max_log_lines: int = 50_000,
    ) -> None:
        super().__init__(None, timeout=timeout)
        if isinstance(args, str):
            raise TypeError("args is a sequence of arguments, not one string")
        self.args: List[str] = [str(a) for a in args]
        self.binary: Optional[str] = binary
        self.env: Dict[str, Optional[str]] = dict(env or {})
        self.host = host
        self.start_timeout = start_timeout
        self.startup_seconds: Optional[float] = None
        """How long the last :meth:`start` took, from launching the process to its listening
        line."""
        self.command: List[str] = []
        """The command line of the last :meth:`start`."""
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._reader: Optional[threading.Thread] = None
        self._lines: Deque[Tuple[float, str]] = collections.deque(maxlen=max_log_lines)
        self._last_output = 0.0
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._listened_at = 0.0
        self._order = next(_order)

    def __repr__(self) -> str:
        state = f"running at {self._base_url}" if self.running else "stopped"
        return f"Sandbox({self.args!r}, {state})"

    # ---- the process --------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """``True`` while the process has been started and has not exited."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> Optional[int]:
        """The process id of the last start, or ``None`` before the first."""
        return self._process.pid if self._process is not None else None

    @property
    def returncode(self) -> Optional[int]:
        """The exit status once the process has exited, else ``None``."""
        return self._process.poll() if self._process is not None else None

    def start(self) -> Sandbox:
        """Start the server and wait until it listens; return ``self``.

        Raises :class:`SandboxStartError` (with the server's output) when it exits first or
        says nothing within ``start_timeout``, and :class:`BinaryNotFoundError` when there is no
        binary to run.
        """
        if self.running:
            return self
        path = find_binary(self.binary)
        command = [path]
        if not any(a == "--listen" or a.startswith("--listen=") for a in self.args):
            command += ["--listen", f"{self.host}:0"]
        command += self.args
        env = dict(os.environ)
        env.setdefault("NO_COLOR", "1")
        for key, value in self.env.items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        with self._lock:
            self._lines.clear()
        self._listening.clear()
        self._base_url = None
        self._plans = None  # another start may have other plans (--plans)
        self.command = command
        self.startup_seconds = None
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self._process = process
        _live.add(self)
        assert process.stdout is not None
        self._reader = threading.Thread(
            target=self._read, args=(process.stdout,), name=f"payer-sandbox-{process.pid}-output", daemon=True
        )
        self._reader.start()

        deadline = started + self.start_timeout
        while not self._listening.wait(timeout=max(0.0, min(0.05, deadline - time.perf_counter()))):
            if process.poll() is not None or not self._reader.is_alive():
                break
            if time.perf_counter() >= deadline:
                break
        if self._base_url is not None:
            self.startup_seconds = self._listened_at - started
            return self
        if process.poll() is None and time.perf_counter() >= deadline:
            self.stop(timeout=5.0)
            raise SandboxStartError(
                f"payer-sandbox printed no listening line within {self.start_timeout:g} s: {' '.join(command)}",
                log=self.log,
                returncode=None,
            )
        returncode = process.wait(timeout=10)
        self._reader.join(timeout=5)
        _live.discard(self)  # the error carries the log; no failure report needs it again
        raise SandboxStartError(
            f"payer-sandbox exited with status {returncode} before listening: {' '.join(command)}",
            log=self.log,
            returncode=returncode,
        )

    def _read(self, stream: IO[bytes]) -> None:
        try:
            for raw in iter(stream.readline, b""):
                line = _ANSI.sub("", raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                with self._lock:
                    # A line's time is the one the server stamped on it (its log lines start
                    # with an RFC 3339 time, also in --log-format json), else when it was read.
                    # Reading lags behind writing, so it is the stamp that places a line.
                    stamp = _stamp(line)
                    if stamp is None:
                        stamp = self._lines[-1][0] if self._lines else time.time()
                    self._lines.append((stamp, line))
                    self._last_output = time.perf_counter()
                if self._base_url is None and line.startswith(LISTENING_PREFIX):
                    self._listened_at = time.perf_counter()
                    self._base_url = line[len(LISTENING_PREFIX):].strip().rstrip("/")
                    self._listening.set()
        finally:
            stream.close()

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """Stop the server: SIGTERM (on Windows, TerminateProcess), then kill after ``timeout``
        seconds. Return its exit status (``None`` if it was never started). Idempotent."""
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._reader is not None:
            self._reader.join(timeout=5)
        _live.discard(self)
        return process.returncode

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    # ---- its output ---------------------------------------------------------------------------

    @property
    def log(self) -> str:
        """What the server printed (stdout and stderr, colours removed), the newest
        ``max_log_lines`` lines."""
        with self._lock:
            return "\n".join(line for _, line in self._lines)

    def log_since(self, when: float) -> str:
        """The lines of :attr:`log` stamped at or after ``when`` (a :func:`time.time` value).

        The server stamps each log line with the wall-clock time of the event (the sandbox
        clock's offset does not apply), so these are the lines of what happened since then, even
        if some were still in the pipe at that moment. Call :meth:`wait_for_quiet` first to
        have the latest lines read.
        """
        with self._lock:
            return "\n".join(line for stamp, line in self._lines if stamp >= when)

    def wait_for_quiet(self, quiet: float = 0.05, limit: float = 0.5) -> None:
        """Wait until the server has printed nothing for ``quiet`` seconds (at most ``limit``
        seconds in all), so that the lines of requests just answered have been read."""
        deadline = time.perf_counter() + limit
        while self.running:
            idle = time.perf_counter() - self._last_output
            if idle >= quiet or time.perf_counter() >= deadline:
                return
            time.sleep(min(quiet - idle, max(0.0, deadline - time.perf_counter())))
        if self._reader is not None:
            self._reader.join(timeout=max(0.0, deadline - time.perf_counter()))
