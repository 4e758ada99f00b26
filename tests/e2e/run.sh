#!/usr/bin/env bash
# payer-sandbox end-to-end suites: real client libraries, unmodified, against the real binary.
#
#   tests/e2e/run.sh              # every suite
#   tests/e2e/run.sh SUITE...     # some of: fhirclient-py fhirpy fhirclient-js-node fhirclient-js-chromium
#
# Installs its own dependencies on first use: a Python venv in target/e2e/venv (pinned packages
# of requirements.txt), the npm packages of js/package-lock.json, and Debian's chromium when
# /usr/bin/chromium is missing. Builds payer-sandbox (cargo build --locked; PAYER_SANDBOX_BIN
# names a prebuilt binary instead), starts it on 127.0.0.1 at a free port, runs the suites,
# stops it. Artifacts go to target/e2e/: JUnit reports, the server log, screenshots of every
# sign-in page and of the sandbox timeline at desktop and phone sizes. Prints `N passed,
# N failed` last and exits non-zero on any failure (a node:test `todo`, a known problem, is
# listed and counted as skipped).
#
# Each suite runs the same clients against the network's other plans too (the *_plans.py and
# plans-*.test.mjs files; the profiles are in src/plans/network.toml), and they bring out these
# client behaviours:
#   Lakeshore Mutual Health: client-py and client-js both send a client secret in HTTP Basic
#     only, which Lakeshore refuses (401 invalid_client): with them only a public app gets in
#     (private_key_jwt is not tried here). The token response has no `patient`: client-py ignores the id_token and
#     has no patient_id; client-js's patient.id is null and patient.read() rejects "Patient is
#     not available" (an app that reads client.patient fails), while getFhirUser() and user.id
#     name the patient from the id_token. No refresh token, though offline_access is granted:
#     client-js's refresh() throws "No refresh_token found" and, an hour on, its request gets 401
#     and it clears its state ("Session expired! Please re-launch the app"); client-py's
#     reauthorize() raises a TypeError. No _include; claims name their coverage by identifier,
#     which client-js's resolveReferences skips.
#   Cascade Health Alliance: HTTP Basic, PKCE and aud suit client-py and client-js as they are;
#     client-py adds launch/patient itself, client-js sends the scope as given, and a v1 scope
#     is refused before sign-in (invalid_scope). Pages of 10 without `total` (a count-only
#     search keeps it, so fhirpy's .count() works); an ignored _include comes back as an
#     OperationOutcome entry, which client-js's flat: true returns among the resources. 900 s
#     tokens: client-js refreshes (HTTP Basic) by itself before its request, client-py when the
#     app calls reauthorize() after a 401; both keep the rotated refresh token, and reusing an
#     old one revokes the authorization (the next refresh gets invalid_grant). More than 10
#     requests a second per token get 429 with Retry-After: 1, which no client retries:
#     client-js rejects with an HttpError 429, client-py raises requests' HTTPError, fhirpy an
#     OperationOutcome without the status; even a few ordinary requests back to back reach it.
#   Both: an app aggregating Marisol Vega-Lindqvist's records (fhirpy) sees one person twice,
#     two Patient ids and member IDs with one name and birth date, and each plan's claims only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/e2e"
venv="$out/venv"
js="$here/js"
python="${PYTHON:-python3}"
started=$(date +%s)

all_suites=(fhirclient-py fhirpy fhirclient-js-node fhirclient-js-chromium)
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=("${all_suites[@]}")
for s in "${suites[@]}"; do
  case " ${all_suites[*]} " in *" $s "*) ;; *) echo "e2e: unknown suite '$s' (${all_suites[*]})" >&2; exit 2 ;; esac
