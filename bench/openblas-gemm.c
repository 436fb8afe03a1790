/*
 * Times OpenBLAS sgemm on the shapes given on the command line, as the baseline for bench/gemm.ts.
 * Built by the bench at run time against Debian's libopenblas-dev (never a tokentune dependency).
 * Usage: openblas-gemm REPS TA,TB,M,N,K,BATCH [...]   (TA/TB are 0 or 1)
 * Prints one JSON object: {"results":[{"shape":"...","seconds":best,"gflops":...}, ...]}.
 * Thread count comes from OPENBLAS_NUM_THREADS, set by the caller.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static float *filled(size_t n, unsigned seed) {
  float *p = malloc(n * sizeof(float));
  if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (float)((seed >> 8) / 16777216.0 - 0.5);
  }
  return p;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s REPS TA,TB,M,N,K,BATCH ...\n", argv[0]); return 2; }
  int reps = atoi(argv[1]);
  // Which kernels ran: OPENBLAS_CORETYPE (set machine-wide on some hosts) picks other ones than cpuid would.
  printf("{\"threads\":%d,\"core\":\"%s\",\"config\":\"%s\",\"results\":[", openblas_get_num_threads(),
         openblas_get_corename(), openblas_get_config());
  for (int s = 2; s < argc; s++) {
    int ta, tb, m, n, k, batch;
    if (sscanf(argv[s], "%d,%d,%d,%d,%d,%d", &ta, &tb, &m, &n, &k, &batch) != 6) {
      fprintf(stderr, "bad shape %s\n", argv[s]);
      return 2;
    }
    float *a = filled((size_t)m * k * batch, 1), *b = filled((size_t)k * n * batch, 2);
    float *c = filled((size_t)m * n * batch, 3);
    int lda = ta ? m : k, ldb = tb ? k : n;
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) { /* first run is a warm-up */
      double t0 = now();
      for (int i = 0; i < batch; i++)
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k,
                    1.0f, a + (size_t)i * m * k, lda, b + (size_t)i * k * n, ldb, 0.0f, c + (size_t)i * m * n, n);
      double t = now() - t0;
      if (r > 0 && t < best) best = t;
    }
    printf("%s{\"shape\":\"%s\",\"seconds\":%.9g,\"gflops\":%.6g}", s > 2 ? "," : "", argv[s], best,
           2.0 * m * n * k * batch / best * 1e-9);
    free(a); free(b); free(c);
  }
  printf("]}\n");
  return 0;
}
