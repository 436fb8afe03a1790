// int8 tiles for x86: AVX512-VNNI (6 rows x up to 64 columns, vpdpbusd on zmm), AVX-VNNI (6 x 16,
// vpdpbusd on ymm) and plain AVX2 (4 x 16, vpdpbusd emulated exactly: u8 and s8 halves widened to
// 16 bits and summed with two vpmaddwd, which cannot overflow, unlike vpmaddubsw's int16 pairs),
// with a cheaper AVX2 tile for 7-bit weights, where vpmaddubsw cannot saturate.
// Per-function targets, so the addon loads on any x86-64; dispatch picks a tile from cpuid.
#include "gemm_int8.h"

#if TT_X86
// GCC 12 passes _mm512_undefined_* through intrinsics, which -Wuninitialized reports (as in gemm_avx512.cc).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
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
  // Every row is stored (rows past mr hold row 0's sums; the caller reads rows < mr): a loop bound
  // known at compile time keeps the accumulators in registers (indexing them by mr spilled them).
#pragma GCC unroll 8
  for (int i = 0; i < MR512; i++)
#pragma GCC unroll 4
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
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {  // all rows: see tile512
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
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {  // all rows: see tile512
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc + i * 64), c[i][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc + i * 64 + 8), c[i][1]);
  }
}

// 7-bit weights ([-64, 63]) on plain AVX2, as onnxruntime's MLAS U8S8 kernel multiplies (but exact
// here, because the caller guarantees the range): vpmaddubsw gives u8 x s8 pair sums in int16, at
// most 255 * 64 * 2 = 32640 in magnitude, so never saturated; vpmaddwd with ones widens the pairs
// to the 4-deep int32 sums vpdpbusd gives; vpaddd accumulates. Three instructions per 32 products
// where the exact emulation takes five.
template <int MR>
__attribute__((target("avx2"))) void tile256_s7(int64_t kg, const uint8_t *A, int64_t lda, int mr, const int8_t *B,
                                                int64_t, int, int32_t *acc) {
  const uint8_t *ar[MR];
  for (int i = 0; i < MR; i++) ar[i] = A + (i < mr ? i : 0) * lda;
  __m256i c[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm256_setzero_si256();
  const __m256i ones = _mm256_set1_epi16(1);
#pragma GCC unroll 2
  for (int64_t g = 0; g < kg; g++) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(B + g * 64));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(B + g * 64 + 32));
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
      const __m256i a = _mm256_set1_epi32(load4(ar[i] + 4 * g));
      c[i][0] = _mm256_add_epi32(c[i][0], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b0), ones));
      c[i][1] = _mm256_add_epi32(c[i][1], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b1), ones));
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; i++) {  // all rows: see tile512
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc + i * 64), c[i][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc + i * 64 + 8), c[i][1]);
  }
}

// int8_quantize_row vectorised (the same float32 operations per element; min and max are exact in
// any order; a NaN or Inf anywhere makes v * 0 NaN, which the probe sum keeps).
__attribute__((target("avx512f,avx512bw,avx512vl"))) void quantize512(const float *x, int64_t k, int64_t kp, uint8_t *q,
                                                                      float *scale, int32_t *zero) {
  __m512 mn = _mm512_setzero_ps(), mx = _mm512_setzero_ps(), probe = _mm512_setzero_ps();
  const __m512 zerov = _mm512_setzero_ps();
  for (int64_t p = 0; p < k; p += 16) {
    const __mmask16 mk = k - p >= 16 ? __mmask16(0xffff) : __mmask16((1u << (k - p)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(mk, x + p);
    probe = _mm512_add_ps(probe, _mm512_mul_ps(v, zerov));
    mn = _mm512_min_ps(mn, v);
    mx = _mm512_max_ps(mx, v);
  }
  const float fmn = _mm512_reduce_min_ps(mn), fmx = _mm512_reduce_max_ps(mx), fprobe = _mm512_reduce_add_ps(probe);
  const float s = (fmx - fmn) / 255.0f;
  if (!(fprobe == 0.0f) || !(s - s == 0.0f) || s == 0.0f) {
    int8_quantize_row(x, k, kp, q, scale, zero);  // the rare cases, as the portable code does them
    return;
  }
  const __m512 magic = _mm512_set1_ps(12582912.0f), vs = _mm512_set1_ps(s);
  const float zf = std::min(255.0f, std::max(0.0f, ((-fmn / s) + 12582912.0f) - 12582912.0f));
  const __m512 vz = _mm512_set1_ps(zf), lo = _mm512_set1_ps(-512.0f), hi = _mm512_set1_ps(512.0f),
               top = _mm512_set1_ps(255.0f);
  for (int64_t p = 0; p < kp; p += 16) {
    const __mmask16 mk = k - p >= 16 ? __mmask16(0xffff) : k > p ? __mmask16((1u << (k - p)) - 1) : __mmask16(0);
    const __mmask16 mq = kp - p >= 16 ? __mmask16(0xffff) : __mmask16((1u << (kp - p)) - 1);
    __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(mk, x + p), vs);
    v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
    v = _mm512_add_ps(_mm512_sub_ps(_mm512_add_ps(v, magic), magic), vz);
    v = _mm512_maskz_mov_ps(mk, _mm512_min_ps(top, _mm512_max_ps(zerov, v)));  // padding depths are 0
    _mm_mask_storeu_epi8(q + p, mq, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));
  }
  *scale = s;
  *zero = static_cast<int32_t>(zf);
}

