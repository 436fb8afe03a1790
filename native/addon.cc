// N-API bindings: one JS function per kernel of src/engine/kernels.ts. Every argument is validated
// here (types, integer sizes, typed-array lengths against the sizes given) before any pointer is
// touched, so a wrong call throws a TypeError/RangeError instead of reading out of bounds.
#include <napi.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "attention.h"
#include "common.h"
#include "parallel_ops.h"
#include "thread_pool.h"
#include "napi_args.h"

namespace tt {
// bf16_addon.cc: registers gemmBf16, bf16Info, setBf16Fallback (reads the ISA in use through `isa`).
void register_bf16(Napi::Env env, Napi::Object exports, const Isa *isa);
// int8_addon.cc: registers linearInt8, packInt8Weights, int8Info, setInt8Path.
void register_int8(Napi::Env env, Napi::Object exports, const Isa *isa, const OpsTable &(*ops)());
}  // namespace tt

namespace {

using namespace tt;
using namespace tt::napi_args;

Isa g_max_isa = ISA_SCALAR;  // what the CPU supports
Isa g_isa = ISA_SCALAR;      // what is used (may be forced lower)

const OpsTable &ops() {
#if TT_X86
  if (g_isa == ISA_AVX512) return ops_avx512();
  if (g_isa == ISA_AVX2) return ops_avx2();
#endif
#if TT_ARM
  if (g_isa == ISA_NEON) return ops_neon();
#endif
  return ops_scalar();
}

#if TT_ARM
const char *const kIsaNames = "scalar or neon";
#else
const char *const kIsaNames = "scalar, avx2 or avx512";
#endif

bool parse_isa(const std::string &s, Isa *out) {
  if (s == "scalar") *out = ISA_SCALAR;
#if TT_ARM
  else if (s == "neon") *out = ISA_NEON;  // the x86 names do not parse on arm64 (levels compare per arch)
#else
  else if (s == "avx2") *out = ISA_AVX2;
  else if (s == "avx512") *out = ISA_AVX512;
#endif
  else return false;
  return true;
}


// ---- kernels ------------------------------------------------------------------------------------
// A pre-packed op(B) (packGemmB) is a Float32Array: an 8-int32 header, then the panels from
// `offset` on, 64-byte aligned where they were packed (an ArrayBuffer's store never moves).
constexpr int32_t kPackedMagic = 0x42505454;  // "TTPB"
constexpr int64_t kPackedHeader = 8, kPackedSlack = 16;
int64_t packed_floats(int nr, int64_t n, int64_t k) { return (n + nr - 1) / nr * nr * k; }

// packGemmB(b, transB, n, k): op(B) [k x n] (b stored [n, k] when transB, else [k, n]) packed for
// gemm's 18th argument under the ISA now in use.
Napi::Value PackGemmB(const Napi::CallbackInfo &info) {
  Args A{info, "packGemmB"};
  A.count(4);
  const bool transB = A.boolean(1, "transB");
  const int64_t n = A.size(2, "n"), k = A.size(3, "k");
  const float *b = A.f32(0, "b", d(n) * d(k));
  const int nr = packed_b_nr(g_isa, n);
  const int64_t len = kPackedHeader + kPackedSlack + packed_floats(nr, n, k);
  if (d(len) * 4 > 4294967295.0) A.range_error("a " + std::to_string(n) + " x " + std::to_string(k) + " matrix is too large to pre-pack");
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), static_cast<size_t>(len));
  float *base = out.Data();
  const int64_t misalign = static_cast<int64_t>(reinterpret_cast<uintptr_t>(base + kPackedHeader) % 64) / 4;
  const int64_t offset = kPackedHeader + (misalign ? 16 - misalign : 0);
  const int32_t header[kPackedHeader] = {kPackedMagic, nr, static_cast<int32_t>(std::min<int64_t>(n, INT32_MAX)),
                                         static_cast<int32_t>(std::min<int64_t>(k, INT32_MAX)), static_cast<int32_t>(offset), 0, 0, 0};
  std::memcpy(base, header, sizeof header);
  pack_gemm_b(g_isa, transB, b, transB ? k : n, n, k, base + offset);
  return out;
}

