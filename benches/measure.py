#!/usr/bin/env python3
"""Times one FHIR search against running payer-sandbox servers, one keep-alive connection each.

    measure.py MEMBER_ID BASE_URL [BASE_URL...] [--requests N] [--warmup N] [--max-seconds S]

Gets a token for MEMBER_ID from each server through the sandbox control API (headless
authorize + token exchange), then sends `ExplanationOfBenefit?patient=<id>&_include=
ExplanationOfBenefit:*` to the servers in alternating batches, so that load from elsewhere on
the machine falls on all of them alike, until each has answered N timed requests (or the time
is up). Prints one JSON line per server: median and p99 latency in milliseconds, requests
timed, entries per response. Standard library only.
"""

import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def post(conn, path, body, content_type):
    conn.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        sys.exit(f"POST {path}: {response.status} {data[:300]!r}")
    return json.loads(data)


class Target:
    def __init__(self, base_url, member_id):
        url = urllib.parse.urlsplit(base_url)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit("measure.py talks to loopback only")
        self.base_url = base_url
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        code = post(self.conn, "/sandbox/api/authorize",
                    json.dumps({"client_id": "sandbox-app", "member_id": member_id,
                                "scope": "patient/*.read"}), "application/json")["code"]
        token = post(self.conn, "/oauth2/token", urllib.parse.urlencode({
            "grant_type": "authorization_code", "code": code,
            "client_id": "sandbox-app", "client_secret": "sandbox-secret"}),
            "application/x-www-form-urlencoded")
        self.headers = {"Authorization": f"Bearer {token['access_token']}",
                        "Accept": "application/fhir+json"}
        self.path = (f"/r4/ExplanationOfBenefit?patient={token['patient']}"
                     "&_include=ExplanationOfBenefit:*")
        self.timings = []

    def once(self):
        self.conn.request("GET", self.path, headers=self.headers)
        response = self.conn.getresponse()
        body = response.read()
        if response.status != 200:
            sys.exit(f"GET {self.path}: {response.status} {body[:300]!r}")
        return body

    def timed(self):
        start = time.perf_counter()
        self.once()
        self.timings.append((time.perf_counter() - start) * 1000)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("member_id")
    parser.add_argument("base_urls", nargs="+")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    parser.add_argument("--labels", help="comma-separated names of the servers, for the summary")
    args = parser.parse_args()

    targets = [Target(url, args.member_id) for url in args.base_urls]
    entries = [len(json.loads(t.once()).get("entry", [])) for t in targets]
    for t in targets:
        for _ in range(args.warmup):
            t.once()
    deadline = time.perf_counter() + args.max_seconds
    while any(len(t.timings) < args.requests for t in targets) and time.perf_counter() < deadline:
        for t in targets:
            for _ in range(min(args.batch, args.requests - len(t.timings))):
                t.timed()
    rows = []
    for t, n in zip(targets, entries):
        timings = sorted(t.timings)
        p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
        rows.append({"url": t.base_url, "median_ms": round(statistics.median(timings), 3),
                     "p99_ms": round(p99, 3), "requests": len(timings), "entries": n})
    if not args.labels:
        for row in rows:
            print(json.dumps(row))
        return
    labels = args.labels.split(",")
    for label, row in zip(labels, rows):
        print("%5s: median %.3f ms, p99 %.3f ms (%d requests, %d entries per response)"
              % (label, row["median_ms"], row["p99_ms"], row["requests"], row["entries"]))
    first, last = rows[0], rows[-1]
    ratio = last["median_ms"] / first["median_ms"]
    print("ratio %s/%s: median %.2f (%s), p99 %.2f"
          % (labels[-1], labels[0], ratio, "OK" if ratio < 1.5 else "ABOVE TARGET 1.5",
             last["p99_ms"] / first["p99_ms"]))


if __name__ == "__main__":
    main()
