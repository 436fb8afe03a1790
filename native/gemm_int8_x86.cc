// int8 tiles for x86: AVX512-VNNI (6 rows x up to 64 columns, vpdpbusd on zmm), AVX-VNNI (6 x 16,
// vpdpbusd on ymm) and plain AVX2 (4 x 16, vpdpbusd emulated exactly: u8 and s8 halves widened to
// 16 bits and summed with two vpmaddwd, which cannot overflow, unlike vpmaddubsw's int16 pairs).
// Per-function targets, so the addon loads on any x86-64; dispatch picks a tile from cpuid.
#include "gemm_int8.h"

#if TT_X86
#include <immintrin.h>

#include <cstring>

namespace tt {
namespace {

inline int32_t load4(const uint8_t *p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

constexpr int MR512 = 6;

template <int NB>
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) void tile512(int64_t kg, const uint8_t *A, int64_t lda,
                                                                             int mr, const int8_t *B, int64_t bs,
                                                                             int32_t *acc) {
  const uint8_t *ar[MR512];
  for (int i = 0; i < MR512; i++) ar[i] = A + (i < mr ? i : 0) * lda;
  __m512i c[MR512][NB];
#pragma GCC unroll 8
  for (int i = 0; i < MR512; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NB; v++) c[i][v] = _mm512_setzero_si512();
#pragma GCC unroll 2
  for (int64_t g = 0; g < kg; g++) {
    __m512i b[NB];
#pragma GCC unroll 4
    for (int v = 0; v < NB; v++) b[v] = _mm512_loadu_si512(B + v * bs + g * 64);
#pragma GCC unroll 8
    for (int i = 0; i < MR512; i++) {
      const __m512i a = _mm512_set1_epi32(load4(ar[i] + 4 * g));
#pragma GCC unroll 4
      for (int v = 0; v < NB; v++) c[i][v] = _mm512_dpbusd_epi32(c[i][v], a, b[v]);
    }
  }
  for (int i = 0; i < mr; i++)
    for (int v = 0; v < NB; v++) _mm512_storeu_si512(acc + i * 64 + 16 * v, c[i][v]);
}

void tile_avx512vnni(int64_t kg, const uint8_t *A, int64_t lda, int mr, const int8_t *B, int64_t bs, int nb,
                     int32_t *acc) {
  switch (nb) {
    case 4: tile512<4>(kg, A, lda, mr, B, bs, acc); break;
    case 3: tile512<3>(kg, A, lda, mr, B, bs, acc); break;
    case 2: tile512<2>(kg, A, lda, mr, B, bs, acc); break;
    default: tile512<1>(kg, A, lda, mr, B, bs, acc); break;
  }
}

// One 16-column block as two ymm halves.
template <int MR>
__attribute__((target("avx2,avxvnni"))) void tile256_vnni(int64_t kg, const uint8_t *A, int64_t lda, int mr,
                                                           const int8_t *B, int64_t, int, int32_t *acc) {
  const uint8_t *ar[MR];
  for (int i = 0; i < MR; i++) ar[i] = A + (i < mr ? i : 0) * lda;
  __m256i c[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm256_setzero_si256();
#pragma GCC unroll 2
  for (int64_t g = 0; g < kg; g++) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(B + g * 64));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(B + g * 64 + 32));
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m256i a = _mm256_set1_epi32(load4(ar[i] + 4 * g));
      c[i][0] = _mm256_dpbusd_avx_epi32(c[i][0], a, b0);
      c[i][1] = _mm256_dpbusd_avx_epi32(c[i][1], a, b1);
    }
  }
  for (int i = 0; i < mr; i++) {
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc + i * 64), c[i][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc + i * 64 + 8), c[i][1]);
  }
}

// The same without AVX-VNNI (a separate function, so the compiler cannot fuse vpmaddwd + vpaddd into
// AVX-VNNI's vpdpwssd).
template <int MR>
__attribute__((target("avx2"))) void tile256_emul(int64_t kg, const uint8_t *A, int64_t lda, int mr,
                                                  const int8_t *B, int64_t, int, int32_t *acc) {
  const uint8_t *ar[MR];
  for (int i = 0; i < MR; i++) ar[i] = A + (i < mr ? i : 0) * lda;
  __m256i c[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm256_setzero_si256();
  const __m256i lo_mask = _mm256_set1_epi16(0x00ff);
#pragma GCC unroll 2
  for (int64_t g = 0; g < kg; g++) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(B + g * 64));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(B + g * 64 + 32));
    // Words of b: (w0, w1), (w2, w3) -> even bytes w0, w2 and odd bytes w1, w3, sign-extended.
    const __m256i b0e = _mm256_srai_epi16(_mm256_slli_epi16(b0, 8), 8), b0o = _mm256_srai_epi16(b0, 8);
    const __m256i b1e = _mm256_srai_epi16(_mm256_slli_epi16(b1, 8), 8), b1o = _mm256_srai_epi16(b1, 8);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m256i a = _mm256_set1_epi32(load4(ar[i] + 4 * g));
      const __m256i ae = _mm256_and_si256(a, lo_mask), ao = _mm256_srli_epi16(a, 8);
      c[i][0] = _mm256_add_epi32(c[i][0], _mm256_add_epi32(_mm256_madd_epi16(ae, b0e), _mm256_madd_epi16(ao, b0o)));
      c[i][1] = _mm256_add_epi32(c[i][1], _mm256_add_epi32(_mm256_madd_epi16(ae, b1e), _mm256_madd_epi16(ao, b1o)));
    }
  }
  for (int i = 0; i < mr; i++) {
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc + i * 64), c[i][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc + i * 64 + 8), c[i][1]);
  }
}

}  // namespace

Int8Kernel int8_kernel_avx512vnni() { return {MR512, 4, tile_avx512vnni}; }
Int8Kernel int8_kernel_avxvnni() { return {6, 1, tile256_vnni<6>}; }
Int8Kernel int8_kernel_avx2() { return {4, 1, tile256_emul<4>}; }

}  // namespace tt
#endif
