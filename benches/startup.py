#!/usr/bin/env python3
"""Start-up benchmark: time from exec to the listening line and to the first 200 from /healthz,
and idle RSS, over N starts of the release binary. Loopback only; each run is bounded.

    cargo build --release && python3 benches/startup.py [--runs 20] [--binary target/release/payer-sandbox] [-- extra flags]
"""
import argparse
import statistics
import subprocess
import sys
import time
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_start(binary, extra):
    started = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={"RUST_LOG": "warn"},
    )
    try:
        line = proc.stdout.readline().decode()
        listening = time.perf_counter() - started
        url = line.strip().rsplit(" ", 1)[-1]
        deadline = started + 10
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.perf_counter() > deadline:
                    raise
        first_ok = time.perf_counter() - started
        time.sleep(0.5)
        return listening, first_ok, rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--binary", default="target/release/payer-sandbox")
    parser.add_argument("extra", nargs="*")
    args = parser.parse_args()
    results = [one_start(args.binary, args.extra) for _ in range(args.runs)]
    listening = [r[0] * 1000 for r in results]
    first_ok = [r[1] * 1000 for r in results]
    rss = [r[2] / 1024 for r in results]
    print(f"runs: {args.runs}  binary: {args.binary}  flags: {' '.join(args.extra) or '(none)'}")
    print(f"{'metric':<28}{'median':>10}{'min':>10}{'max':>10}")
    for name, values, unit in [
        ("exec -> listening line", listening, "ms"),
        ("exec -> first 200", first_ok, "ms"),
        ("idle RSS", rss, "MiB"),
    ]:
        print(f"{name + ' (' + unit + ')':<28}{statistics.median(values):>10.1f}{min(values):>10.1f}{max(values):>10.1f}")


if __name__ == "__main__":
    sys.exit(main())