done
wants() { case " ${suites[*]} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
say() { echo "e2e: $*" >&2; }

for tool in "$python" node npm; do
  command -v "$tool" >/dev/null 2>&1 || { say "'$tool' is required"; exit 2; }
done
mkdir -p "$out"
rm -rf "$out/screenshots" "$out"/junit-*.xml "$out"/browser-console*.log

# ---- dependencies ----------------------------------------------------------------------------

if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
  say "installing Python dependencies into target/e2e/venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements.txt"
fi

if [ ! -f "$js/node_modules/.package-lock.json" ] || ! cmp -s "$js/package-lock.json" "$js/node_modules/.package-lock.copy"; then
  say "installing npm dependencies (npm ci)"
  (cd "$js" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
  cp "$js/package-lock.json" "$js/node_modules/.package-lock.copy"
fi

# CHROMIUM may name another Chromium build; the default is Debian's, installed when missing.
chromium="${CHROMIUM:-/usr/bin/chromium}"
if wants fhirclient-js-chromium && [ ! -x "$chromium" ]; then
  if [ -n "${CHROMIUM:-}" ]; then say "CHROMIUM=$CHROMIUM is not an executable"; exit 2; fi
  if [ "$(id -u)" -ne 0 ]; then say "/usr/bin/chromium is missing and installing it needs root"; exit 2; fi
  say "installing Debian's chromium (apt-get install chromium)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi

# ---- the server ------------------------------------------------------------------------------

bin="${PAYER_SANDBOX_BIN:-}"
if [ -z "$bin" ]; then
  say "building payer-sandbox (cargo build --locked)"
  (cd "$root" && cargo build --locked --quiet >&2)
  bin="$root/target/debug/payer-sandbox"
fi

# PAYER_SANDBOX_E2E_DATABASE=postgres://… (as `tests/hosted/run.sh --e2e` sets it): hosted mode,
# two replicas on that database behind nginx balancing each request round-robin (no sticky
# sessions), the clients talking to nginx only.
database="${PAYER_SANDBOX_E2E_DATABASE:-}"
server_pids=()
balancer_dir=""
stop_server() {
  for pid in "${server_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  server_pids=()
  if [ -n "$balancer_dir" ]; then
    nginx -c "$balancer_dir/nginx.conf" -p "$balancer_dir" -s stop 2>/dev/null || true
    balancer_dir=""
  fi
}
trap stop_server EXIT
trap 'stop_server; exit 130' INT TERM

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_replica() { # stdout file, log file, listen address, flags...
  local stdout="$1" log="$2" listen="$3"; shift 3
  : >"$stdout"
  NO_COLOR=1 "$bin" --listen "$listen" "$@" >"$stdout" 2>"$log" &
  local pid=$!
  server_pids+=("$pid")
  local listening=""
  for _ in $(seq 1 300); do
    listening="$(sed -n 's/^payer-sandbox listening on //p' "$stdout" | head -n1)"
    [ -n "$listening" ] && break
    kill -0 "$pid" 2>/dev/null || { say "payer-sandbox exited during start-up:"; cat "$log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$listening" ] || { say "payer-sandbox did not print its listening line within 30 s"; exit 1; }
}

if [ -z "$database" ]; then
  start_replica "$out/server.stdout" "$out/server.log" 127.0.0.1:0
  url="$(sed -n 's/^payer-sandbox listening on //p' "$out/server.stdout" | head -n1)"
else
  if ! command -v nginx >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then say "nginx is missing and installing it needs root"; exit 2; fi
    say "installing Debian's nginx-light (apt-get install nginx-light)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >&2
  fi
  balancer_port="$(free_port)"
  url="http://127.0.0.1:$balancer_port"
  upstreams=""
  for n in 1 2; do
    # Each replica announces the balancer's URL: discovery, redirects and Bundle links name it.
    address="127.0.0.1:$(free_port)"
    start_replica "$out/server-$n.stdout" "$out/server-$n.log" "$address" --database "$database" --public-url "$url"
    upstreams="$upstreams        server $address;
"
  done
  balancer_dir="$(mktemp -d)"
  cat >"$balancer_dir/nginx.conf" <<NGINX
worker_processes 1;
pid $balancer_dir/nginx.pid;
error_log $balancer_dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $balancer_dir/body;
    proxy_temp_path $balancer_dir/proxy;
    fastcgi_temp_path $balancer_dir/fastcgi;
    uwsgi_temp_path $balancer_dir/uwsgi;
    scgi_temp_path $balancer_dir/scgi;
    upstream replicas {
$upstreams        keepalive 16;
    }
    server {
        listen 127.0.0.1:$balancer_port;
        location / {
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_buffering off;
        }
    }
}
NGINX
  nginx -c "$balancer_dir/nginx.conf" -p "$balancer_dir"
  say "two replicas on $(echo "$database" | sed 's#//[^@]*@#//#') behind nginx at $url"
fi
say "node $(node --version), $("$venv/bin/python" --version), $("$chromium" --version 2>/dev/null || echo 'chromium: not used')"

# ---- the suites ------------------------------------------------------------------------------

export PAYER_SANDBOX_URL="$url" E2E_ARTIFACTS="$out" CHROMIUM="$chromium"
reports=()
run_suite() { # name, command...
  local name="$1"; shift
  local t0=$(date +%s)
  echo "== $name"
  timeout 600 "$@" || true
  echo "   ($(( $(date +%s) - t0 )) s)"
}

pytest_suite() { # name, file...
  local name="$1"; shift
  reports+=("$name=$out/junit-$name.xml")
  (cd "$here/python" && run_suite "$name" "$venv/bin/python" -m pytest -q -p no:cacheprovider \
    -o junit_suite_name="$name" --junitxml="$out/junit-$name.xml" "$@")
}

node_suite() { # name, file... (one file at a time: they share the server and its clock)
  local name="$1"; shift
  reports+=("$name=$out/junit-$name.xml")
  (cd "$js" && run_suite "$name" node --disable-warning=ExperimentalWarning --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=junit --test-reporter-destination="$out/junit-$name.xml" "$@")
}

wants fhirclient-py && pytest_suite fhirclient-py test_fhirclient.py test_fhirclient_plans.py
wants fhirpy && pytest_suite fhirpy test_fhirpy.py test_fhirpy_plans.py
wants fhirclient-js-node && node_suite fhirclient-js-node node-adapter.test.mjs plans-node.test.mjs
wants fhirclient-js-chromium && node_suite fhirclient-js-chromium browser.test.mjs plans-browser.test.mjs

stop_server
trap - EXIT

echo "== summary (artifacts in target/e2e/, run time $(( $(date +%s) - started )) s)"
[ -d "$out/screenshots" ] && echo "  screenshots: $(ls "$out/screenshots" | wc -l) in target/e2e/screenshots/"
exec "$venv/bin/python" "$here/summary.py" "${reports[@]}"
