#!/usr/bin/env python3
"""Bounded soak: 64 connections of mixed traffic (headless logins, token exchanges, refreshes,
reads and searches) against the release binary on 127.0.0.1, twice, with the sandbox clock moved
past every token's expiry in between. Passes when no request failed and the resident memory
after the second round is within 10% of the first (what expired was reused, nothing leaked).

    cargo build --release && python3 benches/soak.py [--seconds 60] [--connections 64]
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "payer-sandbox")

MIXED_LUA = r"""
local codes, refresh = {}, {}
local token = os.getenv("SOAK_TOKEN")
local patient = os.getenv("SOAK_PATIENT")
local members = {"08-testmemid", "08-testmemid2", "08-testmemid3", "08-testmemidstu2", "08-testmemid5"}
local n = 0
local form = {["Content-Type"] = "application/x-www-form-urlencoded"}
local creds = "&client_id=sandbox-app&client_secret=sandbox-secret"
local searches = {
  "/r4/Patient/" .. patient,
  "/r4/ExplanationOfBenefit?patient=" .. patient .. "&_include=ExplanationOfBenefit:*",
  "/r4/ExplanationOfBenefit?_count=10&service-date=ge2020",
  "/r4/Coverage?_include=Coverage:payor",
  "/r4/Patient/" .. patient .. "/$everything?_count=20",
  "/r4/metadata",
}
request = function()
  n = n + 1
  if #refresh > 0 and n % 7 == 0 then
    return wrk.format("POST", "/oauth2/token", form,
      "grant_type=refresh_token&refresh_token=" .. refresh[math.random(#refresh)] .. creds)
  end
  if #codes > 0 then
    return wrk.format("POST", "/oauth2/token", form, "grant_type=authorization_code&code=" .. table.remove(codes) .. creds)
  end
  if n % 3 == 0 then
    local body = string.format('{"client_id":"sandbox-app","member_id":"%s","scope":"openid patient/*.read offline_access"}',
      members[n % #members + 1])
    return wrk.format("POST", "/sandbox/api/authorize", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", searches[n % #searches + 1], {["Authorization"] = "Bearer " .. token})
end
response = function(status, headers, body)
  local code = string.match(body, '"code":"(%x+)"')
  if code then codes[#codes + 1] = code end
  local rt = string.match(body, '"refresh_token":"(%x+)"')
  if rt and #refresh < 200 then refresh[#refresh + 1] = rt end
end
"""


def http(method, url, body=None, form=None):
    headers, data = {}, None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data = "&".join(f"{k}={v}" for k, v in form.items()).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024


def round_of(url, seconds, connections, lua):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua, url],
                         check=True, text=True, capture_output=True, timeout=seconds + 60).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1])
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = sum(int(g) for g in sock.groups()) if sock else 0
    p99 = re.search(r"99%\s+([\d.]+\w+)", out).group(1)
    return requests, non2xx, socket_errors, p99


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    proc = subprocess.Popen([BINARY, "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env={**os.environ, "RUST_LOG": "warn"})
    try:
        url = proc.stdout.readline().decode().strip().rsplit(" ", 1)[-1]
        code = http("POST", f"{url}/sandbox/api/authorize", body={"client_id": "sandbox-app", "member_id": "08-testmemid"})["code"]
        token = http("POST", f"{url}/oauth2/token", form={"grant_type": "authorization_code", "code": code,
                                                         "client_id": "sandbox-app", "client_secret": "sandbox-secret",
                                                         })
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(MIXED_LUA)
            lua = f.name
        os.environ["SOAK_PATIENT"] = token["patient"]
        start_rss = rss_mib(proc.pid)
        results = []
        for n in (1, 2):
            # A fresh token per round: the clock moves past every token's expiry between rounds.
            code = http("POST", f"{url}/sandbox/api/authorize", body={"client_id": "sandbox-app", "member_id": "08-testmemid"})["code"]
            os.environ["SOAK_TOKEN"] = http("POST", f"{url}/oauth2/token", form={
                "grant_type": "authorization_code", "code": code,
                "client_id": "sandbox-app", "client_secret": "sandbox-secret"})["access_token"]
            requests, non2xx, socket_errors, p99 = round_of(url, args.seconds, args.connections, lua)
            results.append((n, requests, non2xx, socket_errors, p99, rss_mib(proc.pid)))
            # Two hours later every access token, code and attempt of this round has expired.
            http("POST", f"{url}/sandbox/api/clock/advance", body={"seconds": 7200})
        os.unlink(lua)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    print(f"soak: {args.connections} connections, {args.seconds} s per round, mixed logins, token exchanges,"
          f" refreshes, reads and searches; RSS at start {start_rss:.1f} MiB")
    print("| round | requests | non-2xx | socket errors | p99 | RSS after (MiB) |")
    print("|---|---|---|---|---|---|")
    for n, requests, non2xx, socket_errors, p99, rss in results:
        print(f"| {n} | {requests} | {non2xx} | {socket_errors} | {p99} | {rss:.1f} |")
    growth = results[1][5] / results[0][5] - 1
    print(f"RSS growth from round 1 to round 2: {100 * growth:+.1f}%")
    failed = any(r[2] or r[3] for r in results) or growth > 0.10
    print("soak: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