// Eight values of a quantize256 row to their u8 codes (in int32 lanes): int8_quantize_row's float32
// operations, x / s rounded half to even, plus the zero point, saturated to [0, 255].
__attribute__((target("avx2"), always_inline)) inline __m256i quant8(const float *x, __m256 vs, __m256 vz) {
  const __m256 magic = _mm256_set1_ps(12582912.0f);
  __m256 v = _mm256_div_ps(_mm256_loadu_ps(x), vs);
  v = _mm256_min_ps(_mm256_set1_ps(512.0f), _mm256_max_ps(_mm256_set1_ps(-512.0f), v));
  v = _mm256_add_ps(_mm256_sub_ps(_mm256_add_ps(v, magic), magic), vz);
  return _mm256_cvttps_epi32(_mm256_min_ps(_mm256_set1_ps(255.0f), _mm256_max_ps(_mm256_setzero_ps(), v)));
}

__attribute__((target("avx2"))) void quantize256(const float *x, int64_t k, int64_t kp, uint8_t *q, float *scale,
                                                 int32_t *zero) {
  const int64_t k8 = k & ~int64_t(7);
  __m256 mn = _mm256_setzero_ps(), mx = _mm256_setzero_ps(), probe = _mm256_setzero_ps();
  const __m256 zerov = _mm256_setzero_ps();
  for (int64_t p = 0; p < k8; p += 8) {
    const __m256 v = _mm256_loadu_ps(x + p);
    probe = _mm256_add_ps(probe, _mm256_mul_ps(v, zerov));
    mn = _mm256_min_ps(mn, v);
    mx = _mm256_max_ps(mx, v);
  }
  alignas(32) float bmn[8], bmx[8], bpr[8];
  _mm256_store_ps(bmn, mn);
  _mm256_store_ps(bmx, mx);
  _mm256_store_ps(bpr, probe);
  float fmn = 0.0f, fmx = 0.0f, fprobe = 0.0f;
  for (int i = 0; i < 8; i++) {
    fmn = bmn[i] < fmn ? bmn[i] : fmn;
    fmx = bmx[i] > fmx ? bmx[i] : fmx;
    fprobe += bpr[i];
  }
  for (int64_t p = k8; p < k; p++) {
    fprobe += x[p] * 0.0f;
    fmn = x[p] < fmn ? x[p] : fmn;
    fmx = x[p] > fmx ? x[p] : fmx;
  }
  const float s = (fmx - fmn) / 255.0f;
  if (!(fprobe == 0.0f) || !(s - s == 0.0f) || s == 0.0f) {
    int8_quantize_row(x, k, kp, q, scale, zero);
    return;
  }
  const float zf = std::min(255.0f, std::max(0.0f, ((-fmn / s) + 12582912.0f) - 12582912.0f));
  const __m256 vs = _mm256_set1_ps(s), vz = _mm256_set1_ps(zf);
  int64_t p = 0;
  // 32 at a time: saturating packs to u16 then u8 (exact, every value is in [0, 255]) interleave
  // the four vectors by 128-bit lane; one dword permute restores the order.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (; p + 32 <= k8; p += 32) {
    const __m256i ab = _mm256_packus_epi32(quant8(x + p, vs, vz), quant8(x + p + 8, vs, vz));
    const __m256i cd = _mm256_packus_epi32(quant8(x + p + 16, vs, vz), quant8(x + p + 24, vs, vz));
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + p),
                        _mm256_permutevar8x32_epi32(_mm256_packus_epi16(ab, cd), order));
  }
  for (; p < k8; p += 8) {
    alignas(32) int32_t t[8];
    _mm256_store_si256(reinterpret_cast<__m256i *>(t), quant8(x + p, vs, vz));
    for (int i = 0; i < 8; i++) q[p + i] = static_cast<uint8_t>(t[i]);
  }
  for (; p < k; p++) {
    const float r = (((std::min(512.0f, std::max(-512.0f, x[p] / s))) + 12582912.0f) - 12582912.0f) + zf;
    q[p] = static_cast<uint8_t>(static_cast<int32_t>(std::min(255.0f, std::max(0.0f, r))));
  }
  for (; p < kp; p++) q[p] = 0;
  *scale = s;
  *zero = static_cast<int32_t>(zf);
}

// int8_epilogue with 8-wide vectors (the portable copy is built for baseline x86-64's SSE2).
__attribute__((target("avx2"))) void epilogue256(const int32_t *ac, int32_t z, float s_a, const int32_t *w_sum,
                                                 const float *w_scale, const float *bias, const float *res, float *y,
                                                 int64_t c0, int64_t c1) {
  int8_epilogue_body(ac, z, s_a, w_sum, w_scale, bias, res, y, c0, c1);
}

}  // namespace

Int8Kernel int8_kernel_avx512vnni() { return {MR512, 4, tile_avx512vnni, quantize512, epilogue256}; }
Int8Kernel int8_kernel_avxvnni() { return {6, 1, tile256_vnni<6>, quantize256, epilogue256}; }
Int8Kernel int8_kernel_avx2() { return {4, 1, tile256_emul<4>, quantize256, epilogue256}; }
// 4 rows as the exact tile (5 measured the same; 6 spills).
Int8Kernel int8_kernel_avx2_s7() { return {4, 1, tile256_s7<4>, quantize256, epilogue256}; }

}  // namespace tt
#endif
