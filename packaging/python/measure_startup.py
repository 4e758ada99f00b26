#!/usr/bin/env python3
"""Measure what the payer_sandbox fixture costs a test session: starting and stopping the server.

    python measure_startup.py [--runs N]

Run with the Python that has the package installed. Each run does what the session fixture
does: find the binary, start it on a free port, wait for its listening line, then stop it
(SIGTERM, graceful exit). Prints the median, minimum and maximum over the runs of:

- listening: from launching the process to reading its listening line (``Sandbox.startup_seconds``);
- start: the whole ``Sandbox.start()`` (lookup, launch, reader thread, listening line);
- first request: a control API call once it listens (``GET /sandbox/api/members``);
- stop: ``Sandbox.stop()`` until the process has exited.

The first run is reported apart too: it may read the binary from disk rather than the cache.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Dict, List

from payer_sandbox import Sandbox


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()

    samples: Dict[str, List[float]] = {"listening": [], "start": [], "first request": [], "stop": []}
    for _ in range(options.runs):
        sandbox = Sandbox()
        t0 = time.perf_counter()
        sandbox.start()
        t1 = time.perf_counter()
        assert sandbox.members, "no test members"
        t2 = time.perf_counter()
        returncode = sandbox.stop()
        t3 = time.perf_counter()
        if returncode != 0:
            raise SystemExit(f"the server exited with status {returncode} when stopped")
        assert sandbox.startup_seconds is not None
        samples["listening"].append(sandbox.startup_seconds)
        samples["start"].append(t1 - t0)
        samples["first request"].append(t2 - t1)
        samples["stop"].append(t3 - t2)

    print(f"fixture start-up per session, {options.runs} runs: median / min / max (first run)")
    for name, values in samples.items():
        print(
            f"  {name:<14} {ms(statistics.median(values))} / {ms(min(values))} / {ms(max(values))}"
            f"  ({ms(values[0]).strip()})"
        )
    total = [a + b for a, b in zip(samples["start"], samples["stop"])]
    print(f"  {'start + stop':<14} {ms(statistics.median(total))} median")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
