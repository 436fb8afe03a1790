// AVX2+FMA GEMM micro-kernel: 6 x 16 tile of C in 12 ymm accumulators (the classic Haswell shape),
// B loaded as 2 vectors per k step, A broadcast. Per-function target: see gemm_avx512.cc.
#include "common.h"

#if TT_X86
#include <immintrin.h>

#include "pack_a_trans6.h"

namespace tt {
namespace {

constexpr int MR = 6, NV = 2, NR = 8 * NV;
static_assert(MR == 6, "pack_a_trans6_row and store6 pack 6-row panels");

__attribute__((target("avx2,fma"))) void micro_kernel(int64_t kc, const float *Ap, const float *Bp, float *C,
                                                      int64_t ldc, float alpha, float beta) {
  __m256 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();

  // The tile's C rows are needed only at the end, but they usually miss in cache (C is wider than L2):
  // touch both lines of every row now so the stores do not wait.
  for (int i = 0; i < MR; i++) {
    _mm_prefetch(reinterpret_cast<const char *>(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(C + i * ldc + NR - 1), _MM_HINT_T0);
  }

#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; p++) {
    // A streams from L2 (B's panel stays in L1): fetch it a few k steps ahead.
    _mm_prefetch(reinterpret_cast<const char *>(Ap + p * MR + 64), _MM_HINT_T0);
    __m256 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b[v] = _mm256_load_ps(Bp + p * NR + 8 * v);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
      __m256 a = _mm256_broadcast_ss(Ap + p * MR + i);
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(a, b[v], acc[i][v]);
    }
  }

  const __m256 va = _mm256_set1_ps(alpha);
  if (beta == 0.0f) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) _mm256_storeu_ps(C + i * ldc + 8 * v, _mm256_mul_ps(va, acc[i][v]));
  } else {
    // Every load of C before the first store: with a row stride that is a multiple of 4 KB, a load
    // issued after a store to the previous row waits on the store (4K aliasing).
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++)
        acc[i][v] = _mm256_fmadd_ps(va, acc[i][v], _mm256_mul_ps(vb, _mm256_loadu_ps(C + i * ldc + 8 * v)));
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) _mm256_storeu_ps(C + i * ldc + 8 * v, acc[i][v]);
  }
}

// In-register transpose of 8 rows of 8 floats: on return r[c] holds column c.
__attribute__((target("avx2"), always_inline)) inline void transpose8(__m256 r[8]) {
  __m256 t[8], u[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int j = 0; j < 4; j++) {
    r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
    r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
  }
}

// Lane mask for the first n (0..8) lanes, for maskload/maskstore.
__attribute__((target("avx2"))) inline __m256i first_lanes(int n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
}

// Loads `rows` (<= 8) rows of `width` (<= 8) floats (row stride ld) and transposes them: on return
// r[c] holds column c; missing rows and columns read as zero. Whole rows use plain loads.
__attribute__((target("avx2"), always_inline)) inline void load_transposed(const float *src, int64_t ld, int rows,
                                                                           int width, __m256 r[8]) {
  if (width == 8) {
    for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_loadu_ps(src + i * ld) : _mm256_setzero_ps();
  } else {
    const __m256i lm = first_lanes(width);
    for (int i = 0; i < 8; i++) r[i] = i < rows ? _mm256_maskload_ps(src + i * ld, lm) : _mm256_setzero_ps();
  }
  transpose8(r);
}

// Stores lanes 0..5 of x (one k step of a packed A panel) at d, leaving d[6] and d[7] alone.
__attribute__((target("avx2"), always_inline)) inline void store6(float *d, __m256 x) {
  _mm_storeu_ps(d, _mm256_castps256_ps128(x));
  _mm_storel_pi(reinterpret_cast<__m64 *>(d + 4), _mm256_extractf128_ps(x, 1));
}

