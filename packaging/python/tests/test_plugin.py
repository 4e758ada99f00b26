"""The pytest plugin, run as a user runs it: pytester writes a test project and runs pytest on
it in a subprocess (the plugin is found through its entry point, as after pip install)."""

from __future__ import annotations

import os
import re
import signal

import pytest

from payer_sandbox import find_binary

pytest_plugins = ["pytester"]
posix_only = pytest.mark.skipif(os.name == "nt", reason="POSIX process handling (os.kill, symlinks)")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def test_ini_args_configure_the_session_server(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\npayer_sandbox_args = --access-token-ttl 42 --default-scope 'patient/Patient.read'\n")
    pytester.makepyfile(
        """
        def test_flags(payer_sandbox):
            assert payer_sandbox.args == ["--access-token-ttl", "42", "--default-scope", "patient/Patient.read"]
            assert payer_sandbox.login("08-testmemid").expires_in == 42

        def test_same_server(payer_sandbox, payer_sandbox_factory):
            assert payer_sandbox_factory.started == [payer_sandbox]
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_marker_flags_add_to_the_ini_ones_or_replace_them(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\npayer_sandbox_args = --access-token-ttl 42\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.payer_sandbox("--refresh-token-ttl", "100")
        def test_added(fresh_payer_sandbox):
            assert fresh_payer_sandbox.args == ["--access-token-ttl", "42", "--refresh-token-ttl", "100"]
            assert fresh_payer_sandbox.login("08-testmemid").expires_in == 42

        @pytest.mark.payer_sandbox(args="--access-token-ttl 7", inherit_ini=False)
        def test_replaced(fresh_payer_sandbox):
            assert fresh_payer_sandbox.args == ["--access-token-ttl", "7"]
            assert fresh_payer_sandbox.login("08-testmemid").expires_in == 7

        def test_unmarked_uses_the_ini_flags(fresh_payer_sandbox, payer_sandbox):
            assert fresh_payer_sandbox.args == ["--access-token-ttl", "42"]
            assert fresh_payer_sandbox is not payer_sandbox

        @pytest.mark.payer_sandbox("--access-token-ttl", "9", inherit_ini=False)
        class TestClassMarker:
            def test_one(self, fresh_payer_sandbox):
                assert fresh_payer_sandbox.login("08-testmemid").expires_in == 9

            @pytest.mark.payer_sandbox("--access-token-ttl", "11", inherit_ini=False)
            def test_closest_marker_wins(self, fresh_payer_sandbox):
                assert fresh_payer_sandbox.login("08-testmemid").expires_in == 11
        """
    )
    run(pytester).assert_outcomes(passed=5)


def test_fresh_sandbox_is_reset_between_tests_and_the_session_one_is_not(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        seen = {}

        def test_first(fresh_payer_sandbox, payer_sandbox):
            seen["pid"] = fresh_payer_sandbox.pid
            fresh_payer_sandbox.faults.add("fhir", status=500, count=5)
            fresh_payer_sandbox.clock.advance(600)
            fresh_payer_sandbox.login("08-testmemid")
            payer_sandbox.clock.advance(300)

        def test_second(fresh_payer_sandbox, payer_sandbox):
            assert fresh_payer_sandbox.pid == seen["pid"]  # the same server, reset
            assert fresh_payer_sandbox.faults.list() == []
            assert fresh_payer_sandbox.clock.get()["offset_seconds"] == 0
            assert fresh_payer_sandbox.requests() == []
            assert payer_sandbox.clock.get()["offset_seconds"] == 300  # never reset by the plugin
        """
    )
    run(pytester).assert_outcomes(passed=2)


def test_marker_on_the_session_fixture_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.payer_sandbox("--strict")
        def test_wrong_fixture(payer_sandbox):
            pass

        def test_unmarked(payer_sandbox):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.payer_sandbox sets the flags of the fresh_payer_sandbox fixture*"])


def test_a_failing_test_shows_the_sandbox_log_since_it_began(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_passes(payer_sandbox):
            assert payer_sandbox.get("/r4/metadata").status == 200

        def test_fails(payer_sandbox):
            tokens = payer_sandbox.login("08-testmemid")
            response = payer_sandbox.fhir("Patient/someone-else", tokens)
            assert response.status == 200
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert len(re.findall(r"-+ payer-sandbox log: http://127\.0\.0\.1:\d+ -+", out)) == 1
    section = out.split("payer-sandbox log:", 1)[1]
    assert "path=/oauth2/token status=200" in section
    assert re.search(r"path=/r4/Patient/someone-else status=40[34]", section)
    # Only what the failing test caused: not the passing test's request, nor start-up.
    assert "path=/r4/metadata" not in section
    assert "listening on" not in section


@posix_only
def test_a_server_that_dies_mid_test_says_so(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import os, time

        def test_crash(payer_sandbox):
            payer_sandbox.get("/healthz")
            os.kill(payer_sandbox.pid, {int(signal.SIGKILL)})
            payer_sandbox._process.wait()
            assert payer_sandbox.get("/healthz").status == 200
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*payer-sandbox log: http://127.0.0.1:*", "*path=/healthz*", "*exited with status -9*"])


@posix_only
def test_every_server_is_stopped_at_the_end_of_the_session(pytester: pytest.Pytester) -> None:
    pids = pytester.path / "pids.txt"
    pytester.makepyfile(
        f"""
        import pytest

        def record(sandbox):
            with open({str(pids)!r}, "a") as f:
                f.write(f"{{sandbox.pid}}\\n")

        def test_session(payer_sandbox):
            record(payer_sandbox)

        @pytest.mark.payer_sandbox("--strict")
        def test_fresh(fresh_payer_sandbox):
            record(fresh_payer_sandbox)

        def test_factory(payer_sandbox_factory):
            record(payer_sandbox_factory("--access-token-ttl", "5"))
        """
    )
    run(pytester).assert_outcomes(passed=3)
    recorded = [int(line) for line in pids.read_text().split()]
    assert len(set(recorded)) == 3
    for pid in recorded:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_server_that_cannot_start_fails_its_tests_with_its_message(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\npayer_sandbox_args = --no-such-flag\n")
    pytester.makepyfile(
        """
        def test_one(payer_sandbox):
            pass

        def test_two(payer_sandbox):
            pass

        def test_without_the_sandbox():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        ["*SandboxStartError: payer-sandbox exited with status 2 before listening*", "*unexpected argument '--no-such-flag'*"]
    )


@posix_only
def test_binary_ini_option_and_the_variable_that_overrides_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = find_binary()
    (pytester.path / "bin").mkdir()
    link = pytester.path / "bin" / "my-payer-sandbox"
    link.symlink_to(real)
    pytester.makeini("[pytest]\npayer_sandbox_binary = bin/my-payer-sandbox\n")
    pytester.makepyfile(
        f"""
        def test_binary(payer_sandbox):
            assert payer_sandbox.command[0] == {str(link)!r}
        """
    )
    monkeypatch.delenv("PAYER_SANDBOX_BIN", raising=False)
    run(pytester).assert_outcomes(passed=1)

    pytester.makepyfile(
        f"""
        def test_binary(payer_sandbox):
            assert payer_sandbox.command[0] == {real!r}
        """
    )
    monkeypatch.setenv("PAYER_SANDBOX_BIN", real)
    run(pytester).assert_outcomes(passed=1)


def test_bad_settings_are_reported(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\npayer_sandbox_start_timeout = soon\n")
    pytester.makepyfile(
        """
        import pytest

        def test_timeout(payer_sandbox):
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*payer_sandbox_start_timeout must be a number of seconds, not 'soon'*"])


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    result = run(pytester, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.payer_sandbox(*flags, args=None, inherit_ini=True):*"])
    help_text = run(pytester, "--help").stdout.str()
    for option in ("payer_sandbox_args", "payer_sandbox_binary", "payer_sandbox_start_timeout"):
        assert option in help_text
    fixtures = run(pytester, "--fixtures").stdout.str()
    for fixture in ("payer_sandbox_factory [session scope]", "payer_sandbox [session scope]", "fresh_payer_sandbox"):
        assert fixture in fixtures


def test_plugin_can_be_disabled(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_x(payer_sandbox):
            pass
        """
    )
    result = run(pytester, "-p", "no:payer_sandbox")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'payer_sandbox' not found*"])


def test_the_fixture_works_from_a_users_session_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def jason(payer_sandbox):
            return payer_sandbox.login("08-testmemid")
        """
    )
    pytester.makepyfile(
        """
        def test_one(payer_sandbox, jason):
            assert payer_sandbox.fhir("Patient/jason-argonaut", jason).status == 200

        def test_two(payer_sandbox, jason, fresh_payer_sandbox):
            # Resetting the fresh server does not touch the session's tokens.
            assert payer_sandbox.fhir("Patient/jason-argonaut", jason).status == 200
        """
    )
    run(pytester).assert_outcomes(passed=2)
