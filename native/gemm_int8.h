// int8 inference GEMM (dynamic quantization): y = dequant(quant_u8(x) @ w_s8^T) + bias [+ residual],
// optionally GELU. Activations are quantized per row (asymmetric u8 with a zero point, as
// onnxruntime's DynamicQuantizeLinear does per tensor), weights are s8 per output channel, products
// are summed exactly in int32 and dequantized in float: see src/engine/kernels.ts (linearInt8) for
// the arithmetic every path reproduces bit for bit, and ref-kernels.ts for its reference.
#pragma once
#include <cstdint>

#include "common.h"

namespace tt {

// Packed weight layout (part of the kernel contract): output channels in blocks of 16; per block,
// ceil(k/4) groups of 64 bytes, channel c's weights at k = 4g..4g+3 in bytes 4c..4c+3 (what one
// vpdpbusd lane multiplies). Channels past n and depths past k are zero.
inline int64_t int8_k_groups(int64_t k) { return (k + 3) / 4; }
inline int64_t int8_blocks(int64_t n) { return (n + 15) / 16; }
inline int64_t int8_packed_size(int64_t n, int64_t k) { return int8_blocks(n) * int8_k_groups(k) * 64; }

// Paths, best last. AVX2 emulates vpdpbusd exactly with vpmaddwd (vpmaddubsw would saturate full-range
// s8), except for layers whose weights all fit in 7 bits ([-64, 63]: u8 x s7 pair sums stay within
// int16, |255 * 64 * 2| = 32640), where vpmaddubsw is exact and cheaper (int8_kernel_avx2_s7).
// arm64: NEONDOT is SDOT on (u8 - 128) with the weights' column sums added back (FEAT_DotProd);
// I8MM is SUDOT, s8 x u8 by element, exact without a correction (FEAT_I8MM). Order is per arch.
enum Int8Path : int { I8_SCALAR = 0, I8_AVX2 = 1, I8_AVXVNNI = 2, I8_AVX512VNNI = 3, I8_NEONDOT = 4, I8_I8MM = 5 };
constexpr int I8_PATH_LAST = I8_I8MM;
const char *int8_path_name(Int8Path p);
// Best path the CPU has at or below the given ISA level.
Int8Path int8_best_path(Isa isa);
// Whether the CPU runs this path at or below the given ISA level. Paths are not nested: an Ice
// Lake or Zen 4 has AVX512-VNNI but not the VEX-encoded AVX-VNNI of Alder Lake and Zen 5.
bool int8_path_supported(Int8Path p, Isa isa);

// Tile: acc[i * 64 + c] = sum over k groups of A row i (u8, rows past mr alias row 0) times packed
// columns of nb blocks (bstride bytes apart), i < mr, c < 16 * nb. The int32 sums are exact. Tiles
// may also write rows mr..MR-1 (acc holds 8 rows of 64).
typedef void (*Int8Tile)(int64_t kgroups, const uint8_t *A, int64_t lda, int mr, const int8_t *B, int64_t bstride,
                         int nb, int32_t *acc);
typedef void (*Int8QuantizeRow)(const float *x, int64_t k, int64_t kp, uint8_t *q, float *scale, int32_t *zero);
// One row of a tile dequantized: y[c] = float(ac[c] - z * w_sum[c]) * (s_a * w_scale[c]) (+ bias[c])
// (+ res[c]) for c in [c0, c1); res may be y (the residual updated in place).
typedef void (*Int8Epilogue)(const int32_t *ac, int32_t z, float s_a, const int32_t *w_sum, const float *w_scale,
                             const float *bias, const float *res, float *y, int64_t c0, int64_t c1);
struct Int8Kernel {
  int mr;  // rows per tile
  int nb;  // 16-column blocks per tile (at most 4)
  Int8Tile tile;
  Int8QuantizeRow quantize;  // int8_quantize_row's results, vectorised
  Int8Epilogue epilogue;     // int8_epilogue, compiled for the path's vector width
};

// The epilogue's loops, one per case, so the compiler vectorises each (a y that may partly overlap
// res would keep it from vectorising the general one, hence the in-place case). Inlined into
// int8_epilogue and into per-ISA copies compiled with wider vectors.
__attribute__((always_inline)) inline void int8_epilogue_body(const int32_t *ac, int32_t z, float s_a,
                                                              const int32_t *w_sum, const float *w_scale,
                                                              const float *bias, const float *res, float *y, int64_t c0,
                                                              int64_t c1) {
  if (bias && res == y) {
    for (int64_t c = c0; c < c1; c++) y[c] = (static_cast<float>(ac[c] - z * w_sum[c]) * (s_a * w_scale[c]) + bias[c]) + y[c];
  } else if (bias && res) {
    for (int64_t c = c0; c < c1; c++) y[c] = (static_cast<float>(ac[c] - z * w_sum[c]) * (s_a * w_scale[c]) + bias[c]) + res[c];
  } else if (bias) {
    for (int64_t c = c0; c < c1; c++) y[c] = static_cast<float>(ac[c] - z * w_sum[c]) * (s_a * w_scale[c]) + bias[c];
  } else if (res) {
    for (int64_t c = c0; c < c1; c++) y[c] = static_cast<float>(ac[c] - z * w_sum[c]) * (s_a * w_scale[c]) + res[c];
  } else {
    for (int64_t c = c0; c < c1; c++) y[c] = static_cast<float>(ac[c] - z * w_sum[c]) * (s_a * w_scale[c]);
  }
}
void int8_epilogue(const int32_t *ac, int32_t z, float s_a, const int32_t *w_sum, const float *w_scale,
                   const float *bias, const float *res, float *y, int64_t c0, int64_t c1);
Int8Kernel int8_kernel_scalar();
#if TT_X86
Int8Kernel int8_kernel_avx2();
Int8Kernel int8_kernel_avx2_s7();  // only for weights in [-64, 63]
Int8Kernel int8_kernel_avxvnni();
Int8Kernel int8_kernel_avx512vnni();
#endif
#if TT_ARM
Int8Kernel int8_kernel_neondot();
Int8Kernel int8_kernel_i8mm();
#endif

struct Int8LinearArgs {
  int64_t m, n, k;
  const float *x;         // [m, k]
  const int8_t *w;        // packed, int8_packed_size(n, k) bytes
  const float *w_scale;   // [n]
  const int32_t *w_sum;   // [n], sum over k of the channel's weights
  const float *bias;      // [n] or null
  const float *residual;  // [m, n] or null (added after the bias)
  float *y;               // [m, n]; may alias residual
  int act;                // 0 none, 1 GELU (erf), 2 GELU (tanh)
  bool w_s7;              // every weight is in [-64, 63] (the caller checked): AVX2 may use vpmaddubsw
};

// Packs w [n, k] (row-major s8) into the layout above.
void int8_pack_weights(const int8_t *w, int64_t n, int64_t k, int8_t *dst);
// Quantizes one row: q[0..k) (q[k..kp) zeroed), its scale and zero point (the portable version).
void int8_quantize_row(const float *x, int64_t k, int64_t kp, uint8_t *q, float *scale, int32_t *zero);
// The whole op on the thread pool.
void linear_int8(const Int8LinearArgs &a, Int8Path path, const OpsTable &ops);

}  // namespace tt