Napi::Value Gemm(const Napi::CallbackInfo &info) {
  Args A{info, "gemm"};
  GemmArgs g = read_gemm_args(A);
  if (info.Length() > 17 && !info[17].IsUndefined() && !info[17].IsNull()) {
    // A packed op(B) that does not describe this product is the caller's bug: say so. One packed
    // under another ISA (setIsa since) or no longer aligned is merely not used.
    const float *p = A.f32(17, "packedB", kPackedHeader);
    int32_t h[kPackedHeader];
    std::memcpy(h, p, sizeof h);
    if (h[0] != kPackedMagic || h[1] <= 0 || h[4] < kPackedHeader) A.range_error("packedB was not made by packGemmB");
    if (h[2] != g.n || h[3] != g.k || g.batch != 1)
      A.range_error("packedB holds a " + std::to_string(h[3]) + " x " + std::to_string(h[2]) + " op(B); this product is " +
                    std::to_string(g.k) + " x " + std::to_string(g.n) + " (batch " + std::to_string(g.batch) + ")");
    const float *data = A.f32(17, "packedB", d(h[4]) + d(packed_floats(h[1], g.n, g.k))) + h[4];
    if (reinterpret_cast<uintptr_t>(data) % 64 == 0) {
      g.packed_b = data;
      g.packed_nr = h[1];
    }
  }
  if (gemm_has_work(g)) gemm(g, g_isa);
  return info.Env().Undefined();
}

Napi::Value AddBias(const Napi::CallbackInfo &info) {
  Args A{info, "addBias"};
  A.count(5);
  int64_t rows = A.size(3, "rows"), cols = A.size(4, "cols");
  const float *x = A.f32(0, "x", d(rows) * d(cols));
  const float *bias = A.f32(1, "bias", d(cols));
  float *out = A.f32(2, "out", d(rows) * d(cols));
  par_add_bias(ops(), x, bias, out, rows, cols);
  return info.Env().Undefined();
}

Napi::Value SumRowsAcc(const Napi::CallbackInfo &info) {
  Args A{info, "sumRowsAcc"};
  A.count(4);
  int64_t rows = A.size(2, "rows"), cols = A.size(3, "cols");
  const float *dy = A.f32(0, "dy", d(rows) * d(cols));
  float *db = A.f32(1, "db", d(cols));
  par_sum_rows_acc(ops(), dy, db, rows, cols);
  return info.Env().Undefined();
}

Napi::Value Add(const Napi::CallbackInfo &info) {
  Args A{info, "add"};
  A.count(4);
  int64_t n = A.size(3, "n");
  const float *a = A.f32(0, "a", d(n));
  const float *b = A.f32(1, "b", d(n));
  float *out = A.f32(2, "out", d(n));
  par_add(ops(), a, b, out, n);
  return info.Env().Undefined();
}

Napi::Value Axpy(const Napi::CallbackInfo &info) {
  Args A{info, "axpy"};
  A.count(4);
  int64_t n = A.size(0, "n");
  float alpha = static_cast<float>(A.number(1, "alpha"));
  const float *x = A.f32(2, "x", d(n));
  float *y = A.f32(3, "y", d(n));
  par_axpy(ops(), n, alpha, x, y);
  return info.Env().Undefined();
}

Napi::Value Mul(const Napi::CallbackInfo &info) {
  Args A{info, "mul"};
  A.count(4);
  int64_t n = A.size(3, "n");
  const float *a = A.f32(0, "a", d(n));
  const float *b = A.f32(1, "b", d(n));
  float *out = A.f32(2, "out", d(n));
  par_mul(ops(), a, b, out, n);
  return info.Env().Undefined();
}

Napi::Value Scale(const Napi::CallbackInfo &info) {
  Args A{info, "scale"};
  A.count(4);
  int64_t n = A.size(3, "n");
  const float *x = A.f32(0, "x", d(n));
  float alpha = static_cast<float>(A.number(1, "alpha"));
  float *out = A.f32(2, "out", d(n));
  par_scale(ops(), x, alpha, out, n);
  return info.Env().Undefined();
}

Napi::Value SumSquares(const Napi::CallbackInfo &info) {
  Args A{info, "sumSquares"};
  A.count(2);
  int64_t n = A.size(1, "n");
  const float *x = A.f32(0, "x", d(n));
  return Napi::Number::New(info.Env(), par_sum_squares(ops(), x, n));
}

int approximate_flag(const Args &A, size_t i) {
  int64_t v = A.integer(i, "approximate");
  if (v != 0 && v != 1) A.range_error("approximate must be 0 (erf) or 1 (tanh), got " + std::to_string(v));
  return static_cast<int>(v);
}

