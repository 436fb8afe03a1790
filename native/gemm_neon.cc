// arm64 NEON GEMM micro-kernel: 8 x 12 tile of C in 24 q-register accumulators (the shape of the
// BLIS/OpenBLAS ARMv8 sgemm kernels). Per k step: A's 8 values in two q registers, B's 12 in three,
// and 24 FMLA (by element) - 24 of the 32 vector registers hold C, 5 hold operands. Advanced SIMD is
// baseline AArch64, so this needs no per-function target. Packing: NEON packers below for the two
// layouts that need transposing (op(A) not transposed, op(B) transposed); gemm.cc's portable ones
// otherwise (contiguous copies the compiler already vectorises).
#include "common.h"

#if TT_ARM
#include <arm_neon.h>

namespace tt {
namespace {

constexpr int MR = 8, NR = 12;

// acc[i][v] += b[v] * a(lane i): one row of C against the three B vectors.
#define TT_ROW(i, areg, lane)                                   \
  acc[i][0] = vfmaq_laneq_f32(acc[i][0], b0, areg, lane);       \
  acc[i][1] = vfmaq_laneq_f32(acc[i][1], b1, areg, lane);       \
  acc[i][2] = vfmaq_laneq_f32(acc[i][2], b2, areg, lane);

void micro_kernel(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc, float alpha, float beta) {
  float32x4_t acc[MR][3];
  for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_f32(0.0f);
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; p++) {
    const float32x4_t a0 = vld1q_f32(Ap), a1 = vld1q_f32(Ap + 4);
    const float32x4_t b0 = vld1q_f32(Bp), b1 = vld1q_f32(Bp + 4), b2 = vld1q_f32(Bp + 8);
    TT_ROW(0, a0, 0) TT_ROW(1, a0, 1) TT_ROW(2, a0, 2) TT_ROW(3, a0, 3)
    TT_ROW(4, a1, 0) TT_ROW(5, a1, 1) TT_ROW(6, a1, 2) TT_ROW(7, a1, 3)
    Ap += MR;
    Bp += NR;
  }
  const float32x4_t va = vdupq_n_f32(alpha);
  if (beta == 0.0f) {
    for (int i = 0; i < MR; i++)
      for (int v = 0; v < 3; v++) vst1q_f32(C + i * ldc + 4 * v, vmulq_f32(va, acc[i][v]));
  } else {
    // alpha * acc + beta * c with one fused step, as the x86 kernels do.
    const float32x4_t vb = vdupq_n_f32(beta);
    for (int i = 0; i < MR; i++)
      for (int v = 0; v < 3; v++) {
        float *c = C + i * ldc + 4 * v;
        vst1q_f32(c, vfmaq_f32(vmulq_f32(vb, vld1q_f32(c)), va, acc[i][v]));
      }
  }
}
#undef TT_ROW

// 4 x 4 transpose: rows r0..r3 in, columns out.
inline void transpose4(float32x4_t &r0, float32x4_t &r1, float32x4_t &r2, float32x4_t &r3) {
  const float32x4_t t0 = vtrn1q_f32(r0, r1), t1 = vtrn2q_f32(r0, r1);
  const float32x4_t t2 = vtrn1q_f32(r2, r3), t3 = vtrn2q_f32(r2, r3);
  r0 = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
  r1 = vreinterpretq_f32_f64(vtrn1q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
  r2 = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t0), vreinterpretq_f64_f32(t2)));
  r3 = vreinterpretq_f32_f64(vtrn2q_f64(vreinterpretq_f64_f32(t1), vreinterpretq_f64_f32(t3)));
}

// Panel of `width` (MR or NR) values per k from `rows` (<= width) source rows of k-contiguous data
// (row stride ld): dst[p * width + r] = src[r * ld + p]; rows past `rows` are zero. Full groups of
// 4 rows x 4 k go through transpose4, the rest element by element.
void pack_rows_panel(const float *src, int64_t ld, int rows, int width, int64_t kc, float *dst) {
  int r0 = 0;
  for (; r0 + 4 <= rows; r0 += 4) {
    const float *s0 = src + r0 * ld, *s1 = s0 + ld, *s2 = s1 + ld, *s3 = s2 + ld;
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4) {
      float32x4_t x0 = vld1q_f32(s0 + p), x1 = vld1q_f32(s1 + p), x2 = vld1q_f32(s2 + p), x3 = vld1q_f32(s3 + p);
      transpose4(x0, x1, x2, x3);
      float *d = dst + p * width + r0;
      vst1q_f32(d, x0);
      vst1q_f32(d + width, x1);
      vst1q_f32(d + 2 * width, x2);
      vst1q_f32(d + 3 * width, x3);
    }
    for (; p < kc; p++) {
      float *d = dst + p * width + r0;
      d[0] = s0[p];
      d[1] = s1[p];
      d[2] = s2[p];
      d[3] = s3[p];
    }
  }
  for (int r = r0; r < rows; r++)
    for (int64_t p = 0; p < kc; p++) dst[p * width + r] = src[r * ld + p];
  if (rows < width)
    for (int64_t p = 0; p < kc; p++)
      for (int r = rows; r < width; r++) dst[p * width + r] = 0.0f;
}

void pack_a(bool transA, const float *a, int64_t lda, int64_t mc, int64_t kc, float *dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int rows = static_cast<int>(mc - i0 < MR ? mc - i0 : MR);
    float *d = dst + i0 * kc;
    if (!transA) {
      pack_rows_panel(a + i0 * lda, lda, rows, MR, kc, d);
    } else {
      for (int64_t p = 0; p < kc; p++) {
        const float *s = a + p * lda + i0;
        float *dp = d + p * MR;
        if (rows == MR) {
          vst1q_f32(dp, vld1q_f32(s));
          vst1q_f32(dp + 4, vld1q_f32(s + 4));
        } else {
          int r = 0;
          for (; r < rows; r++) dp[r] = s[r];
          for (; r < MR; r++) dp[r] = 0.0f;
        }
      }
    }
  }
}

void pack_b(bool transB, const float *b, int64_t ldb, int64_t kc, int64_t nc, float *dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR) {
    const int cols = static_cast<int>(nc - j0 < NR ? nc - j0 : NR);
    float *d = dst + j0 * kc;
    if (transB) {
      pack_rows_panel(b + j0 * ldb, ldb, cols, NR, kc, d);
    } else {
      for (int64_t p = 0; p < kc; p++) {
        const float *s = b + p * ldb + j0;
        float *dp = d + p * NR;
        if (cols == NR) {
          vst1q_f32(dp, vld1q_f32(s));
          vst1q_f32(dp + 4, vld1q_f32(s + 4));
          vst1q_f32(dp + 8, vld1q_f32(s + 8));
        } else {
          int j = 0;
          for (; j < cols; j++) dp[j] = s[j];
          for (; j < NR; j++) dp[j] = 0.0f;
        }
      }
    }
  }
}

}  // namespace

GemmConfig gemm_config_neon() {
  GemmConfig cfg;
  cfg.mr = MR;
  cfg.nr = NR;
  cfg.kc = 256;      // B micro-panel 256 x 12 floats = 12 KiB, A micro-panel 8 KiB: both in a 64 KiB L1
  cfg.mc = MR * 16;  // packed A block 128 KiB (L2)
  cfg.nc = NR * 340; // packed B block ~4 MiB at kc = 256 (L3 / system cache)
  cfg.kernel = micro_kernel;
  cfg.pack_a = pack_a;
  cfg.pack_b = pack_b;
  return cfg;
}

}  // namespace tt
#endif
