// GEMM driver in the Goto/BLIS style: the op(B) block [kc x nc] is packed into nr-wide micro-panels,
// the op(A) block [mc x kc] into mr-tall micro-panels, and an ISA-specific register-blocked
// micro-kernel computes each mr x nr tile of C. Transposes are absorbed by the packing routines, so
// the user's matrices are never copied otherwise. Threads split the batch, or each matrix along M
// (or N) into contiguous ranges; every C element is computed by exactly one thread with the same
// k-order whatever the thread count, so results are deterministic.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#include "common.h"
#include "thread_pool.h"

namespace tt {

namespace {

// ---- portable micro-kernel (also the arm64 path); the compiler vectorises the j loops ----------
constexpr int kScalarMR = 4, kScalarNR = 16;

void micro_kernel_scalar(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc, float alpha,
                         float beta) {
  float acc[kScalarMR][kScalarNR] = {};
  for (int64_t p = 0; p < kc; p++) {
    const float *b = Bp + p * kScalarNR;
    const float *a = Ap + p * kScalarMR;
    for (int i = 0; i < kScalarMR; i++)
      for (int j = 0; j < kScalarNR; j++) acc[i][j] += a[i] * b[j];
  }
  for (int i = 0; i < kScalarMR; i++) {
    float *c = C + i * ldc;
    if (beta == 0.0f)
      for (int j = 0; j < kScalarNR; j++) c[j] = alpha * acc[i][j];
    else
      for (int j = 0; j < kScalarNR; j++) c[j] = alpha * acc[i][j] + beta * c[j];
  }
}

// Aligned scratch that grows on demand; one per thread (pool workers are persistent).
struct Scratch {
  float *ptr = nullptr;
  size_t cap = 0;
  float *get(size_t n) {
    if (n > cap) {
      std::free(ptr);
      size_t bytes = ((n * sizeof(float) + 4095) / 4096) * 4096;
      ptr = static_cast<float *>(std::aligned_alloc(4096, bytes));
      if (!ptr) throw std::bad_alloc();
      cap = bytes / sizeof(float);
    }
    return ptr;
  }
  ~Scratch() { std::free(ptr); }
};

struct ThreadBuffers {
  Scratch a, b, tile;
};
thread_local ThreadBuffers t_buffers;

// Packs op(A)[i0.., p0..] (mc x kc) into mr-tall micro-panels: panel q holds rows q*mr..q*mr+mr-1,
// stored k-major (mr consecutive values per k). Rows past mc are zero.
void pack_a(bool transA, const float *a, int64_t lda, int64_t mc, int64_t kc, int mr, float *dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += mr) {
    int64_t rows = std::min<int64_t>(mr, mc - i0);
    float *d = dst + i0 * kc;
    if (transA) {
      // op(A)(i, p) = a[p * lda + i]: each k contributes mr contiguous values.
      for (int64_t p = 0; p < kc; p++) {
        const float *s = a + p * lda + i0;
        float *dp = d + p * mr;
        int64_t r = 0;
        for (; r < rows; r++) dp[r] = s[r];
        for (; r < mr; r++) dp[r] = 0.0f;
      }
    } else {
      // op(A)(i, p) = a[i * lda + p]: transpose a rows x kc strip; go in blocks of 8 k so that the
      // reads of every row stay within a cache line or two.
      int64_t p0 = 0;
      for (; p0 + 8 <= kc; p0 += 8) {
        for (int64_t r = 0; r < rows; r++) {
          const float *s = a + (i0 + r) * lda + p0;
          float *dp = d + p0 * mr + r;
          for (int q = 0; q < 8; q++) dp[q * mr] = s[q];
        }
      }
      for (int64_t r = 0; r < rows; r++)
        for (int64_t p = p0; p < kc; p++) d[p * mr + r] = a[(i0 + r) * lda + p];
      if (rows < mr)
        for (int64_t p = 0; p < kc; p++)
          for (int64_t r = rows; r < mr; r++) d[p * mr + r] = 0.0f;
    }
  }
}

// Packs op(B)[p0.., j0..] (kc x nc) into nr-wide micro-panels: panel q holds columns q*nr..q*nr+nr-1,
// k-major (nr consecutive values per k). Columns past nc are zero.
void pack_b(bool transB, const float *b, int64_t ldb, int64_t kc, int64_t nc, int nr, float *dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += nr) {
    int64_t cols = std::min<int64_t>(nr, nc - j0);
    float *d = dst + j0 * kc;
    if (!transB) {
      // op(B)(p, j) = b[p * ldb + j]: nr contiguous values per k.
      for (int64_t p = 0; p < kc; p++) {
        const float *s = b + p * ldb + j0;
        float *dp = d + p * nr;
        if (cols == nr) {
          std::memcpy(dp, s, sizeof(float) * nr);
        } else {
          int64_t j = 0;
          for (; j < cols; j++) dp[j] = s[j];
          for (; j < nr; j++) dp[j] = 0.0f;
        }
      }
    } else {
      // op(B)(p, j) = b[j * ldb + p]: transpose, blocks of 8 k per column.
      int64_t p0 = 0;
      for (; p0 + 8 <= kc; p0 += 8) {
        for (int64_t j = 0; j < cols; j++) {
          const float *s = b + (j0 + j) * ldb + p0;
          float *dp = d + p0 * nr + j;
          for (int q = 0; q < 8; q++) dp[q * nr] = s[q];
        }
      }
      for (int64_t j = 0; j < cols; j++)
        for (int64_t p = p0; p < kc; p++) d[p * nr + j] = b[(j0 + j) * ldb + p];
      if (cols < nr)
        for (int64_t p = 0; p < kc; p++)
          for (int64_t j = cols; j < nr; j++) d[p * nr + j] = 0.0f;
    }
  }
}

