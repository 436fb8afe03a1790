// bf16 GEMM for the mixed-precision mode: C = alpha * bf16(op(A)) @ bf16(op(B)) + beta * C, where
// bf16() rounds each fp32 element to bfloat16 (round to nearest even, denormals to signed zero, NaN
// stays NaN: the semantics of VCVTNE2PS2BF16) and products and sums are fp32.
//
// Two paths with the same definition:
// - avx512_bf16: A and B are converted once per GEMM into bf16 pairs (two consecutive k values in
//   one 32-bit lane, as VDPBF16PS consumes them): B into 64-wide panels, op(A) into 6-row panels
//   when A is transposed, and otherwise row by row as stored (its pairs are already consecutive;
//   the micro-kernel reads its 6 rows in place). A 6 x 64 register tile then accumulates with
//   VDPBF16PS (32 multiply-adds per instruction, twice the fp32 FMA rate).
// - fallback (any CPU): A and B are rounded into fp32 copies and the fp32 GEMM runs on those; the
//   products of two bf16 values are exact in fp32, so only the summation order differs.
//
// Determinism: k is cut into blocks that depend only on k; every C element is accumulated by one
// thread over the blocks in order, so results do not depend on the thread count or on which thread
// took which piece of work.
#include "gemm_bf16.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "thread_pool.h"

#if TT_X86
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "transpose16_avx512.h"
#endif

namespace tt {

uint16_t bf16_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint32_t mag = u & 0x7FFFFFFFu;
  if (mag > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // NaN: keep it a quiet NaN
  if (mag < 0x00800000u) return static_cast<uint16_t>((u >> 16) & 0x8000u);  // denormal or zero -> signed 0
  u += 0x7FFFu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float bf16_round(float x) {
  uint32_t u = static_cast<uint32_t>(bf16_bits(x)) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

namespace {

constexpr int MR = 6, NV = 4, NR = 16 * NV;
constexpr int64_t kMaxBlockPairs = 256;  // k pairs per block (64 KiB of a 64-wide B panel, in L2): measured best of 64..512

#if TT_X86
#define TT_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

// The first n of 16 lanes (none for n <= 0, all for n >= 16).
TT_BF16_TARGET inline __mmask16 lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : (n <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << n) - 1));
}

// acc(6 x 64) = sum over kcp pairs of A (6 rows of kcp pairs) times Bp (kcp x 64 pairs); then
// C[:mr, :nr] = alpha * acc + beta * C (beta == 0: C not read).
// A is either a packed panel (kRowsA false: pair p of row i at A[p * MR + i]) or bf16 rows as
// stored (kRowsA true: at A[i * lda + p], lda in pairs; rows past mr alias row 0 and are not stored).
template <bool kRowsA>
TT_BF16_TARGET void micro_bf16(int64_t kcp, const uint32_t *A, int64_t lda, const uint32_t *Bp, float *C, int64_t ldc,
                               float alpha, float beta, int mr, int nr) {
  const uint32_t *ar[MR];
  for (int i = 0; i < MR; i++) ar[i] = kRowsA ? A + (i < mr ? i : 0) * lda : A + i;
  __m512 acc[MR][NV];
#pragma GCC unroll 6
  for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
#pragma GCC unroll 2
  for (int64_t p = 0; p < kcp; p++) {
    __m512i b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) b[v] = _mm512_load_si512(reinterpret_cast<const void *>(Bp + p * NR + 16 * v));
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
      __m512i a = _mm512_set1_epi32(static_cast<int>(kRowsA ? ar[i][p] : ar[i][p * MR]));
#pragma GCC unroll 4
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], (__m512bh)a, (__m512bh)b[v]);
    }
  }
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
  for (int i = 0; i < mr; i++) {
    float *c = C + i * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; v++) {
      const int left = nr - 16 * v;
      if (left <= 0) break;
      const __mmask16 mk = lanes(left);
      __m512 r = _mm512_mul_ps(va, acc[i][v]);
      if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(mk, c + 16 * v), r);
      _mm512_mask_storeu_ps(c + 16 * v, mk, r);
    }
  }
}