Napi::Value GeluForward(const Napi::CallbackInfo &info) {
  Args A{info, "geluForward"};
  A.count(4);
  int64_t n = A.size(2, "n");
  int approx = approximate_flag(A, 3);
  const float *x = A.f32(0, "x", d(n));
  float *y = A.f32(1, "y", d(n));
  par_gelu_forward(ops(), x, y, n, approx);
  return info.Env().Undefined();
}

Napi::Value GeluBackward(const Napi::CallbackInfo &info) {
  Args A{info, "geluBackward"};
  A.count(5);
  int64_t n = A.size(3, "n");
  int approx = approximate_flag(A, 4);
  const float *x = A.f32(0, "x", d(n));
  const float *dy = A.f32(1, "dy", d(n));
  float *dx = A.f32(2, "dx", d(n));
  par_gelu_backward(ops(), x, dy, dx, n, approx);
  return info.Env().Undefined();
}

Napi::Value TanhForward(const Napi::CallbackInfo &info) {
  Args A{info, "tanhForward"};
  A.count(3);
  int64_t n = A.size(2, "n");
  const float *x = A.f32(0, "x", d(n));
  float *y = A.f32(1, "y", d(n));
  par_tanh_forward(ops(), x, y, n);
  return info.Env().Undefined();
}

Napi::Value TanhBackward(const Napi::CallbackInfo &info) {
  Args A{info, "tanhBackward"};
  A.count(4);
  int64_t n = A.size(3, "n");
  const float *y = A.f32(0, "y", d(n));
  const float *dy = A.f32(1, "dy", d(n));
  float *dx = A.f32(2, "dx", d(n));
  par_tanh_backward(ops(), y, dy, dx, n);
  return info.Env().Undefined();
}

Napi::Value LayerNormForward(const Napi::CallbackInfo &info) {
  Args A{info, "layerNormForward"};
  A.count(9);
  int64_t rows = A.size(6, "rows"), cols = A.size(7, "cols");
  float eps = static_cast<float>(A.number(8, "eps"));
  double rc = d(rows) * d(cols);
  const float *x = A.f32(0, "x", rc);
  const float *gamma = A.f32(1, "gamma", d(cols));
  const float *beta = A.f32(2, "beta", d(cols));
  float *y = A.f32(3, "y", rc);
  float *mean = A.f32(4, "mean", d(rows));
  float *rstd = A.f32(5, "rstd", d(rows));
  if (rows > 0 && cols == 0) A.range_error("cols must be positive");
  par_layer_norm_forward(ops(), x, gamma, beta, y, mean, rstd, rows, cols, eps);
  return info.Env().Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo &info) {
  Args A{info, "layerNormBackward"};
  A.count(10);
  int64_t rows = A.size(8, "rows"), cols = A.size(9, "cols");
  double rc = d(rows) * d(cols);
  const float *dy = A.f32(0, "dy", rc);
  const float *x = A.f32(1, "x", rc);
  const float *gamma = A.f32(2, "gamma", d(cols));
  const float *mean = A.f32(3, "mean", d(rows));
  const float *rstd = A.f32(4, "rstd", d(rows));
  float *dx = A.f32(5, "dx", rc);
  float *dgamma = A.f32(6, "dgamma", d(cols));
  float *dbeta = A.f32(7, "dbeta", d(cols));
  if (rows > 0 && cols == 0) A.range_error("cols must be positive");
  par_layer_norm_backward(ops(), dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols);
  return info.Env().Undefined();
}

Napi::Value SoftmaxForward(const Napi::CallbackInfo &info) {
  Args A{info, "softmaxForward"};
  A.count(8);
  int64_t batch = A.size(3, "batch"), heads = A.size(4, "heads"), tq = A.size(5, "tq"), tk = A.size(6, "tk");
  float scale = static_cast<float>(A.number(7, "scale"));
  double total = d(batch) * d(heads) * d(tq) * d(tk);
  const float *s = A.f32(0, "s", total);
  const float *mask = A.f32_or_null(1, "mask", d(batch) * d(tk));
  float *y = A.f32(2, "y", total);
  par_softmax_forward(ops(), s, mask, y, batch, heads, tq, tk, scale);
  return info.Env().Undefined();
}

