#!/usr/bin/env bash
# Build the payer-sandbox wheel from a prebuilt binary.
#
#   packaging/python/build-wheel.sh BINARY PLATFORM_TAG OUTDIR
#
#   BINARY        the payer-sandbox executable to ship (payer-sandbox.exe for Windows)
#   PLATFORM_TAG  the wheel's platform tag, e.g.
#                   manylinux_2_17_x86_64.musllinux_1_1_x86_64   static Linux x86_64
#                   manylinux_2_17_aarch64.musllinux_1_1_aarch64 static Linux aarch64
#                   macosx_10_12_x86_64, macosx_11_0_arm64, win_amd64
#   OUTDIR        where the .whl goes (created if missing); its path is printed last
#
# The version is the server's, read from the repository's Cargo.toml; when BINARY runs here,
# its --version must say the same. The build tools come from requirements-build.txt (pinned),
# installed into a virtualenv: PAYER_SANDBOX_BUILD_VENV names one to create once and reuse
# (a release building several wheels), else a temporary one is made and removed. PYTHON picks
# the interpreter (default python3, 3.9 or later).
set -euo pipefail

if [ $# -ne 3 ]; then
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
binary="$1" platform="$2" outdir="$3"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
say() { echo "build-wheel: $*" >&2; }

[ -f "$binary" ] || { say "$binary is not a file"; exit 2; }
case "$platform" in
  *[!a-z0-9_.]*|"") say "'$platform' is not a wheel platform tag"; exit 2 ;;
esac

version="$(sed -n 's/^version = "\([^"]*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)"
[ -n "$version" ] || { say "no version in $root/Cargo.toml"; exit 1; }
# A binary for another target cannot run here; one that can must be this version.
if reported="$("$binary" --version 2>/dev/null)"; then
  if [ "$reported" != "payer-sandbox $version" ]; then
    say "the binary says '$reported' but Cargo.toml is $version: rebuild it"
    exit 1
  fi
fi

venv="${PAYER_SANDBOX_BUILD_VENV:-}"
if [ -z "$venv" ]; then
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/payer-sandbox-build.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  venv="$tmp/venv"
fi
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements-build.txt" "$venv/.requirements-build.txt"; then
  say "installing the build tools (requirements-build.txt)"
  rm -rf "$venv"
  PYTHON="$python" "$here/make-venv.sh" "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$here/requirements-build.txt"
  cp "$here/requirements-build.txt" "$venv/.requirements-build.txt"
fi

mkdir -p "$outdir"
outdir="$(cd "$outdir" && pwd)"
# A fixed timestamp for the archive's entries (hatchling's reproducible builds): the same binary
# makes the same wheel, byte for byte.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 315532800)}"
PAYER_SANDBOX_BINARY="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")" \
PAYER_SANDBOX_WHEEL_PLATFORM="$platform" \
  "$venv/bin/python" -m build --wheel --no-isolation --outdir "$outdir" "$here" >&2

wheel="$outdir/payer_sandbox-$version-py3-none-$platform.whl"
[ -f "$wheel" ] || { say "expected $wheel, which was not made"; exit 1; }
echo "$wheel"
