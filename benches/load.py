#!/usr/bin/env python3
"""Load and scale benchmark of payer-sandbox, side by side with nginx serving the same bytes.

Builds the release binary (unless --no-build), starts it on 127.0.0.1, drives it with wrk
(Debian's package) and prints a table. Every run is bounded in time and targets loopback only.

    python3 benches/load.py                      # all workloads, 10 s each
    python3 benches/load.py --duration 5 --only 1,2,4
    python3 benches/load.py --only 7 --sizes 1000,10000,50000
    python3 benches/load.py --only 1,2 --binary /path/to/an/earlier/payer-sandbox

Workloads:
  1  GET /r4/Patient/{id} with a bearer token
  2  GET /r4/ExplanationOfBenefit?patient={id}&_include=ExplanationOfBenefit:*
  3  paging through all of a member's EOBs with _count=10 (each request one page)
  4  headless login + token exchange pairs (POST /sandbox/api/authorize, POST /oauth2/token, with openid)
  5  GET /r4/metadata
  6  start-up: exec to the listening line, to the first 200, to the first directory answer (the
     public data loaded), idle RSS with everything loaded, and RSS after one request of each of
     workloads 1, 2, 5, 8 and 10 (20 starts)
  7  scale: generated data sets loaded with --data: load time and CPU, RSS serving and peak, workload 1-2 latency
  8  provider directory, no token: family physicians in Boston with their practitioner and location
     (GET /directory/r4/PractitionerRole?specialty=…&location.address-city=Boston&_include=…)
  10 gzip (docs/fhir-api.md#compression): workload 2 with Accept-Encoding: gzip, beside nginx
     compressing the same bytes (gzip on, level 1) and nginx serving a precompressed copy
     (gzip_static); each gzip body is checked to decompress to the identity response
  9  hosted mode (docs/hosted.md): workloads 1, 2 and 4 against one replica on a throwaway local
     PostgreSQL, side by side with the same binary in memory; the database statements per request
     (pg_stat_statements). Workload 1 is measured twice: with the token cached by the replica
     (steady state), and with a fresh token per request (each a cache miss: the worst case).
Reference: nginx serving the identical response bytes of workloads 1, 2, 3, 5 and 8 as static files.

Needs: wrk and nginx (apt-get install wrk nginx-light), python3, cargo; for workload 9 Debian's
postgresql (initdb and pg_ctl, run as an unprivileged user when the benchmark runs as root).
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "payer-sandbox")
SEEDGEN = os.path.join(ROOT, "tools", "seedgen", "seedgen.py")
JASON = "08-testmemid"
DIRECTORY_SEARCH = ("/directory/r4/PractitionerRole?specialty=http://nucc.org/provider-taxonomy%7C207Q00000X"
                    "&location.address-city=Boston&_include=PractitionerRole:practitioner"
                    "&_include=PractitionerRole:location")
CONNECTIONS = 64


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def http(method, url, body=None, headers=None, form=None):
    data = None
    headers = dict(headers or {})
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


def rss_mib(pid, field="VmRSS"):
    """A memory figure of /proc/PID/status in MiB: VmRSS now, VmHWM the peak."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    """User and system CPU time the process has used."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """payer-sandbox on a free loopback port, started and stopped with the benchmark."""

    def __init__(self, *flags):
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [BINARY, "--listen", "127.0.0.1:0", *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": "warn"},
        )
        line = self.proc.stdout.readline().decode()
        self.ready_after = time.perf_counter() - self.started
        if "listening on" not in line:
            raise SystemExit(f"payer-sandbox did not start: {line!r}")
        self.url = line.strip().rsplit(" ", 1)[-1]

    def token(self, member_id, scope="patient/*.read"):
        _, _, body = http("POST", f"{self.url}/sandbox/api/authorize", body={
            "client_id": "sandbox-app", "member_id": member_id, "scope": scope})
        code = json.loads(body)["code"]
        _, _, body = http("POST", f"{self.url}/oauth2/token", form={
            "grant_type": "authorization_code", "code": code,
            "client_id": "sandbox-app", "client_secret": "sandbox-secret"})
        return json.loads(body)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Nginx:
    """nginx serving files from a directory on a free loopback port: the practical ceiling."""

    def __init__(self, root, gzip_mode=None):
        """`gzip_mode`: None (identity), "on" (nginx compresses each response, level 1) or "static"
        (nginx serves the precompressed `.gz` beside each file: no work per request)."""
        self.dir = tempfile.mkdtemp(prefix="payer-sandbox-nginx-")
        gzip = {None: "",
                "on": "gzip on; gzip_comp_level 1; gzip_min_length 1024; gzip_types application/fhir+json;",
                "static": "gzip_static on;"}[gzip_mode]
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""
worker_processes 2;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ }}
    default_type application/fhir+json;
    {gzip}
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
        location / {{ try_files $uri =404; }}
    }}
}}
""")
        subprocess.run(["nginx", "-c", conf, "-p", self.dir], check=True)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                http("GET", self.url + "/")
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.05)
                continue
            break

    def stop(self):
        subprocess.run(["nginx", "-c", os.path.join(self.dir, "nginx.conf"), "-p", self.dir, "-s", "stop"],
                       check=False, capture_output=True)
        time.sleep(0.3)
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.M):
        lat[pct] = float(value) * UNITS[unit]
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if m:
        errors += sum(int(g) for g in m.groups())
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"), "errors": errors, "requests": total}


