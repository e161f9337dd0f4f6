#!/usr/bin/env bash
# Runs the kernel tests and the golden-vector tests for aarch64 (the NEON path)
# on an x86-64 machine, under qemu user-mode emulation.
#
# Assumes (nothing is installed here):
#   rustup target add aarch64-unknown-linux-gnu
#   Debian / Ubuntu: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
#     (gcc-aarch64-linux-gnu is the linker, libc6-dev-arm64-cross the C library it
#     links against and qemu's sysroot, qemu-user provides qemu-aarch64; the
#     qemu-user-static package's qemu-aarch64-static also works: set QEMU).
#
# Usage: tools/test-aarch64.sh [extra cargo test arguments]
# Builds into $CARGO_TARGET_DIR (default /tmp/aarch64-target), away from the
# native build. The settings live in this script, not in .cargo/config (CI is
# x86-64 only). Timings under emulation mean nothing; only the bits are checked.
set -euo pipefail

cd "$(dirname "$0")/.."

QEMU="${QEMU:-qemu-aarch64}"
SYSROOT="${SYSROOT:-/usr/aarch64-linux-gnu}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/aarch64-target}"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-aarch64-linux-gnu-gcc}"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER:-$QEMU -L $SYSROOT}"

for tool in "$QEMU" "$CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"; do
    command -v "$tool" >/dev/null || { echo "missing $tool: see the header of $0" >&2; exit 1; }
done

target=(--target aarch64-unknown-linux-gnu)
# The kernels against the scalar reference on every supported path (neon included).
cargo test "${target[@]}" -p reproducible --lib kernels "$@"
# SPEC.md's golden vectors and coordinates, on every supported path.
cargo test "${target[@]}" -p reproducible-tests --test integration "$@" -- golden:: coordinates::
