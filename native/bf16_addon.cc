// N-API bindings of the bf16 mixed-precision kernels: gemmBf16 (arguments and checks exactly as
// gemm's in addon.cc), bf16Info and setBf16Fallback. Registered by addon.cc's Init.
#include <napi.h>

#include <cmath>
#include <string>

#include "gemm_bf16.h"

namespace tt {

namespace {

const Isa *g_isa_ptr = nullptr;

struct Reader {
  const Napi::CallbackInfo &info;
  const char *fn;
  [[noreturn]] void type_error(const std::string &msg) const {
    throw Napi::TypeError::New(info.Env(), std::string("tokentune native ") + fn + ": " + msg);
  }
  [[noreturn]] void range_error(const std::string &msg) const {
    throw Napi::RangeError::New(info.Env(), std::string("tokentune native ") + fn + ": " + msg);
  }
  double number(size_t i, const char *name) const {
    if (!info[i].IsNumber()) type_error(std::string(name) + " must be a number");
    return info[i].As<Napi::Number>().DoubleValue();
  }
  int64_t size(size_t i, const char *name) const {
    double v = number(i, name);
    if (!(v >= 0) || v != std::floor(v) || v > 9007199254740991.0)
      range_error(std::string(name) + " must be a non-negative integer, got " + std::to_string(v));
    return static_cast<int64_t>(v);
  }
  bool boolean(size_t i, const char *name) const {
    if (!info[i].IsBoolean()) type_error(std::string(name) + " must be a boolean");
    return info[i].As<Napi::Boolean>().Value();
  }
  float *f32(size_t i, const char *name, double need) const {
    if (!info[i].IsTypedArray()) type_error(std::string(name) + " must be a Float32Array");
    napi_typedarray_type type;
    size_t length = 0;
    void *data = nullptr;
    if (napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr, nullptr) != napi_ok)
      type_error(std::string(name) + " could not be read as a typed array");
    if (type != napi_float32_array) type_error(std::string(name) + " must be a Float32Array");
    if (static_cast<double>(length) < need)
      range_error(std::string(name) + " has " + std::to_string(length) + " elements, needs at least " +
                  std::to_string(static_cast<int64_t>(need)) + " for the given sizes");
    return static_cast<float *>(data);
  }
};

double d(int64_t v) { return static_cast<double>(v); }

Napi::Value GemmBf16(const Napi::CallbackInfo &info) {
  Reader A{info, "gemmBf16"};
  if (info.Length() < 17) A.type_error("expected 17 arguments, got " + std::to_string(info.Length()));
  GemmArgs g;
  g.transA = A.boolean(0, "transA");
  g.transB = A.boolean(1, "transB");
  g.m = A.size(2, "m");
  g.n = A.size(3, "n");
  g.k = A.size(4, "k");
  g.alpha = static_cast<float>(A.number(5, "alpha"));
  g.lda = A.size(7, "lda");
  g.strideA = A.size(8, "strideA");
  g.ldb = A.size(10, "ldb");
  g.strideB = A.size(11, "strideB");
  g.beta = static_cast<float>(A.number(12, "beta"));
  g.ldc = A.size(14, "ldc");
  g.strideC = A.size(15, "strideC");
  g.batch = A.size(16, "batch");
  const int64_t ar = g.transA ? g.k : g.m, ac = g.transA ? g.m : g.k;
  const int64_t br = g.transB ? g.n : g.k, bc = g.transB ? g.k : g.n;
  if (g.lda < ac || g.lda < 1) A.range_error("lda = " + std::to_string(g.lda) + " is less than the stored row length " + std::to_string(ac));
  if (g.ldb < bc || g.ldb < 1) A.range_error("ldb = " + std::to_string(g.ldb) + " is less than the stored row length " + std::to_string(bc));
  if (g.ldc < g.n || g.ldc < 1) A.range_error("ldc = " + std::to_string(g.ldc) + " is less than n = " + std::to_string(g.n));
  const bool any = g.batch > 0 && g.m > 0 && g.n > 0;
  const bool reads = any && g.k > 0;
  const double span_c = any ? d(g.m - 1) * d(g.ldc) + d(g.n) : 0;
  if (g.batch > 1 && any && d(g.strideC) < span_c)
    A.range_error("strideC = " + std::to_string(g.strideC) + " makes the batch's C matrices overlap (need >= " +
                  std::to_string(static_cast<int64_t>(span_c)) + ")");
  g.a = A.f32(6, "a", reads ? d(g.batch - 1) * d(g.strideA) + d(ar - 1) * d(g.lda) + d(ac) : 0);
  g.b = A.f32(9, "b", reads ? d(g.batch - 1) * d(g.strideB) + d(br - 1) * d(g.ldb) + d(bc) : 0);
  g.c = A.f32(13, "c", any ? d(g.batch - 1) * d(g.strideC) + span_c : 0);
  if (any) gemm_bf16(g, g_isa_ptr ? *g_isa_ptr : detect_isa());
  return info.Env().Undefined();
}

Napi::Value Bf16Info(const Napi::CallbackInfo &info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("available", bf16_native_available());
  o.Set("native", bf16_uses_native() && (g_isa_ptr ? *g_isa_ptr : detect_isa()) == ISA_AVX512);
  return o;
}

Napi::Value SetBf16Fallback(const Napi::CallbackInfo &info) {
  Reader A{info, "setBf16Fallback"};
  if (info.Length() < 1) A.type_error("expected 1 argument");
  set_bf16_fallback(A.boolean(0, "force"));
  return info.Env().Undefined();
}

template <Napi::Value (*F)(const Napi::CallbackInfo &)>
Napi::Value guarded(const Napi::CallbackInfo &info) {
  try {
    return F(info);
  } catch (const Napi::Error &) {
    throw;
  } catch (const std::bad_alloc &) {
    throw Napi::Error::New(info.Env(), "tokentune native: out of memory");
  } catch (const std::exception &e) {
    throw Napi::Error::New(info.Env(), std::string("tokentune native: ") + e.what());
  }
}

}  // namespace

void register_bf16(Napi::Env env, Napi::Object exports, const Isa *isa) {
  g_isa_ptr = isa;
  exports.Set("gemmBf16", Napi::Function::New(env, guarded<GemmBf16>, "gemmBf16"));
  exports.Set("bf16Info", Napi::Function::New(env, guarded<Bf16Info>, "bf16Info"));
  exports.Set("setBf16Fallback", Napi::Function::New(env, guarded<SetBf16Fallback>, "setBf16Fallback"));
}

}  // namespace tt