def wrk(url, duration, headers=(), script=None, connections=CONNECTIONS, threads=2):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    return parse_wrk(sh(cmd, timeout=duration + 30))


PAGES_LUA = """
local paths = {}
for line in io.lines(os.getenv("PAGES_FILE")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
"""

LOGIN_LUA = """
local codes = {}
local pending = 0
local auth_body = '{"client_id":"sandbox-app","member_id":"%s","scope":"openid fhirUser patient/*.read"}'
local member = os.getenv("MEMBER_ID")
request = function()
  if #codes > 0 then
    local code = table.remove(codes)
    return wrk.format("POST", "/oauth2/token",
      {["Content-Type"] = "application/x-www-form-urlencoded"},
      "grant_type=authorization_code&client_id=sandbox-app&client_secret=sandbox-secret&code=" .. code)
  end
  return wrk.format("POST", "/sandbox/api/authorize", {["Content-Type"] = "application/json"},
    string.format(auth_body, member))
end
response = function(status, headers, body)
  local code = string.match(body, '"code":"(%x+)"')
  if code then codes[#codes + 1] = code end
end
"""


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def save_body(root, url_path, body):
    path = os.path.join(root, url_path.lstrip("/").split("?")[0])
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "wb") as f:
        f.write(body)


def table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))


def fmt_ms(v):
    return "-" if v is None else f"{v:.2f}"


def eob_pages(server, patient, token):
    """The relative URLs of every page of the member's EOBs at _count=10, following next links."""
    url = f"{server.url}/r4/ExplanationOfBenefit?patient={patient}&_count=10"
    pages = []
    while url and len(pages) < 100:
        pages.append(url[len(server.url):])
        _, _, body = http("GET", url, headers={"Authorization": f"Bearer {token}"})
        bundle = json.loads(body)
        url = next((l["url"] for l in bundle.get("link", []) if l["relation"] == "next"), None)
    return pages


