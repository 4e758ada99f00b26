"""What pip installed: the package from the environment, the binary as its script, on PATH.

The checks of where things are run when PAYER_SANDBOX_EXPECT_INSTALLED=1 (test.sh sets it);
the wheel's own checks when PAYER_SANDBOX_WHEEL names it.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sysconfig
import zipfile
from pathlib import Path

import pytest

import payer_sandbox
from payer_sandbox import binary_name, find_binary

installed = pytest.mark.skipif(
    os.environ.get("PAYER_SANDBOX_EXPECT_INSTALLED") != "1", reason="PAYER_SANDBOX_EXPECT_INSTALLED is not 1"
)
WHEEL = os.environ.get("PAYER_SANDBOX_WHEEL")
with_wheel = pytest.mark.skipif(not WHEEL, reason="PAYER_SANDBOX_WHEEL names no wheel")
REPO = Path(__file__).resolve().parents[3]


def cargo_version() -> str:
    text = (REPO / "Cargo.toml").read_text()
    match = re.search(r'(?m)^version = "([^"]+)"', text)
    assert match, "no version in Cargo.toml"
    return match.group(1)


@installed
def test_the_package_comes_from_the_environment() -> None:
    package_dir = Path(payer_sandbox.__file__).resolve().parent
    assert package_dir.parent == Path(sysconfig.get_path("platlib")).resolve()
    assert (package_dir / "py.typed").is_file()
    assert payer_sandbox.__version__ == cargo_version()


@installed
def test_the_binary_is_the_environments_script_and_on_path() -> None:
    expected = Path(sysconfig.get_path("scripts")) / binary_name()
    assert os.environ.get("PAYER_SANDBOX_BIN") is None
    assert Path(find_binary()) == expected
    assert os.access(expected, os.X_OK)
    on_path = shutil.which("payer-sandbox")
    assert on_path and Path(on_path).resolve() == expected.resolve()
    out = subprocess.run(["payer-sandbox", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"payer-sandbox {cargo_version()}"


@installed
def test_the_plugin_is_registered_by_its_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("payer_sandbox")
    assert plugin is not None and plugin.__name__ == "payer_sandbox.pytest_plugin"


@with_wheel
def test_the_wheel_is_a_platform_wheel_with_the_binary_as_a_script() -> None:
    assert WHEEL
    name = Path(WHEEL).name
    version = cargo_version()
    match = re.fullmatch(rf"payer_sandbox-{re.escape(version)}-py3-none-([a-z0-9_.]+)\.whl", name)
    assert match, name
    platforms = match.group(1).split(".")
    with zipfile.ZipFile(WHEEL) as wheel:
        names = wheel.namelist()
        meta = wheel.read(f"payer_sandbox-{version}.dist-info/WHEEL").decode()
        metadata = wheel.read(f"payer_sandbox-{version}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"payer_sandbox-{version}.dist-info/entry_points.txt").decode()
        script = "payer-sandbox.exe" if platforms[0].startswith("win") else "payer-sandbox"
        info = wheel.getinfo(f"payer_sandbox-{version}.data/scripts/{script}")
        record = wheel.read(f"payer_sandbox-{version}.dist-info/RECORD").decode()
    assert "Root-Is-Purelib: false" in meta
    assert sorted(re.findall(r"(?m)^Tag: (.+)$", meta)) == sorted(f"py3-none-{p}" for p in platforms)
    assert f"\nVersion: {version}\n" in metadata
    assert "Requires-Python: >=3.9" in metadata
    assert not re.search(r"(?m)^Requires-Dist: (?!pytest.*extra == ['\"]pytest['\"])", metadata)
    assert "[pytest11]\npayer_sandbox = payer_sandbox.pytest_plugin" in entry_points
    assert stat.S_IMODE(info.external_attr >> 16) & 0o111, "the binary is not executable in the wheel"
    assert f"payer_sandbox-{version}.data/scripts/{script}," in record
    assert "payer_sandbox/py.typed" in names
    assert not [n for n in names if n.endswith((".pyc", ".so", ".pyd"))]
