// arm64 int8 tiles over the packed weights of gemm_int8.h (16 channels x 4 depths per 64-byte
// group: one q register holds 4 channels x 4 depths, exactly what SDOT/SUDOT multiply per lane).
// A tile is 4 rows x 16 channels: 16 int32x4 accumulators; per group of 4 depths one A register per
// row serves four groups through the by-element forms (lane g = depths 4g..4g+3).
//
// - NEONDOT (FEAT_DotProd): SDOT is s8 x s8, so A is biased to s8 (a - 128, an XOR of the top bit)
//   and 128 * (sum of the channel's weights over k) is added back: sum a b = sum (a - 128) b +
//   128 sum b, exact in int32 for k <= 65536 (the binding's limit).
// - I8MM (FEAT_I8MM): SUDOT multiplies s8 weights by u8 activations directly.
// Each tile is compiled for its own target (armv8.2-a+dotprod[+i8mm]) and called only where the CPU
// reports the feature, so the rest of the build stays baseline ARMv8.0.
#include "gemm_int8.h"

#if TT_ARM
#include <arm_neon.h>

#include <cstring>

namespace tt {
namespace {

constexpr int MR = 4;

// A row (u8) bytes for groups g0..g0+3; past the row's end (k is padded to 4 only) they read as
// zero, so a partial chunk never reads past the quantized buffer.
inline uint8x16_t load_a(const uint8_t *row, int64_t g0, int64_t kgroups) {
  if (g0 + 4 <= kgroups) return vld1q_u8(row + 4 * g0);
  uint8_t tmp[16] = {0};
  std::memcpy(tmp, row + 4 * g0, static_cast<size_t>(4 * (kgroups - g0)));
  return vld1q_u8(tmp);
}

// Apple clang before the NEON intrinsics took target attributes (LLVM 17) only declares them when
// the whole file is built for the feature; the M1 baseline has dotprod, not i8mm.
#if !defined(__clang__) || __clang_major__ >= 17 || defined(__ARM_FEATURE_DOTPROD)
#define TT_I8_HAVE_DOTPROD 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif
#define TT_I8_SUDOT 0
#define TT_I8_NS neondot
#include "gemm_int8_arm_tile.inc"
#undef TT_I8_SUDOT
#undef TT_I8_NS
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

#if !defined(__clang__) || __clang_major__ >= 17 || defined(__ARM_FEATURE_MATMUL_INT8)
#define TT_I8_HAVE_I8MM 1
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("dotprod,i8mm"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod+i8mm")
#endif
#define TT_I8_SUDOT 1
#define TT_I8_NS i8mm
#include "gemm_int8_arm_tile.inc"
#undef TT_I8_SUDOT
#undef TT_I8_NS
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

}  // namespace

// The row quantizer stays the portable one (it is bit-exact by construction and a small share of
// the op); the tiles take 2 blocks (32 channels) per call.
#if TT_I8_HAVE_DOTPROD
Int8Kernel int8_kernel_neondot() { return {MR, 2, neondot::tile, int8_quantize_row, int8_epilogue}; }
#else
Int8Kernel int8_kernel_neondot() { return int8_kernel_scalar(); }
#endif
#if TT_I8_HAVE_I8MM
Int8Kernel int8_kernel_i8mm() { return {MR, 2, i8mm::tile, int8_quantize_row, int8_epilogue}; }
#else
Int8Kernel int8_kernel_i8mm() { return int8_kernel_neondot(); }
#endif

}  // namespace tt
#endif