Napi::Value SoftmaxBackward(const Napi::CallbackInfo &info) {
  Args A{info, "softmaxBackward"};
  A.count(6);
  int64_t rows = A.size(3, "rows"), tk = A.size(4, "tk");
  float scale = static_cast<float>(A.number(5, "scale"));
  double total = d(rows) * d(tk);
  const float *y = A.f32(0, "y", total);
  const float *dy = A.f32(1, "dy", total);
  float *ds = A.f32(2, "ds", total);
  par_softmax_backward(ops(), y, dy, ds, rows, tk, scale);
  return info.Env().Undefined();
}

double dropout_p(const Args &A, size_t i) {
  double p = A.number(i, "p");
  if (!(p >= 0 && p < 1)) A.range_error("p must be in [0, 1), got " + std::to_string(p));
  return p;
}

uint32_t seed_arg(const Args &A, size_t i) {
  int64_t s = A.integer(i, "seed");
  if (s < 0 || s > 4294967295LL) A.range_error("seed must be a uint32, got " + std::to_string(s));
  return static_cast<uint32_t>(s);
}

Napi::Value DropoutForward(const Napi::CallbackInfo &info) {
  Args A{info, "dropoutForward"};
  A.count(5);
  int64_t n = A.size(2, "n");
  double p = dropout_p(A, 3);
  uint32_t seed = seed_arg(A, 4);
  const float *x = A.f32(0, "x", d(n));
  float *y = A.f32(1, "y", d(n));
  par_dropout_forward(ops(), x, y, n, p, seed);
  return info.Env().Undefined();
}

Napi::Value BiasDropoutAdd(const Napi::CallbackInfo &info) {
  Args A{info, "biasDropoutAdd"};
  A.count(7);
  int64_t rows = A.size(3, "rows"), cols = A.size(4, "cols");
  double p = dropout_p(A, 5);
  uint32_t seed = seed_arg(A, 6);
  float *y = A.f32(0, "y", d(rows) * d(cols));
  const float *bias = A.f32(1, "bias", d(cols));
  const float *residual = A.f32(2, "residual", d(rows) * d(cols));
  par_bias_dropout_add(ops(), y, bias, residual, rows, cols, p, seed);
  return info.Env().Undefined();
}

// Elements a [B, T, nh * d] view with row stride ld must hold.
double strided_need(const AttentionArgs &a, int64_t ld) {
  const double rows = d(a.batch) * d(a.seq), width = d(a.heads) * d(a.dim);
  return rows > 0 && width > 0 ? (rows - 1) * d(ld) + width : 0;
}

void check_ld(const Args &A, const AttentionArgs &a, int64_t ld, const char *name) {
  const int64_t width = a.heads * a.dim;
  if (ld < width)
    A.range_error(std::string(name) + " = " + std::to_string(ld) + " is less than heads * headDim = " + std::to_string(width));
}

// q, k, v: [B, T, nh * d] views with row stride ld; ctx-like operands have their own row stride.
AttentionArgs attention_args(const Args &A, size_t iq, size_t ild, size_t iprobs, size_t idims, size_t iscale) {
  AttentionArgs a;
  a.batch = A.size(idims, "batch");
  a.seq = A.size(idims + 1, "seqLen");
  a.heads = A.size(idims + 2, "heads");
  a.dim = A.size(idims + 3, "headDim");
  a.ld = A.size(ild, "ld");
  check_ld(A, a, a.ld, "ld");
  const double need = strided_need(a, a.ld);
  a.q = A.f32(iq, "q", need);
  a.k = A.f32(iq + 1, "k", need);
  a.v = A.f32(iq + 2, "v", need);
  a.probs = A.f32(iprobs, "probs", d(a.batch) * d(a.heads) * d(a.seq) * d(a.seq));
  a.scale = static_cast<float>(A.number(iscale, "scale"));
  a.p = dropout_p(A, iscale + 1);
  a.seed = seed_arg(A, iscale + 2);
  a.bf16 = A.boolean(iscale + 3, "bf16");
  a.mask = nullptr;
  return a;
}

Napi::Value AttentionForward(const Napi::CallbackInfo &info) {
  // (q, k, v, ld, mask, probs, ctx, ldc, batch, seqLen, heads, headDim, scale, p, seed, bf16)
  Args A{info, "attentionForward"};
  A.count(16);
  AttentionArgs a = attention_args(A, 0, 3, 5, 8, 12);
  a.mask = A.f32_or_null(4, "mask", d(a.batch) * d(a.seq));
  const int64_t ldc = A.size(7, "ldc");
  check_ld(A, a, ldc, "ldc");
  float *ctx = A.f32(6, "ctx", strided_need(a, ldc));
  if (a.batch > 0 && a.seq > 0 && a.heads > 0) attention_forward(ops(), g_isa, a, ctx, ldc);
  return info.Env().Undefined();
}

