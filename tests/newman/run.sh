#!/usr/bin/env bash
# Runs the Postman collection (examples/postman) with newman against a fresh payer-sandbox:
#
#   tests/newman/run.sh
#
# Installs newman from the committed package-lock.json, starts the server on 127.0.0.1 with a
# free port (the binary in $PAYER_SANDBOX_BIN, else a debug build), waits for its listening line,
# runs the collection with baseUrl pointed at it, and stops the server. The FHIR folder runs when
# the server has a FHIR API (GET /r4/metadata answers 200); otherwise it is skipped and says so.
# NEWMAN_FHIR=1 runs it regardless.
set -euo pipefail
cd "$(dirname "$0")/../.."

echo "== newman: install"
npm ci --prefix tests/newman --no-audit --no-fund --loglevel=error
NEWMAN=tests/newman/node_modules/.bin/newman

BIN=${PAYER_SANDBOX_BIN:-}
if [ -z "$BIN" ]; then
  cargo build --locked --quiet
  BIN=target/debug/payer-sandbox
fi

OUT=$(mktemp)
"$BIN" --listen 127.0.0.1:0 >"$OUT" 2>/dev/null &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -f "$OUT"' EXIT
URL=
for _ in $(seq 100); do
  URL=$(sed -n 's/^payer-sandbox listening on //p' "$OUT")
  [ -n "$URL" ] && break
  kill -0 "$SERVER" 2>/dev/null || { echo "payer-sandbox exited before listening" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "payer-sandbox did not print its listening line within 10 s" >&2; exit 1; }
echo "== newman: against $URL ($BIN)"

FOLDERS=()
if [ "${NEWMAN_FHIR:-}" != 1 ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/r4/metadata")" != 200 ]; then
  echo "   GET /r4/metadata is not 200: no FHIR API in this build, skipping the FHIR folder"
  FOLDERS=(--folder OAuth --folder "Sandbox tools")
fi

STATUS=0
"$NEWMAN" run examples/postman/payer-sandbox.postman_collection.json \
  --environment examples/postman/payer-sandbox.postman_environment.json \
  --env-var "baseUrl=$URL" "${FOLDERS[@]}" \
  --reporters cli --color off --timeout-request 10000 || STATUS=$?

kill -TERM "$SERVER"
wait "$SERVER" || true
exit "$STATUS"