// Packing: panel dst[p * width + i] holds (op(X)[r0+i][2p], op(X)[r0+i][2p+1]) as a bf16 pair (low
// half = even k); rows past `rows` and the k past `k` are zero. VCVTNE2PS2BF16 does the rounding
// (nearest even, denormals to signed zero, NaN kept quiet: bf16_bits above is its portable twin).

// bf16 of 32 consecutive floats (lo = the first 16) in order: lane q = (x[2q], x[2q+1]).
TT_BF16_TARGET inline __m512i cvt_consecutive(__m512 lo, __m512 hi) {
  return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

// k along memory rows (B not transposed, A transposed): lane i = (even[i], odd[i]).
TT_BF16_TARGET inline __m512i cvt_interleave(__m512 even, __m512 odd) {
  const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                       23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  return _mm512_permutexvar_epi16(idx, cvt_consecutive(even, odd));
}

// One stored row of k floats (k along the row) to kp = ceil(k / 2) bf16 pairs in order.
TT_BF16_TARGET void convert_row_pairs(const float *x, int64_t k, uint32_t *dst) {
  const int64_t kp = (k + 1) / 2;
  for (int64_t p0 = 0; p0 < kp; p0 += 16) {
    const int64_t kl = k - 2 * p0;
    const __m512i v = cvt_consecutive(_mm512_maskz_loadu_ps(lanes(kl), x + 2 * p0), _mm512_maskz_loadu_ps(lanes(kl - 16), x + 2 * p0 + 16));
    if (p0 + 16 <= kp) _mm512_storeu_si512(dst + p0, v);
    else _mm512_mask_storeu_epi32(dst + p0, lanes(kp - p0), v);
  }
}

// Pairs of 16 columns from the k row at e (even k) and the one below it (odd k; zero when absent).
TT_BF16_TARGET inline __m512i load_pairs(const float *e, int64_t ld, bool has1, __mmask16 m) {
  return cvt_interleave(_mm512_maskz_loadu_ps(m, e), has1 ? _mm512_maskz_loadu_ps(m, e + ld) : _mm512_setzero_ps());
}

TT_BF16_TARGET void pack_rows_interleave(const float *x, int64_t ld, int64_t r0, int64_t rows, int64_t k, int width,
                                         uint32_t *dst) {
  const int64_t kp = (k + 1) / 2;
  const int64_t w = std::min<int64_t>(width, rows - r0);
  for (int64_t p = 0; p < kp; p++) {
    const float *s0 = x + 2 * p * ld + r0;
    const bool has1 = 2 * p + 1 < k;
    uint32_t *d = dst + p * width;
    for (int64_t i = 0; i < width; i += 16) {
      const __m512i v = load_pairs(s0 + i, ld, has1, lanes(w - i));
      if (i + 16 <= width) _mm512_storeu_si512(d + i, v);
      else _mm512_mask_storeu_epi32(d + i, lanes(width - i), v);
    }
  }
}

// The same for 8 consecutive A panels (48 rows of op(A), MR = 6) at once: each k row is read as 48
// contiguous floats instead of eight 6-float pieces, and the 48 pairs are split into the panels
// with lane rotations. npanels (<= 8) panels are written, panel j at dst + j * pstride.
TT_BF16_TARGET void pack_rows_interleave_6x8(const float *x, int64_t ld, int64_t r0, int64_t rows, int64_t k,
                                             int npanels, uint32_t *dst, int64_t pstride) {
  static_assert(MR == 6, "the lane rotations below assume 6-row A panels");
  const int64_t kp = (k + 1) / 2;
  const int64_t w = std::min<int64_t>(48, rows - r0);
  const __mmask16 m0 = lanes(w), m1 = lanes(w - 16), m2 = lanes(w - 32), six = 0x3F;
  const __m512i z = _mm512_setzero_si512();
  for (int64_t p = 0; p < kp; p++) {
    const float *e = x + 2 * p * ld + r0;
    const bool has1 = 2 * p + 1 < k;
    const __m512i v0 = load_pairs(e, ld, has1, m0), v1 = load_pairs(e + 16, ld, has1, m1),
                  v2 = load_pairs(e + 32, ld, has1, m2);
    uint32_t *d = dst + p * MR;
    _mm512_mask_storeu_epi32(d, six, v0);
    if (npanels > 1) _mm512_mask_storeu_epi32(d + pstride, six, _mm512_alignr_epi32(v1, v0, 6));
    if (npanels > 2) _mm512_mask_storeu_epi32(d + 2 * pstride, six, _mm512_alignr_epi32(v1, v0, 12));
    if (npanels > 3) _mm512_mask_storeu_epi32(d + 3 * pstride, six, _mm512_alignr_epi32(v2, v1, 2));
    if (npanels > 4) _mm512_mask_storeu_epi32(d + 4 * pstride, six, _mm512_alignr_epi32(v2, v1, 8));
    if (npanels > 5) _mm512_mask_storeu_epi32(d + 5 * pstride, six, _mm512_alignr_epi32(v2, v1, 14));
    if (npanels > 6) _mm512_mask_storeu_epi32(d + 6 * pstride, six, _mm512_alignr_epi32(z, v2, 4));
    if (npanels > 7) _mm512_mask_storeu_epi32(d + 7 * pstride, six, _mm512_alignr_epi32(z, v2, 10));
  }
}

// k along memory columns (B transposed): each stored row holds its k pairs
// consecutively, so 32 floats of a row convert into 16 pairs in place; 16 rows at a time are then
// transposed in registers and written down the panel (16 pair rows of up to 16 lanes each).
TT_BF16_TARGET void pack_cols_pairs(const float *x, int64_t ld, int64_t r0, int64_t rows, int64_t k, int width,
                                    uint32_t *dst) {
  const int64_t kp = (k + 1) / 2;
  const int64_t w = std::min<int64_t>(width, rows - r0);
  for (int64_t g0 = 0; g0 < width; g0 += 16) {
    const int valid = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(16, w - g0)));
    const __mmask16 store = lanes(width - g0);
    for (int64_t p0 = 0; p0 < kp; p0 += 16) {
      const int64_t kl = k - 2 * p0;  // floats of k left in each row
      const __mmask16 m0 = lanes(kl), m1 = lanes(kl - 16);
      __m512 r[16];
      for (int i = 0; i < 16; i++) {
        if (i < valid) {
          const float *s = x + (r0 + g0 + i) * ld + 2 * p0;
          r[i] = _mm512_castsi512_ps(cvt_consecutive(_mm512_maskz_loadu_ps(m0, s), _mm512_maskz_loadu_ps(m1, s + 16)));
        } else {
          r[i] = _mm512_setzero_ps();
        }
      }
      transpose16(r);
      const int np = static_cast<int>(std::min<int64_t>(16, kp - p0));
      for (int q = 0; q < np; q++) _mm512_mask_storeu_ps(reinterpret_cast<float *>(dst + (p0 + q) * width + g0), store, r[q]);
    }
  }
}