Napi::Value AttentionBackward(const Napi::CallbackInfo &info) {
  // (q, k, v, ld, probs, dctx, ldc, dq, dk, dv, ldd, betaQ, betaK, betaV, batch, seqLen, heads, headDim,
  //  scale, p, seed, bf16)
  Args A{info, "attentionBackward"};
  A.count(22);
  AttentionArgs a = attention_args(A, 0, 3, 4, 14, 18);
  const int64_t ldc = A.size(6, "ldc"), ldd = A.size(10, "ldd");
  check_ld(A, a, ldc, "ldc");
  check_ld(A, a, ldd, "ldd");
  const float *dctx = A.f32(5, "dctx", strided_need(a, ldc));
  float *dq = A.f32_or_null(7, "dq", strided_need(a, ldd));
  float *dk = A.f32_or_null(8, "dk", strided_need(a, ldd));
  float *dv = A.f32_or_null(9, "dv", strided_need(a, ldd));
  const float bq = static_cast<float>(A.number(11, "betaQ")), bk = static_cast<float>(A.number(12, "betaK")),
              bv = static_cast<float>(A.number(13, "betaV"));
  if (a.batch > 0 && a.seq > 0 && a.heads > 0) attention_backward(ops(), g_isa, a, dctx, ldc, dq, dk, dv, ldd, bq, bk, bv);
  return info.Env().Undefined();
}

Napi::Value BiasGelu(const Napi::CallbackInfo &info) {
  Args A{info, "biasGelu"};
  A.count(6);
  int64_t rows = A.size(3, "rows"), cols = A.size(4, "cols");
  int approx = approximate_flag(A, 5);
  float *x = A.f32(0, "x", d(rows) * d(cols));
  const float *bias = A.f32(1, "bias", d(cols));
  float *y = A.f32(2, "y", d(rows) * d(cols));
  par_bias_gelu(ops(), x, bias, y, rows, cols, approx);
  return info.Env().Undefined();
}

Napi::Value GeluBackwardSumRows(const Napi::CallbackInfo &info) {
  Args A{info, "geluBackwardSumRows"};
  A.count(7);
  int64_t rows = A.size(4, "rows"), cols = A.size(5, "cols");
  int approx = approximate_flag(A, 6);
  const float *x = A.f32(0, "x", d(rows) * d(cols));
  const float *dy = A.f32(1, "dy", d(rows) * d(cols));
  float *dx = A.f32(2, "dx", d(rows) * d(cols));
  float *db = A.f32(3, "db", d(cols));
  par_gelu_backward_sum_rows(ops(), x, dy, dx, db, rows, cols, approx);
  return info.Env().Undefined();
}

Napi::Value DropoutBackward(const Napi::CallbackInfo &info) {
  Args A{info, "dropoutBackward"};
  A.count(5);
  int64_t n = A.size(2, "n");
  double p = dropout_p(A, 3);
  uint32_t seed = seed_arg(A, 4);
  const float *dy = A.f32(0, "dy", d(n));
  float *dx = A.f32(1, "dx", d(n));
  par_dropout_backward(ops(), dy, dx, n, p, seed);
  return info.Env().Undefined();
}

// ids must index rows of a table of `vocab` rows; checked here because a bad id would read or write
// outside the table.
void check_ids(const Args &A, const int32_t *ids, int64_t n, int64_t vocab) {
  for (int64_t r = 0; r < n; r++)
    if (ids[r] < 0 || ids[r] >= vocab)
      A.range_error("ids[" + std::to_string(r) + "] = " + std::to_string(ids[r]) + " is outside the table's " +
                    std::to_string(vocab) + " rows");
}

int64_t table_rows(const Napi::CallbackInfo &info, size_t i, int64_t dim) {
  return dim > 0 ? static_cast<int64_t>(info[i].As<Napi::TypedArray>().ElementLength()) / dim : 0;
}