def run_http_workloads(args, wanted):
    server = Server()
    nginx_root = tempfile.mkdtemp(prefix="payer-sandbox-bytes-")
    os.chmod(nginx_root, 0o755)  # nginx's workers run unprivileged
    rows = []
    try:
        token = server.token(JASON)
        bearer = f"Authorization: Bearer {token['access_token']}"
        patient = token["patient"]
        cases = []
        if 1 in wanted:
            cases.append(("1 Patient read", f"/r4/Patient/{patient}", None))
        if 2 in wanted:
            cases.append(("2 EOB search + _include=*",
                          f"/r4/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*", None))
        if 5 in wanted:
            cases.append(("5 metadata", "/r4/metadata", None))
        if 8 in wanted:
            cases.append(("8 directory: roles by specialty and city + _include", DIRECTORY_SEARCH, None))
        for name, path, _ in cases:
            status, _, body = http("GET", server.url + path, headers={"Authorization": f"Bearer {token['access_token']}"})
            save_body(nginx_root, path, body)
        nginx = Nginx(nginx_root)
        try:
            for name, path, _ in cases:
                _, _, served = http("GET", nginx.url + path)
                _, _, ours_body = http("GET", server.url + path, headers={"Authorization": f"Bearer {token['access_token']}"})
                # A searchset carries its own id and timestamp: about the same size, not the same bytes.
                if abs(len(served) - len(ours_body)) > 64:
                    raise SystemExit(f"nginx does not serve the same bytes for {path}: {len(served)} vs {len(ours_body)}")
                ours = wrk(server.url + path, args.duration, headers=[bearer])
                ref = wrk(nginx.url + path, args.duration, headers=[bearer])
                if ref["errors"]:
                    raise SystemExit(f"nginx answered {ref['errors']} errors for {path}")
                rows.append([name, f"{ours['rps']:.0f}", fmt_ms(ours["p50"]), fmt_ms(ours["p99"]), ours["errors"],
                             f"{ref['rps']:.0f}", fmt_ms(ref["p99"]), f"{100 * ours['rps'] / ref['rps']:.0f}%"])
            if 3 in wanted:
                pages = eob_pages(server, patient, token["access_token"])
                lua = os.path.join(nginx_root, "pages.lua")
                write(lua, PAGES_LUA)
                pages_file = os.path.join(nginx_root, "pages.txt")
                write(pages_file, "\n".join(pages) + "\n")
                os.environ["PAGES_FILE"] = pages_file
                ours = wrk(server.url, args.duration, headers=[bearer], script=lua)
                # nginx cannot tell pages apart by query string: it serves the first page's bytes.
                _, _, first = http("GET", server.url + pages[0], headers={"Authorization": f"Bearer {token['access_token']}"})
                save_body(nginx_root, "/page", first)
                ref = wrk(nginx.url + "/page", args.duration, headers=[bearer])
                rows.append([f"3 EOB paging, _count=10 ({len(pages)} pages)", f"{ours['rps']:.0f}", fmt_ms(ours["p50"]),
                             fmt_ms(ours["p99"]), ours["errors"], f"{ref['rps']:.0f}", fmt_ms(ref["p99"]),
                             f"{100 * ours['rps'] / ref['rps']:.0f}%"])
        finally:
            nginx.stop()
        if 4 in wanted:
            lua = os.path.join(nginx_root, "login.lua")
            write(lua, LOGIN_LUA)
            os.environ["MEMBER_ID"] = JASON
            ours = wrk(server.url, args.duration, script=lua)
            sign = sh(["cargo", "bench", "--quiet", "--bench", "signing"], cwd=ROOT)
            per_sign = float(re.search(r"([\d.]+) ms each", sign).group(1))
            pairs = ours["rps"] / 2
            rows.append(["4 login + token pairs (openid)", f"{pairs:.0f} pairs/s", fmt_ms(ours["p50"]), fmt_ms(ours["p99"]),
                         ours["errors"], f"signing alone: {1000 / per_sign:.0f}/s/core",
                         f"{per_sign:.2f} ms/sig", f"{pairs / (1000 / per_sign):.2f}x one core"])
    finally:
        server.stop()
        shutil.rmtree(nginx_root, ignore_errors=True)
    if rows:
        print(f"\nHTTP workloads: wrk -t2 -c{CONNECTIONS} -d{args.duration}s on 127.0.0.1, same settings for nginx\n")
        table(rows, ["workload", "req/s", "p50 ms", "p99 ms", "errors", "nginx req/s", "nginx p99 ms", "ratio"])


def run_startup(args):
    results = []
    for _ in range(20):
        server = Server()
        listening = server.ready_after
        while True:
            try:
                http("GET", server.url + "/healthz")
                break
            except OSError:
                pass
        first = time.perf_counter() - server.started
        # The public directory and formulary load beside serving: the first request to them
        # waits until they are in, so that the idle RSS counts them.
        http("GET", server.url + "/directory/r4/Practitioner?_count=1")
        ready = time.perf_counter() - server.started
        time.sleep(0.3)
        pid = server.proc.pid
        idle = (rss_mib(pid), rss_mib(pid, "RssFile"))
        # Then one request of each kind the other workloads send, so that the code and the
        # buffers serving needs are resident: what a fixture server holds once a test has run.
        token = server.token(JASON)
        bearer = {"Authorization": f"Bearer {token['access_token']}"}
        search = f"{server.url}/r4/ExplanationOfBenefit?patient={token['patient']}&_include=ExplanationOfBenefit:*"
        http("GET", f"{server.url}/r4/Patient/{token['patient']}", headers=bearer)
        http("GET", search, headers=bearer)
        http("GET", search, headers={**bearer, "Accept-Encoding": "gzip"})
        http("GET", f"{server.url}/r4/metadata")
        http("GET", server.url + DIRECTORY_SEARCH)
        time.sleep(0.3)
        served = (rss_mib(pid), rss_mib(pid, "RssFile"))
        results.append((listening * 1000, first * 1000, ready * 1000, *idle, *served))
        server.stop()
    print("\n6 start-up with embedded data, 20 starts\n")
    table([[name, f"{statistics.median(v):.1f}", f"{min(v):.1f}", f"{max(v):.1f}"] for name, v in [
        ("exec -> listening line (ms)", [r[0] for r in results]),
        ("exec -> first 200 (ms)", [r[1] for r in results]),
        ("exec -> first directory 200 (ms)", [r[2] for r in results]),
        ("idle RSS (MiB)", [r[3] for r in results]),
        ("  of which the executable and libraries (RssFile)", [r[4] for r in results]),
        ("RSS after one request of each workload (MiB)", [r[5] for r in results]),
        ("  of which the executable and libraries (RssFile)", [r[6] for r in results]),
    ]], ["metric", "median", "min", "max"])


