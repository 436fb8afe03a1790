// N-API bindings of the int8 inference kernels (gemm_int8.h): linearInt8, packInt8Weights,
// int8Info and setInt8Path. Registered by addon.cc's Init.
#include <napi.h>

#include <string>

#include "gemm_int8.h"
#include "napi_args.h"

namespace tt {

namespace {

using namespace tt::napi_args;

const Isa *g_isa_ptr = nullptr;
const OpsTable &(*g_ops)() = nullptr;
int g_forced = -1;  // an Int8Path, or -1: the best the ISA level allows

Int8Path current_path() {
  const Int8Path best = int8_best_path(*g_isa_ptr);
  return g_forced >= 0 && g_forced < best ? static_cast<Int8Path>(g_forced) : best;
}

const int8_t *s8(const Args &A, size_t i, const char *name, double need) {
  return A.typed<int8_t, napi_int8_array>(i, name, need, "Int8Array");
}

// linearInt8(m, n, k, x, w, wScale, wSum, bias, residual, act, y, weights7): see kernels.ts.
Napi::Value LinearInt8(const Napi::CallbackInfo &info) {
  Args A{info, "linearInt8"};
  A.count(12);
  Int8LinearArgs a;
  a.m = A.size(0, "m");
  a.n = A.size(1, "n");
  a.k = A.size(2, "k");
  const int64_t act = A.integer(9, "act");
  if (act < 0 || act > 2) A.range_error("act must be 0 (none), 1 (GELU erf) or 2 (GELU tanh), got " + std::to_string(act));
  a.act = static_cast<int>(act);
  if (a.k > (int64_t(1) << 16))
    A.range_error("k = " + std::to_string(a.k) + " is over 65536 (the int32 sums could overflow)");
  a.x = A.f32(3, "x", d(a.m) * d(a.k));
  a.w = s8(A, 4, "w", d(int8_packed_size(a.n, a.k)));
  a.w_scale = A.f32(5, "wScale", d(a.n));
  a.w_sum = A.i32(6, "wSum", d(a.n));
  a.bias = A.f32_or_null(7, "bias", d(a.n));
  a.residual = A.f32_or_null(8, "residual", d(a.m) * d(a.n));
  a.y = A.f32(10, "y", d(a.m) * d(a.n));
  a.w_s7 = A.boolean(11, "weights7");
  if (a.m > 0 && a.n > 0) linear_int8(a, current_path(), g_ops());
  return info.Env().Undefined();
}

// packInt8Weights(w, n, k, out)
Napi::Value PackInt8Weights(const Napi::CallbackInfo &info) {
  Args A{info, "packInt8Weights"};
  A.count(4);
  const int64_t n = A.size(1, "n"), k = A.size(2, "k");
  const int8_t *w = s8(A, 0, "w", d(n) * d(k));
  int8_t *out = const_cast<int8_t *>(s8(A, 3, "out", d(int8_packed_size(n, k))));
  int8_pack_weights(w, n, k, out);
  return info.Env().Undefined();
}

Napi::Value Int8Info(const Napi::CallbackInfo &info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("path", int8_path_name(current_path()));
  Napi::Array paths = Napi::Array::New(info.Env());
  uint32_t n = 0;
  for (int p = I8_SCALAR; p <= I8_PATH_LAST; p++)
    if (int8_path_supported(static_cast<Int8Path>(p), *g_isa_ptr)) paths.Set(n++, int8_path_name(static_cast<Int8Path>(p)));
  o.Set("paths", paths);
  return o;
}

// setInt8Path(name | 'auto'): tests force each path the CPU has at the ISA level in use (TOKENTUNE_KERNEL
// or setIsa caps it: forced to avx2, an AVX-512 CPU must not claim its VNNI path ran).
Napi::Value SetInt8Path(const Napi::CallbackInfo &info) {
  Args A{info, "setInt8Path"};
  A.count(1);
  if (!info[0].IsString()) A.type_error("path", "must be a string");
  const std::string s = info[0].As<Napi::String>().Utf8Value();
  if (s == "auto") { g_forced = -1; return info.Env().Undefined(); }
  for (int p = I8_SCALAR; p <= I8_PATH_LAST; p++) {
    if (s == int8_path_name(static_cast<Int8Path>(p))) {
      if (!int8_path_supported(static_cast<Int8Path>(p), *g_isa_ptr))
        A.range_error("this CPU has no " + s + " at ISA level " + isa_name(*g_isa_ptr) + " (see int8Info().paths)");
      g_forced = p;
      return info.Env().Undefined();
    }
  }
  A.range_error("unknown int8 path '" + s + "' (auto, scalar, avx2, avxvnni, avx512vnni, neondot, i8mm)");
}

}  // namespace

void register_int8(Napi::Env env, Napi::Object exports, const Isa *isa, const OpsTable &(*ops)()) {
  g_isa_ptr = isa;
  g_ops = ops;
  exports.Set("linearInt8", Napi::Function::New(env, guarded<LinearInt8>, "linearInt8"));
  exports.Set("packInt8Weights", Napi::Function::New(env, guarded<PackInt8Weights>, "packInt8Weights"));
  exports.Set("int8Info", Napi::Function::New(env, guarded<Int8Info>, "int8Info"));
  exports.Set("setInt8Path", Napi::Function::New(env, guarded<SetInt8Path>, "setInt8Path"));
}

}  // namespace tt