Napi::Value EmbeddingForward(const Napi::CallbackInfo &info) {
  Args A{info, "embeddingForward"};
  A.count(5);
  int64_t n = A.size(3, "n"), dim = A.size(4, "dim");
  const float *table = A.f32(0, "table", 0);
  const int32_t *ids = A.i32(1, "ids", d(n));
  float *out = A.f32(2, "out", d(n) * d(dim));
  if (dim > 0) check_ids(A, ids, n, table_rows(info, 0, dim));
  par_embedding_forward(table, ids, out, n, dim);
  return info.Env().Undefined();
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo &info) {
  Args A{info, "embeddingBackward"};
  A.count(5);
  int64_t n = A.size(3, "n"), dim = A.size(4, "dim");
  const float *dout = A.f32(0, "dout", d(n) * d(dim));
  const int32_t *ids = A.i32(1, "ids", d(n));
  float *dtable = A.f32(2, "dtable", 0);
  if (dim > 0) check_ids(A, ids, n, table_rows(info, 2, dim));
  par_embedding_backward(dout, ids, dtable, n, dim);
  return info.Env().Undefined();
}

Napi::Value Permute0213(const Napi::CallbackInfo &info) {
  Args A{info, "permute0213"};
  A.count(7);
  int64_t d0 = A.size(2, "d0"), d1 = A.size(3, "d1"), d2 = A.size(4, "d2"), d3 = A.size(5, "d3");
  bool acc = A.boolean(6, "accumulate");
  double total = d(d0) * d(d1) * d(d2) * d(d3);
  const float *x = A.f32(0, "x", total);
  float *out = A.f32(1, "out", total);
  par_permute0213(x, out, d0, d1, d2, d3, acc);
  return info.Env().Undefined();
}

void check_labels(const Args &A, const int32_t *labels, int64_t rows, int64_t classes, int32_t ignore) {
  for (int64_t r = 0; r < rows; r++)
    if (labels[r] != ignore && (labels[r] < 0 || labels[r] >= classes))
      A.range_error("labels[" + std::to_string(r) + "] = " + std::to_string(labels[r]) + " is outside [0, " +
                    std::to_string(classes) + ") and is not ignoreIndex " + std::to_string(ignore));
}

int32_t ignore_arg(const Args &A, size_t i) {
  int64_t v = A.integer(i, "ignoreIndex");
  if (v < INT32_MIN || v > INT32_MAX) A.range_error("ignoreIndex must fit in int32");
  return static_cast<int32_t>(v);
}

Napi::Value CrossEntropyForward(const Napi::CallbackInfo &info) {
  Args A{info, "crossEntropyForward"};
  A.count(7);
  int64_t rows = A.size(4, "rows"), classes = A.size(5, "classes");
  int32_t ignore = ignore_arg(A, 6);
  const float *logits = A.f32(0, "logits", d(rows) * d(classes));
  const int32_t *labels = A.i32(1, "labels", d(rows));
  const float *w = A.f32_or_null(2, "classWeights", d(classes));
  float *probs = A.f32(3, "probs", d(rows) * d(classes));
  if (rows > 0 && classes == 0) A.range_error("classes must be positive");
  check_labels(A, labels, rows, classes, ignore);
  double out[2];
  par_cross_entropy_forward(ops(), logits, labels, w, probs, rows, classes, ignore, out);
  Napi::Array res = Napi::Array::New(info.Env(), 2);
  res.Set(uint32_t(0), Napi::Number::New(info.Env(), out[0]));
  res.Set(uint32_t(1), Napi::Number::New(info.Env(), out[1]));
  return res;
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo &info) {
  Args A{info, "crossEntropyBackward"};
  A.count(8);
  int64_t rows = A.size(4, "rows"), classes = A.size(5, "classes");
  int32_t ignore = ignore_arg(A, 6);
  float grad_scale = static_cast<float>(A.number(7, "gradScale"));
  const float *probs = A.f32(0, "probs", d(rows) * d(classes));
  const int32_t *labels = A.i32(1, "labels", d(rows));
  const float *w = A.f32_or_null(2, "classWeights", d(classes));
  float *dlogits = A.f32(3, "dlogits", d(rows) * d(classes));
  check_labels(A, labels, rows, classes, ignore);
  par_cross_entropy_backward(probs, labels, w, dlogits, rows, classes, ignore, grad_scale);
  return info.Env().Undefined();
}