void pack_any(const float *x, int64_t ld, bool kAlongRows, int64_t r0, int64_t rows, int64_t k, int width,
              uint32_t *dst) {
  if (kAlongRows) pack_rows_interleave(x, ld, r0, rows, k, width, dst);
  else pack_cols_pairs(x, ld, r0, rows, k, width, dst);
}

struct Plan {
  int64_t m, n, k, kp, mp, np, nkb, kcp;
};

Plan make_plan(const GemmArgs &g) {
  Plan P;
  P.m = g.m;
  P.n = g.n;
  P.k = g.k;
  P.kp = (g.k + 1) / 2;
  P.mp = (g.m + MR - 1) / MR;
  P.np = (g.n + NR - 1) / NR;
  P.nkb = std::max<int64_t>(1, (P.kp + kMaxBlockPairs - 1) / kMaxBlockPairs);
  P.kcp = (P.kp + P.nkb - 1) / P.nkb;
  return P;
}

// A panels are packed in groups of this many (op(A) with k along rows packs 8 panels per pass).
constexpr int64_t kAGroup = 8;

// Packs A panels [i0, i1) and B panels [j0, j1) of one batch item. op(A) with k along its stored
// rows (A not transposed) is not reordered, only converted row by row: the micro-kernel reads the
// pairs of its 6 rows in place (kRowsA), where a panel layout would cost a transpose per 6 rows.
void pack_item(const GemmArgs &g, const Plan &P, const float *a, const float *b, uint32_t *Ap, uint32_t *Bp, int64_t i0,
               int64_t i1, int64_t j0, int64_t j1) {
  const int64_t pstride = P.kp * MR;
  if (g.transA) {
    for (int64_t i = i0; i < i1; i += kAGroup)
      pack_rows_interleave_6x8(a, g.lda, i * MR, P.m, P.k, static_cast<int>(std::min(kAGroup, i1 - i)), Ap + i * pstride, pstride);
  } else {
    for (int64_t r = i0 * MR; r < std::min(P.m, i1 * MR); r++) convert_row_pairs(a + r * g.lda, P.k, Ap + r * P.kp);
  }
  for (int64_t j = j0; j < j1; j++) pack_any(b, g.ldb, !g.transB, j * NR, P.n, P.k, NR, Bp + j * P.kp * NR);
}

