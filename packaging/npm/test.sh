#!/usr/bin/env bash
# CI test of the npm packages, from a clean state:
#
#   bash packaging/npm/test.sh BINARY
#
# BINARY is a payer-sandbox release binary for this machine (Linux x86-64 or AArch64). The script
# packs the main package and this platform's package from it (build-packages.mjs), prints each
# tarball's size, installs both tarballs into a fresh project in a temporary directory (with the
# project's pinned Vitest, Playwright and TypeScript from test/package-lock.json), and checks, as
# a user of the package would:
#
#   - the tarballs hold what they should (files, version, optional dependencies), and the
#     installed binary is the local tarball's, not something fetched; the other platforms'
#     packages, built from stand-in files with their executable headers, are right too;
#   - `npx payer-sandbox --help` and `--version`; `npx payer-sandbox` serving, and stopping on a
#     SIGTERM sent to npx;
#   - the Vitest suite (test/vitest), the Playwright suite driving Debian's chromium
#     (test/playwright), a CommonJS require() suite on Node's test runner (test/smoke.test.cjs),
#     and `tsc --noEmit` of the tests and of usage samples against the shipped typings;
#   - no payer-sandbox process of the project is left running at the end.
#
# Needs Node 18+ with npm and the npm registry (for the test project's dev dependencies);
# installs Debian's chromium with apt-get when /usr/bin/chromium is missing (as root). Set
# CHROMIUM to use another Chromium. Ends with "npm: N passed, N failed"; exits non-zero if any
# check failed.

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -ne 1 ]; then
  echo "usage: bash packaging/npm/test.sh BINARY" >&2
  exit 2
fi
BINARY="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
if [ ! -x "$BINARY" ]; then
  echo "test.sh: $1 is not an executable file" >&2
  exit 2
fi

T_START=$(date +%s%N)
PASSED=0
FAILED=0
FAILURES=()
declare -a TIMINGS=()

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# step NAME COMMAND...: runs the command, records pass/fail and how long it took.
step() {
  local name="$1"
  shift
  echo
  echo "=== $name"
  local t0 t1
  t0=$(now_ms)
  if "$@"; then
    t1=$(now_ms)
    PASSED=$((PASSED + 1))
    TIMINGS+=("$(awk -v n="$name" -v ms=$((t1 - t0)) 'BEGIN { printf "%-56s ok    %6.1f s", n, ms / 1000 }')")
  else
    t1=$(now_ms)
    FAILED=$((FAILED + 1))
    FAILURES+=("$name")
    TIMINGS+=("$(awk -v n="$name" -v ms=$((t1 - t0)) 'BEGIN { printf "%-56s FAIL  %6.1f s", n, ms / 1000 }')")
    echo "--- FAILED: $name"
  fi
}

finish() {
  echo
  echo "=== summary"
  if [ -n "${SIZES:-}" ]; then
    echo "tarballs:"
    echo "$SIZES"
  fi
  for t in "${TIMINGS[@]}"; do echo "  $t"; done
  awk -v ms=$(( ($(date +%s%N) - T_START) / 1000000 )) 'BEGIN { printf "total: %.1f s\n", ms / 1000 }'
  for f in "${FAILURES[@]+"${FAILURES[@]}"}"; do echo "failed: $f"; done
  echo "npm: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

abort() {
  echo "test.sh: $*" >&2
  FAILED=$((FAILED + 1))
  FAILURES+=("$*")
  finish
  exit 1
}

command -v node >/dev/null || abort "node is not installed"
command -v npm >/dev/null || abort "npm is not installed"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" -ge 18 ] || abort "Node 18 or later is needed (this is $(node --version))"
echo "node $(node --version), npm $(npm --version)"

PLATFORM=$(node -p 'process.platform + "-" + process.arch')
case "$PLATFORM" in
  linux-x64 | linux-arm64) ;;
  *) abort "test.sh runs on Linux x64 or arm64 (this is $PLATFORM)" ;;
esac

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$CHROMIUM" = /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "=== installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || abort "apt-get install chromium failed"
  else
    abort "no Chromium at $CHROMIUM (install Debian's chromium as root, or set CHROMIUM)"
  fi
fi
export CHROMIUM
echo "$("$CHROMIUM" --version 2>/dev/null | tail -n 1)"

# running PATTERN...: "pid command line" of each live process whose command line contains one of
# the patterns (read from /proc, so procps need not be installed; zombies have none).
running() {
  local d cmd pat parts
  for d in /proc/[0-9]*; do
    { mapfile -d '' parts <"$d/cmdline"; } 2>/dev/null || continue
    cmd="${parts[*]}"
    [ -n "$cmd" ] || continue
    for pat in "$@"; do
      case "$cmd" in *"$pat"*) echo "${d#/proc/} $cmd"; break ;; esac
    done
  done
}

