"""Sandbox, the process runner, outside the fixtures: start, output, stop, failures, lookup."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import payer_sandbox
from payer_sandbox import (
    BinaryNotFoundError,
    Sandbox,
    SandboxError,
    SandboxStartError,
    find_binary,
    running_sandboxes,
)

posix_only = pytest.mark.skipif(os.name == "nt", reason="uses a POSIX shell script as a fake server")


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would end the process there
        return pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_context_manager_starts_and_stops_the_server() -> None:
    with Sandbox(["--access-token-ttl", "120"]) as sb:
        assert sb.running and sb.pid is not None and _alive(sb.pid)
        assert sb.base_url.startswith("http://127.0.0.1:")
        assert not sb.base_url.endswith(":0")
        assert sb.command[1:3] == ["--listen", "127.0.0.1:0"]
        assert sb.startup_seconds is not None and 0 < sb.startup_seconds < 30
        assert sb in running_sandboxes()
        assert sb.login("08-testmemid").expires_in == 120
        assert sb.log.splitlines()[0] == f"payer-sandbox listening on {sb.base_url}"
        pid = sb.pid
    assert not sb.running
    if os.name != "nt":
        assert sb.returncode == 0  # SIGTERM is a graceful shutdown
    if os.name != "nt":
        assert not _alive(pid)
    assert sb not in running_sandboxes()
    assert sb.stop() == sb.returncode  # idempotent


def test_the_log_has_no_colours_and_its_lines_are_placed_by_the_servers_time() -> None:
    with Sandbox() as sb:
        before = time.time()
        sb.get("/r4/metadata")
        sb.get("/healthz")
        sb.wait_for_quiet()  # the access log lines are written after the responses
        since = sb.log_since(before)
        assert "path=/r4/metadata status=200" in since
        assert "path=/healthz" in since
        assert "listening" not in since
        assert "\x1b[" not in sb.log
        assert sb.log_since(time.time()) == ""
        assert sb.log_since(0).splitlines() == sb.log.splitlines()


def test_log_times_come_from_the_lines_stamps() -> None:
    from payer_sandbox.sandbox import _stamp

    assert _stamp("2026-11-30T09:33:05.590888Z  INFO payer_sandbox::access: request") == pytest.approx(1796031185.590888, abs=1e-6)
    assert _stamp('{"timestamp":"2026-11-30T09:33:05Z","level":"INFO"}') == 1796031185.0
    assert _stamp("payer-sandbox listening on http://127.0.0.1:1") is None


def test_an_explicit_listen_replaces_the_default() -> None:
    with Sandbox(["--listen", "127.0.0.1:0"]) as sb:
        assert sb.command.count("--listen") == 1
        assert sb.get("/healthz").status == 200


def test_a_refused_flag_is_a_start_error_with_the_servers_message() -> None:
    sb = Sandbox(["--access-token-ttl", "0"])
    with pytest.raises(SandboxStartError) as info:
        sb.start()
    assert info.value.returncode == 2
    assert "--access-token-ttl" in info.value.log
    assert "exited with status 2 before listening" in str(info.value)
    assert not sb.running
    with pytest.raises(SandboxError, match="not running"):
        _ = sb.base_url


def test_env_sets_and_removes_variables() -> None:
    # The server reads PAYER_SANDBOX_<FLAG> variables as flags.
    with Sandbox(env={"PAYER_SANDBOX_ACCESS_TOKEN_TTL": "77"}) as sb:
        assert sb.login("08-testmemid").expires_in == 77
    os.environ["PAYER_SANDBOX_ACCESS_TOKEN_TTL"] = "78"
    try:
        with Sandbox(env={"PAYER_SANDBOX_ACCESS_TOKEN_TTL": None}) as sb:
            assert sb.login("08-testmemid").expires_in == 3600
    finally:
        del os.environ["PAYER_SANDBOX_ACCESS_TOKEN_TTL"]


def _fake_server(tmp_path: Path, script: str) -> str:
    path = tmp_path / "fake-payer-sandbox"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@posix_only
def test_start_times_out_without_a_listening_line(tmp_path: Path) -> None:
    fake = _fake_server(tmp_path, 'echo "starting, slowly"\nexec sleep 60\n')
    sb = Sandbox(binary=fake, start_timeout=0.5)
    with pytest.raises(SandboxStartError) as info:
        sb.start()
    assert info.value.returncode is None
    assert "no listening line within 0.5 s" in str(info.value)
    assert "starting, slowly" in info.value.log
    assert not sb.running


@posix_only
def test_stop_kills_a_server_that_ignores_sigterm(tmp_path: Path) -> None:
    fake = _fake_server(
        tmp_path,
        "trap '' TERM\n"
        'echo "payer-sandbox listening on http://127.0.0.1:9"\n'
        "while :; do sleep 0.1; done\n",
    )
    sb = Sandbox(binary=fake).start()
    assert sb.base_url == "http://127.0.0.1:9"
    assert sb.stop(timeout=0.5) == -9
    assert not sb.running


def test_find_binary_prefers_the_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = find_binary()
    monkeypatch.setenv("PAYER_SANDBOX_BIN", real)
    assert find_binary() == os.path.abspath(real)
    monkeypatch.setenv("PAYER_SANDBOX_BIN", str(tmp_path / "missing"))
    with pytest.raises(BinaryNotFoundError, match="PAYER_SANDBOX_BIN names .* not a file"):
        find_binary()
    # An explicit argument wins over the variable.
    assert find_binary(real) == os.path.abspath(real)
    with pytest.raises(BinaryNotFoundError, match="not a file"):
        Sandbox().start()


def test_find_binary_without_any_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import payer_sandbox._binary as binary_module

    monkeypatch.delenv("PAYER_SANDBOX_BIN", raising=False)
    monkeypatch.setattr(binary_module, "_script_dirs", lambda: [str(tmp_path)])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BinaryNotFoundError, match="pip install payer-sandbox"):
        find_binary()


def test_python_m_runs_the_binary() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "payer_sandbox", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"payer-sandbox {payer_sandbox.__version__}"
