#!/usr/bin/env bash
# Scale benchmark for loading and for the FHIR search path (docs/fhir-api.md): how long does a data set
# take to load and how much memory does it hold, and does one member's search cost the same
# whatever the size of the data set?
#
#   benches/scale.sh [WORK_DIR]
#   SIZES="1000 10000" benches/scale.sh
#
# Builds the release binary once, generates data sets of 1,000, 10,000 and 50,000 members
# (SIZES) with tools/seedgen (cached in WORK_DIR, default target/bench-data; 50,000 members
# take a few minutes and 5.2 GB), starts one server per data set on loopback with --data, one
# at a time, and prints for each: time to the listening line, CPU time used by then, RSS
# serving and peak RSS (VmHWM). Then it times `ExplanationOfBenefit?patient=…&_include=
# ExplanationOfBenefit:*` for the same member on every server (its claims are identical in
# every set), alternating batches between the servers so background load falls on all alike.
# Prints median and p99 latency per size and the ratio of the largest's median to the
# smallest's (target: below 1.5). Bounded in time: measuring stops after REQUESTS requests per
# server or MAX_SECONDS seconds, and the whole run is killed after TIME_LIMIT seconds. Needs
# python3 and coreutils' timeout; the servers together hold a little more memory than the JSON
# they load (about 7.5 GB for the three default sizes).
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
read -r -a SIZES <<<"${SIZES:-1000 10000 50000}"
TICKS=$(getconf CLK_TCK)

cargo build --release --quiet
BIN=target/release/payer-sandbox
mkdir -p "$WORK"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 1' INT TERM

urls=()
labels=()
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
  # CPU time (user + system) to the listening line: on a shared machine, steadier than the
  # wall clock.
  cpu=$(awk -v t="$TICKS" '{printf "%.1f", ($14 + $15) / t}' "/proc/$pid/stat")
  json=$(du -sm --apparent-size "$data" | cut -f1)
  sleep 1
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
  peak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
  echo "$n members ($json MiB of JSON): loaded in $(( (ready - started) / 1000000 )) ms ($cpu s of CPU), RSS $rss MiB serving, peak $peak MiB, $url"
  urls+=("$url")
  labels+=("$((n / 1000))k")
done

python3 benches/measure.py "$MEMBER" "${urls[@]}" --labels "$(IFS=,; echo "${labels[*]}")" \
  --requests "$REQUESTS" --max-seconds "$MAX_SECONDS"
