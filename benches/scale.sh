#!/usr/bin/env bash
# Scale benchmark for the FHIR search path (SPEC §6): does one member's search cost the same
# whatever the size of the data set?
#
#   benches/scale.sh [WORK_DIR]
#
# Builds the release binary once, generates data sets of 1,000 and 10,000 members with
# tools/seedgen (cached in WORK_DIR, default target/bench-data), starts the server on loopback
# with --data for each, and times `ExplanationOfBenefit?patient=…&_include=ExplanationOfBenefit:*`
# for the same member (its data is identical in both sets). Prints median and p99 latency at
# both sizes and the 10k/1k ratio of the medians (target: below 1.5). Bounded in time: each
# measurement stops after REQUESTS requests or MAX_SECONDS seconds, and the whole run is
# killed after TIME_LIMIT seconds. Needs python3, bc and coreutils' timeout.
set -euo pipefail

cd "$(dirname "$0")/.."
WORK=${1:-target/bench-data}
REQUESTS=${REQUESTS:-2000}
MAX_SECONDS=${MAX_SECONDS:-60}
TIME_LIMIT=${TIME_LIMIT:-1200}
# Member 42 exists in both data sets with the same claims: the search result is identical.
MEMBER=${MEMBER:-08-bench000042}
SIZES=(1000 10000)

if [ -z "${SCALE_SH_LIMITED:-}" ]; then
  SCALE_SH_LIMITED=1 exec timeout --kill-after=10 "$TIME_LIMIT" "$0" "$@"
fi

cargo build --release --quiet
BIN=target/release/payer-sandbox
mkdir -p "$WORK"

server_pid=""
cleanup() { if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
trap 'exit 1' INT TERM

declare -A MEDIAN P99
for n in "${SIZES[@]}"; do
  data="$WORK/members-$n"
  if [ ! -f "$data/.complete" ]; then
    rm -rf "$data"
    echo "generating $n members into $data" >&2
    python3 tools/seedgen/seedgen.py --members "$n" --out "$data" --jobs 2 >&2
    touch "$data/.complete"
  fi
  log="$WORK/server-$n.log"
  started=$(date +%s.%N)
  "$BIN" --listen 127.0.0.1:0 --data "$data" --log-format text >"$log" 2>"$WORK/server-$n.err" &
  server_pid=$!
  url=""
  for _ in $(seq 1 600); do
    url=$(sed -n 's/^payer-sandbox listening on //p' "$log")
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$WORK/server-$n.err" >&2; exit 1; }
    sleep 0.2
  done
  [ -n "$url" ] || { echo "server did not start" >&2; exit 1; }
  ready=$(date +%s.%N)
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
  result=$(python3 benches/measure.py "$url" "$MEMBER" --requests "$REQUESTS" --max-seconds "$MAX_SECONDS")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  MEDIAN[$n]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["median_ms"])' "$result")
  P99[$n]=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["p99_ms"])' "$result")
  printf '%6s members: start-up %.1f s, RSS %d MiB, %s\n' "$n" \
    "$(echo "$ready - $started" | bc)" "$((rss / 1024))" "$result"
done

python3 - "${MEDIAN[1000]}" "${MEDIAN[10000]}" "${P99[1000]}" "${P99[10000]}" <<'PY'
import sys
m1, m10, p1, p10 = map(float, sys.argv[1:])
ratio = m10 / m1
print(f"median: 1k {m1:.3f} ms, 10k {m10:.3f} ms; p99: 1k {p1:.3f} ms, 10k {p10:.3f} ms")
print(f"ratio (10k/1k median): {ratio:.2f} {'OK' if ratio < 1.5 else 'ABOVE TARGET 1.5'}")
print(f"ratio (10k/1k p99): {p10 / p1:.2f}")
PY
