#!/usr/bin/env python3
"""Times one FHIR search against a running payer-sandbox over one keep-alive connection.

    measure.py BASE_URL MEMBER_ID [--requests N] [--warmup N] [--max-seconds S]

Gets a token for MEMBER_ID through the sandbox control API (headless authorize + token
exchange), then sends `ExplanationOfBenefit?patient=<id>&_include=ExplanationOfBenefit:*`
a bounded number of times and prints one JSON line: median and p99 latency in milliseconds,
the number of requests timed, and the entries per response. Standard library only.
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("member_id")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()

    url = urllib.parse.urlsplit(args.base_url)
    if url.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("measure.py talks to loopback only")
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    code = post(conn, "/sandbox/api/authorize",
                json.dumps({"client_id": "sandbox-app", "member_id": args.member_id,
                            "scope": "patient/*.read"}), "application/json")["code"]
    token = post(conn, "/oauth2/token", urllib.parse.urlencode({
        "grant_type": "authorization_code", "code": code,
        "client_id": "sandbox-app", "client_secret": "sandbox-secret"}),
        "application/x-www-form-urlencoded")
    headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/fhir+json"}
    path = (f"/r4/ExplanationOfBenefit?patient={token['patient']}"
            "&_include=ExplanationOfBenefit:*")

    def once():
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            sys.exit(f"GET {path}: {response.status} {body[:300]!r}")
        return body

    entries = len(json.loads(once()).get("entry", []))
    for _ in range(args.warmup):
        once()
    timings = []
    deadline = time.perf_counter() + args.max_seconds
    while len(timings) < args.requests and time.perf_counter() < deadline:
        start = time.perf_counter()
        once()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    p99 = timings[min(len(timings) - 1, int(len(timings) * 0.99))]
    print(json.dumps({"median_ms": round(statistics.median(timings), 3),
                      "p99_ms": round(p99, 3), "requests": len(timings), "entries": entries}))


if __name__ == "__main__":
    main()
