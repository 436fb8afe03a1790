// Shared declarations of the tokentune native core: ISA levels, the per-ISA kernel tables and the
// entry points that addon.cc binds to JavaScript. Only plain C++17 and <cstdint> here, so every
// translation unit (including the ones compiled for AVX2/AVX-512 via #pragma GCC target) can
// include it without pulling in inline library code that could be emitted with wider instructions.
#pragma once
#include <cstddef>
#include <cstdint>

// x86-64 SIMD paths (AVX2, AVX-512) are compiled only on x86-64; elsewhere (arm64) only the portable
// path exists. TT_PORTABLE_ONLY forces that on x86-64 too, to check the portable build compiles.
#if defined(__x86_64__) && !defined(TT_PORTABLE_ONLY)
#define TT_X86 1
#else
#define TT_X86 0
#endif

// arm64 NEON paths (AArch64 always has Advanced SIMD; dotprod / I8MM / BF16 are chosen at run time,
// each compiled with a per-function target). TT_PORTABLE_ONLY leaves the portable path only.
#if defined(__aarch64__) && !defined(TT_PORTABLE_ONLY)
#define TT_ARM 1
#else
#define TT_ARM 0
#endif

namespace tt {

// Levels order within one architecture only: ISA_NEON exists on arm64, AVX2/AVX-512 on x86-64.
enum Isa : int { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX512 = 2, ISA_NEON = 3 };

// Best level this CPU (and OS) supports; detected once.
Isa detect_isa();
const char *isa_name(Isa isa);

// arm64 optional features (false elsewhere): FEAT_DotProd (SDOT/UDOT), FEAT_I8MM (USDOT/SUDOT,
// SMMLA/USMMLA), FEAT_BF16 (BFDOT/BFMMLA). Linux: getauxval(AT_HWCAP/AT_HWCAP2); macOS:
// sysctlbyname("hw.optional.arm.FEAT_*").
bool arm_has_dotprod();
bool arm_has_i8mm();
bool arm_has_bf16();

// ---- GEMM -------------------------------------------------------------------------------------
// Micro-kernel: C[MR x NR] (row stride ldc) = alpha * Ap * Bp + beta * C over kc steps, where Ap is
// a packed A micro-panel (kc x MR, MR values per k) and Bp a packed B micro-panel (kc x NR).
// beta == 0 must not read C.
typedef void (*GemmMicroKernel)(int64_t kc, const float *Ap, const float *Bp, float *C, int64_t ldc,
                                float alpha, float beta);

// The same tile with A read where it is stored (row-major, not transposed): A points at the tile's
// first row at depth pc, lda is its row stride, rows past mr alias row 0 (computed, never stored by
// the caller). Same products in the same order as the packed kernel, so the same bits.
typedef void (*GemmMicroKernelRowsA)(int64_t kc, const float *A, int64_t lda, int mr, const float *Bp, float *C,
                                     int64_t ldc, float alpha, float beta);

// Packing routines (see gemm.cc for the layout); null means the portable ones in gemm.cc.
typedef void (*GemmPackA)(bool transA, const float *a, int64_t lda, int64_t mc, int64_t kc, float *dst);
typedef void (*GemmPackB)(bool transB, const float *b, int64_t ldb, int64_t kc, int64_t nc, float *dst);

struct GemmConfig {
  int mr, nr;     // register tile
  int64_t kc;     // depth of one packed block (B micro-panel kc x nr should sit in L1/L2)
  int64_t mc;     // rows of the packed A block (multiple of mr; lives in L2)
  int64_t nc;     // columns of the packed B block (multiple of nr; lives in L3)
  // When > 0: a thread with few rows (at most 4 A blocks, each B block reused that few times) packs
  // B blocks of about this many columns instead, sized to stay in L2.
  int64_t nc_few_rows = 0;
  GemmMicroKernel kernel;
  GemmMicroKernelRowsA kernel_rows_a = nullptr;  // set: a non-transposed A is not packed
  GemmPackA pack_a = nullptr;
  GemmPackB pack_b = nullptr;
};

GemmConfig gemm_config_scalar();
#if TT_X86
GemmConfig gemm_config_avx2();
GemmConfig gemm_config_avx512();
#endif
#if TT_ARM
GemmConfig gemm_config_neon();
#endif

struct GemmArgs {
  bool transA, transB;
  int64_t m, n, k;
  float alpha, beta;
  const float *a; int64_t lda, strideA;
  const float *b; int64_t ldb, strideB;
  float *c; int64_t ldc, strideC;
  int64_t batch;
  bool serial = false;  // run on the calling thread only (callers that are pool tasks themselves)
  // op(B) already packed by pack_gemm_b for panels packed_nr wide (batch 1): used instead of packing
  // B on every call where the configuration gemm picks has that width, else b is packed as usual.
  const float *packed_b = nullptr;
  int packed_nr = 0;
};

// C (ldc) = alpha op(A) op(B) + beta C for one matrix (batch 1, no strides).
inline GemmArgs single_gemm(bool tA, bool tB, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                            int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  GemmArgs g;
  g.transA = tA;
  g.transB = tB;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.beta = beta;
  g.a = a;
  g.lda = lda;
  g.strideA = 0;
  g.b = b;
  g.ldb = ldb;
  g.strideB = 0;
  g.c = c;
  g.ldc = ldc;
  g.strideC = 0;
  g.batch = 1;
  return g;
}

// Runs the whole batched GEMM on the global thread pool with the given ISA's micro-kernel (or on a
// system BLAS where TOKENTUNE_BLAS selects one: blas.cc).
void gemm(const GemmArgs &g, Isa isa);

// Pre-packing a constant op(B) [k x n] (an inference weight) once: packed_b_nr floats per panel row,
// ceil(n / nr) * nr * k floats in all, written to dst (64-byte aligned) in gemm's own B layout.
int packed_b_nr(Isa isa, int64_t n);
void pack_gemm_b(Isa isa, bool transB, const float *b, int64_t ldb, int64_t n, int64_t k, float *dst);

// TOKENTUNE_BLAS=openblas|accelerate: runs g through the library's cblas_sgemm (loaded with dlopen)
// and returns true; false when none is selected or for serial (per-block) products. Throws
// std::runtime_error naming the variable when the library cannot be loaded.
bool blas_gemm(const GemmArgs &g);
// The BLAS in use ("openblas", "accelerate") or "" for our kernels.
const char *blas_name();

// ---- Everything else: range kernels (no threading inside; ops.cc partitions the work) ----------
struct OpsTable {
  void (*add_bias)(const float *x, const float *bias, float *out, int64_t rows, int64_t cols);
  // db[0..cw) += sum over rows of dy[r * ld + 0..cw)
  void (*sum_rows_acc)(const float *dy, float *db, int64_t rows, int64_t cw, int64_t ld);
  void (*add)(const float *a, const float *b, float *out, int64_t n);
  void (*axpy)(int64_t n, float alpha, const float *x, float *y);
  void (*mul)(const float *a, const float *b, float *out, int64_t n);
  void (*scale)(const float *x, float alpha, float *out, int64_t n);
  double (*sum_squares)(const float *x, int64_t n);
  void (*gelu_forward)(const float *x, float *y, int64_t n, int approximate);
  void (*gelu_backward)(const float *x, const float *dy, float *dx, int64_t n, int approximate);
  void (*tanh_forward)(const float *x, float *y, int64_t n);
  void (*tanh_backward)(const float *y, const float *dy, float *dx, int64_t n);
  void (*layer_norm_forward)(const float *x, const float *gamma, const float *beta, float *y, float *mean,
                             float *rstd, int64_t rows, int64_t cols, float eps);
  // dx rows only (dgamma/dbeta are done by layer_norm_backward_params over a column slice)
  void (*layer_norm_backward_dx)(const float *dy, const float *x, const float *gamma, const float *mean,
                                 const float *rstd, float *dx, int64_t rows, int64_t cols);
  // dgamma[0..cw) / dbeta[0..cw) += over all rows, for a column slice; ld = full row length
  void (*layer_norm_backward_params)(const float *dy, const float *x, const float *mean, const float *rstd,
                                     float *dgamma, float *dbeta, int64_t rows, int64_t cw, int64_t ld);
  // rows of length tk; mask row (or null) added to every row
  void (*softmax_rows)(const float *s, const float *mask, float *y, int64_t rows, int64_t tk, float scale);
  void (*softmax_backward)(const float *y, const float *dy, float *ds, int64_t rows, int64_t tk, float scale);
  // global element index of x[0] is i0 (the hash counter)
  void (*dropout_forward)(const float *x, float *y, int64_t n, uint64_t i0, uint32_t threshold, double inv_keep,
                          uint32_t seed);
  void (*dropout_backward)(const float *dy, float *dx, int64_t n, uint64_t i0, uint32_t threshold,
                           double inv_keep, uint32_t seed);
  // per-row softmax into probs; returns nothing, writes per-row -log p[label] (double) into loss_out
  void (*cross_entropy_rows)(const float *logits, float *probs, int64_t rows, int64_t classes, const int32_t *labels,
                             int32_t ignore_index, double *loss_out);
  void (*adamw)(float *p, float *g, float *m, float *v, int64_t n, float decay_mul, float beta1,
                float one_minus_beta1, float beta2, float one_minus_beta2, float step_size, float bc2_sqrt, float eps,
                float grad_scale, int zero_grad);
};

const OpsTable &ops_scalar();
#if TT_X86
const OpsTable &ops_avx2();
const OpsTable &ops_avx512();
#endif
#if TT_ARM
const OpsTable &ops_neon();
#endif

}  // namespace tt