// C = beta * C for an m x n matrix (beta == 0 writes zeros without reading).
void scale_c(float *c, int64_t ldc, int64_t m, int64_t n, float beta) {
  for (int64_t i = 0; i < m; i++) {
    float *r = c + i * ldc;
    if (beta == 0.0f)
      std::memset(r, 0, sizeof(float) * n);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < n; j++) r[j] *= beta;
  }
}

// One matrix product on the calling thread.
void gemm_serial(const GemmConfig &cfg, bool transA, bool transB, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.0f) {
    scale_c(c, ldc, m, n, beta);
    return;
  }
  const int MR = cfg.mr, NR = cfg.nr;
  const int64_t KC = cfg.kc, NC = cfg.nc;
  // Balance the A blocks so the last one is not a sliver.
  int64_t mblocks = (m + cfg.mc - 1) / cfg.mc;
  int64_t MC = ((m + mblocks - 1) / mblocks + MR - 1) / MR * MR;
  int64_t kblocks = (k + KC - 1) / KC;
  int64_t kcb = (k + kblocks - 1) / kblocks;  // balanced depth per block

  ThreadBuffers &tb = t_buffers;
  float *bp = tb.b.get(static_cast<size_t>(kcb) * ((std::min(NC, n) + NR - 1) / NR * NR));
  float *ap = tb.a.get(static_cast<size_t>(kcb) * MC);
  float *tile = tb.tile.get(static_cast<size_t>(MR) * NR);

  for (int64_t jc = 0; jc < n; jc += NC) {
    int64_t nc = std::min(NC, n - jc);
    for (int64_t pc = 0; pc < k; pc += kcb) {
      int64_t kc = std::min(kcb, k - pc);
      const float *bsrc = transB ? b + jc * ldb + pc : b + pc * ldb + jc;
      if (cfg.pack_b)
        cfg.pack_b(transB, bsrc, ldb, kc, nc, bp);
      else
        pack_b(transB, bsrc, ldb, kc, nc, NR, bp);
      float beta_eff = pc == 0 ? beta : 1.0f;
      for (int64_t ic = 0; ic < m; ic += MC) {
        int64_t mc = std::min(MC, m - ic);
        const float *asrc = transA ? a + pc * lda + ic : a + ic * lda + pc;
        if (cfg.pack_a)
          cfg.pack_a(transA, asrc, lda, mc, kc, ap);
        else
          pack_a(transA, asrc, lda, mc, kc, MR, ap);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          int64_t nr = std::min<int64_t>(NR, nc - jr);
          const float *bpanel = bp + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += MR) {
            int64_t mr = std::min<int64_t>(MR, mc - ir);
            float *cp = c + (ic + ir) * ldc + jc + jr;
            const float *apanel = ap + ir * kc;
            if (mr == MR && nr == NR) {
              cfg.kernel(kc, apanel, bpanel, cp, ldc, alpha, beta_eff);
            } else {
              cfg.kernel(kc, apanel, bpanel, tile, NR, alpha, 0.0f);
              for (int64_t i = 0; i < mr; i++) {
                float *cr = cp + i * ldc;
                const float *tr = tile + i * NR;
                if (beta_eff == 0.0f)
                  for (int64_t j = 0; j < nr; j++) cr[j] = tr[j];
                else
                  for (int64_t j = 0; j < nr; j++) cr[j] = tr[j] + beta_eff * cr[j];
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

GemmConfig gemm_config_scalar() {
  GemmConfig cfg;
  cfg.mr = kScalarMR;
  cfg.nr = kScalarNR;
  cfg.kc = 256;
  cfg.mc = 128;
  cfg.nc = 2048;
  cfg.kernel = micro_kernel_scalar;
  return cfg;
}

static GemmConfig config_for(Isa isa) {
#if defined(__x86_64__)
  if (isa == ISA_AVX512) return gemm_config_avx512();
  if (isa == ISA_AVX2) return gemm_config_avx2();
#endif
  (void)isa;
  return gemm_config_scalar();
}

void gemm(const GemmArgs &g, Isa isa) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  const GemmConfig cfg = config_for(isa);
  ThreadPool &tp = pool();
  const int T = tp.size();
  auto one = [&](int64_t i, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const float *a = g.a + i * g.strideA;
    const float *b = g.b + i * g.strideB;
    float *c = g.c + i * g.strideC;
    a += g.transA ? m0 : m0 * g.lda;
    b += g.transB ? n0 * g.ldb : n0;
    c += m0 * g.ldc + n0;
    gemm_serial(cfg, g.transA, g.transB, m1 - m0, n1 - n0, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, c, g.ldc);
  };
  double work = static_cast<double>(g.m) * g.n * (g.k > 0 ? g.k : 1) * g.batch;
  if (T == 1 || work < 262144.0) {
    for (int64_t i = 0; i < g.batch; i++) one(i, 0, g.m, 0, g.n);
    return;
  }
  if (g.batch % T == 0 || g.batch >= 4 * T) {
    tp.run([&](int tid, int nt) {
      int64_t b0, b1;
      split_range(g.batch, tid, nt, 1, &b0, &b1);
      for (int64_t i = b0; i < b1; i++) one(i, 0, g.m, 0, g.n);
    });
    return;
  }
  // Split every matrix among the threads along its longer side, in whole register tiles.
  bool split_m = g.m >= g.n;
  tp.run([&](int tid, int nt) {
    int64_t lo, hi;
    for (int64_t i = 0; i < g.batch; i++) {
      if (split_m) {
        split_range(g.m, tid, nt, cfg.mr, &lo, &hi);
        if (lo < hi) one(i, lo, hi, 0, g.n);
      } else {
        split_range(g.n, tid, nt, cfg.nr, &lo, &hi);
        if (lo < hi) one(i, 0, g.m, lo, hi);
      }
    }
  });
}

}  // namespace tt
