#!/usr/bin/env python3
"""Where a request's time goes: a CPU profile of payer-sandbox under load, with Debian's perf.

Builds a release binary with symbols and line tables (the release profile otherwise strips them)
in its own target directory (target/profiling), starts it, drives one workload with wrk as
benches/load.py does, and samples the server with `perf record -e cpu-clock` while wrk runs.
Prints the hottest functions and the same samples grouped by what they do (the kernel's network
stack, hyper and tokio, the search, writing the Bundle, compression, …), which benches/README.md
quotes.

    python3 benches/profile.py                         # workloads read, include, include-gzip
    python3 benches/profile.py --only include --seconds 10
    python3 benches/profile.py --binary target/profiling/release/payer-sandbox --no-build

Workloads (as in benches/load.py): read = GET /r4/Patient/{id}; include =
GET /r4/ExplanationOfBenefit?patient={id}&_include=ExplanationOfBenefit:*; include-gzip = the
same with Accept-Encoding: gzip.

Needs: perf (apt-get install linux-perf), wrk, cargo. Software sampling (cpu-clock) works on
machines whose hardware counters perf cannot read. perf needs
/proc/sys/kernel/perf_event_paranoid <= 1 or root.
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402  (benches/load.py: the server, wrk and the member)

ROOT = load.ROOT
PROFILING_TARGET = os.path.join(ROOT, "target", "profiling")

# What each sampled function does, by the first pattern its name (or its library) matches.
GROUPS = [
    ("kernel: TCP, syscalls, scheduling", ("[kernel", "[unknown]", "entry_SYSCALL", "do_syscall",
                                           "tcp_", "__sys_", "syscall")),
    ("copying bytes (memcpy/memmove)", ("memcpy", "memmove", "__memcpy", "__memmove")),
    ("allocation", ("malloc", "free", "realloc", "_int_", "cfree", "alloc::", "__rust_alloc",
                    "__rust_dealloc", "tcache")),
    ("compression (gzip, CRC-32, XXH3)", ("flate2", "miniz", "crc32", "xxh", "xxhash",
                                         "compression::")),
    ("search: parsing, matching, includes", ("fhir::search", "search_params", "fhir::compartment",
                                            "fhir::store", "fhir::date", "fhir::granular")),
    ("writing the Bundle", ("fhir::bundle", "fhir::pieces", "pieces_body", "serde_json")),
    ("tokens and the caller", ("oauth::", "http::caller", "sha2", "hmac", "base64", "token")),
    ("request log, faults, context", ("request_context", "access_log", "sandbox::", "fault")),
    ("hyper, tokio, axum, tower", ("hyper", "tokio", "axum", "tower", "http::", "mio", "bytes::",
                                   "futures", "std::")),
]


def build():
    env = {**os.environ, "CARGO_TARGET_DIR": PROFILING_TARGET,
           "CARGO_PROFILE_RELEASE_STRIP": "none", "CARGO_PROFILE_RELEASE_DEBUG": "line-tables-only"}
    subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, env=env, check=True)
    return os.path.join(PROFILING_TARGET, "release", "payer-sandbox")


def group_of(symbol, dso):
    text = f"{dso} {symbol}"
    for name, patterns in GROUPS:
        if any(p in text for p in patterns):
            return name
    return "other"


def profile(workload, seconds, connections):
    server = load.Server()
    try:
        token = server.token(load.JASON)
        patient = token["patient"]
        headers = [f"Authorization: Bearer {token['access_token']}"]
        if workload == "read":
            path = f"/r4/Patient/{patient}"
        else:
            path = f"/r4/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*"
        if workload == "include-gzip":
            headers.append("Accept-Encoding: gzip")
        result = {}

        def drive():
            result["wrk"] = load.wrk(server.url + path, seconds + 2, headers=headers,
                                     connections=connections)

        driver = threading.Thread(target=drive)
        driver.start()
        with tempfile.TemporaryDirectory(prefix="payer-sandbox-perf-") as tmp:
            data = os.path.join(tmp, "perf.data")
            # Start after wrk has warmed up, stop before it ends: only steady-state samples.
            subprocess.run(["sleep", "1"], check=True)
            subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "1999", "-o", data,
                            "-p", str(server.proc.pid), "--", "sleep", str(seconds)],
                           check=True, capture_output=True)
            report = subprocess.run(
                ["perf", "report", "-i", data, "--no-children", "--sort", "dso,symbol",
                 "--stdio", "-q", "--percent-limit", "0.01"],
                check=True, capture_output=True, text=True).stdout
        driver.join()
        return result.get("wrk"), parse(report)
    finally:
        server.stop()


def parse(report):
    """[(percent, dso, symbol)] from `perf report --stdio -q --sort dso,symbol`."""
    rows = []
    for line in report.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 3 or not parts[0].endswith("%"):
            continue
        percent = float(parts[0].rstrip("%"))
        dso, rest = parts[1], parts[2]
        symbol = rest.split("] ", 1)[-1] if "] " in rest else rest
        symbol = " ".join(symbol.split()).removesuffix(" - -")
        rows.append((percent, dso, symbol))
    return rows


def short(symbol, width=90):
    return symbol if len(symbol) <= width else symbol[:width - 1] + "…"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="read,include,include-gzip")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--connections", type=int, default=load.CONNECTIONS)
    parser.add_argument("--binary")
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if args.binary:
        load.BINARY = os.path.abspath(args.binary)
    elif args.no_build:
        load.BINARY = os.path.join(PROFILING_TARGET, "release", "payer-sandbox")
    else:
        load.BINARY = build()
    for workload in args.only.split(","):
        stats, rows = profile(workload, args.seconds, args.connections)
        rate = (f"{stats['rps']:,.0f} req/s, {stats['errors']} errors" if stats else "wrk failed")
        print(f"\n## {workload}: {rate} while sampled ({sum(r[0] for r in rows):.0f}% of samples shown)")
        groups = collections.Counter()
        for percent, dso, symbol in rows:
            groups[group_of(symbol, dso)] += percent
        print("\n| where | share of the server's CPU samples |\n|---|---|")
        for name, percent in groups.most_common():
            print(f"| {name} | {percent:.1f}% |")
        print(f"\n| top functions | % |\n|---|---|")
        for percent, dso, symbol in rows[:args.top]:
            print(f"| `{short(symbol)}` ({os.path.basename(dso)}) | {percent:.1f}% |")


if __name__ == "__main__":
    main()