// Packed layout as in gemm.cc: A panels kc x MR, B panels kc x NR; source rows are walked in memory
// order where the layout allows (see gemm_avx512.cc).
__attribute__((target("avx2"))) void pack_a(bool transA, const float *a, int64_t lda, int64_t mc, int64_t kc,
                                            float *dst) {
  if (transA) {
    // Each k row holds MR consecutive values per panel; only a partial last panel masks.
    const int64_t full_rows = mc / MR * MR;
    for (int64_t p = 0; p < kc; p++) {
      const float *s = a + p * lda;
      pack_a_trans6_row(s, lda, mc, full_rows, kc, dst + p * MR);
      if (full_rows < mc)
        store6(dst + full_rows * kc + p * MR,
               _mm256_maskload_ps(s + full_rows, first_lanes(static_cast<int>(mc - full_rows))));
    }
    return;
  }
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    int rows = static_cast<int>(mc - i0 < MR ? mc - i0 : MR);
    const float *s = a + i0 * lda;
    float *d = dst + i0 * kc;
    for (int64_t p0 = 0; p0 < kc; p0 += 8) {
      int w = static_cast<int>(kc - p0 < 8 ? kc - p0 : 8);
      __m256 r[8];
      load_transposed(s + p0, lda, rows, w, r);
      // Column c (MR = 6 values) goes to dp + c * MR. Whole-vector stores in ascending order: the
      // two lanes each one writes past its column are overwritten by the next; the last column is
      // stored as 4 + 2 so nothing lands past the block. (Masked vmaskmovps stores are slow on AMD
      // cores: with them, Zen 4 ran the 128x128x64 attention products at 0.6x OpenBLAS.)
      float *dp = d + p0 * MR;
      for (int c = 0; c + 1 < w; c++) _mm256_storeu_ps(dp + c * MR, r[c]);
      store6(dp + (w - 1) * MR, r[w - 1]);
    }
  }
}

__attribute__((target("avx2"))) void pack_b(bool transB, const float *b, int64_t ldb, int64_t kc, int64_t nc,
                                            float *dst) {
  if (!transB) {
    for (int64_t p = 0; p < kc; p++) {
      const float *s = b + p * ldb;
      for (int64_t j0 = 0; j0 < nc; j0 += NR) {
        int cols = static_cast<int>(nc - j0 < NR ? nc - j0 : NR);
        float *d = dst + j0 * kc + p * NR;
        for (int v = 0; v < NV; v++) {
          int left = cols - 8 * v;
          __m256 x = left >= 8 ? _mm256_loadu_ps(s + j0 + 8 * v)
                               : _mm256_maskload_ps(s + j0 + 8 * v, first_lanes(left < 0 ? 0 : left));
          _mm256_store_ps(d + 8 * v, x);
        }
      }
    }
    return;
  }
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    int cols = static_cast<int>(nc - j0 < NR ? nc - j0 : NR);
    float *d = dst + j0 * kc;
    for (int v = 0; v < NV; v++) {
      int rows = cols - 8 * v;
      rows = rows < 0 ? 0 : (rows > 8 ? 8 : rows);
      const float *s = b + (j0 + 8 * v) * ldb;
      for (int64_t p0 = 0; p0 < kc; p0 += 8) {
        int w = static_cast<int>(kc - p0 < 8 ? kc - p0 : 8);
        __m256 r[8];
        load_transposed(s + p0, ldb, rows, w, r);
        for (int c = 0; c < w; c++) _mm256_store_ps(d + (p0 + c) * NR + 8 * v, r[c]);
      }
    }
  }
}

}  // namespace

GemmConfig gemm_config_avx2() {
  GemmConfig cfg;
  cfg.mr = MR;
  cfg.nr = NR;
  // The kc x 16 B panel (16 KB) stays in L1, the mc x kc A block (72 KB) in L2. mc 72 rather than
  // BLIS's 144: on the 3072-wide outputs (C rows 12 KB apart) it gave 2 to 3.5% more (thread CPU
  // time against OpenBLAS Haswell in the same process, bench/gemm-cputime.cc, Ice Lake, medians of
  // 5), the same elsewhere; kc 192, 320, 384 and 512 were no better.
  cfg.kc = 256;
  cfg.mc = MR * 12;
  cfg.nc = 4096;
  cfg.nc_few_rows = 768;
  cfg.kernel = micro_kernel;
  cfg.pack_a = pack_a;
  cfg.pack_b = pack_b;
  return cfg;
}

}  // namespace tt
#endif
