#!/usr/bin/env python3
"""Bounded soak: 64 connections of mixed traffic (headless logins, token exchanges, refreshes,
reads and searches) against the release binary on 127.0.0.1 for 60 s. Tokens are made
short-lived (codes and access tokens 10 s, refresh tokens 20 s) so that grants expire all along
the run: resident memory must level off instead of growing, and no request may fail.

    cargo build --release && python3 benches/soak.py [--seconds 60] [--connections 64]

Passes when there were no non-2xx answers and no socket errors, and the RSS at the end is within
10% of the RSS half-way through (once the longest lifetime has passed).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "payer-sandbox")

MIXED_LUA = r"""
local codes, refresh, access = {}, {}, {}
local members = {"08-testmemid", "08-testmemid2", "08-testmemid3", "08-testmemidstu2", "08-testmemid5", "08-testmemid6"}
local n = 0
local form = {["Content-Type"] = "application/x-www-form-urlencoded"}
local creds = "&client_id=sandbox-app&client_secret=sandbox-secret"
-- Logins rotate through the members, so every search is one a token of any member may make.
local searches = {
  "/r4/Patient",
  "/r4/ExplanationOfBenefit?_include=ExplanationOfBenefit:*",
  "/r4/ExplanationOfBenefit?_count=10&service-date=ge2020",
  "/r4/Coverage?_include=Coverage:payor",
  "/r4/Observation?_revinclude=Provenance:target&_count=5",
  "/r4/metadata",
}
-- The newest few tokens only: with lifetimes of seconds, older ones may have expired.
local function keep(list, value)
  list[#list + 1] = value
  if #list > 16 then table.remove(list, 1) end
end
request = function()
  n = n + 1
  if #refresh > 0 and n % 7 == 0 then
    return wrk.format("POST", "/oauth2/token", form,
      "grant_type=refresh_token&refresh_token=" .. refresh[#refresh] .. creds)
  end
  if #codes > 0 then
    return wrk.format("POST", "/oauth2/token", form, "grant_type=authorization_code&code=" .. table.remove(codes) .. creds)
  end
  if n % 3 == 0 or #access == 0 then
    local body = string.format('{"client_id":"sandbox-app","member_id":"%s","scope":"openid patient/*.read offline_access"}',
      members[n % #members + 1])
    return wrk.format("POST", "/sandbox/api/authorize", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", searches[n % #searches + 1], {["Authorization"] = "Bearer " .. access[#access]})
end
response = function(status, headers, body)
  -- Only the sandbox's authorize answer carries redirect_url; FHIR codings carry "code" too.
  if string.find(body, '"redirect_url"', 1, true) then
    local code = string.match(body, '"code":"(%x+)"')
    if code then codes[#codes + 1] = code end
  end
  local at = string.match(body, '"access_token":"(%x+)"')
  if at then keep(access, at) end
  local rt = string.match(body, '"refresh_token":"(%x+)"')
  if rt then keep(refresh, rt) end
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
    proc = subprocess.Popen([BINARY, "--listen", "127.0.0.1:0", "--code-ttl", "10", "--access-token-ttl", "10",
                             "--refresh-token-ttl", "20"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "RUST_LOG": "warn"})
    samples = []
    try:
        url = proc.stdout.readline().decode().strip().rsplit(" ", 1)[-1]
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(MIXED_LUA)
            lua = f.name
        start_rss = rss_mib(proc.pid)
        stop = threading.Event()

        def sample():
            began = time.time()
            while not stop.wait(2):
                samples.append((time.time() - began, rss_mib(proc.pid)))

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            requests, non2xx, socket_errors, p99 = round_of(url, args.seconds, args.connections, lua)
        finally:
            stop.set()
            sampler.join()
        os.unlink(lua)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    # Steady state: past the longest lifetime (20 s) plus a sweep, half-way through the run.
    warm = next(rss for t, rss in samples if t >= args.seconds / 2)
    end = samples[-1][1]
    print(f"soak: {args.connections} connections for {args.seconds} s: mixed logins, token exchanges, refreshes,"
          f" reads and searches; codes and access tokens live 10 s, refresh tokens 20 s")
    print(f"requests {requests}, non-2xx {non2xx}, socket errors {socket_errors}, p99 {p99}")
    print("RSS (MiB) every ~10 s: " + ", ".join(f"{t:.0f}s {rss:.1f}" for t, rss in samples[::5]))
    print(f"RSS at start {start_rss:.1f}, after warm-up {warm:.1f}, at the end {end:.1f} ({100 * (end / warm - 1):+.1f}%)")
    failed = non2xx or socket_errors or end > warm * 1.10
    print("soak: " + ("FAILED" if failed else "passed"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
