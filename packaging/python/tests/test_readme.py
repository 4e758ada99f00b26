"""The README's Python examples run as written (the Testcontainers one where Docker can)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> List[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def block_with(text: str) -> str:
    found = [b for b in python_blocks() if text in b]
    assert len(found) == 1, f"{len(found)} README blocks contain {text!r}"
    return found[0]


# The README's third test drives "the client under test"; this stand-in is one: it logs in,
# searches claims, and retries a 429 once Retry-After has passed (on the wall clock, which the
# sandbox clock follows).
CLIENT_UNDER_TEST = '''
import json, time, urllib.error, urllib.parse, urllib.request

def run_my_client(fhir_base, token_url):
    root = fhir_base.rsplit("/r4", 1)[0]
    def call(request):
        try:
            with urllib.request.urlopen(request) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()
    body = json.dumps({"client_id": "sandbox-app", "member_id": "08-testmemid"}).encode()
    _, _, answer = call(urllib.request.Request(root + "/sandbox/api/authorize", data=body))
    form = urllib.parse.urlencode({"grant_type": "authorization_code", "code": json.loads(answer)["code"],
                                   "client_id": "sandbox-app", "client_secret": "sandbox-secret"}).encode()
    _, _, answer = call(urllib.request.Request(token_url, data=form))
    token = json.loads(answer)["access_token"]
    search = fhir_base + "/ExplanationOfBenefit?patient=jason-argonaut"
    while True:
        status, headers, _ = call(urllib.request.Request(search, headers={"Authorization": "Bearer " + token}))
        if status != 429:
            return status
        time.sleep(int(headers.get("Retry-After", "1")) + 0.1)
'''


def test_the_pytest_examples_pass(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_readme_fixtures=CLIENT_UNDER_TEST + block_with("def test_reads_the_members_claims"),
        test_readme_marker=block_with('@pytest.mark.payer_sandbox("--strict")'),
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=5)


def test_the_context_manager_example_runs(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(block_with("with Sandbox("))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+ started in \d+ ms", lines[0])
    assert re.fullmatch(r"\d+ claims", lines[1]) and int(lines[1].split()[0]) > 100


def test_the_testcontainers_recipe(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    source = block_with("LogMessageWaitStrategy")
    compile(source, "README.md", "exec")  # at least, it is Python
    pytest.importorskip("testcontainers", reason="testcontainers is not installed")
    # What the recipe uses exists in the pinned testcontainers.
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    for method in ("with_bind_ports", "with_env", "waiting_for", "get_container_host_ip"):
        assert callable(getattr(DockerContainer, method))
    assert callable(LogMessageWaitStrategy(r"^payer-sandbox listening on ").with_startup_timeout)

    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True).returncode != 0:
        pytest.skip("no container engine answers here: the recipe was only compiled")
    name = os.environ.get("PAYER_SANDBOX_IMAGE", "payer-sandbox")  # the recipe's image
    if subprocess.run([docker, "image", "inspect", name], capture_output=True).returncode != 0:
        pytest.skip(
            f"no {name} image (docker build -f docker/Dockerfile -t payer-sandbox .; or"
            " packaging/testcontainers/run.sh ROOTFS, which builds it and runs this test)"
        )
    # Ryuk, testcontainers' reaper, is an image of its own from Docker Hub; the recipe's
    # `with` removes the container anyway.
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", os.environ.get("TESTCONTAINERS_RYUK_DISABLED", "true"))
    pytester.makeconftest(source.split("\n\ndef test_", 1)[0])
    pytester.makepyfile("def test_" + source.split("\n\ndef test_", 1)[1])
    pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=180).assert_outcomes(passed=1)
