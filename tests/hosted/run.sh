#!/usr/bin/env bash
# Hosted mode's integration suite (docs/hosted.md) against a real PostgreSQL.
#
#   tests/hosted/run.sh               the hosted-mode tests
#   tests/hosted/run.sh NAME          those whose name contains NAME
#   tests/hosted/run.sh --whole-suite the API suite (tests/api), each server in hosted mode
#   tests/hosted/run.sh --e2e [SUITE] the end-to-end suites against two replicas behind nginx
#
# Starts a throwaway PostgreSQL from Debian's packages (installed with apt-get when missing, as
# root) with initdb and pg_ctl as an unprivileged user, on a free loopback port, in
# target/hosted/pg; runs `cargo test --test hosted` against it (its tests are #[ignore]d in a plain
# `cargo test`, which has no database); stops it. The tests stop and start the server themselves
# (PAYER_SANDBOX_TEST_PG_STOP, PAYER_SANDBOX_TEST_PG_START) to prove recovery.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/target/hosted"
say() { echo "hosted: $*" >&2; }

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  if [ "$(id -u)" -ne 0 ]; then say "PostgreSQL is missing and installing it needs root"; exit 2; fi
  say "installing Debian's postgresql (apt-get install postgresql)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi

# PostgreSQL refuses to run as root: as root, run it as an unprivileged user of its own.
as_user=()
if [ "$(id -u)" -eq 0 ]; then
  user=payer-sandbox-pg
  id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  as_user=(runuser -u "$user" --)
fi

rm -rf "$out/pg"
mkdir -p "$out/pg"
[ ${#as_user[@]} -eq 0 ] || chown "${as_user[2]}" "$out/pg"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
pgdata="$out/pg/data"

"${as_user[@]}" "$bindir/initdb" -D "$pgdata" -U sandbox --auth=trust --no-sync >"$out/pg/initdb.log" 2>&1
pg_ctl=("${as_user[@]}" "$bindir/pg_ctl" -D "$pgdata" -l "$out/pg/server.log"
  -o "-p $port -k $out/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=1000")
stop() { "${pg_ctl[@]}" stop -m fast >/dev/null 2>&1 || true; }
trap stop EXIT
"${pg_ctl[@]}" start -w >/dev/null
say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"

# The tests stop and start the server through these two scripts.
for action in "stop -m fast" "start -w"; do
  { echo '#!/usr/bin/env bash'; printf 'exec'; printf ' %q' "${pg_ctl[@]}"; echo " $action"; } \
    >"$out/pg/${action%% *}.sh"
done
chmod +x "$out/pg/stop.sh" "$out/pg/start.sh"

export PAYER_SANDBOX_TEST_DATABASE="postgres://sandbox@127.0.0.1:$port/postgres"
export PAYER_SANDBOX_TEST_PG_STOP="$out/pg/stop.sh"
export PAYER_SANDBOX_TEST_PG_START="$out/pg/start.sh"
cd "$root"
if [ "${1:-}" = "--e2e" ]; then
  # The end-to-end suites against two replicas on this database behind a round-robin balancer.
  shift
  PAYER_SANDBOX_E2E_DATABASE="$PAYER_SANDBOX_TEST_DATABASE" bash tests/e2e/run.sh "$@"
elif [ "${1:-}" = "--whole-suite" ]; then
  # The API suite in hosted mode: each of its servers on a fresh database of its own.
  shift
  PAYER_SANDBOX_TEST_HOSTED="$PAYER_SANDBOX_TEST_DATABASE" cargo test --locked --test api -- "$@"
else
  cargo test --locked --test hosted -- --ignored --test-threads=1 "$@"
fi
