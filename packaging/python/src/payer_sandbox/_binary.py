"""Finding the ``payer-sandbox`` executable."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from typing import List, Optional

from .errors import BinaryNotFoundError

BINARY_ENV = "PAYER_SANDBOX_BIN"
"""The environment variable that names the executable to run, overriding every other place."""


def binary_name() -> str:
    """The executable's file name on this platform: ``payer-sandbox`` (``.exe`` on Windows)."""
    return "payer-sandbox.exe" if os.name == "nt" else "payer-sandbox"


def _script_dirs() -> List[str]:
    """Where pip puts the wheel's scripts for this interpreter: its environment, then ``--user``."""
    dirs: List[str] = []
    preferred = getattr(sysconfig, "get_preferred_scheme", None)  # Python 3.10+
    user_scheme = preferred("user") if preferred else f"{os.name}_user"
    for scheme in (None, user_scheme):
        try:
            path = sysconfig.get_path("scripts") if scheme is None else sysconfig.get_path("scripts", scheme)
        except KeyError:
            continue
        if path and path not in dirs:
            dirs.append(path)
    # A virtualenv created by a tool that leaves sysconfig pointing elsewhere: the interpreter's
    # own directory is the venv's bin/ (Scripts\ on Windows).
    exe_dir = os.path.dirname(os.path.abspath(sys.executable))
    if exe_dir not in dirs:
        dirs.append(exe_dir)
    return dirs


def find_binary(binary: Optional[str] = None) -> str:
    """Return the path of the ``payer-sandbox`` executable to run.

    In order: ``binary`` when given; the ``PAYER_SANDBOX_BIN`` environment variable; the script
    that ``pip install payer-sandbox`` put beside this interpreter (the environment's ``bin/`` or
    ``Scripts\\``, then the ``--user`` one); the first ``payer-sandbox`` on ``PATH``.

    Raises :class:`BinaryNotFoundError` when none of them is an executable file. A path given
    explicitly (argument or variable) that is not a file is an error, not a reason to look
    elsewhere.
    """
    explicit = binary if binary else os.environ.get(BINARY_ENV)
    if explicit:
        source = "the binary argument" if binary else BINARY_ENV
        path = os.path.abspath(os.path.expanduser(explicit))
        if not os.path.isfile(path):
            raise BinaryNotFoundError(f"{source} names {explicit!r}, which is not a file")
        if not os.access(path, os.X_OK):
            raise BinaryNotFoundError(f"{source} names {explicit!r}, which is not executable")
        return path
    name = binary_name()
    for directory in _script_dirs():
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return os.path.abspath(found)
    raise BinaryNotFoundError(
        f"no {name} executable: install the wheel for this platform (pip install payer-sandbox), "
        f"put {name} on PATH, or set {BINARY_ENV} to its path"
    )
