// Argument reading shared by the N-API bindings (addon.cc, bf16_addon.cc): every argument is
// checked (types, integer sizes, typed-array lengths against the sizes given) before a pointer is
// used, so a wrong call throws a TypeError/RangeError instead of reading out of bounds.
#pragma once
#include <napi.h>

#include <cmath>
#include <exception>
#include <new>
#include <string>

#include "common.h"

namespace tt {
namespace napi_args {

struct Args {
  const Napi::CallbackInfo &info;
  const char *fn;

  std::string where(const char *name) const { return std::string("tokentune native ") + fn + ": " + name; }

  [[noreturn]] void type_error(const char *name, const std::string &what) const {
    throw Napi::TypeError::New(info.Env(), where(name) + " " + what);
  }
  [[noreturn]] void range_error(const std::string &msg) const {
    throw Napi::RangeError::New(info.Env(), std::string("tokentune native ") + fn + ": " + msg);
  }

  void count(size_t n) const {
    if (info.Length() < n)
      throw Napi::TypeError::New(info.Env(), std::string("tokentune native ") + fn + ": expected " + std::to_string(n) +
                                                 " arguments, got " + std::to_string(info.Length()));
  }

  double number(size_t i, const char *name) const {
    if (!info[i].IsNumber()) type_error(name, "must be a number");
    return info[i].As<Napi::Number>().DoubleValue();
  }

  // A non-negative integer that fits comfortably in int64 and in a double.
  int64_t size(size_t i, const char *name) const {
    double v = number(i, name);
    if (!(v >= 0) || v != std::floor(v) || v > 9007199254740991.0)
      range_error(std::string(name) + " must be a non-negative integer, got " + std::to_string(v));
    return static_cast<int64_t>(v);
  }

  int64_t integer(size_t i, const char *name) const {
    double v = number(i, name);
    if (v != std::floor(v) || std::fabs(v) > 9007199254740991.0)
      range_error(std::string(name) + " must be an integer, got " + std::to_string(v));
    return static_cast<int64_t>(v);
  }

  bool boolean(size_t i, const char *name) const {
    if (!info[i].IsBoolean()) type_error(name, "must be a boolean");
    return info[i].As<Napi::Boolean>().Value();
  }

  // A Float32Array with at least `need` elements (need computed in double so it cannot overflow).
  template <class T, napi_typedarray_type kType>
  T *typed(size_t i, const char *name, double need, const char *type_name) const {
    if (!info[i].IsTypedArray()) type_error(name, std::string("must be a ") + type_name);
    // napi_get_typedarray_info gives the element pointer with byteOffset applied, for ArrayBuffer and
    // SharedArrayBuffer backing alike.
    napi_typedarray_type type;
    size_t length = 0;
    void *data = nullptr;
    napi_status st = napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, nullptr, nullptr);
    if (st != napi_ok) type_error(name, "could not be read as a typed array");
    if (type != kType) {
      const char *got = type == napi_float64_array ? "Float64Array (the native kernels are float32 only)"
                                                   : "another typed array";
      type_error(name, std::string("must be a ") + type_name + ", got " + got);
    }
    double len = static_cast<double>(length);
    if (len < need)
      range_error(std::string(name) + " has " + std::to_string(static_cast<int64_t>(len)) + " elements, needs at least " +
                  std::to_string(static_cast<int64_t>(need)) + " for the given sizes");
    return static_cast<T *>(data);
  }

  float *f32(size_t i, const char *name, double need) const {
    return typed<float, napi_float32_array>(i, name, need, "Float32Array");
  }
  const int32_t *i32(size_t i, const char *name, double need) const {
    return typed<int32_t, napi_int32_array>(i, name, need, "Int32Array");
  }
  // Float32Array or null/undefined.
  float *f32_or_null(size_t i, const char *name, double need) const {
    if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
    return f32(i, name, need);
  }
};

inline double d(int64_t v) { return static_cast<double>(v); }

/** Whether a GEMM call has any output to write (an empty one returns before touching memory). */
inline bool gemm_has_work(const GemmArgs &g) { return g.batch > 0 && g.m > 0 && g.n > 0; }

/**
 * The 17 arguments of gemm / gemmBf16 (kernels.ts order), validated: leading dimensions, batch
 * strides that would make C matrices overlap, and array lengths for the sizes given.
 */
inline GemmArgs read_gemm_args(const Args &A) {
  A.count(17);
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
  const int64_t ar = g.transA ? g.k : g.m, ac = g.transA ? g.m : g.k;  // A as stored
  const int64_t br = g.transB ? g.n : g.k, bc = g.transB ? g.k : g.n;  // B as stored
  if (g.lda < ac || g.lda < 1) A.range_error("lda = " + std::to_string(g.lda) + " is less than the stored row length " + std::to_string(ac));
  if (g.ldb < bc || g.ldb < 1) A.range_error("ldb = " + std::to_string(g.ldb) + " is less than the stored row length " + std::to_string(bc));
  if (g.ldc < g.n || g.ldc < 1) A.range_error("ldc = " + std::to_string(g.ldc) + " is less than n = " + std::to_string(g.n));
  const bool any = gemm_has_work(g);
  const bool reads = any && g.k > 0;
  const double span_c = any ? d(g.m - 1) * d(g.ldc) + d(g.n) : 0;
  if (g.batch > 1 && any && d(g.strideC) < span_c)
    A.range_error("strideC = " + std::to_string(g.strideC) + " makes the batch's C matrices overlap (need >= " +
                  std::to_string(static_cast<int64_t>(span_c)) + ")");
  g.a = A.f32(6, "a", reads ? d(g.batch - 1) * d(g.strideA) + d(ar - 1) * d(g.lda) + d(ac) : 0);
  g.b = A.f32(9, "b", reads ? d(g.batch - 1) * d(g.strideB) + d(br - 1) * d(g.ldb) + d(bc) : 0);
  g.c = A.f32(13, "c", any ? d(g.batch - 1) * d(g.strideC) + span_c : 0);
  return g;
}

// Turns C++ failures (allocation of packing buffers, ...) into JS errors instead of std::terminate.
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

}  // namespace napi_args
}  // namespace tt
