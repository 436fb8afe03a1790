#!/usr/bin/env bash
# arm64 kernels under emulation: cross-compiles the native kernels (no Node, no N-API) with
# native/test/arm64_driver.cc for aarch64 and runs the driver under qemu-aarch64 twice:
#   -cpu cortex-a72  ARMv8.0 NEON only (fp32 8x12 GEMM, NEON range kernels, portable int8 tile)
#   -cpu max         every feature qemu has (dotprod, I8MM, BF16, SVE): adds the SDOT and SUDOT int8 tiles
# Needs g++-aarch64-linux-gnu and qemu-user (Debian; .ci/run installs them). Installs nothing: without
# them it says so and exits 0 (skipped), unless TOKENTUNE_REQUIRE_ARM64=1.
# Usage: bash scripts/test-arm64.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/.."
CXX="${AARCH64_CXX:-aarch64-linux-gnu-g++}"
QEMU="${QEMU_AARCH64:-$(command -v qemu-aarch64 || command -v qemu-aarch64-static || true)}"
if ! command -v "$CXX" >/dev/null 2>&1 || [ -z "$QEMU" ]; then
  msg="test:arm64 skipped: needs $CXX and qemu-aarch64 (apt-get install g++-aarch64-linux-gnu qemu-user)"
  if [ "${TOKENTUNE_REQUIRE_ARM64:-0}" = 1 ]; then echo "error: $msg" >&2; exit 1; fi
  echo "$msg"
  exit 0
fi
OUT="${TMPDIR:-/tmp}/tokentune-arm64-$$"
mkdir -p "$OUT"
trap 'rm -rf "$OUT"' EXIT
# The addon's flags (binding.gyp's arm64 branch), baseline ARMv8.0: the dotprod / i8mm tiles carry
# their own targets. Linked against the cross toolchain's aarch64 libc, which qemu finds through -L.
FLAGS=(-std=c++17 -O3 -march=armv8-a -fno-math-errno -fno-trapping-math -ffp-contract=off -Wall -Wextra -pthread)
SRCS=(cpu thread_pool gemm blas gemm_neon ops_scalar ops_neon parallel_ops attention gemm_bf16 gemm_int8 gemm_int8_arm)
echo "cross-compiling with $("$CXX" --version | head -1)"
pids=()
for s in "${SRCS[@]}"; do
  "$CXX" "${FLAGS[@]}" -c "native/$s.cc" -o "$OUT/$s.o" & pids+=($!)
done
"$CXX" "${FLAGS[@]}" -c native/test/arm64_driver.cc -o "$OUT/driver.o" & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
"$CXX" -pthread "$OUT"/*.o -o "$OUT/arm64_driver" -ldl
SYSROOT="${AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}"
status=0
for cpu in cortex-a72 max; do
  echo "== qemu-aarch64 -cpu $cpu ($("$QEMU" --version | head -1))"
  start=$(date +%s)
  if ! "$QEMU" -L "$SYSROOT" -cpu "$cpu" "$OUT/arm64_driver" "$@"; then status=1; fi
  echo "== -cpu $cpu took $(( $(date +%s) - start )) s"
done
exit $status
