// Single-thread GEMM comparison in one process, timed by thread CPU time, for loaded machines where
// wall time is noise: tokentune's gemm (AVX2 kernels, or AVX-512 with ISA512=1) and OpenBLAS's
// cblas_sgemm alternate on the BERT-base shapes of bench/gemm.ts; best of REPS CPU seconds each.
// Compare AVX2 with AVX2 on an AVX-512 machine with OPENBLAS_CORETYPE=Haswell. Not built by npm:
//   g++ -O3 -std=c++17 -fno-math-errno -fno-trapping-math -ffp-contract=off -pthread -Inative \
//     -I/usr/include/x86_64-linux-gnu bench/gemm-cputime.cc native/gemm.cc native/gemm_avx2.cc \
//     native/gemm_avx512.cc native/thread_pool.cc native/cpu.cc native/blas.cc -o /tmp/gemm-cputime -lopenblas -ldl
//   OPENBLAS_CORETYPE=Haswell [THREADS=2] [SHAPE=ta,tb,m,n,k] /tmp/gemm-cputime [REPS] [SHAPE-SUBSTRING]
// With THREADS=2 also set OPENBLAS_THREAD_TIMEOUT=4: by default OpenBLAS's idle worker keeps spinning
// for a while after each call and takes a core from the tokentune run that follows it.
#include <cblas.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>
#include "common.h"
#include "thread_pool.h"
using namespace tt;
// One thread: thread CPU time (immune to other processes). THREADS=N (> 1): wall time with N threads on both sides.
static int g_threads = 1;
static double cpu_now() {
  timespec ts;
  clock_gettime(g_threads > 1 ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
static void fill(std::vector<float> &v, unsigned seed) { for (auto &x : v) { seed = seed * 1664525u + 1013904223u; x = (seed >> 8) / 16777216.0f - 0.5f; } }
struct S { const char *l; int ta, tb, m, n, k, batch; };
int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  const char *only = argc > 2 ? argv[2] : nullptr;
  if (getenv("THREADS")) g_threads = atoi(getenv("THREADS"));
  openblas_set_num_threads(g_threads);
  set_pool_threads(g_threads);
  S shapes[] = {
    {"768x3072 XW", 0, 0, 2048, 3072, 768, 1}, {"768x3072 dX", 0, 1, 2048, 768, 3072, 1}, {"768x3072 dW", 1, 0, 768, 3072, 2048, 1},
    {"3072x768 XW", 0, 0, 2048, 768, 3072, 1}, {"3072x768 dX", 0, 1, 2048, 3072, 768, 1}, {"3072x768 dW", 1, 0, 3072, 768, 2048, 1},
    {"768x768 XW", 0, 0, 2048, 768, 768, 1}, {"768x768 dX", 0, 1, 2048, 768, 768, 1}, {"768x768 dW", 1, 0, 768, 768, 2048, 1},
    {"att QK^T", 0, 1, 128, 128, 64, 192}, {"att PV", 0, 0, 128, 64, 128, 192}};
  // SHAPE=ta,tb,m,n,k,batch times that one shape instead (e.g. a CoNLL batch of 16 x 34 tokens: 0,0,544,3072,768,1).
  static char label[64];
  if (const char *sh = getenv("SHAPE")) {
    S c{label, 0, 0, 0, 0, 0, 1};
    if (sscanf(sh, "%d,%d,%d,%d,%d,%d", &c.ta, &c.tb, &c.m, &c.n, &c.k, &c.batch) < 5) { fprintf(stderr, "SHAPE=ta,tb,m,n,k[,batch]\n"); return 2; }
    snprintf(label, sizeof label, "%s%s %dx%dx%d", c.ta ? "T" : "N", c.tb ? "T" : "N", c.m, c.n, c.k);
    shapes[0] = c;
    for (auto &x : shapes) if (&x != &shapes[0]) x.l = nullptr;
  }
  Isa isa = getenv("ISA512") ? ISA_AVX512 : ISA_AVX2;
  double lr = 0; int nl = 0;
  for (auto &s : shapes) {
    if (!s.l || (only && !strstr(s.l, only))) continue;
    std::vector<float> a((size_t)s.m * s.k * s.batch), b((size_t)s.k * s.n * s.batch), c((size_t)s.m * s.n * s.batch);
    fill(a, 1); fill(b, 2);
    int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n;
    double bo = 1e30, bb = 1e30;
    for (int r = 0; r <= reps; r++) {
      GemmArgs g{(bool)s.ta, (bool)s.tb, s.m, s.n, s.k, 1.f, 0.f, a.data(), lda, (int64_t)s.m * s.k, b.data(), ldb, (int64_t)s.k * s.n, c.data(), s.n, (int64_t)s.m * s.n, s.batch};
      double t0 = cpu_now(); gemm(g, isa); double t = cpu_now() - t0; if (r) bo = std::min(bo, t);
      t0 = cpu_now();
      for (int i = 0; i < s.batch; i++)
        cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.m, s.n, s.k, 1.f,
                    a.data() + (size_t)i * s.m * s.k, lda, b.data() + (size_t)i * s.k * s.n, ldb, 0.f, c.data() + (size_t)i * s.m * s.n, s.n);
      t = cpu_now() - t0; if (r) bb = std::min(bb, t);
    }
    double f = 2.0 * s.m * s.n * s.k * s.batch * 1e-9;
    printf("%-12s ours %6.1f  blas %6.1f  ratio %.3f\n", s.l, f / bo, f / bb, bb / bo);
    lr += bb / bo; nl++;
  }
  printf("mean ratio %.3f\n", lr / nl);
}
