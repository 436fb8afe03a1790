// Packing one k row of a transposed A into 6-row panels, shared by the AVX2 and AVX-512 fp32
// packers (both use MR = 6). Include only from x86-64 translation units.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace tt {

// op(A)(i, p) = s[i] for the k row s (row stride lda): copies its first full_rows values (a multiple
// of 6) to dst + (i0 / 6) * 6 * kc + i0 % 6, i.e. 6 per panel, with plain 16 + 8 byte moves (masked
// moves cost several times more and showed up in profiles of dW = X^T dY). Each row contributes only
// mc values before the next, too short a run for the hardware prefetcher (this loop was
// memory-latency bound), so the row 6 ahead is fetched first. The caller packs a partial last panel.
__attribute__((always_inline)) inline void pack_a_trans6_row(const float *s, int64_t lda, int64_t mc, int64_t full_rows,
                                                             int64_t kc, float *dst) {
  for (int64_t i = 0; i < mc; i += 16) _mm_prefetch(reinterpret_cast<const char *>(s + 6 * lda + i), _MM_HINT_T0);
  for (int64_t i0 = 0; i0 < full_rows; i0 += 6) {
    float *d = dst + i0 * kc;
    _mm_storeu_ps(d, _mm_loadu_ps(s + i0));
    _mm_storel_pi(reinterpret_cast<__m64 *>(d + 4), _mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double *>(s + i0 + 4))));
  }
}

}  // namespace tt