Napi::Value AdamW(const Napi::CallbackInfo &info) {
  Args A{info, "adamw"};
  A.count(13);
  int64_t n = A.size(4, "n");
  float *p = A.f32(0, "param", d(n));
  float *g = A.f32(1, "grad", d(n));
  float *m = A.f32(2, "m", d(n));
  float *v = A.f32(3, "v", d(n));
  double lr = A.number(5, "lr"), b1 = A.number(6, "beta1"), b2 = A.number(7, "beta2"), eps = A.number(8, "eps");
  double wd = A.number(9, "weightDecay");
  int64_t step = A.size(10, "step");
  if (step < 1) A.range_error("step counts from 1, got " + std::to_string(step));
  double grad_scale = A.number(11, "gradScale");
  bool zero_grad = A.boolean(12, "zeroGrad");
  par_adamw(ops(), p, g, m, v, n, lr, b1, b2, eps, wd, static_cast<double>(step), grad_scale, zero_grad);
  return info.Env().Undefined();
}

// ---- configuration --------------------------------------------------------------------------------
Napi::Value Info(const Napi::CallbackInfo &info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", isa_name(g_isa));
  o.Set("maxIsa", isa_name(g_max_isa));
  o.Set("threads", pool().size());
  o.Set("blas", blas_name());  // TOKENTUNE_BLAS in use for the fp32 GEMM, "" for ours
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo &info) {
  Args A{info, "setThreads"};
  A.count(1);
  int64_t n = A.size(0, "n");
  if (n < 1 || n > 1024) A.range_error("thread count must be in [1, 1024], got " + std::to_string(n));
  set_pool_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value SetIsa(const Napi::CallbackInfo &info) {
  Args A{info, "setIsa"};
  A.count(1);
  if (!info[0].IsString()) A.type_error("isa", std::string("must be a string: ") + kIsaNames);
  std::string s = info[0].As<Napi::String>().Utf8Value();
  Isa want;
  if (!parse_isa(s, &want)) A.range_error("unknown ISA '" + s + "' (use " + kIsaNames + ")");
  if (want > g_max_isa) A.range_error("this CPU supports at most " + std::string(isa_name(g_max_isa)) + ", cannot use " + s);
  g_isa = want;
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  g_max_isa = detect_isa();
  g_isa = g_max_isa;  // TOKENTUNE_KERNEL is applied by the loader (src/engine/native.ts) through setIsa
  struct Entry {
    const char *name;
    Napi::Value (*fn)(const Napi::CallbackInfo &);
  };
  static const Entry entries[] = {
      {"gemm", guarded<Gemm>},
      {"packGemmB", guarded<PackGemmB>},
      {"addBias", guarded<AddBias>},
      {"sumRowsAcc", guarded<SumRowsAcc>},
      {"add", guarded<Add>},
      {"axpy", guarded<Axpy>},
      {"mul", guarded<Mul>},
      {"scale", guarded<Scale>},
      {"sumSquares", guarded<SumSquares>},
      {"geluForward", guarded<GeluForward>},
      {"geluBackward", guarded<GeluBackward>},
      {"biasGelu", guarded<BiasGelu>},
      {"attentionForward", guarded<AttentionForward>},
      {"attentionBackward", guarded<AttentionBackward>},
      {"geluBackwardSumRows", guarded<GeluBackwardSumRows>},
      {"biasDropoutAdd", guarded<BiasDropoutAdd>},
      {"tanhForward", guarded<TanhForward>},
      {"tanhBackward", guarded<TanhBackward>},
      {"layerNormForward", guarded<LayerNormForward>},
      {"layerNormBackward", guarded<LayerNormBackward>},
      {"softmaxForward", guarded<SoftmaxForward>},
      {"softmaxBackward", guarded<SoftmaxBackward>},
      {"dropoutForward", guarded<DropoutForward>},
      {"dropoutBackward", guarded<DropoutBackward>},
      {"embeddingForward", guarded<EmbeddingForward>},
      {"embeddingBackward", guarded<EmbeddingBackward>},
      {"permute0213", guarded<Permute0213>},
      {"crossEntropyForward", guarded<CrossEntropyForward>},
      {"crossEntropyBackward", guarded<CrossEntropyBackward>},
      {"adamw", guarded<AdamW>},
      {"info", guarded<Info>},
      {"setThreads", guarded<SetThreads>},
      {"setIsa", guarded<SetIsa>},
  };
  for (const Entry &e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
  register_bf16(env, exports, &g_isa);
  register_int8(env, exports, &g_isa, ops);
  return exports;
}

}  // namespace

NODE_API_MODULE(tokentune, Init)
