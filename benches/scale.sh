#!/usr/bin/env bash
# Scale benchmark for the FHIR search path (SPEC §6): does one member's search cost the same
# whatever the size of the data set?
#
#   benches/scale.sh [WORK_DIR]
#
# Builds the release binary once, generates data sets of 1,000 and 10,000 members with
# tools/seedgen (cached in WORK_DIR, default target/bench-data), starts one server per data set
# on loopback with --data, and times `ExplanationOfBenefit?patient=…&_include=
# ExplanationOfBenefit:*` for the same member on both (its claims are identical in both sets),
# alternating batches between the servers so background load falls on both alike. Prints
# median and p99 latency at both sizes and the 10k/1k ratio of the medians (target: below
# 1.5). Bounded in time: measuring stops after REQUESTS requests per server or MAX_SECONDS
# seconds, and the whole run is killed after TIME_LIMIT seconds. Needs python3 and coreutils'
# timeout; the 10,000-member server needs about 20 GB of memory while it loads (the parsed
# JSON), under 3 GB once serving.
set -euo pipefail

if [ -z "${SCALE_SH_LIMITED:-}" ]; then
  SCALE_SH_LIMITED=1 exec timeout --kill-after=10 "${TIME_LIMIT:-1200}" "$0" "$@"
fi

cd "$(dirname "$0")/.."
WORK=${1:-target/bench-data}
REQUESTS=${REQUESTS:-2000}
MAX_SECONDS=${MAX_SECONDS:-120}
# Member 42 exists in both data sets with the same claims: the search result is identical.
MEMBER=${MEMBER:-08-bench000042}
SIZES=(1000 10000)

cargo build --release --quiet
BIN=target/release/payer-sandbox
mkdir -p "$WORK"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 1' INT TERM

urls=()
for n in "${SIZES[@]}"; do
  data="$WORK/members-$n"
  if [ ! -f "$data/.complete" ]; then
    rm -rf "$data"
    echo "generating $n members into $data" >&2
    python3 tools/seedgen/seedgen.py --members "$n" --out "$data" --jobs 2 >&2
    touch "$data/.complete"
  fi
  # One server at a time while loading: the load-time peak is the memory high-water mark.
  log="$WORK/server-$n.log"
  started=$(date +%s%N)
  "$BIN" --listen 127.0.0.1:0 --data "$data" >"$log" 2>"$WORK/server-$n.err" &
  pid=$!
  pids+=("$pid")
  url=""
  until [ -n "$url" ]; do
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/server-$n.err" >&2; exit 1; }
    sleep 0.2
    url=$(sed -n 's/^payer-sandbox listening on //p' "$log")
  done
  ready=$(date +%s%N)
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
  peak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
  echo "$n members: loaded in $(( (ready - started) / 1000000 )) ms, RSS $rss MiB (peak while loading $peak MiB), $url"
  urls+=("$url")
done

python3 benches/measure.py "$MEMBER" "${urls[@]}" --labels 1k,10k \
  --requests "$REQUESTS" --max-seconds "$MAX_SECONDS"
