#!/usr/bin/env bash
# A release's artifacts, built here from this checkout (docs/install.md#release-builds). Publishes
# nothing: it writes the files a release would upload, and their checksums.
#
#   packaging/release.sh [--out DIR] [--platforms LIST] [--no-run]
#
#   --out DIR         where the artifacts go (default target/release-artifacts), emptied first
#   --platforms LIST  comma-separated, from: linux-x64 linux-arm64 win32-x64 darwin-x64
#                     darwin-arm64 (default: the first three, and the two darwin ones on a Mac or
#                     where SDKROOT names a macOS SDK)
#   --no-run          do not run the built binaries (by default each one that this machine can
#                     run, natively or under qemu-user, must answer --version with the release's
#                     version, start, and serve /r4/metadata)
#
# For each platform: a release build of the binary, then
#   payer-sandbox-VERSION-PLATFORM.tar.gz (.zip for Windows)   the binary, README and LICENSE
#   payer_sandbox-VERSION-py3-none-TAG.whl                      packaging/python/build-wheel.sh
#   payer-sandbox-PLATFORM-VERSION.tgz                          packaging/npm/build-packages.mjs
# and once: payer-sandbox-VERSION.tgz (the npm main package) and SHA256SUMS over every file.
#
# How each platform is built:
#   linux-x64     x86_64-unknown-linux-gnu, fully static (crt-static), built by
#                 docker/static-build.sh as the container image is: the host's gcc links it
#   linux-arm64   aarch64-unknown-linux-gnu, fully static, linked by Debian's cross gcc
#                 (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross); run under qemu-user
#   win32-x64     x86_64-pc-windows-gnu, linked by Debian's MinGW-w64 (gcc-mingw-w64-x86-64);
#                 aws-lc-sys (the JOSE library's crypto) assembles its Windows code with nasm
#   darwin-x64,   x86_64-apple-darwin and aarch64-apple-darwin: on a Mac, its own toolchain;
#   darwin-arm64  elsewhere linked by zig through cargo-zigbuild (both from PyPI, pinned in
#                 packaging/requirements-release.txt), which needs Apple's macOS SDK in SDKROOT
#                 (hosted mode's PostgreSQL driver links CoreFoundation and SystemConfiguration,
#                 and only the SDK has them; it is not redistributable, so it is not fetched)
# Each needs its Rust standard library: `rustup target add <triple>`; the script adds what is
# missing. On Debian: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross
# gcc-mingw-w64-x86-64 nasm qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=target/release-artifacts
PLATFORMS=linux-x64,linux-arm64,win32-x64
if [ "$(uname -s)" = Darwin ] || [ -n "${SDKROOT:-}" ]; then
  PLATFORMS=$PLATFORMS,darwin-x64,darwin-arm64
fi
RUN=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --platforms) PLATFORMS=$2; shift 2 ;;
    --no-run) RUN=0; shift ;;
    *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
say() { echo "== release $VERSION: $*"; }

triple_of() {
  case "$1" in
    linux-x64) echo x86_64-unknown-linux-gnu ;;
    linux-arm64) echo aarch64-unknown-linux-gnu ;;
    win32-x64) echo x86_64-pc-windows-gnu ;;
    darwin-x64) echo x86_64-apple-darwin ;;
    darwin-arm64) echo aarch64-apple-darwin ;;
    *) echo "unknown platform $1" >&2; exit 2 ;;
  esac
}

wheel_tag_of() {
  case "$1" in
    # A static binary runs on any Linux: both tag families, as ruff's and uv's static wheels.
    linux-x64) echo manylinux_2_17_x86_64.musllinux_1_1_x86_64 ;;
    linux-arm64) echo manylinux_2_17_aarch64.musllinux_1_1_aarch64 ;;
    win32-x64) echo win_amd64 ;;
    darwin-x64) echo macosx_10_12_x86_64 ;;
    darwin-arm64) echo macosx_11_0_arm64 ;;
  esac
}

ZIG_VENV=target/release-tools
zigbuild() {
  if [ ! -x "$ZIG_VENV/bin/cargo-zigbuild" ]; then
    python3 -m venv "$ZIG_VENV"
    "$ZIG_VENV/bin/pip" install -q -r packaging/requirements-release.txt
  fi
  PATH="$PWD/$ZIG_VENV/bin:$PATH" cargo-zigbuild zigbuild "$@"
}