WORK="$(mktemp -d "${TMPDIR:-/tmp}/payer-sandbox-npm.XXXXXX")"
DIST="$WORK/dist"
PROJECT="$WORK/project"
cleanup() {
  # Anything of the project's still running is a failure reported below; end it by pid.
  local pid
  for pid in $(running "$PROJECT/node_modules/@payer-sandbox/" "$PROJECT/node_modules/payer-sandbox/lib/watchdog" | cut -d' ' -f1); do
    kill -KILL "$pid" 2>/dev/null
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

VERSION=$(sed -n '/^\[package\]/,/^\[/{s/^version *= *"\([^"]*\)".*/\1/p}' "$HERE/../../Cargo.toml" | head -n 1)
[ -n "$VERSION" ] || abort "no [package] version in Cargo.toml"
MAIN_TGZ="$DIST/payer-sandbox-$VERSION.tgz"
PLATFORM_TGZ="$DIST/payer-sandbox-$PLATFORM-$VERSION.tgz"

# --- packing -------------------------------------------------------------------------------

echo "=== build-packages.mjs $PLATFORM=$BINARY"
node "$HERE/build-packages.mjs" --out "$DIST" "$PLATFORM=$BINARY" || abort "build-packages.mjs failed"
[ -f "$MAIN_TGZ" ] && [ -f "$PLATFORM_TGZ" ] || abort "the tarballs are not where expected"
SIZES=$(for f in "$MAIN_TGZ" "$PLATFORM_TGZ"; do
  printf '  %-40s %10d bytes (%s); unpacked %s\n' "$(basename "$f")" "$(stat -c %s "$f")" \
    "$(numfmt --to=iec-i --suffix=B "$(stat -c %s "$f")")" \
    "$(numfmt --to=iec-i --suffix=B "$(tar xzf "$f" -O | wc -c)")"
done)
echo "$SIZES"

check_tarballs() {
  local want got
  want=$(printf '%s\n' package/README.md package/bin/payer-sandbox.cjs package/lib/binary.cjs \
    package/lib/index.cjs package/lib/index.d.cts package/lib/index.d.mts package/lib/index.mjs \
    package/lib/watchdog.cjs package/package.json | sort)
  got=$(tar tzf "$MAIN_TGZ" | sort)
  if [ "$want" != "$got" ]; then
    echo "main package files differ from the expected list:"
    diff <(echo "$want") <(echo "$got")
    return 1
  fi
  got=$(tar tzf "$PLATFORM_TGZ" | sort)
  want=$(printf '%s\n' package/README.md package/bin/payer-sandbox package/package.json | sort)
  if [ "$want" != "$got" ]; then
    echo "platform package files differ from the expected list:"
    diff <(echo "$want") <(echo "$got")
    return 1
  fi
  tar tvzf "$PLATFORM_TGZ" package/bin/payer-sandbox | grep -q '^-rwxr-xr-x' || { echo "the binary is not executable in the tarball"; return 1; }
  tar tvzf "$MAIN_TGZ" package/bin/payer-sandbox.cjs | grep -q '^-rwxr-xr-x' || { echo "the launcher is not executable in the tarball"; return 1; }
  tar xzf "$MAIN_TGZ" -O package/package.json | node -e '
    const pkg = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const [version, platform] = process.argv.slice(1);
    const want = ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-x64", "win32-x64"].map((p) => "@payer-sandbox/" + p);
    const problems = [];
    if (pkg.name !== "payer-sandbox") problems.push("name " + pkg.name);
    if (pkg.version !== version) problems.push("version " + pkg.version + ", Cargo.toml says " + version);
    const deps = pkg.optionalDependencies || {};
    if (JSON.stringify(Object.keys(deps).sort()) !== JSON.stringify(want)) problems.push("optionalDependencies " + Object.keys(deps));
    for (const [n, v] of Object.entries(deps)) if (v !== version) problems.push(n + "@" + v);
    if (pkg.dependencies && Object.keys(pkg.dependencies).length) problems.push("runtime dependencies " + Object.keys(pkg.dependencies));
    if (pkg.bin["payer-sandbox"] !== "bin/payer-sandbox.cjs") problems.push("bin");
    if (problems.length) { console.log("main package.json: " + problems.join("; ")); process.exit(1); }
  ' "$VERSION" "$PLATFORM" || return 1
  tar xzf "$PLATFORM_TGZ" -O package/package.json | node -e '
    const pkg = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const [version, platform] = process.argv.slice(1);
    const [os, cpu] = platform.split("-");
    const ok = pkg.name === "@payer-sandbox/" + platform && pkg.version === version &&
      JSON.stringify(pkg.os) === JSON.stringify([os]) && JSON.stringify(pkg.cpu) === JSON.stringify([cpu]);
    if (!ok) { console.log("platform package.json: " + JSON.stringify(pkg)); process.exit(1); }
  ' "$VERSION" "$PLATFORM" || return 1
  echo "contents, modes, versions and optional dependencies as expected"
}
step "tarball contents" check_tarballs

# The other platforms' packages, from stand-in files with each platform's executable header
# (no macOS or Windows binary here): names, os/cpu, the .exe, and a binary refused by the wrong
# platform.
standin_packages() {
  local dir="$WORK/standin" out="$WORK/standin-dist" p
  mkdir -p "$dir"
  node -e '
    const fs = require("fs"), path = require("path"), dir = process.argv[1];
    const elf = (m) => { const b = Buffer.alloc(128); b.writeUInt32BE(0x7f454c46, 0); b[4] = 2; b[5] = 1; b.writeUInt16LE(m, 18); return b; };
    const macho = (cpu) => { const b = Buffer.alloc(128); b.writeUInt32LE(0xfeedfacf, 0); b.writeUInt32LE(cpu, 4); return b; };
    const pe = (m) => { const b = Buffer.alloc(256); b.write("MZ", 0, "latin1"); b.writeUInt32LE(0x80, 0x3c); b.write("PE\0\0", 0x80, "latin1"); b.writeUInt16LE(m, 0x84); return b; };
    const files = { "linux-x64": elf(0x3e), "linux-arm64": elf(0xb7), "darwin-x64": macho(0x01000007), "darwin-arm64": macho(0x0100000c), "win32-x64": pe(0x8664) };
    for (const [p, b] of Object.entries(files)) fs.writeFileSync(path.join(dir, p), b);
  ' "$dir" || return 1
  if node "$HERE/build-packages.mjs" --out "$out" "darwin-arm64=$dir/linux-x64" 2>"$WORK/standin.err"; then
    echo "a Linux binary was packed as darwin-arm64"
    return 1
  fi
  grep -q 'is not a macOS arm64 executable' "$WORK/standin.err" || { cat "$WORK/standin.err"; return 1; }
  node "$HERE/build-packages.mjs" --out "$out" "linux-x64=$dir/linux-x64" "linux-arm64=$dir/linux-arm64" \
    "darwin-x64=$dir/darwin-x64" "darwin-arm64=$dir/darwin-arm64" "win32-x64=$dir/win32-x64" >/dev/null || return 1
  for p in linux-x64 linux-arm64 darwin-x64 darwin-arm64 win32-x64; do
    tar xzf "$out/payer-sandbox-$p-$VERSION.tgz" -O package/package.json | node -e '
      const pkg = JSON.parse(require("fs").readFileSync(0, "utf8"));
      const [p, version] = process.argv.slice(1);
      const [os, cpu] = p.split("-");
      const exe = os === "win32" ? "bin/payer-sandbox.exe" : "bin/payer-sandbox";
      const ok = pkg.name === "@payer-sandbox/" + p && pkg.version === version && pkg.os.join() === os &&
        pkg.cpu.join() === cpu && pkg.files.includes(exe) && !pkg.scripts && !pkg.dependencies;
      if (!ok) { console.log(p + ": " + JSON.stringify(pkg)); process.exit(1); }
    ' "$p" "$VERSION" || return 1
    tar tzf "$out/payer-sandbox-$p-$VERSION.tgz" | grep -qx "package/bin/payer-sandbox$([ "$p" = win32-x64 ] && echo .exe)" ||
      { echo "$p: no binary in the tarball"; return 1; }
  done
  echo "five platform packages, each with its os, cpu and binary; a mismatched binary refused"
}
step "build-packages.mjs for every platform (stand-in binaries)" standin_packages

# --- a fresh project ---------------------------------------------------------------------

mkdir -p "$PROJECT"
(cd "$HERE/test" && tar cf - --exclude=node_modules --exclude=test-results --exclude=playwright-report .) | (cd "$PROJECT" && tar xf -)
cd "$PROJECT" || abort "no project directory"

install_project() {
  # The pinned dev dependencies, exactly as locked; then the two tarballs on top. npm asks the
  # registry about the other platforms' packages (optional, for other machines: skipped);
  # this platform's is the local tarball.
  npm ci --no-audit --no-fund --loglevel=error &&
    npm install --no-save --no-audit --no-fund --loglevel=error "$MAIN_TGZ" "$PLATFORM_TGZ"
}
step "npm ci + install the tarballs into a fresh project" install_project
[ -f node_modules/payer-sandbox/package.json ] || abort "payer-sandbox did not install"

check_installed() {
  node -e '
    const lock = require("./node_modules/.package-lock.json").packages;
    const p = lock["node_modules/@payer-sandbox/" + process.argv[1]];
    if (!p || !String(p.resolved).startsWith("file:")) { console.log("the platform package was not installed from the local tarball: " + JSON.stringify(p)); process.exit(1); }
    const others = Object.keys(lock).filter((k) => k.startsWith("node_modules/@payer-sandbox/") && !k.endsWith(process.argv[1]));
    if (others.length) { console.log("other platforms installed: " + others); process.exit(1); }
  ' "$PLATFORM" || return 1
  cmp "$BINARY" "node_modules/@payer-sandbox/$PLATFORM/bin/payer-sandbox" || { echo "the installed binary is not the one packed"; return 1; }
  [ -x "node_modules/@payer-sandbox/$PLATFORM/bin/payer-sandbox" ] || { echo "the installed binary is not executable"; return 1; }
  echo "node_modules/@payer-sandbox/$PLATFORM is the local tarball's, and the only platform package"
}
step "the installed binary is the packed one" check_installed

npx_help() {
  local out
  out=$(npx --no-install payer-sandbox --help) || return 1
  echo "$out" | head -n 5
  echo "$out" | grep -q '^Usage: payer-sandbox' || { echo "no usage line"; return 1; }
  echo "$out" | grep -q -- '--listen' || { echo "no --listen flag"; return 1; }
  out=$(npx --no-install payer-sandbox --version) || return 1
  [ "$out" = "payer-sandbox $VERSION" ] || { echo "--version says: $out"; return 1; }
  echo "$out"
  # An unknown flag: the server's own exit code comes through.
  npx --no-install payer-sandbox --no-such-flag >/dev/null 2>&1
  local rc=$?
  [ "$rc" -eq 2 ] || { echo "an unknown flag exited $rc, not 2"; return 1; }
}
step "npx payer-sandbox --help / --version" npx_help

npx_serve() {
  local out="$WORK/npx.out" url="" pid i rc
  npx --no-install payer-sandbox --listen 127.0.0.1:0 >"$out" 2>"$WORK/npx.err" &
  pid=$!
  for i in $(seq 1 100); do
    url=$(sed -n 's/^payer-sandbox listening on //p' "$out")
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "no listening line"; cat "$WORK/npx.err"; kill "$pid"; return 1; }
  echo "listening on $url"
  node -e 'fetch(process.argv[1] + "/healthz").then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))' "$url" ||
    { echo "/healthz did not answer 200"; kill "$pid"; return 1; }
  kill -TERM "$pid"
  wait "$pid"
  rc=$?
  echo "npx exited $rc after SIGTERM"
  for i in $(seq 1 50); do
    [ -n "$(running "$PROJECT/node_modules/@payer-sandbox/$PLATFORM/bin/payer-sandbox")" ] || break
    sleep 0.1
  done
  if [ -n "$(running "$PROJECT/node_modules/@payer-sandbox/$PLATFORM/bin/payer-sandbox")" ]; then
    echo "the server outlived npx"
    return 1
  fi
  echo "the server stopped with it"
}
step "npx payer-sandbox serves, and stops on SIGTERM" npx_serve

step "Vitest (test/vitest)" npx --no-install vitest run
step "Playwright test runner + chromium (test/playwright)" npx --no-install playwright test
step "CommonJS require() on node --test (test/smoke.test.cjs)" node --test smoke.test.cjs
step "tsc --noEmit: the tests" npx --no-install tsc -p tsconfig.json
step "tsc --noEmit: Node ESM + CommonJS usage, typings checked" npx --no-install tsc -p tsconfig.node.json
step "tsc --noEmit: bundler resolution without @types/node" npx --no-install tsc -p tsconfig.bundler.json

no_leftovers() {
  sleep 0.5
  local left
  left=$(running "$PROJECT/node_modules/@payer-sandbox/" "$PROJECT/node_modules/payer-sandbox/lib/watchdog" \
    "$PROJECT/node_modules/.bin/payer-sandbox")
  if [ -n "$left" ]; then
    echo "still running:"
    echo "$left"
    return 1
  fi
  echo "none"
}
step "no payer-sandbox process left running" no_leftovers

finish
