#!/usr/bin/env bash
# A fully static release build of payer-sandbox for one Linux target, the one way the project
# makes one: the container image (docker/build-rootfs.sh) and the Linux release artifacts
# (packaging/release.sh) both call it.
#
#   docker/static-build.sh TRIPLE       e.g. x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu
#
# The glibc target with crt-static: the crate has no C dependencies that need the dynamic
# loader, and the server never resolves names through NSS. getrandom finds glibc's getrandom()
# with dlsym, which a static binary cannot do, and would fall back to /dev/urandom, which an
# empty rootfs does not have: it calls getrandom() directly instead. --target keeps RUSTFLAGS off
# build scripts and proc macros, which must stay dynamic. A cross build sets its linker and C
# compiler through cargo's usual variables (CARGO_TARGET_<TRIPLE>_LINKER, CC_<triple>).
# Prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
RUSTFLAGS='-C target-feature=+crt-static --cfg getrandom_backend="linux_getrandom"' \
  cargo build --release --locked --target "$1" >&2
echo "target/$1/release/payer-sandbox"