def dir_size_mib(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs) / (1024 * 1024)


def run_scale(args):
    rows = []
    base = None
    for size in [int(s) for s in args.sizes.split(",")]:
        data = os.path.join(ROOT, "target", "bench-data", f"members-{size}")
        if not os.path.isdir(data):
            sh([sys.executable, SEEDGEN, "--members", str(size), "--out", data], cwd=ROOT, timeout=1800)
        server = Server("--data", data)
        try:
            load_s = server.ready_after
            load_cpu = cpu_seconds(server.proc.pid)
            time.sleep(0.5)
            rss = rss_mib(server.proc.pid)
            peak = rss_mib(server.proc.pid, "VmHWM")
            _, _, body = http("GET", server.url + "/sandbox/api/members")
            members = json.loads(body)
            member = members[len(members) // 2]
            token = server.token(member["member_id"])
            bearer = f"Authorization: Bearer {token['access_token']}"
            patient = token["patient"]
            w1 = wrk(f"{server.url}/r4/Patient/{patient}", args.scale_duration, headers=[bearer], connections=4, threads=1)
            w2 = wrk(f"{server.url}/r4/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*",
                     args.scale_duration, headers=[bearer], connections=4, threads=1)
            json_mib = dir_size_mib(data)
            if base is None:
                base = (w1["p50"], w2["p50"])
            rows.append([size, f"{json_mib:.0f}", f"{load_s:.2f}", f"{load_cpu:.1f}", f"{rss:.0f}",
                         f"{rss / json_mib:.2f}", f"{peak:.0f}",
                         fmt_ms(w1["p50"]), fmt_ms(w1["p99"]), fmt_ms(w2["p50"]), fmt_ms(w2["p99"]),
                         f"{w1['p50'] / base[0]:.2f} / {w2['p50'] / base[1]:.2f}"])
        finally:
            server.stop()
    print(f"\n7 scale: generated members loaded with --data; latency with wrk -t1 -c4 -d{args.scale_duration}s\n")
    table(rows, ["members", "JSON MiB", "load s", "load CPU s", "RSS MiB", "RSS/JSON", "peak MiB", "W1 p50 ms",
                 "W1 p99 ms", "W2 p50 ms", "W2 p99 ms", "p50 vs smallest (W1 / W2)"])


class Postgres:
    """A throwaway PostgreSQL from Debian's packages on a free loopback port, with
    pg_stat_statements to count the statements each workload makes."""

    def __init__(self):
        bindirs = sorted(d for d in (f"/usr/lib/postgresql/{v}/bin" for v in os.listdir("/usr/lib/postgresql"))
                         if os.path.exists(f"{d}/initdb")) if os.path.isdir("/usr/lib/postgresql") else []
        if not bindirs:
            raise SystemExit("PostgreSQL is missing: apt-get install postgresql")
        self.bin = bindirs[-1]
        self.dir = tempfile.mkdtemp(prefix="payer-sandbox-pg-")
        self.as_user = []
        if os.getuid() == 0:
            user = "payer-sandbox-pg"
            if subprocess.run(["id", user], capture_output=True).returncode != 0:
                sh(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user])
            shutil.chown(self.dir, user)
            self.as_user = ["runuser", "-u", user, "--"]
        self.port = free_port()
        data = os.path.join(self.dir, "data")
        sh(self.as_user + [f"{self.bin}/initdb", "-D", data, "-U", "sandbox", "--auth=trust", "--no-sync"])
        self.ctl = self.as_user + [f"{self.bin}/pg_ctl", "-D", data, "-l", os.path.join(self.dir, "server.log"), "-o",
                                   f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                                   "-c shared_preload_libraries=pg_stat_statements -c max_connections=200"]
        sh(self.ctl + ["start", "-w"])
        self.url = f"postgres://sandbox@127.0.0.1:{self.port}/postgres"
        self.sql("CREATE EXTENSION pg_stat_statements")

    def sql(self, statement):
        return sh(["psql", "-X", "-q", "-t", "-A", self.url, "-c", statement]).strip()

    def statements(self):
        """Statements run since the last call (the benchmark's own excluded)."""
        count = self.sql("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                         "WHERE query NOT LIKE '%pg_stat_statements%'")
        self.sql("SELECT pg_stat_statements_reset()")
        return int(count)

    def stop(self):
        subprocess.run(self.ctl + ["stop", "-m", "fast"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


FRESH_TOKENS_LUA = """
-- Each wrk thread takes every other token, so that no token is sent twice until the list wraps.
local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local tokens = {}
local i
function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end
  i = id + 1
end
request = function()
  local token = tokens[i]
  i = i + 2
  if i > #tokens then i = id + 1 end
  return wrk.format("GET", os.getenv("READ_PATH"), {["Authorization"] = "Bearer " .. token})
end
"""


FRESH_TOKENS = 10000


def gunzip_json(body):
    import gzip as gz
    return json.loads(gz.decompress(body))


def without_timestamp(bundle):
    """A searchset without its `meta` (its lastUpdated is the moment it was made)."""
    bundle = dict(bundle)
    bundle.pop("meta", None)
    return bundle


def run_gzip(args):
    """Workload 10: the _include=* search gzipped, beside nginx gzip on (level 1) and gzip_static."""
    import gzip as gz
    server = Server()
    rows = []
    try:
        token = server.token(JASON)
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        bearer = f"Authorization: Bearer {token['access_token']}"
        accept = "Accept-Encoding: gzip"
        path = f"/r4/ExplanationOfBenefit?patient={token['patient']}&_include=ExplanationOfBenefit:*"
        _, _, identity = http("GET", server.url + path, headers=auth)
        _, headers, gzipped = http("GET", server.url + path, headers={**auth, "Accept-Encoding": "gzip"})
        if {k.lower(): v for k, v in headers.items()}.get("content-encoding") != "gzip":
            raise SystemExit(f"the sandbox did not gzip {path}: {headers}")
        if without_timestamp(gunzip_json(gzipped)) != without_timestamp(json.loads(identity)):
            raise SystemExit("the sandbox's gzip body does not decompress to its identity response")
        root = tempfile.mkdtemp(prefix="payer-sandbox-gzip-")
        os.chmod(root, 0o755)
        save_body(root, path, identity)
        file = os.path.join(root, path.lstrip("/").split("?")[0])
        with open(file + ".gz", "wb") as f:
            f.write(gz.compress(identity, compresslevel=9))
        os.chmod(file + ".gz", 0o644)
        ours = wrk(server.url + path, args.duration, headers=[bearer, accept])
        refs = {}
        for mode in ("on", "static"):
            nginx = Nginx(root, gzip_mode=mode)
            try:
                _, h, served = http("GET", nginx.url + path, headers={"Accept-Encoding": "gzip"})
                encoding = {k.lower(): v for k, v in h.items()}.get("content-encoding")
                if encoding != "gzip" or gz.decompress(served) != identity:
                    raise SystemExit(f"nginx ({mode}) did not serve the same bytes gzipped")
                refs[mode] = (wrk(nginx.url + path, args.duration, headers=[bearer, accept]), len(served))
            finally:
                nginx.stop()
        shutil.rmtree(root, ignore_errors=True)
        on, on_size = refs["on"]
        static, static_size = refs["static"]
        rows.append(["10 EOB search + _include=*, gzip", f"{ours['rps']:.0f}", fmt_ms(ours["p50"]),
                     fmt_ms(ours["p99"]), ours["errors"], f"{len(gzipped):,} B of {len(identity):,}",
                     f"{on['rps']:.0f} ({on_size:,} B)", f"{ours['rps'] / on['rps']:.2f}x",
                     f"{static['rps']:.0f} ({static_size:,} B)", f"{100 * ours['rps'] / static['rps']:.0f}%"])
    finally:
        server.stop()
    print(f"\ngzip, side by side: wrk -t2 -c{CONNECTIONS} -d{args.duration}s, Accept-Encoding: gzip\n")
    table(rows, ["workload", "req/s", "p50 ms", "p99 ms", "errors", "body", "nginx gzip on (level 1)",
                 "vs gzip on", "nginx gzip_static", "vs gzip_static"])


def run_hosted(args):
    """Workload 9: the same binary in memory and on PostgreSQL, one replica, side by side."""
    pg = Postgres()
    work = tempfile.mkdtemp(prefix="payer-sandbox-hosted-")
    rows = []
    try:
        results = {}
        for mode, flags in [("memory", []), ("hosted", ["--database", pg.url])]:
            server = Server(*flags)
            try:
                token = server.token(JASON)
                bearer = f"Authorization: Bearer {token['access_token']}"
                patient = token["patient"]
                read = f"/r4/Patient/{patient}"
                cases = [("1 Patient read, token cached", read, [bearer], None),
                         ("2 EOB search + _include=*",
                          f"/r4/ExplanationOfBenefit?patient={patient}&_include=ExplanationOfBenefit:*", [bearer], None)]
                if mode == "hosted":
                    # Tokens this replica has never seen: issued by another replica on the same database.
                    other = Server("--database", pg.url)
                    try:
                        fresh = [other.token(JASON)["access_token"] for _ in range(FRESH_TOKENS)]
                    finally:
                        other.stop()
                    write(os.path.join(work, "tokens.txt"), "\n".join(fresh) + "\n")
                    write(os.path.join(work, "fresh.lua"), FRESH_TOKENS_LUA)
                    os.environ["TOKENS_FILE"] = os.path.join(work, "tokens.txt")
                    os.environ["READ_PATH"] = read
                    cases.append(("1 Patient read, each token new to the replica", "", [],
                                  os.path.join(work, "fresh.lua")))
                write(os.path.join(work, "login.lua"), LOGIN_LUA)
                os.environ["MEMBER_ID"] = JASON
                cases.append(("4 login + token pairs (openid)", "", [], os.path.join(work, "login.lua")))
                for name, path, headers, script in cases:
                    if name.startswith("1 Patient read, each") :
                        # A short run, so that (nearly) each request's token is new: the statements
                        # per request say how nearly.
                        duration = 1
                    else:
                        duration = args.duration
                    if mode == "hosted":
                        pg.statements()
                    result = wrk(server.url + path, duration, headers=headers, script=script)
                    if mode == "hosted":
                        result["statements"] = pg.statements() / max(result["requests"], 1)
                    results[(mode, name)] = result
            finally:
                server.stop()
        for (mode, name), result in results.items():
            if mode != "hosted":
                continue
            memory = results.get(("memory", name)) or results[("memory", "1 Patient read, token cached")]
            rps = result["rps"] / 2 if name.startswith("4") else result["rps"]
            mem_rps = memory["rps"] / 2 if name.startswith("4") else memory["rps"]
            unit = " pairs/s" if name.startswith("4") else ""
            rows.append([name, f"{rps:.0f}{unit}", fmt_ms(result["p50"]), fmt_ms(result["p99"]), result["errors"],
                         f"{mem_rps:.0f}{unit}", f"{100 * rps / mem_rps:.0f}%",
                         f"{result['statements']:.2f}"])
    finally:
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nHosted mode, one replica on a local PostgreSQL: wrk -t2 -c{CONNECTIONS} -d{args.duration}s\n")
    table(rows, ["workload", "hosted req/s", "p50 ms", "p99 ms", "errors", "in memory", "ratio",
                 "statements/request"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per HTTP workload run")
    parser.add_argument("--scale-duration", type=int, default=5, help="seconds per scale latency run")
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8,9,10", help="comma-separated workload numbers")
    parser.add_argument("--sizes", default="1000,10000,50000", help="member counts for workload 7")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--binary", help="measure this payer-sandbox binary instead of building one "
                        "(e.g. a copy of an earlier build, for a before/after comparison)")
    args = parser.parse_args()
    global BINARY
    if args.binary:
        BINARY = os.path.abspath(args.binary)
        args.no_build = True
    wanted = {int(w) for w in args.only.split(",")}
    for tool in ["wrk", "nginx"]:
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install wrk nginx-light")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    print(f"machine: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}")
    if wanted & {1, 2, 3, 4, 5, 8}:
        run_http_workloads(args, wanted)
    if 10 in wanted:
        run_gzip(args)
    if 6 in wanted:
        run_startup(args)
    if 7 in wanted:
        run_scale(args)
    if 9 in wanted:
        run_hosted(args)


if __name__ == "__main__":
    main()
