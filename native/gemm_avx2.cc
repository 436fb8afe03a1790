// AVX2+FMA GEMM micro-kernel: 6 x 16 tile of C in 12 ymm accumulators (the classic Haswell shape),
// B loaded as 2 vectors per k step, A broadcast. Per-function target: see gemm_avx512.cc.
#include "common.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace tt {
namespace {

constexpr int MR = 6, NV = 2, NR = 8 * NV;

__attribute__((target("avx2,fma"))) void micro_kernel(int64_t kc, const float *Ap, const float *Bp, float *C,
                                                      int64_t ldc, float alpha, float beta) {
  __m256 acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();

#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; p++) {
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
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) {
        float *c = C + i * ldc + 8 * v;
        _mm256_storeu_ps(c, _mm256_fmadd_ps(va, acc[i][v], _mm256_mul_ps(vb, _mm256_loadu_ps(c))));
      }
  }
}

}  // namespace

GemmConfig gemm_config_avx2() {
  GemmConfig cfg;
  cfg.mr = MR;
  cfg.nr = NR;
  cfg.kc = 256;
  cfg.mc = MR * 24;
  cfg.nc = 4096;
  cfg.kernel = micro_kernel;
  return cfg;
}

}  // namespace tt
#endif