build() {
  local platform=$1 triple
  triple=$(triple_of "$platform")
  rustup target list --installed | grep -qx "$triple" || rustup target add "$triple"
  case "$platform" in
    # The Linux builds are the container image's static build (docker/static-build.sh).
    linux-x64)
      docker/static-build.sh "$triple" > /dev/null ;;
    linux-arm64)
      CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
        CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
        AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
        docker/static-build.sh "$triple" > /dev/null ;;
    win32-x64)
      CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
        CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc \
        AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
        RUSTFLAGS='-C target-feature=+crt-static' \
        cargo build --release --locked --target "$triple" ;;
    darwin-*)
      if [ "$(uname -s)" = Darwin ]; then
        cargo build --release --locked --target "$triple"
      elif [ -n "${SDKROOT:-}" ]; then
        zigbuild --release --locked --target "$triple"
      else
        echo "$platform: linking for macOS needs Apple's macOS SDK: set SDKROOT to one, or build on a Mac" >&2
        exit 1
      fi ;;
  esac
}

binary_of() {
  local platform=$1 exe=payer-sandbox
  [ "$platform" = win32-x64 ] && exe=payer-sandbox.exe
  echo "target/$(triple_of "$platform")/release/$exe"
}

# How this machine can run a platform's binary, if it can.
runner_of() {
  case "$1" in
    linux-x64) [ "$(uname -m)" = x86_64 ] && echo native ;;
    linux-arm64)
      if [ "$(uname -m)" = aarch64 ]; then echo native
      elif command -v qemu-aarch64 > /dev/null; then echo qemu-aarch64
      fi ;;
  esac
  return 0
}

# The binary, run as `runner` (native or a qemu-user command), answers --version with the
# release's version, starts, prints its listening line and serves the CapabilityStatement.
smoke() {
  local runner=$1 binary=$2 out pid url said
  local run=("$binary")
  [ "$runner" = native ] || run=("$runner" "$binary")
  said=$("${run[@]}" --version)
  [ "$said" = "payer-sandbox $VERSION" ] || { echo "$binary says '$said'" >&2; return 1; }
  out=$(mktemp)
  "${run[@]}" --listen 127.0.0.1:0 > "$out" 2> /dev/null &
  pid=$!
  for _ in $(seq 1 300); do grep -q 'listening on' "$out" && break; sleep 0.1; done
  url=$(sed -n 's/^payer-sandbox listening on //p' "$out")
  rm -f "$out"
  if [ -z "$url" ] || ! curl -sf "$url/r4/metadata" | grep -q '"CapabilityStatement"'; then
    kill "$pid" 2> /dev/null; echo "$binary did not serve /r4/metadata" >&2; return 1
  fi
  kill "$pid"; wait "$pid" || true
  say "$said runs here ($runner) and serves $url/r4/metadata"
}

rm -rf "$OUT"
mkdir -p "$OUT"
IFS=, read -r -a WANTED <<< "$PLATFORMS"
NPM_PAIRS=()
for platform in "${WANTED[@]}"; do
  say "build $platform ($(triple_of "$platform"))"
  build "$platform"
  binary=$(binary_of "$platform")
  runner=$(runner_of "$platform")
  if [ "$RUN" = 1 ] && [ -n "$runner" ]; then
    smoke "$runner" "$binary"
  else
    say "$platform built, not run here"
  fi
  stage=$(mktemp -d)
  cp "$binary" README.md "$stage/"
  [ -f LICENSE ] && cp LICENSE "$stage/"
  if [ "$platform" = win32-x64 ]; then
    (cd "$stage" && python3 -m zipfile -c "$OLDPWD/$OUT/payer-sandbox-$VERSION-$platform.zip" ./*)
  else
    tar -C "$stage" -czf "$OUT/payer-sandbox-$VERSION-$platform.tar.gz" .
  fi
  rm -rf "$stage"
  packaging/python/build-wheel.sh "$binary" "$(wheel_tag_of "$platform")" "$OUT" > /dev/null
  NPM_PAIRS+=("$platform=$binary")
done

say "npm packages"
node packaging/npm/build-packages.mjs --out "$OUT" "${NPM_PAIRS[@]}" > /dev/null

(cd "$OUT" && sha256sum -- * > SHA256SUMS)
say "artifacts in $OUT"
(cd "$OUT" && ls -l --block-size=K -- * | awk '{print "   " $5 "  " $9}')
