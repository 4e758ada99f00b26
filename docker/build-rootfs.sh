#!/usr/bin/env bash
# Builds the container image's contents without Docker: the same commands docker/Dockerfile runs
# in its build stage (it calls this script), so CI checks the image's build on a machine with no
# Docker engine.
#
#   docker/build-rootfs.sh [ROOTFS_DIR] [--verify]
#
# 1. A fully static release binary for the host (docker/static-build.sh says how: the glibc
#    target with crt-static, so nothing needs the dynamic loader or /etc/nsswitch.conf).
# 2. Lays out the runtime filesystem for a `scratch` image in ROOTFS_DIR (default
#    target/rootfs): the binary, /etc/passwd and /etc/group naming the non-root user
#    `sandbox` (10001), and the state directory /var/lib/payer-sandbox owned by that user.
# 3. With --verify (CI; needs root for chroot): checks that the binary has no ELF interpreter,
#    then runs it inside a chroot of ROOTFS_DIR as the non-root user, exactly as the image would
#    (nothing else on the filesystem), with --state-dir on the state directory: waits for the
#    listening line, probes it with --healthcheck from inside the chroot, registers an app so the
#    state file is written as that user, and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOTFS=target/rootfs
VERIFY=0
for arg in "$@"; do
  case "$arg" in
    --verify) VERIFY=1 ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) ROOTFS=$arg ;;
  esac
done
APP_UID=10001
STATE_DIR=/var/lib/payer-sandbox

echo "== build: static release binary"
BINARY=$(docker/static-build.sh "$(rustc -vV | sed -n 's/^host: //p')")

echo "== assemble the runtime filesystem in $ROOTFS"
rm -rf "$ROOTFS"
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/etc" "$ROOTFS$STATE_DIR"
install -m 0755 "$BINARY" "$ROOTFS/usr/local/bin/payer-sandbox"
printf 'root:x:0:0:root:/root:/sbin/nologin\nsandbox:x:%s:%s:payer-sandbox:%s:/sbin/nologin\n' \
  "$APP_UID" "$APP_UID" "$STATE_DIR" > "$ROOTFS/etc/passwd"
printf 'root:x:0:\nsandbox:x:%s:\n' "$APP_UID" > "$ROOTFS/etc/group"
chown "$APP_UID:$APP_UID" "$ROOTFS$STATE_DIR"
chmod 0700 "$ROOTFS$STATE_DIR"
ls -l "$ROOTFS/usr/local/bin/payer-sandbox"

if [ "$VERIFY" = 0 ]; then
  exit 0
fi

echo "== verify: static, runs alone in the rootfs as user $APP_UID"
if readelf -l "$ROOTFS/usr/local/bin/payer-sandbox" | grep -q 'INTERP'; then
  echo "the binary asks for a dynamic loader: it would not start on scratch" >&2
  exit 1
fi
LOG=$(mktemp)
chroot --userspec="$APP_UID:$APP_UID" "$ROOTFS" /usr/local/bin/payer-sandbox \
  --listen 127.0.0.1:0 --state-dir "$STATE_DIR" >"$LOG" 2>/dev/null &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -f "$LOG"' EXIT
URL=
for _ in $(seq 100); do
  URL=$(sed -n 's/^payer-sandbox listening on //p' "$LOG")
  [ -n "$URL" ] && break
  kill -0 "$SERVER" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "no listening line within 10 s" >&2; exit 1; }
echo "listening on $URL"
chroot --userspec="$APP_UID:$APP_UID" "$ROOTFS" /usr/local/bin/payer-sandbox --healthcheck "$URL/healthz"
echo "healthcheck passed"
curl -fsS -o /dev/null -X POST "$URL/oauth2/register" -H 'content-type: application/json' \
  -d '{"client_name":"rootfs check","redirect_uris":["http://localhost/cb"]}'
test "$(stat -c %u "$ROOTFS$STATE_DIR/state.json")" = "$APP_UID"
echo "state written by user $APP_UID to $STATE_DIR/state.json"
if chroot --userspec="$APP_UID:$APP_UID" "$ROOTFS" /usr/local/bin/payer-sandbox --healthcheck "$URL/nowhere" 2>/dev/null; then
  echo "the healthcheck passed a 404" >&2
  exit 1
fi
kill -TERM "$SERVER"
wait "$SERVER" || { echo "the server did not shut down cleanly" >&2; exit 1; }
rm -f "$ROOTFS$STATE_DIR/state.json" "$ROOTFS$STATE_DIR"/*.tmp 2>/dev/null || true
echo "rootfs verified: $(du -sh "$ROOTFS" | cut -f1) in all"
