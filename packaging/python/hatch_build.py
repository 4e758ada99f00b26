"""Hatchling build hook: put a prebuilt payer-sandbox binary into the wheel as a script.

The release script cross-builds the server for several targets and packages each binary, so
the wheel build compiles nothing. It takes two environment variables:

- ``PAYER_SANDBOX_BINARY``: the executable to ship;
- ``PAYER_SANDBOX_WHEEL_PLATFORM``: the wheel's platform tag, e.g.
  ``manylinux_2_17_x86_64.musllinux_1_1_x86_64`` (a static Linux binary runs on both),
  ``macosx_11_0_arm64``, ``win_amd64``.

The wheel is tagged ``py3-none-<platform>`` (any Python 3, no ABI: the package's Python code is
pure, the binary is a separate process) and is not purelib. The binary goes to the wheel's
``.data/scripts/`` as ``payer-sandbox`` (``payer-sandbox.exe`` for a ``win`` tag), which pip
installs straight into the environment's ``bin/`` (``Scripts\\``), on PATH, as ruff and uv do.
"""

from __future__ import annotations

import os
import re
from typing import Any, Dict

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

_PLATFORM = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


class PrebuiltBinaryHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: Dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        binary = os.environ.get("PAYER_SANDBOX_BINARY", "")
        platform = os.environ.get("PAYER_SANDBOX_WHEEL_PLATFORM", "")
        if not binary or not platform:
            raise RuntimeError(
                "the payer-sandbox wheel is assembled from a prebuilt binary: set "
                "PAYER_SANDBOX_BINARY (its path) and PAYER_SANDBOX_WHEEL_PLATFORM (the wheel's "
                "platform tag), or run build-wheel.sh BINARY PLATFORM_TAG OUTDIR"
            )
        if not os.path.isfile(binary):
            raise RuntimeError(f"PAYER_SANDBOX_BINARY: {binary!r} is not a file")
        if not _PLATFORM.match(platform) or platform == "any":
            raise RuntimeError(f"PAYER_SANDBOX_WHEEL_PLATFORM: {platform!r} is not a platform tag")
        if platform.startswith("win") != binary.lower().endswith(".exe"):
            raise RuntimeError(
                f"PAYER_SANDBOX_WHEEL_PLATFORM {platform!r} and PAYER_SANDBOX_BINARY {binary!r} "
                "disagree: a Windows tag goes with a .exe, and only with one"
            )
        name = "payer-sandbox.exe" if platform.startswith("win") else "payer-sandbox"
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{platform}"
        build_data["shared_scripts"][os.path.abspath(binary)] = name