// Units of 16 A panels x 2 B panels; unit u covers A panels [16 (u % MB), ...) and B panels [2 (u / MB), ...).
constexpr int64_t kUnitA = 16, kUnitB = 2;

void compute_units(const GemmArgs &g, const Plan &P, const uint32_t *Ap, const uint32_t *Bp, float *c, int64_t u0,
                   int64_t u1) {
  const int64_t MB = (P.mp + kUnitA - 1) / kUnitA;
  for (int64_t u = u0; u < u1; u++) {
    const int64_t ia = (u % MB) * kUnitA, ib = std::min(P.mp, ia + kUnitA);
    const int64_t ja = (u / MB) * kUnitB, jb = std::min(P.np, ja + kUnitB);
    for (int64_t kb = 0; kb < P.nkb; kb++) {
      const int64_t p0 = kb * P.kcp, pc = std::min(P.kcp, P.kp - p0);
      if (pc <= 0) break;
      const float beta = kb == 0 ? g.beta : 1.0f;
      for (int64_t j = ja; j < jb; j++) {
        const int nr = static_cast<int>(std::min<int64_t>(NR, P.n - j * NR));
        for (int64_t i = ia; i < ib; i++) {
          const int mr = static_cast<int>(std::min<int64_t>(MR, P.m - i * MR));
          const uint32_t *bp = Bp + (j * P.kp + p0) * NR;
          float *cp = c + i * MR * g.ldc + j * NR;
          if (g.transA) micro_bf16<false>(pc, Ap + (i * P.kp + p0) * MR, 0, bp, cp, g.ldc, g.alpha, beta, mr, nr);
          else micro_bf16<true>(pc, Ap + i * MR * P.kp + p0, P.kp, bp, cp, g.ldc, g.alpha, beta, mr, nr);
        }
      }
    }
  }
}

int64_t unit_count(const Plan &P) { return ((P.mp + kUnitA - 1) / kUnitA) * ((P.np + kUnitB - 1) / kUnitB); }

// 64-byte aligned scratch that grows and is reused (one per thread for the batched path).
struct Scratch {
  std::vector<uint32_t> buf;
  uint32_t *get(size_t n) {
    if (buf.size() < n + 16) buf.resize(n + 16);
    uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
    return reinterpret_cast<uint32_t *>((p + 63) & ~static_cast<uintptr_t>(63));
  }
};

