// int8 linear driver (quantize rows, tile loop, dequantizing epilogue) and the portable tile.
#include "gemm_int8.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <cmath>
#include <cstring>
#include <vector>

#include "thread_pool.h"

namespace tt {

const char *int8_path_name(Int8Path p) {
  switch (p) {
    case I8_AVX512VNNI: return "avx512vnni";
    case I8_AVXVNNI: return "avxvnni";
    case I8_AVX2: return "avx2";
    case I8_NEONDOT: return "neondot";
    case I8_I8MM: return "i8mm";
    default: return "scalar";
  }
}

bool int8_path_supported(Int8Path p, Isa isa) {
#if TT_X86
  __builtin_cpu_init();
  switch (p) {
    case I8_AVX512VNNI:
      return isa >= ISA_AVX512 && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl");
    case I8_AVXVNNI: return isa >= ISA_AVX2 && __builtin_cpu_supports("avxvnni");
    case I8_AVX2: return isa >= ISA_AVX2;
    case I8_NEONDOT:
    case I8_I8MM: return false;  // arm64 paths
    default: return true;
  }
#elif TT_ARM
  switch (p) {
    case I8_I8MM: return isa == ISA_NEON && arm_has_i8mm();
    case I8_NEONDOT: return isa == ISA_NEON && arm_has_dotprod();
    case I8_SCALAR: return true;
    default: return false;
  }
#else
  (void)isa;
  return p == I8_SCALAR;
#endif
}

Int8Path int8_best_path(Isa isa) {
  for (int p = I8_PATH_LAST; p > I8_SCALAR; p--)
    if (int8_path_supported(static_cast<Int8Path>(p), isa)) return static_cast<Int8Path>(p);
  return I8_SCALAR;
}

namespace {

void tile_scalar(int64_t kgroups, const uint8_t *A, int64_t lda, int mr, const int8_t *B, int64_t bstride, int nb,
                 int32_t *acc) {
  for (int i = 0; i < mr; i++) {
    const uint8_t *a = A + i * lda;
    for (int blk = 0; blk < nb; blk++) {
      int32_t s[16] = {0};
      const int8_t *b = B + blk * bstride;
      for (int64_t g = 0; g < kgroups; g++)
        for (int c = 0; c < 16; c++)
          for (int t = 0; t < 4; t++) s[c] += int32_t(a[4 * g + t]) * int32_t(b[g * 64 + 4 * c + t]);
      for (int c = 0; c < 16; c++) acc[i * 64 + blk * 16 + c] = s[c];
    }
  }
}

Int8Kernel kernel_for(Int8Path p, bool w_s7) {
#if TT_X86
  if (p == I8_AVX512VNNI) return int8_kernel_avx512vnni();
  if (p == I8_AVXVNNI) return int8_kernel_avxvnni();
  if (p == I8_AVX2) return w_s7 ? int8_kernel_avx2_s7() : int8_kernel_avx2();
#elif TT_ARM
  if (p == I8_I8MM) return int8_kernel_i8mm();
  if (p == I8_NEONDOT) return int8_kernel_neondot();
#else
  (void)p;
#endif
  (void)w_s7;
  return int8_kernel_scalar();
}

}  // namespace

Int8Kernel int8_kernel_scalar() { return {4, 1, tile_scalar, int8_quantize_row, int8_epilogue}; }

void int8_pack_weights(const int8_t *w, int64_t n, int64_t k, int8_t *dst) {
  const int64_t kg = int8_k_groups(k);
  std::memset(dst, 0, static_cast<size_t>(int8_packed_size(n, k)));
  for (int64_t j = 0; j < n; j++) {
    int8_t *blk = dst + (j / 16) * kg * 64 + (j % 16) * 4;
    for (int64_t p = 0; p < k; p++) blk[(p / 4) * 64 + (p % 4)] = w[j * k + p];
  }
}

// Round half to even for |v| <= 2^22 without libm (nearbyintf is a call that saves the FP
// environment on baseline x86-64): adding and subtracting 1.5 * 2^23 rounds in the current (nearest
// even) mode; -ffp-contract=off and no fast-math keep the two operations.
static inline float rne(float v) {
  const float magic = 12582912.0f;
  return (v + magic) - magic;
}

// Exactly the reference's arithmetic (float32 division, round half to even, saturation).
void int8_quantize_row(const float *x, int64_t k, int64_t kp, uint8_t *q, float *scale, int32_t *zero) {
  float mn = 0.0f, mx = 0.0f, probe = 0.0f;
  for (int64_t p = 0; p < k; p++) {
    const float v = x[p];
    probe += v * 0.0f;  // NaN when any value is Inf or NaN
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
  }
  const bool finite = probe == 0.0f;
  const float s = (mx - mn) / 255.0f;
  if (!finite || !std::isfinite(s) || s == 0.0f) {
    // All zeros: any scale works. Inf/NaN: the row's outputs become NaN, as in float.
    std::memset(q, 0, static_cast<size_t>(kp));
    *scale = finite && s == 0.0f ? 0.0f : NAN;
    *zero = 0;
    return;
  }
  const float zf = std::min(255.0f, std::max(0.0f, rne(-mn / s)));
  for (int64_t p = 0; p < k; p++) {
    // |x / s| <= 255 up to rounding, so the clamp only guards the magic-number rounding's range.
    const float r = rne(std::min(512.0f, std::max(-512.0f, x[p] / s))) + zf;
    q[p] = static_cast<uint8_t>(static_cast<int32_t>(std::min(255.0f, std::max(0.0f, r))));
  }
  for (int64_t p = k; p < kp; p++) q[p] = 0;
  *scale = s;
  *zero = static_cast<int32_t>(zf);
}

void int8_epilogue(const int32_t *ac, int32_t z, float s_a, const int32_t *w_sum, const float *w_scale,
                   const float *bias, const float *res, float *y, int64_t c0, int64_t c1) {
  int8_epilogue_body(ac, z, s_a, w_sum, w_scale, bias, res, y, c0, c1);
}

void linear_int8(const Int8LinearArgs &a, Int8Path path, const OpsTable &ops) {
  const Int8Kernel K = kernel_for(path, a.w_s7);
  const int64_t m = a.m, n = a.n, k = a.k;
  const int64_t kg = int8_k_groups(k), kp = kg * 4, nblocks = int8_blocks(n), bstride = kg * 64;
  // Every byte is written by the quantizer (padding depths too), so no zero fill.
  std::unique_ptr<uint8_t[]> q(new uint8_t[static_cast<size_t>(m * kp)]);
  std::vector<float> sa(static_cast<size_t>(m));
  std::vector<int32_t> za(static_cast<size_t>(m));
  // One pool job (waking the workers costs tens of microseconds, far more on a loaded machine):
  // rows are quantized, then the products run once every row is. Both phases are claimed in parts
  // from shared counters, so a slower thread takes fewer and a worker that has not started is not
  // waited for. Small products stay on this thread.
  ThreadPool &tp = pool();
  const int T = static_cast<double>(m) * n * k < 2097152.0 ? 1 : tp.size();
  const int64_t qparts = std::min<int64_t>(m, 4 * T);
  // Parts of the product: contiguous column blocks (each streams its share of the weights) over all
  // rows, unless there are too few blocks, then contiguous rows. Two per thread: each column part
  // reads all of A again, and four per thread made the 3072-deep product 10% slower (Zen 4).
  const bool by_columns = nblocks >= 2 * T || m < 2 * K.mr * T;
  const int64_t parts = std::min<int64_t>(2 * T, by_columns ? (nblocks + K.nb - 1) / K.nb : (m + K.mr - 1) / K.mr);
  std::atomic<int64_t> next_q{0}, quantized{0}, next_part{0};
  auto job = [&](int, int) {
    for (int64_t u; (u = next_q.fetch_add(1, std::memory_order_relaxed)) < qparts;) {
      int64_t b, e;
      split_range(m, static_cast<int>(u), static_cast<int>(qparts), 1, &b, &e);
      for (int64_t i = b; i < e; i++) K.quantize(a.x + i * k, k, kp, &q[i * kp], &sa[i], &za[i]);
      quantized.fetch_add(1, std::memory_order_acq_rel);
    }
    wait_until([&] { return quantized.load(std::memory_order_acquire) == qparts; });
    // Rows per block: about 192 KiB of quantized A (stays in L2 while each weight panel, kernel-width
    // columns by k, is reused across the block's tiles from L1/L2).
    const int64_t MC = std::max<int64_t>(K.mr, (192 * 1024 / kp) / K.mr * K.mr);
    alignas(64) int32_t acc[8 * 64];
    for (int64_t u; (u = next_part.fetch_add(1, std::memory_order_relaxed)) < parts;) {
      int64_t jb0 = 0, jb1 = nblocks, i0 = 0, i1 = m;
      if (by_columns) split_range(nblocks, static_cast<int>(u), static_cast<int>(parts), K.nb, &jb0, &jb1);
      else split_range(m, static_cast<int>(u), static_cast<int>(parts), K.mr, &i0, &i1);
      for (int64_t ib = i0; ib < i1; ib += MC) {
        const int64_t ie = std::min(i1, ib + MC);
        for (int64_t jb = jb0; jb < jb1; jb += K.nb) {
          const int nb = static_cast<int>(std::min<int64_t>(K.nb, jb1 - jb));
          const int64_t c0 = jb * 16, c1 = std::min(n, (jb + nb) * 16);
          for (int64_t i = ib; i < ie; i += K.mr) {
            const int mr = static_cast<int>(std::min<int64_t>(K.mr, ie - i));
            // The tile's output (and residual) lines are usually not in cache: fetch them while the
            // tile computes, or the epilogue's stores stall on them (a tenth of the time, measured).
            for (int r = 0; r < mr; r++) {
              const int64_t o = (i + r) * n;
              __builtin_prefetch(a.y + o + c0, 1);
              __builtin_prefetch(a.y + o + c1 - 1, 1);
              if (a.residual && a.residual != a.y) {
                __builtin_prefetch(a.residual + o + c0);
                __builtin_prefetch(a.residual + o + c1 - 1);
              }
            }
            K.tile(kg, &q[i * kp], kp, mr, a.w + jb * bstride, bstride, nb, acc);
            for (int r = 0; r < mr; r++) {
              const int64_t row = i + r;
              const int32_t *ac = acc + r * 64 - c0;
              float *y = a.y + row * n;
              K.epilogue(ac, za[row], sa[row], a.w_sum, a.w_scale, a.bias, a.residual ? a.residual + row * n : nullptr, y, c0, c1);
              if (a.act) ops.gelu_forward(y + c0, y + c0, c1 - c0, a.act == 2 ? 1 : 0);
            }
          }
        }
      }
    }
  };
  if (T == 1) job(0, 1);
  else tp.run(job);
}

}  // namespace tt
