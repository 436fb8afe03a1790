// arm64 kernel check without Node (scripts/test-arm64.sh cross-compiles it with the native sources
// and runs it under qemu-aarch64): every NEON kernel against a plain double-precision reference
// written here (GEMM, bf16 GEMM, the range kernels, the fused attention, the int8 tiles and linear),
// on awkward shapes, with 1, 2 and 3 threads, at the tolerances test/slow/native-kernels.test.ts and
// test/int8-kernels.test.ts apply to the x86 kernels (int8: bit-exact int32 sums and epilogue).
// Also checks that results do not depend on the thread count. Exit status 0 only when all pass.
// Usage: arm64_driver [--quick]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../attention.h"
#include "../common.h"
#include "../gemm_bf16.h"
#include "../gemm_int8.h"
#include "../parallel_ops.h"
#include "../thread_pool.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

using namespace tt;

namespace {

int g_failures = 0;
int g_threads = 1;
// Work below the kernels' threading thresholds runs on the calling thread whatever the pool size
// (the same code path as with 1 thread), so with 2 and 3 threads only larger cases are repeated.
bool single_threaded_anyway(double work, double threshold) { return g_threads > 1 && work < threshold; }
int g_checks = 0;
std::string g_ctx;  // current kernel / shape, printed on failure

struct MaxErr {
  std::string name;  // a copy: callers pass temporaries
  double worst = 0;  // largest |diff| / tolerance seen (<= 1 passes)
  double abs = 0;    // largest |diff|
  long cases = 0;
};
std::vector<MaxErr> g_err;
MaxErr &err_for(const char *name) {
  for (MaxErr &e : g_err)
    if (e.name == name) return e;
  g_err.push_back(MaxErr{name});
  return g_err.back();
}

// |got - want| <= atol + rtol |want| elementwise (or tol_at(i) when given); NaN fails.
template <class TolAt>
void check_close(const char *kernel, const float *got, const double *want, size_t n, TolAt tol_at) {
  MaxErr &e = err_for(kernel);
  e.cases++;
  g_checks++;
  for (size_t i = 0; i < n; i++) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    const double tol = tol_at(i);
    if (!(d <= tol)) {
      if (g_failures++ < 20)
        std::printf("FAIL %s [%s] element %zu: got %.9g want %.9g (|diff| %.3g > tol %.3g)\n", kernel, g_ctx.c_str(), i,
                    got[i], want[i], d, tol);
      return;
    }
    if (tol > 0 && d / tol > e.worst) e.worst = d / tol;
    if (d > e.abs) e.abs = d;
  }
}
void check_close(const char *kernel, const float *got, const double *want, size_t n, double atol, double rtol) {
  check_close(kernel, got, want, n, [&](size_t i) { return atol + rtol * std::fabs(want[i]); });
}
void check_same(const char *kernel, const float *a, const float *b, size_t n) {
  g_checks++;
  err_for(kernel).cases++;
  if (std::memcmp(a, b, n * sizeof(float)) != 0) {
    if (g_failures++ < 20) std::printf("FAIL %s [%s]: results differ between thread counts\n", kernel, g_ctx.c_str());
  }
}
// Thread-count invariance: the first run (1 thread) of each case is kept under its kernel and
// shape; later runs of the same case must give the same bits.
std::map<std::string, std::vector<float>> g_first;
void same_as_first(const char *kernel, const std::vector<float> &v) {
  std::string key = std::string(kernel) + "|" + g_ctx.substr(0, g_ctx.find(" threads="));
  auto it = g_first.find(key);
  if (it == g_first.end()) g_first.emplace(key, v);
  else check_same(kernel, it->second.data(), v.data(), v.size());
}

void check_exact_i32(const char *kernel, const int32_t *got, const int32_t *want, size_t n) {
  g_checks++;
  err_for(kernel).cases++;
  for (size_t i = 0; i < n; i++)
    if (got[i] != want[i]) {
      if (g_failures++ < 20)
        std::printf("FAIL %s [%s] element %zu: got %d want %d\n", kernel, g_ctx.c_str(), i, got[i], want[i]);
      return;
    }
}

struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t u32() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<uint32_t>(s >> 11);
  }
  float uni(float lo, float hi) { return lo + (hi - lo) * (u32() >> 8) * (1.0f / 16777216.0f); }
};
std::vector<float> rand_vec(size_t n, Rng &r, float lo = -1, float hi = 1) {
  std::vector<float> v(n);
  for (float &x : v) x = r.uni(lo, hi);
  return v;
}

const double EPS32 = 1.1920928955078125e-07;

// ---- GEMM ----------------------------------------------------------------------------------------
double at(const float *x, int64_t ld, bool trans, int64_t i, int64_t j) { return trans ? x[j * ld + i] : x[i * ld + j]; }

