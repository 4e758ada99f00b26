#!/usr/bin/env bash
# Make a fresh virtualenv with pip in it.
#
#   packaging/python/make-venv.sh DIR
#
# `$PYTHON -m venv DIR` (PYTHON defaults to python3), or, where that fails (Debian's python3
# without python3-venv has no ensurepip) or VENV_TOOL=virtualenv asks for it, virtualenv from
# PyPI (requirements-virtualenv.txt, pinned) installed into a temporary directory with
# `pip --target`. DIR must not exist.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
say() { echo "make-venv: $*" >&2; }

[ ! -e "$dir" ] || { say "$dir already exists"; exit 2; }
if [ "${VENV_TOOL:-venv}" != virtualenv ]; then
  if "$python" -m venv "$dir" >/dev/null 2>"$dir.err"; then
    rm -f "$dir.err"
    exit 0
  fi
  say "'$python -m venv' failed ($(tail -n 1 "$dir.err")); using virtualenv from PyPI"
  rm -rf "$dir" "$dir.err"
fi
tools="$(mktemp -d "${TMPDIR:-/tmp}/payer-sandbox-virtualenv.XXXXXX")"
trap 'rm -rf "$tools"' EXIT
"$python" -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore \
  --target "$tools" -r "$here/requirements-virtualenv.txt"
PYTHONPATH="$tools" "$python" -m virtualenv --quiet "$dir"
