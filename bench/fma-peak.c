// The cores' AVX2 fp32 FMA peak, measured: 10 independent vfmadd231ps chains per thread (enough to
// cover the FMA latency on both FMA ports), no memory traffic. The ceiling that GEMM and training-step
// figures are compared with ("x% of peak"). x86-64 only; not built by npm:
//   cc -O2 -pthread -o /tmp/fma-peak bench/fma-peak.c && /tmp/fma-peak 1 && /tmp/fma-peak 2
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 500000000L

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *run(void *arg) {
  long n = ITERS;
  (void)arg;
  __asm__ volatile(
      "vxorps %%ymm1, %%ymm1, %%ymm1\n"
      "1:\n"
      "vfmadd231ps %%ymm1, %%ymm1, %%ymm2\n vfmadd231ps %%ymm1, %%ymm1, %%ymm3\n"
      "vfmadd231ps %%ymm1, %%ymm1, %%ymm4\n vfmadd231ps %%ymm1, %%ymm1, %%ymm5\n"
      "vfmadd231ps %%ymm1, %%ymm1, %%ymm6\n vfmadd231ps %%ymm1, %%ymm1, %%ymm7\n"
      "vfmadd231ps %%ymm1, %%ymm1, %%ymm8\n vfmadd231ps %%ymm1, %%ymm1, %%ymm9\n"
      "vfmadd231ps %%ymm1, %%ymm1, %%ymm10\n vfmadd231ps %%ymm1, %%ymm1, %%ymm11\n"
      "dec %0\n jnz 1b\n"
      : "+r"(n)
      :
      : "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "cc");
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  if (threads < 1 || threads > 256) return 2;
  pthread_t th[256];
  double best = 1e30;
  for (int rep = 0; rep < 3; rep++) {  // best of 3: the machine may be shared
    double t0 = now();
    for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, run, NULL);
    for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
    double dt = now() - t0;
    if (dt < best) best = dt;
  }
  double per_thread = (double)ITERS * 10 * 8 * 2 / best * 1e-9;  // 10 FMAs x 8 lanes x 2 flops
  printf("%d threads: %.1f GFLOP/s per thread, %.1f in all (AVX2 fp32 FMA peak)\n", threads, per_thread, per_thread * threads);
  return 0;
}