// C = alpha op(A) op(B) + beta C in double; tol from |alpha| |op(A)| |op(B)| + |beta C| (the error
// scale). op(A) and op(B)^T are copied to contiguous double rows first (cheaper under emulation).
void ref_gemm(bool tA, bool tB, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, const float *c0, int64_t ldc, std::vector<double> &want,
              std::vector<double> &tol) {
  std::vector<double> A(static_cast<size_t>(m * k)), Bt(static_cast<size_t>(n * k));
  for (int64_t i = 0; i < m; i++)
    for (int64_t p = 0; p < k; p++) A[i * k + p] = at(a, lda, tA, i, p);
  for (int64_t j = 0; j < n; j++)
    for (int64_t p = 0; p < k; p++) Bt[j * k + p] = at(b, ldb, tB, p, j);
  want.assign(static_cast<size_t>(m * ldc), 0);
  tol.assign(want.size(), 0);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      const double *x = &A[i * k], *y = &Bt[j * k];
      double s = 0, mag = 0;
      for (int64_t p = 0; p < k; p++) {
        s += x[p] * y[p];
        mag += std::fabs(x[p] * y[p]);
      }
      const double orig = beta == 0 ? 0 : static_cast<double>(beta) * c0[i * ldc + j];
      want[i * ldc + j] = alpha * s + orig;
      tol[i * ldc + j] = 4 * EPS32 * std::sqrt(static_cast<double>(k > 1 ? k : 1)) * (std::fabs(alpha) * mag + std::fabs(orig)) + 1e-30;
    }
}

// One GEMM case on the given path (fp32 or bf16); beta == 0 fills C with NaN (it must not be read);
// the padding between rows of C must stay untouched. Returns C for the thread-count comparison.
std::vector<float> gemm_case(const char *kernel, Isa isa, bool bf16, bool tA, bool tB, int64_t m, int64_t n,
                             int64_t k, float alpha, float beta, int pad, uint64_t seed) {
  Rng r(seed);
  const int64_t ar = tA ? k : m, ac = tA ? m : k, br = tB ? n : k, bc = tB ? k : n;
  const int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
  std::vector<float> a = rand_vec(static_cast<size_t>(ar * lda), r), b = rand_vec(static_cast<size_t>(br * ldb), r);
  std::vector<float> c(static_cast<size_t>(m * ldc));
  for (float &x : c) x = beta == 0 ? NAN : r.uni(-1, 1);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = n; j < ldc; j++) c[i * ldc + j] = 12345.0f;  // padding sentinel
  std::vector<float> c0 = c;
  std::vector<float> ar_ = a, br_ = b;
  if (bf16) {
    for (float &x : ar_) x = bf16_round(x);
    for (float &x : br_) x = bf16_round(x);
  }
  std::vector<double> want, tol;
  ref_gemm(tA, tB, m, n, k, alpha, ar_.data(), lda, br_.data(), ldb, beta, c0.data(), ldc, want, tol);
  GemmArgs g = single_gemm(tA, tB, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  if (bf16) gemm_bf16(g, isa);
  else gemm(g, isa);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = n; j < ldc; j++) {
      want[i * ldc + j] = 12345.0;
      tol[i * ldc + j] = 0;
    }
  check_close(kernel, c.data(), want.data(), c.size(), [&](size_t i) { return tol[i]; });
  return c;
}

void gemm_suite(Isa isa, int threads, bool quick, bool bf16) {
  const char *name = bf16 ? (isa == ISA_NEON ? "gemm_bf16 (neon fp32 after rounding)" : "gemm_bf16 (portable)")
                          : (isa == ISA_NEON ? "gemm fp32 neon 8x12" : "gemm fp32 portable 4x8");
  // All of {1, 7, 17, 64, 129}^2 x k in {1, 17, 129} (quick / bf16: a subset), and 1000 along one
  // side at a time; those products are past gemm.cc's threading threshold, so 2-3 threads split
  // rows (shared packed B), batches or column units.
  std::vector<int64_t> dims = quick ? std::vector<int64_t>{1, 17, 129} : std::vector<int64_t>{1, 7, 17, 64, 129};
  std::vector<int64_t> ks = quick ? std::vector<int64_t>{17, 129} : std::vector<int64_t>{1, 17, 129};
  struct S { int64_t m, n, k; };
  std::vector<S> shapes;
  for (int64_t m : dims)
    for (int64_t n : dims)
      for (int64_t k : ks) shapes.push_back({m, n, k});
  if (!(isa == ISA_SCALAR)) {
    shapes.push_back({1000, 40, 64});
    shapes.push_back({40, 1000, 64});
    shapes.push_back({64, 40, 1000});
  }
  uint64_t seed = 1;
  for (int t = 0; t < 4; t++) {
    const bool tA = t & 1, tB = t & 2;
    for (const S &s : shapes) {
      if (single_threaded_anyway(static_cast<double>(s.m) * s.n * s.k, 2097152.0)) continue;  // gemm.cc's threshold
      for (int variant = 0; variant < 2; variant++) {
        if (variant != (s.m + s.n + s.k + t) % 2) continue;  // one of the two per shape and transpose
        const float alpha = variant ? -0.75f : 1.0f, beta = variant ? 1.5f : 0.0f;
        char buf[160];
        std::snprintf(buf, sizeof buf, "tA=%d tB=%d m=%lld n=%lld k=%lld alpha=%g beta=%g threads=%d", tA, tB,
                      (long long)s.m, (long long)s.n, (long long)s.k, alpha, beta, threads);
        g_ctx = buf;
        // Inputs depend on the case only (not on which cases ran before), so reruns see the same data.
        seed = 1 + static_cast<uint64_t>(t) * 1000003u + static_cast<uint64_t>(s.m) * 7919u +
               static_cast<uint64_t>(s.n) * 104729u + static_cast<uint64_t>(s.k) * 1299709u + variant;
        std::vector<float> c = gemm_case(name, isa, bf16, tA, tB, s.m, s.n, s.k, alpha, beta, variant ? 3 : 0, seed);
        same_as_first(name, c);
      }
    }
  }
}

