#!/usr/bin/env bash
# payer-sandbox conformance suite.
#
#   tests/conformance/run.sh [DIR ...]
#   tests/conformance/run.sh --self-test    # check that the validators catch deliberate errors
#
# Validates every resource in seed-data/ and, when given, in each DIR (JSON resources,
# Bundles and NDJSON files, e.g. dumped API responses). Installs its own dependencies on
# first use: a Python venv in target/conformance/venv (pinned fhirclient) and the npm
# packages of tests/conformance/package-lock.json. Exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/conformance/venv"
python="${PYTHON:-python3}"

for tool in "$python" node npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "conformance: '$tool' is required" >&2; exit 2; }
done

if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements.txt" "$venv/.requirements.txt"; then
  echo "conformance: installing Python dependencies into target/conformance/venv" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements.txt"
fi

if [ ! -f "$here/node_modules/.package-lock.json" ] || ! cmp -s "$here/package-lock.json" "$here/node_modules/.package-lock.copy"; then
  echo "conformance: installing npm dependencies (npm ci)" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
  cp "$here/package-lock.json" "$here/node_modules/.package-lock.copy"
fi

if [ "${1:-}" = "--self-test" ]; then
  exec "$venv/bin/python" "$here/selftest.py"
fi

seed=(--seed-data "$root/seed-data")
if [ "${1:-}" = "--without-seed" ]; then
  # Only the directories: data the server changed (new versions, new resources), which the
  # seed's own rules (its claims' units, its dates) do not describe.
  seed=()
  shift
fi

dirs=()
for d in "$@"; do
  case "$d" in
    -*) dirs+=("$d") ;;
    *) dirs+=("$(cd "$d" && pwd)") ;;
  esac
done

exec "$venv/bin/python" "$here/validate.py" ${seed[@]+"${seed[@]}"} ${dirs[@]+"${dirs[@]}"}
