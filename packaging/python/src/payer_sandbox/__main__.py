"""``python -m payer_sandbox ARGS…`` runs the installed ``payer-sandbox`` binary with ARGS.

For when the environment's scripts directory is not on PATH (``pip install --user`` on some
systems, a virtualenv that is not activated).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import List, Optional

from ._binary import find_binary
from .errors import BinaryNotFoundError


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        binary = find_binary()
    except BinaryNotFoundError as err:
        print(f"payer-sandbox: {err}", file=sys.stderr)
        return 127
    if os.name == "nt":
        return subprocess.call([binary, *args])
    os.execv(binary, [binary, *args])
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