// ---- range kernels ---------------------------------------------------------------------------------
double gelu_ref(double v, int approx) {
  if (approx) return 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
  return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
}
double gelu_grad_ref(double v, int approx) {
  if (approx) {
    const double c = 0.7978845608028654, u = c * (v + 0.044715 * v * v * v), t = std::tanh(u);
    return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v);
  }
  return 0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-0.5 * v * v) / std::sqrt(2 * M_PI);
}
uint32_t hash_ref(uint32_t seed, uint32_t i) {
  uint32_t h = i * 0x9E3779B1u + seed;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

void ops_suite(const OpsTable &K, int threads) {
  auto keep = [&](const std::vector<float> &v, const char *name) { same_as_first(name, v); };
  std::vector<int64_t> dims = {1, 7, 17, 64, 129, 1000};
  uint64_t seed = 1000;
  for (int64_t rows : dims)
    for (int64_t cols : dims) {
      if (rows * cols > 129000) continue;  // 1000 on one side at a time (emulation time)
      if (single_threaded_anyway(static_cast<double>(rows) * cols, 32768.0)) continue;  // parallel_ops.cc's threshold
      char buf[96];
      std::snprintf(buf, sizeof buf, "rows=%lld cols=%lld threads=%d", (long long)rows, (long long)cols, threads);
      g_ctx = buf;
      const int64_t n = rows * cols;
      const size_t N = static_cast<size_t>(n);
      Rng r(seed + static_cast<uint64_t>(rows) * 10007u + static_cast<uint64_t>(cols));  // per case, see gemm_suite
      std::vector<float> x = rand_vec(N, r, -4, 4), y = rand_vec(N, r), bias = rand_vec(static_cast<size_t>(cols), r);
      std::vector<float> out(N);
      std::vector<double> want(N);
      // elementwise
      par_add_bias(K, x.data(), bias.data(), out.data(), rows, cols);
      for (size_t i = 0; i < N; i++) want[i] = static_cast<double>(x[i]) + bias[i % cols];
      check_close("add_bias", out.data(), want.data(), N, 0, EPS32);
      par_add(K, x.data(), y.data(), out.data(), n);
      for (size_t i = 0; i < N; i++) want[i] = static_cast<double>(x[i]) + y[i];
      check_close("add", out.data(), want.data(), N, 0, EPS32);
      par_mul(K, x.data(), y.data(), out.data(), n);
      for (size_t i = 0; i < N; i++) want[i] = static_cast<double>(x[i]) * y[i];
      check_close("mul", out.data(), want.data(), N, 0, EPS32);
      par_scale(K, x.data(), 0.37f, out.data(), n);
      for (size_t i = 0; i < N; i++) want[i] = 0.37f * static_cast<double>(x[i]);
      check_close("scale", out.data(), want.data(), N, 0, EPS32);
      out = y;
      par_axpy(K, n, -1.25f, x.data(), out.data());
      for (size_t i = 0; i < N; i++) want[i] = y[i] + -1.25 * x[i];
      check_close("axpy", out.data(), want.data(), N, 1e-7, 2e-7);
      {
        double s = 0;
        for (float v : x) s += static_cast<double>(v) * v;
        const float got = static_cast<float>(par_sum_squares(K, x.data(), n) / (s > 0 ? s : 1));
        const double one = s > 0 ? 1.0 : 0.0;
        check_close("sum_squares", &got, &one, 1, 1e-12, 1e-12);
      }
      // column sums
      {
        std::vector<float> db(static_cast<size_t>(cols), 0.5f);
        par_sum_rows_acc(K, y.data(), db.data(), rows, cols);
        std::vector<double> w(static_cast<size_t>(cols), 0.5);
        for (size_t i = 0; i < N; i++) w[i % cols] += y[i];
        check_close("sum_rows_acc", db.data(), w.data(), db.size(), 1e-6, 1e-6);
        keep(db, "sum_rows_acc");
      }
      // GELU, tanh
      for (int approx = 0; approx < 2; approx++) {
        par_gelu_forward(K, x.data(), out.data(), n, approx);
        for (size_t i = 0; i < N; i++) want[i] = gelu_ref(x[i], approx);
        check_close(approx ? "gelu_forward (tanh)" : "gelu_forward (erf)", out.data(), want.data(), N, 1e-6, 1e-6);
        keep(out, approx ? "gelu_forward (tanh)" : "gelu_forward (erf)");
        out = y;
        par_gelu_backward(K, x.data(), y.data(), out.data(), n, approx);
        for (size_t i = 0; i < N; i++) want[i] = y[i] + y[i] * gelu_grad_ref(x[i], approx);
        check_close(approx ? "gelu_backward (tanh)" : "gelu_backward (erf)", out.data(), want.data(), N, 1e-6, 1e-6);
      }
      par_tanh_forward(K, x.data(), out.data(), n);
      for (size_t i = 0; i < N; i++) want[i] = std::tanh(static_cast<double>(x[i]));
      check_close("tanh_forward", out.data(), want.data(), N, 3e-7, 1e-6);
      {
        std::vector<float> t = out, dx = x;
        par_tanh_backward(K, t.data(), y.data(), dx.data(), n);
        for (size_t i = 0; i < N; i++) want[i] = x[i] + y[i] * (1.0 - static_cast<double>(t[i]) * t[i]);
        check_close("tanh_backward", dx.data(), want.data(), N, 1e-7, 2e-7);
      }
      // LayerNorm forward and backward
      {
        std::vector<float> gamma = rand_vec(static_cast<size_t>(cols), r, 0.5f, 1.5f), beta = rand_vec(static_cast<size_t>(cols), r);
        std::vector<float> mean(static_cast<size_t>(rows)), rstd(static_cast<size_t>(rows));
        const float eps = 1e-5f;
        par_layer_norm_forward(K, x.data(), gamma.data(), beta.data(), out.data(), mean.data(), rstd.data(), rows, cols, eps);
        std::vector<double> wm(static_cast<size_t>(rows)), wr(static_cast<size_t>(rows)), xh(N);
        for (int64_t i = 0; i < rows; i++) {
          double mu = 0, var = 0;
          for (int64_t j = 0; j < cols; j++) mu += x[i * cols + j];
          mu /= cols;
          for (int64_t j = 0; j < cols; j++) var += (x[i * cols + j] - mu) * (x[i * cols + j] - mu);
          var /= cols;
          wm[i] = mu;
          wr[i] = 1 / std::sqrt(var + eps);
          for (int64_t j = 0; j < cols; j++) {
            xh[i * cols + j] = (x[i * cols + j] - mu) * wr[i];
            want[i * cols + j] = xh[i * cols + j] * gamma[j] + beta[j];
          }
        }
        check_close("layer_norm_forward y", out.data(), want.data(), N, 1e-5, 1e-5);
        check_close("layer_norm_forward mean", mean.data(), wm.data(), wm.size(), 1e-7, 1e-6);
        check_close("layer_norm_forward rstd", rstd.data(), wr.data(), wr.size(), 0, 1e-5);
        std::vector<float> dx(N, 0.25f), dg(static_cast<size_t>(cols), 0), dbt(static_cast<size_t>(cols), 0);
        par_layer_norm_backward(K, y.data(), x.data(), gamma.data(), mean.data(), rstd.data(), dx.data(), dg.data(),
                                dbt.data(), rows, cols);
        std::vector<double> wdg(static_cast<size_t>(cols), 0), wdb(static_cast<size_t>(cols), 0);
        for (int64_t i = 0; i < rows; i++) {
          double sg = 0, sgx = 0;
          for (int64_t j = 0; j < cols; j++) {
            const double g = static_cast<double>(y[i * cols + j]) * gamma[j];
            sg += g;
            sgx += g * xh[i * cols + j];
            wdg[j] += y[i * cols + j] * xh[i * cols + j];
            wdb[j] += y[i * cols + j];
          }
          for (int64_t j = 0; j < cols; j++) {
            const double g = static_cast<double>(y[i * cols + j]) * gamma[j];
            want[i * cols + j] = 0.25 + wr[i] * (g - sg / cols - xh[i * cols + j] * sgx / cols);
          }
        }
        check_close("layer_norm_backward dx", dx.data(), want.data(), N, 1e-5, 1e-5);
        const double t = 2e-6 * std::sqrt(static_cast<double>(rows));
        check_close("layer_norm_backward dgamma", dg.data(), wdg.data(), wdg.size(), t, 1e-5);
        check_close("layer_norm_backward dbeta", dbt.data(), wdb.data(), wdb.size(), t, 1e-5);
        keep(dx, "layer_norm_backward");
      }
      // softmax with a mask row (one -inf entry where there are several columns) and its backward
      {
        std::vector<float> mask = rand_vec(static_cast<size_t>(cols), r, -2, 0);
        if (cols > 1) mask[1] = -INFINITY;
        const float sc = 0.125f;
        par_softmax_forward(K, x.data(), mask.data(), out.data(), 1, 1, rows, cols, sc);  // one mask row for all
        for (int64_t i = 0; i < rows; i++) {
          double mx = -INFINITY, s = 0;
          for (int64_t j = 0; j < cols; j++) mx = std::max(mx, static_cast<double>(sc * x[i * cols + j] + mask[j]));
          for (int64_t j = 0; j < cols; j++) s += std::exp(static_cast<double>(sc * x[i * cols + j] + mask[j]) - mx);
          for (int64_t j = 0; j < cols; j++)
            want[i * cols + j] = std::exp(static_cast<double>(sc * x[i * cols + j] + mask[j]) - mx) / s;
        }
        check_close("softmax_forward", out.data(), want.data(), N, 1e-7, 2e-6);
        keep(out, "softmax_forward");
        std::vector<float> ds(N, 0.5f);
        par_softmax_backward(K, out.data(), y.data(), ds.data(), rows, cols, sc);
        for (int64_t i = 0; i < rows; i++) {
          double dot = 0;
          for (int64_t j = 0; j < cols; j++) dot += static_cast<double>(y[i * cols + j]) * out[i * cols + j];
          for (int64_t j = 0; j < cols; j++)
            want[i * cols + j] = 0.5 + sc * static_cast<double>(out[i * cols + j]) * (y[i * cols + j] - dot);
        }
        check_close("softmax_backward", ds.data(), want.data(), N, 1e-6, 1e-5);
      }
      // dropout (the hash is the contract shared with the TypeScript reference)
      {
        const double p = 0.3;
        const uint32_t seed32 = 77, th = dropout_threshold(p);
        par_dropout_forward(K, x.data(), out.data(), n, p, seed32);
        for (size_t i = 0; i < N; i++)
          want[i] = hash_ref(seed32, static_cast<uint32_t>(i)) >= th ? static_cast<float>(x[i] * (1.0 / (1.0 - p))) : 0.0;
        check_close("dropout_forward", out.data(), want.data(), N, 0, 0);
        std::vector<float> dx = y;
        par_dropout_backward(K, x.data(), dx.data(), n, p, seed32);
        for (size_t i = 0; i < N; i++)
          want[i] = hash_ref(seed32, static_cast<uint32_t>(i)) >= th ? static_cast<float>(y[i] + x[i] * (1.0 / (1.0 - p))) : y[i];
        check_close("dropout_backward", dx.data(), want.data(), N, 0, 0);
      }
      // cross-entropy forward (classes = cols)
      {
        std::vector<int32_t> labels(static_cast<size_t>(rows));
        for (int64_t i = 0; i < rows; i++) labels[i] = i % 5 == 4 ? -100 : static_cast<int32_t>(r.u32() % cols);
        double res[2];
        par_cross_entropy_forward(K, x.data(), labels.data(), nullptr, out.data(), rows, cols, -100, res);
        double loss = 0, wsum = 0;
        for (int64_t i = 0; i < rows; i++) {
          double mx = -INFINITY, s = 0;
          for (int64_t j = 0; j < cols; j++) mx = std::max(mx, static_cast<double>(x[i * cols + j]));
          for (int64_t j = 0; j < cols; j++) s += std::exp(x[i * cols + j] - mx);
          for (int64_t j = 0; j < cols; j++) want[i * cols + j] = std::exp(x[i * cols + j] - mx) / s;
          if (labels[i] != -100) {
            loss += std::log(s) - (x[i * cols + labels[i]] - mx);
            wsum += 1;
          }
        }
        check_close("cross_entropy probs", out.data(), want.data(), N, 1e-7, 2e-6);
        const float rel = static_cast<float>((res[0] - loss) / (std::fabs(loss) + 1)), zero = 0, w = static_cast<float>(res[1] - wsum);
        const double z = 0;
        check_close("cross_entropy loss", &rel, &z, 1, 1e-6, 0);
        check_close("cross_entropy weight sum", &w, &z, 1, 0, 0);
        (void)zero;
      }
      // AdamW (torch's formula, double)
      {
        std::vector<float> p = x, g = y, m = rand_vec(N, r, -0.1f, 0.1f), v = rand_vec(N, r, 0, 0.01f);
        std::vector<float> m0 = m, v0 = v;
        const double lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01, step = 3, gs = 0.5;
        par_adamw(K, p.data(), g.data(), m.data(), v.data(), n, lr, b1, b2, eps, wd, step, gs, true);
        std::vector<double> wm(N), wv(N);
        for (size_t i = 0; i < N; i++) {
          const double gi = y[i] * gs;
          wm[i] = m0[i] + (1 - b1) * (gi - m0[i]);
          wv[i] = v0[i] * b2 + (1 - b2) * gi * gi;
          const double denom = std::sqrt(wv[i]) / std::sqrt(1 - std::pow(b2, step)) + eps;
          want[i] = x[i] * (1 - lr * wd) - lr / (1 - std::pow(b1, step)) * (wm[i] / denom);
        }
        check_close("adamw param", p.data(), want.data(), N, 1e-6, 1e-5);
        // m + (1 - beta1)(g - m) in float: g - m rounds at |g|'s scale, which may dwarf |m|.
        check_close("adamw m", m.data(), wm.data(), N, [&](size_t i) {
          return 1e-9 + 1e-5 * std::fabs(wm[i]) + 2 * EPS32 * (1 - b1) * (std::fabs(y[i] * gs) + std::fabs(m0[i]));
        });
        check_close("adamw v", v.data(), wv.data(), N, 1e-12, 1e-5);
        std::vector<double> zeros(N, 0);
        check_close("adamw zero_grad", g.data(), zeros.data(), N, 0, 0);
      }
    }
}

// ---- fused attention --------------------------------------------------------------------------------
void attention_suite(const OpsTable &K, Isa isa, int threads) {
  struct C { int64_t B, T, H, d; double p; };
  const C cases[] = {{1, 1, 1, 7, 0}, {2, 7, 3, 17, 0}, {1, 17, 2, 64, 0}, {2, 129, 2, 64, 0}, {1, 64, 4, 17, 0.1}, {2, 17, 3, 7, 0.2}};
  uint64_t seed = 5000;
  for (const C &c : cases) {
    char buf[120];
    std::snprintf(buf, sizeof buf, "B=%lld T=%lld heads=%lld d=%lld p=%g threads=%d", (long long)c.B, (long long)c.T,
                  (long long)c.H, (long long)c.d, c.p, threads);
    g_ctx = buf;
    Rng r(seed++);
    const int64_t W = c.H * c.d, N = c.B * c.T * W, TT = c.T * c.T;
    std::vector<float> q = rand_vec(N, r), k = rand_vec(N, r), v = rand_vec(N, r), dctx = rand_vec(N, r);
    std::vector<float> mask(static_cast<size_t>(c.B * c.T), 0.0f);
    if (c.T > 1) mask[c.T - 1] = -INFINITY;  // last key of sequence 0 masked
    std::vector<float> probs(static_cast<size_t>(c.B * c.H * TT)), ctx(N);
    AttentionArgs a{c.B, c.T, c.H, c.d, q.data(), k.data(), v.data(), W, mask.data(), probs.data(),
                    1.0f / std::sqrt(static_cast<float>(c.d)), c.p, 9, false};
    attention_forward(K, isa, a, ctx.data(), W);
    std::vector<float> dq(N), dk(N), dv(N);
    attention_backward(K, isa, a, dctx.data(), W, dq.data(), dk.data(), dv.data(), W, 0, 0, 0);
    if (c.p == 0) {
      // Double reference: P = softmax(scale Q K^T + mask), ctx = P V; dV = P^T dctx, dP = dctx V^T,
      // dS = scale P (dP - rowdot), dQ = dS K, dK = dS^T Q.
      std::vector<double> wctx(N, 0), wdq(N, 0), wdk(N, 0), wdv(N, 0), wp(probs.size());
      std::vector<double> ctol(N, 0), gtol(N, 0);
      for (int64_t b = 0; b < c.B; b++)
        for (int64_t h = 0; h < c.H; h++) {
          auto Q = [&](int64_t t, int64_t j) { return static_cast<double>(q[(b * c.T + t) * W + h * c.d + j]); };
          auto Kk = [&](int64_t t, int64_t j) { return static_cast<double>(k[(b * c.T + t) * W + h * c.d + j]); };
          auto V = [&](int64_t t, int64_t j) { return static_cast<double>(v[(b * c.T + t) * W + h * c.d + j]); };
          auto D = [&](int64_t t, int64_t j) { return static_cast<double>(dctx[(b * c.T + t) * W + h * c.d + j]); };
          double *P = &wp[(b * c.H + h) * TT];
          std::vector<double> dS(TT);
          for (int64_t i = 0; i < c.T; i++) {
            double mx = -INFINITY, s = 0;
            for (int64_t j = 0; j < c.T; j++) {
              double x = 0;
              for (int64_t e = 0; e < c.d; e++) x += Q(i, e) * Kk(j, e);
              P[i * c.T + j] = x * a.scale + mask[b * c.T + j];
              mx = std::max(mx, P[i * c.T + j]);
            }
            for (int64_t j = 0; j < c.T; j++) s += (P[i * c.T + j] = std::exp(P[i * c.T + j] - mx));
            for (int64_t j = 0; j < c.T; j++) P[i * c.T + j] /= s;
            double dot = 0;
            std::vector<double> dP(c.T);
            for (int64_t j = 0; j < c.T; j++) {
              for (int64_t e = 0; e < c.d; e++) dP[j] += D(i, e) * V(j, e);
              dot += dP[j] * P[i * c.T + j];
            }
            for (int64_t j = 0; j < c.T; j++) dS[i * c.T + j] = a.scale * P[i * c.T + j] * (dP[j] - dot);
          }
          for (int64_t i = 0; i < c.T; i++)
            for (int64_t e = 0; e < c.d; e++) {
              const int64_t o = (b * c.T + i) * W + h * c.d + e;
              for (int64_t j = 0; j < c.T; j++) {
                wctx[o] += P[i * c.T + j] * V(j, e);
                wdv[o] += P[j * c.T + i] * D(j, e);
                wdq[o] += dS[i * c.T + j] * Kk(j, e);
                wdk[o] += dS[j * c.T + i] * Q(j, e);
              }
            }
        }
      check_close("attention probs", probs.data(), wp.data(), probs.size(), 2e-6, 2e-6);
      check_close("attention ctx", ctx.data(), wctx.data(), N, 2e-6, 2e-6);
      check_close("attention dq", dq.data(), wdq.data(), N, 1e-5, 1e-5);
      check_close("attention dk", dk.data(), wdk.data(), N, 1e-5, 1e-5);
      check_close("attention dv", dv.data(), wdv.data(), N, 1e-5, 1e-5);
    } else {
      // With dropout: the fused blocks must equal the unfused kernels (GEMM, softmax, dropout) bit for bit.
      std::vector<float> up(probs.size()), uctx(N), tmp(TT);
      for (int64_t b = 0; b < c.B; b++)
        for (int64_t h = 0; h < c.H; h++) {
          const int64_t row0 = b * c.T * W + h * c.d;
          float *P = &up[(b * c.H + h) * TT];
          GemmArgs g = single_gemm(false, true, c.T, c.T, c.d, 1, q.data() + row0, W, k.data() + row0, W, 0, tmp.data(), c.T);
          g.serial = true;
          gemm(g, isa);
          K.softmax_rows(tmp.data(), mask.data() + b * c.T, P, c.T, c.T, a.scale);
          K.dropout_forward(P, tmp.data(), TT, static_cast<uint64_t>((b * c.H + h) * TT), dropout_threshold(c.p),
                            1.0 / (1.0 - c.p), a.seed);
          GemmArgs g2 = single_gemm(false, false, c.T, c.d, c.T, 1, tmp.data(), c.T, v.data() + row0, W, 0, uctx.data() + row0, W);
          g2.serial = true;
          gemm(g2, isa);
        }
      std::vector<double> wp(up.begin(), up.end()), wc(uctx.begin(), uctx.end());
      check_close("attention probs (dropout, = unfused)", probs.data(), wp.data(), probs.size(), 0, 0);
      check_close("attention ctx (dropout, = unfused)", ctx.data(), wc.data(), N, 0, 0);
    }
    same_as_first("attention ctx", ctx);
    same_as_first("attention dq", dq);
    same_as_first("attention dk", dk);
    same_as_first("attention dv", dv);
  }
}

// ---- int8 --------------------------------------------------------------------------------------------
void int8_suite(Int8Path path, int threads, bool quick) {
  (void)quick;
  const char *pname = int8_path_name(path);
  std::vector<int64_t> dims = {1, 7, 17, 64, 129};
  // Tiles alone (no threads), full u8 / s8 ranges (extremes included), against exact int32 loops.
  if (g_threads == 1) {
    const Int8Kernel K = path == I8_SCALAR ? int8_kernel_scalar()
#if TT_ARM
                         : path == I8_NEONDOT ? int8_kernel_neondot() : int8_kernel_i8mm();
#else
                         : int8_kernel_scalar();
#endif
    std::string name = std::string("int8 tile ") + pname;
    for (int64_t k : {1, 3, 4, 17, 64, 129, 1000}) {
      Rng r(static_cast<uint64_t>(k) * 31);
      const int64_t kg = int8_k_groups(k), kp = kg * 4;
      for (int mr = 1; mr <= K.mr; mr++) {
        std::vector<uint8_t> A(static_cast<size_t>(mr * kp), 0);
        for (int i = 0; i < mr; i++)
          for (int64_t p = 0; p < k; p++) A[i * kp + p] = p % 7 == 0 ? 255 : static_cast<uint8_t>(r.u32());
        const int64_t n = 16 * K.nb;
        std::vector<int8_t> w(static_cast<size_t>(n * k));
        for (size_t i = 0; i < w.size(); i++) w[i] = i % 5 == 0 ? -128 : static_cast<int8_t>(r.u32());
        std::vector<int8_t> packed(static_cast<size_t>(int8_packed_size(n, k)));
        int8_pack_weights(w.data(), n, k, packed.data());
        std::vector<int32_t> acc(8 * 64, 0), want(8 * 64, 0);
        K.tile(kg, A.data(), kp, mr, packed.data(), kg * 64, K.nb, acc.data());
        for (int i = 0; i < mr; i++)
          for (int64_t c = 0; c < n; c++) {
            int32_t s = 0;
            for (int64_t p = 0; p < k; p++) s += int32_t(A[i * kp + p]) * int32_t(w[c * k + p]);
            want[i * 64 + c] = s;
          }
        std::vector<int32_t> g2, w2;  // the mr rows' n columns
        for (int i = 0; i < mr; i++) {
          g2.insert(g2.end(), &acc[i * 64], &acc[i * 64 + n]);
          w2.insert(w2.end(), &want[i * 64], &want[i * 64 + n]);
        }
        char buf[80];
        std::snprintf(buf, sizeof buf, "k=%lld mr=%d", (long long)k, mr);
        g_ctx = buf;
        check_exact_i32(name.c_str(), g2.data(), w2.data(), g2.size());
      }
    }
  }
  // The whole linear: quantize, tiles, epilogue (bias, residual), against the reference arithmetic.
  std::string name = std::string("linear_int8 ") + pname;
  uint64_t seed = 9000;
  std::vector<int64_t> ms = dims;
  ms.push_back(1000);
  for (int64_t m : ms)
    for (int64_t n : dims)
      for (int64_t k : {int64_t(1), int64_t(17), int64_t(129), int64_t(300)}) {
        if (m * n * k > 2500000) continue;  // emulation time; 1000 x 17 x 129 still splits between threads
        if (single_threaded_anyway(static_cast<double>(m) * n * k, 2097152.0)) continue;  // gemm_int8.cc's threshold
        char buf[96];
        std::snprintf(buf, sizeof buf, "m=%lld n=%lld k=%lld threads=%d", (long long)m, (long long)n, (long long)k, threads);
        g_ctx = buf;
        Rng r(seed + static_cast<uint64_t>(m) * 7919u + static_cast<uint64_t>(n) * 104729u + static_cast<uint64_t>(k));
        std::vector<float> x = rand_vec(static_cast<size_t>(m * k), r, -3, 3), bias = rand_vec(static_cast<size_t>(n), r);
        std::vector<float> res = rand_vec(static_cast<size_t>(m * n), r), wsc = rand_vec(static_cast<size_t>(n), r, 0.001f, 0.02f);
        std::vector<int8_t> w(static_cast<size_t>(n * k));
        for (int8_t &v : w) v = static_cast<int8_t>(r.u32());
        std::vector<int32_t> wsum(static_cast<size_t>(n), 0);
        for (int64_t c = 0; c < n; c++)
          for (int64_t p = 0; p < k; p++) wsum[c] += w[c * k + p];
        std::vector<int8_t> packed(static_cast<size_t>(int8_packed_size(n, k)));
        int8_pack_weights(w.data(), n, k, packed.data());
        for (int act = 0; act < 2; act++) {
          std::vector<float> y(static_cast<size_t>(m * n));
          Int8LinearArgs a{m, n, k, x.data(), packed.data(), wsc.data(), wsum.data(), bias.data(), res.data(), y.data(), act, false};
#if TT_ARM
          linear_int8(a, path, ops_neon());  // GELU epilogue through the NEON table, as the addon does
#else
          linear_int8(a, path, ops_scalar());
#endif
          std::vector<double> want(y.size());
          const int64_t kp = int8_k_groups(k) * 4;
          std::vector<uint8_t> qa(static_cast<size_t>(kp));
          for (int64_t i = 0; i < m; i++) {
            float s;
            int32_t z;
            int8_quantize_row(&x[i * k], k, kp, qa.data(), &s, &z);
            for (int64_t c = 0; c < n; c++) {
              int32_t acc = 0;
              for (int64_t p = 0; p < k; p++) acc += int32_t(qa[p]) * int32_t(w[c * k + p]);
              float v = static_cast<float>(acc - z * wsum[c]) * (s * wsc[c]);
              v = v + bias[c];
              v = v + res[i * n + c];
              want[i * n + c] = act ? gelu_ref(v, 0) : v;
            }
          }
          if (act) check_close((name + " +gelu").c_str(), y.data(), want.data(), y.size(), 1e-6, 1e-6);
          else check_close(name.c_str(), y.data(), want.data(), y.size(), 0, 0);
        }
      }
}

void print_cpu() {
#if defined(__aarch64__)
  uint64_t midr = 0;
  __asm__ volatile("mrs %0, midr_el1" : "=r"(midr));  // trapped and emulated for EL0 (HWCAP_CPUID)
  std::printf("cpu: MIDR_EL1 0x%08llx (implementer 0x%02llx, part 0x%03llx)", (unsigned long long)midr,
              (unsigned long long)((midr >> 24) & 0xff), (unsigned long long)((midr >> 4) & 0xfff));
#if defined(__linux__)
  std::printf(", AT_HWCAP 0x%lx, AT_HWCAP2 0x%lx", getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
#endif
  std::printf("\n");
#endif
  std::printf("features: dotprod=%d i8mm=%d bf16=%d\n", arm_has_dotprod(), arm_has_i8mm(), arm_has_bf16());
}

}  // namespace

int main(int argc, char **argv) {
  const bool quick = argc > 1 && !std::strcmp(argv[1], "--quick");
  print_cpu();
  const Isa isa = detect_isa();
  std::vector<Int8Path> i8paths;
  for (int p = I8_SCALAR; p <= I8_PATH_LAST; p++)
    if (int8_path_supported(static_cast<Int8Path>(p), isa)) i8paths.push_back(static_cast<Int8Path>(p));
  std::printf("paths: isa=%s gemm=%dx%d int8=", isa_name(isa), isa == ISA_NEON
#if TT_ARM
                                                                  ? gemm_config_neon().mr : gemm_config_scalar().mr,
              isa == ISA_NEON ? gemm_config_neon().nr : gemm_config_scalar().nr);
#else
                                                                  ? 0 : gemm_config_scalar().mr, gemm_config_scalar().nr);
#endif
  for (Int8Path p : i8paths) std::printf("%s ", int8_path_name(p));
  std::printf("bf16=%s\n", "rounded operands + fp32 GEMM (no BFMMLA kernel)");
#if TT_ARM
  const OpsTable &K = ops_neon();
#else
  const OpsTable &K = ops_scalar();
#endif
  for (int threads = 1; threads <= 3; threads++) {
    set_pool_threads(threads);
    g_threads = threads;
    auto t0 = std::chrono::steady_clock::now();
    auto lap = [&](const char *what) {
      const auto t1 = std::chrono::steady_clock::now();
      std::printf("  threads=%d %-10s %6.1f s\n", threads, what, std::chrono::duration<double>(t1 - t0).count());
      std::fflush(stdout);
      t0 = t1;
    };
    gemm_suite(isa, threads, quick, false);
    if (threads == 1) gemm_suite(ISA_SCALAR, threads, true, false);  // the portable fallback, once
    lap("gemm");
    gemm_suite(isa, threads, true, true);
    lap("gemm_bf16");
    ops_suite(K, threads);
    lap("ops");
    attention_suite(K, isa, threads);
    lap("attention");
    for (Int8Path p : i8paths) int8_suite(p, threads, quick);
    lap("int8");
    std::printf("threads=%d: %d checks so far, %d failures\n", threads, g_checks, g_failures);
    std::fflush(stdout);
  }
  std::printf("%-44s %8s %12s %10s\n", "kernel", "cases", "max |diff|", "max/tol");
  for (const MaxErr &e : g_err) std::printf("%-44s %8ld %12.3g %10.3f\n", e.name.c_str(), e.cases, e.abs, e.worst);
  std::printf("%s: %d checks, %d failures\n", g_failures ? "FAILED" : "PASSED", g_checks, g_failures);
  return g_failures ? 1 : 0;
}
