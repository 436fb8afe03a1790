// Optional system BLAS for the fp32 GEMM: TOKENTUNE_BLAS=openblas (Linux, macOS) or
// TOKENTUNE_BLAS=accelerate (macOS: Apple's cblas_sgemm, which runs on the AMX units) routes every
// top-level tt::gemm to the library's cblas_sgemm. The library is opened with dlopen at the first
// GEMM, never linked, so it is not a build or install requirement. Unset: our kernels.
// The per-block GEMMs of the fused attention (GemmArgs::serial, already one per pool thread) stay
// on our kernels. A BLAS gives up one guarantee of ours: results identical for any thread count.
#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common.h"
#include "thread_pool.h"

namespace tt {

namespace {

// CBLAS enum values (cblas.h), spelled out so no BLAS header is needed to build.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;
typedef void (*SgemmFn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*SetThreadsFn)(int);

struct Blas {
  std::string name;       // "" when TOKENTUNE_BLAS is unset
  std::string error;      // set when it names a library that cannot be used
  SgemmFn sgemm = nullptr;
  SetThreadsFn set_threads = nullptr;
  int threads = 0;        // last count given to set_threads
};

void *open_first(const char *const *names, std::string *tried) {
  for (const char *const *n = names; *n; n++) {
    if (void *h = dlopen(*n, RTLD_NOW | RTLD_LOCAL)) return h;
    const char *e = dlerror();
    *tried += std::string(tried->empty() ? "" : "; ") + (e ? e : *n);
  }
  return nullptr;
}

Blas load() {
  Blas b;
  const char *env = std::getenv("TOKENTUNE_BLAS");
  if (!env || !*env || !std::strcmp(env, "none")) return b;
  b.name = env;
  std::string tried;
  void *h = nullptr;
  if (b.name == "openblas") {
    static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib",
                                        "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", nullptr};
    h = open_first(names, &tried);
    if (!h) {
      b.error = "TOKENTUNE_BLAS=openblas: cannot load libopenblas (Debian/Ubuntu: apt-get install libopenblas0; "
                "macOS: brew install openblas): " + tried;
      return b;
    }
    b.set_threads = reinterpret_cast<SetThreadsFn>(dlsym(h, "openblas_set_num_threads"));
  } else if (b.name == "accelerate") {
#if defined(__APPLE__)
    static const char *const names[] = {"/System/Library/Frameworks/Accelerate.framework/Accelerate", nullptr};
    h = open_first(names, &tried);
    if (!h) {
      b.error = "TOKENTUNE_BLAS=accelerate: cannot load the Accelerate framework: " + tried;
      return b;
    }
#else
    b.error = "TOKENTUNE_BLAS=accelerate: Apple's Accelerate exists on macOS only (use openblas)";
    return b;
#endif
  } else {
    b.error = "TOKENTUNE_BLAS='" + b.name + "' is not a known BLAS (use openblas or accelerate, or unset it)";
    return b;
  }
  b.sgemm = reinterpret_cast<SgemmFn>(dlsym(h, "cblas_sgemm"));
  if (!b.sgemm) b.error = "TOKENTUNE_BLAS=" + b.name + ": the library has no cblas_sgemm";
  return b;
}

Blas &blas() {
  static Blas b = load();
  return b;
}

bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

}  // namespace

const char *blas_name() {
  const Blas &b = blas();
  return b.error.empty() ? b.name.c_str() : "";
}

bool blas_gemm(const GemmArgs &g) {
  Blas &b = blas();
  if (b.name.empty()) return false;
  if (!b.error.empty()) throw std::runtime_error(b.error);
  if (g.serial) return false;
  if (!fits_int(g.m) || !fits_int(g.n) || !fits_int(g.k) || !fits_int(g.lda) || !fits_int(g.ldb) || !fits_int(g.ldc))
    return false;  // beyond cblas's int arguments: our kernels take it
  if (b.set_threads) {
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    const int t = pool().size();
    if (t != b.threads) {
      b.set_threads(t);  // the same thread count as TOKENTUNE_THREADS / setThreads
      b.threads = t;
    }
  }
  // cblas's lda/ldb must be at least the stored row length even where that dimension is unused
  // (one row or k == 0): raise them there, no element is read past the matrices' extents.
  const int64_t acols = g.transA ? g.m : g.k, bcols = g.transB ? g.k : g.n;
  const int lda = static_cast<int>(g.lda < acols ? (acols > 0 ? acols : 1) : g.lda);
  const int ldb = static_cast<int>(g.ldb < bcols ? (bcols > 0 ? bcols : 1) : g.ldb);
  const int ldc = static_cast<int>(g.ldc < g.n ? g.n : g.ldc);
  for (int64_t i = 0; i < g.batch; i++)
    b.sgemm(kRowMajor, g.transA ? kTrans : kNoTrans, g.transB ? kTrans : kNoTrans, static_cast<int>(g.m),
            static_cast<int>(g.n), static_cast<int>(g.k), g.alpha, g.a + i * g.strideA, lda, g.b + i * g.strideB, ldb,
            g.beta, g.c + i * g.strideC, ldc);
  return true;
}

}  // namespace tt
