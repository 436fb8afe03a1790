// AVX-512 GEMM micro-kernel: an MR x (16*NV) tile of C kept in zmm registers; per k step it loads
// NV vectors of the packed B panel and broadcasts MR values of the packed A panel, MR x NV FMAs.
// The packing routines (transposes included) live here too. Compiled with per-function targets so
// the addon still loads on CPUs without AVX-512 (dispatch picks this only when cpuid says so).
#include "common.h"

#if TT_X86
// GCC 12's avx512fintrin.h passes _mm512_undefined_ps() through the unpack intrinsics, which
// -Wuninitialized reports once inlined; the values are never used.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "pack_a_trans6.h"
#include "transpose16_avx512.h"

namespace tt {
namespace {

// 6 x 64 (24 accumulators, 4 B vectors, 1 broadcast): measured on Zen 4 against 14x32, 10x32,
// 8x48 and 12x32; best or tied on the BERT shapes and clearly best on the 128x64 attention products.
constexpr int MR = 6, NV = 4, NR = 16 * NV;

// kRowsA false: A is a packed panel (MR values per k). true: A is read in place, row i at
// A + i * lda (the caller aliases rows past mr to row 0).
template <bool kRowsA>
__attribute__((target("avx512f,fma"))) inline void micro_tile(int64_t kc, const float *A, int64_t lda, int mr,
                                                              const float *Bp, float *C, int64_t ldc, float alpha,
                                                              float beta) {
  const float *ar[MR];
  for (int i = 0; i < MR; i++) ar[i] = kRowsA ? A + (i < mr ? i : 0) * lda : A + i;
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();

  // Touch the start of each C row early (prefetching every line of the tile measured slower).
  for (int i = 0; i < MR; i++) _mm_prefetch(reinterpret_cast<const char *>(C + i * ldc), _MM_HINT_T0);

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; p++) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b[v] = _mm512_load_ps(Bp + p * NR + 16 * v);
    if (!kRowsA) _mm_prefetch(reinterpret_cast<const char *>(A + p * MR + 8 * MR), _MM_HINT_T0);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      __m512 a = _mm512_set1_ps(kRowsA ? ar[i][p] : ar[i][p * MR]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(a, b[v], acc[i][v]);
    }
  }

  const __m512 va = _mm512_set1_ps(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) _mm512_storeu_ps(C + i * ldc + 16 * v, _mm512_mul_ps(va, acc[i][v]));
  } else {
    const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        float *c = C + i * ldc + 16 * v;
        _mm512_storeu_ps(c, _mm512_fmadd_ps(va, acc[i][v], _mm512_mul_ps(vb, _mm512_loadu_ps(c))));
      }
  }
}

__attribute__((target("avx512f,fma"))) void micro_kernel(int64_t kc, const float *Ap, const float *Bp, float *C,
                                                         int64_t ldc, float alpha, float beta) {
  micro_tile<false>(kc, Ap, 0, MR, Bp, C, ldc, alpha, beta);
}

__attribute__((target("avx512f,fma"))) void micro_kernel_rows_a(int64_t kc, const float *A, int64_t lda, int mr,
                                                                const float *Bp, float *C, int64_t ldc, float alpha,
                                                                float beta) {
  micro_tile<true>(kc, A, lda, mr, Bp, C, ldc, alpha, beta);
}

// Loads `rows` (<= 16) rows of `width` (<= 16) floats starting at src (row stride ld), transposes
// them, and stores column c (c < width) as `store_n` floats at dst + c * dst_stride; missing rows
// are zero.
__attribute__((target("avx512f"))) inline void transpose_block(const float *src, int64_t ld, int rows, int width,
                                                                float *dst, int64_t dst_stride, __mmask16 store_mask) {
  __m512 r[16];
  const __mmask16 lm = width >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << width) - 1);
  for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_maskz_loadu_ps(lm, src + i * ld) : _mm512_setzero_ps();
  transpose16(r);
  for (int c = 0; c < width; c++) _mm512_mask_storeu_ps(dst + c * dst_stride, store_mask, r[c]);
}

// Packed layout as in gemm.cc: A panels are kc x MR (MR values per k), B panels kc x NR.
static_assert(MR == 6, "pack_a_trans6_row packs 6-row panels");

