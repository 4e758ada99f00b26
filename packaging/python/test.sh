#!/usr/bin/env bash
# The Python package's CI: build the wheel from a binary, install it into a fresh virtualenv as
# a user would, and test it there.
#
#   packaging/python/test.sh BINARY [PLATFORM_TAG]
#
#   BINARY        a payer-sandbox executable for this machine (e.g. target/release/payer-sandbox)
#   PLATFORM_TAG  the wheel's platform tag; by default platform_tag.py reads it from BINARY
#
# Steps: build-wheel.sh into a temporary directory and print the wheel's size; make a fresh
# virtualenv (make-venv.sh) and install the pinned test tools (requirements-test.txt); time
# `pip install` of the wheel (--no-index: it needs nothing else) through to a first passing
# fixture test (tests/test_quickstart.py); check that `payer-sandbox --help` runs from the
# virtualenv's PATH; measure the fixture's start-up per session (measure_startup.py); mypy
# --strict over the installed package and the tests; then the whole suite (tests/) against the installed
# wheel, whose pytest summary is the last line. Needs python3 (3.9 or later; PYTHON picks
# another) with pip, and PyPI. Exits non-zero on any failure.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
binary="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
say() { echo "== $*"; }
now() { "$python" -c 'import time; print(f"{time.time():.3f}")'; }
elapsed() { "$python" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

[ -x "$binary" ] || { echo "test.sh: $1 is not an executable" >&2; exit 2; }
platform="${2:-$("$python" "$here/platform_tag.py" "$binary")}"
work="$(mktemp -d "${TMPDIR:-/tmp}/payer-sandbox-python.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Nothing from the caller's environment decides which binary the tests run, or how.
unset PAYER_SANDBOX_BIN PYTEST_ADDOPTS PYTEST_PLUGINS
export PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

say "build the wheel from $1 ($platform)"
wheel="$("$here/build-wheel.sh" "$binary" "$platform" "$work/dist")"
wheel_bytes="$(wc -c < "$wheel" | tr -d ' ')"
binary_bytes="$(wc -c < "$binary" | tr -d ' ')"
size="$(basename "$wheel"): $wheel_bytes bytes ($("$python" -c "print(f'{$wheel_bytes / 2**20:.1f}')") MiB; the binary is $("$python" -c "print(f'{$binary_bytes / 2**20:.1f}')") MiB uncompressed)"
echo "$size"

say "a fresh virtualenv with the test tools (requirements-test.txt)"
PYTHON="$python" "$here/make-venv.sh" "$work/venv"
venv="$work/venv"
"$venv/bin/python" -m pip install --quiet -r "$here/requirements-test.txt"
"$venv/bin/python" --version
export PATH="$venv/bin:$PATH"
cd "$here"  # the tests' ini (pyproject.toml); src/ is never on sys.path: the wheel is tested

say "pip install the wheel, then a first fixture test"
t0="$(now)"
"$venv/bin/python" -m pip install --quiet --no-index "$wheel"
t1="$(now)"
"$venv/bin/pytest" -q -p no:cacheprovider tests/test_quickstart.py
t2="$(now)"
first="pip install to the first passing fixture test: $(elapsed "$t0" "$t2") s (pip install $(elapsed "$t0" "$t1") s, pytest run $(elapsed "$t1" "$t2") s)"
echo "$first"

say "payer-sandbox --help from the virtualenv's PATH"
found="$(command -v payer-sandbox)"
[ "$found" = "$venv/bin/payer-sandbox" ] || { echo "payer-sandbox on PATH is $found, not the virtualenv's" >&2; exit 1; }
payer-sandbox --help > "$work/help.txt"
grep -q '^Usage: payer-sandbox \[OPTIONS\]' "$work/help.txt" || { cat "$work/help.txt" >&2; exit 1; }
head -n 1 "$work/help.txt"
payer-sandbox --version

say "fixture start-up per session"
startup="$("$venv/bin/python" "$here/measure_startup.py" --runs 20)"
echo "$startup"

say "mypy --strict: the installed package, then the tests and scripts that use it"
(cd "$work" && "$venv/bin/mypy" --strict --cache-dir "$work/mypy-cache" -p payer_sandbox)
"$venv/bin/mypy" --strict --cache-dir "$work/mypy-cache" tests measure_startup.py platform_tag.py

say "measured"
echo "$size"
echo "$first"
echo "$startup" | head -n 3 | tail -n 2

say "the suite against the installed wheel"
PAYER_SANDBOX_EXPECT_INSTALLED=1 PAYER_SANDBOX_WHEEL="$wheel" \
  "$venv/bin/pytest" -p no:cacheprovider -ra tests