void gemm_bf16_avx512(const GemmArgs &g) {
  const Plan P = make_plan(g);
  const size_t aN = static_cast<size_t>(P.mp * P.kp * MR), bN = static_cast<size_t>(P.np * P.kp * NR);
  ThreadPool &tp = pool();
  const int T = tp.size();
  const double work = static_cast<double>(g.m) * g.n * g.k;
  if (g.k == 0) {
    // No products: C = beta * C (beta == 0 writes zeros), as the fp32 GEMM does.
    for (int64_t bi = 0; bi < g.batch; bi++)
      for (int64_t r = 0; r < g.m; r++) {
        float *c = g.c + bi * g.strideC + r * g.ldc;
        for (int64_t j = 0; j < g.n; j++) c[j] = g.beta == 0.0f ? 0.0f : g.beta * c[j];
      }
    return;
  }
  // Work is handed out dynamically (an atomic counter over items, panels or C units): which thread
  // computes a tile never changes its arithmetic, and a thread descheduled by other processes on a
  // shared machine holds up at most one piece instead of a fixed half; one that has not started
  // by the time the work is gone is not waited for.
  const bool serial = T == 1 || g.serial || work * g.batch < 2097152.0;
  if (serial || g.batch >= T) {
    // Whole batch items per thread (attention products), each with its own packing buffers.
    std::atomic<int64_t> next{0};
    auto items = [&]() {
      static thread_local Scratch sa, sb;
      uint32_t *Ap = sa.get(aN), *Bp = sb.get(bN);
      for (int64_t bi; (bi = next.fetch_add(1, std::memory_order_relaxed)) < g.batch;) {
        pack_item(g, P, g.a + bi * g.strideA, g.b + bi * g.strideB, Ap, Bp, 0, P.mp, 0, P.np);
        compute_units(g, P, Ap, Bp, g.c + bi * g.strideC, 0, unit_count(P));
      }
    };
    if (serial) items();
    else tp.run([&](int, int) { items(); });
    return;
  }
  // One (or a few) large products: pack in parallel into shared buffers, then share out the C units.
  static thread_local Scratch sa, sb;  // the calling thread's (JS worker threads may call concurrently)
  uint32_t *Ap = sa.get(aN), *Bp = sb.get(bN);
  const int64_t U = unit_count(P);
  for (int64_t bi = 0; bi < g.batch; bi++) {
    const float *a = g.a + bi * g.strideA, *b = g.b + bi * g.strideB;
    std::atomic<int64_t> next_panel{0}, next_unit{0};
    tp.run([&](int, int) {
      // Work items 0..ga-1 are groups of A panels, ga..ga+np-1 single B panels.
      const int64_t ga = (P.mp + kAGroup - 1) / kAGroup;
      for (int64_t q; (q = next_panel.fetch_add(1, std::memory_order_relaxed)) < ga + P.np;) {
        if (q < ga) pack_item(g, P, a, b, Ap, Bp, q * kAGroup, std::min(P.mp, (q + 1) * kAGroup), 0, 0);
        else pack_item(g, P, a, b, Ap, Bp, 0, 0, q - ga, q - ga + 1);
      }
    });
    float *c = g.c + bi * g.strideC;
    tp.run([&](int, int) {
      for (int64_t u; (u = next_unit.fetch_add(1, std::memory_order_relaxed)) < U;) compute_units(g, P, Ap, Bp, c, u, u + 1);
    });
  }
}
#endif  // TT_X86

// Rounds op-agnostic stored matrices into contiguous fp32 copies and runs the fp32 GEMM on them.
void gemm_bf16_fallback(const GemmArgs &g, Isa isa) {
  const int64_t ar = g.transA ? g.k : g.m, ac = g.transA ? g.m : g.k;
  const int64_t br = g.transB ? g.n : g.k, bc = g.transB ? g.k : g.n;
  std::vector<float> ra(static_cast<size_t>(ar * ac * g.batch)), rb(static_cast<size_t>(br * bc * g.batch));
  for (int64_t bi = 0; bi < g.batch; bi++) {
    for (int64_t r = 0; r < ar; r++)
      for (int64_t c = 0; c < ac; c++) ra[(bi * ar + r) * ac + c] = bf16_round(g.a[bi * g.strideA + r * g.lda + c]);
    for (int64_t r = 0; r < br; r++)
      for (int64_t c = 0; c < bc; c++) rb[(bi * br + r) * bc + c] = bf16_round(g.b[bi * g.strideB + r * g.ldb + c]);
  }
  GemmArgs h = g;
  h.a = ra.data();
  h.lda = std::max<int64_t>(ac, 1);
  h.strideA = ar * ac;
  h.b = rb.data();
  h.ldb = std::max<int64_t>(bc, 1);
  h.strideB = br * bc;
  gemm(h, isa);
}

bool g_force_fallback = false;

}  // namespace

bool bf16_native_available() {
#if TT_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

void set_bf16_fallback(bool force) { g_force_fallback = force; }

bool bf16_uses_native() { return !g_force_fallback && bf16_native_available(); }

void gemm_bf16(const GemmArgs &g, Isa isa) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
#if TT_X86
  if (isa == ISA_AVX512 && bf16_uses_native()) {
    gemm_bf16_avx512(g);
    return;
  }
#endif
  gemm_bf16_fallback(g, isa);
}

}  // namespace tt