__attribute__((target("avx512f"))) void pack_a(bool transA, const float *a, int64_t lda, int64_t mc, int64_t kc,
                                               float *dst) {
  const __mmask16 full = (1u << MR) - 1;
  if (transA) {
    // op(A)(i, p) = a[p * lda + i]: MR contiguous values per k (zero-filled past mc). Walk the source
    // row by row so the reads stream through memory instead of striding by lda.
    const int64_t full_rows = mc / MR * MR;
    for (int64_t p = 0; p < kc; p++) {
      const float *s = a + p * lda;
      pack_a_trans6_row(s, lda, mc, full_rows, kc, dst + p * MR);
      if (full_rows < mc) {
        const __mmask16 lm = (1u << (mc - full_rows)) - 1;
        _mm512_mask_storeu_ps(dst + full_rows * kc + p * MR, full, _mm512_maskz_loadu_ps(lm, s + full_rows));
      }
    }
    return;
  }
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    int rows = static_cast<int>(mc - i0 < MR ? mc - i0 : MR);
    float *d = dst + i0 * kc;
    {
      // op(A)(i, p) = a[i * lda + p]: transpose 16-wide strips of the MR rows.
      const float *s = a + i0 * lda;
      for (int64_t p0 = 0; p0 < kc; p0 += 16) {
        int w = static_cast<int>(kc - p0 < 16 ? kc - p0 : 16);
        transpose_block(s + p0, lda, rows, w, d + p0 * MR, MR, full);
      }
    }
  }
}

__attribute__((target("avx512f"))) void pack_b(bool transB, const float *b, int64_t ldb, int64_t kc, int64_t nc,
                                               float *dst) {
  if (!transB) {
    // op(B)(p, j) = b[p * ldb + j]: NR contiguous values per k. Row by row through the source (the
    // reads stream; a panel-by-panel walk would stride by ldb and miss the TLB on wide matrices).
    const int64_t full_end = nc / NR * NR;
    for (int64_t p = 0; p < kc; p++) {
      const float *s = b + p * ldb;
      for (int64_t j0 = 0; j0 < full_end; j0 += NR)
        for (int v = 0; v < NV; v++) _mm512_store_ps(dst + j0 * kc + p * NR + 16 * v, _mm512_loadu_ps(s + j0 + 16 * v));
      if (full_end < nc) {
        int cols = static_cast<int>(nc - full_end);
        for (int v = 0; v < NV; v++) {
          int left = cols - 16 * v;
          __mmask16 m = left >= 16 ? __mmask16(0xFFFF) : (left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1));
          _mm512_store_ps(dst + full_end * kc + p * NR + 16 * v, _mm512_maskz_loadu_ps(m, s + full_end + 16 * v));
        }
      }
    }
    return;
  }
  // op(B)(p, j) = b[j * ldb + p]: transpose 16 x 16 blocks (16 columns j by 16 k).
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    int cols = static_cast<int>(nc - j0 < NR ? nc - j0 : NR);
    float *d = dst + j0 * kc;
    for (int v = 0; v < NV; v++) {
      int rows = cols - 16 * v;
      rows = rows < 0 ? 0 : (rows > 16 ? 16 : rows);
      const float *s = b + (j0 + 16 * v) * ldb;
      for (int64_t p0 = 0; p0 < kc; p0 += 16) {
        int w = static_cast<int>(kc - p0 < 16 ? kc - p0 : 16);
        transpose_block(s + p0, ldb, rows, w, d + p0 * NR + 16 * v, NR, 0xFFFF);
      }
    }
  }
}

}  // namespace

GemmConfig gemm_config_avx512() {
  GemmConfig cfg;
  cfg.mr = MR;
  cfg.nr = NR;
  // Measured on Zen 4 (32 KiB L1d, 1 MiB L2): kc 192..384 are within noise of each other, 128 is
  // clearly slower; the A block (mc x kc = 144 x 256 floats, 144 KiB) stays in L2, the B block
  // (kc x nc, up to 4 MiB) in L3.
  cfg.kc = 256;
  cfg.mc = MR * 24;
  cfg.nc = 4096;
  cfg.nc_few_rows = 768;
  cfg.kernel = micro_kernel;
  cfg.kernel_rows_a = micro_kernel_rows_a;
  cfg.pack_a = pack_a;
  cfg.pack_b = pack_b;
  return cfg;
}

}  // namespace tt
#endif
