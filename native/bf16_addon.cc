// N-API bindings of the bf16 mixed-precision kernels: gemmBf16 (the same arguments and checks as
// gemm, napi_args.h), bf16Info and setBf16Fallback. Registered by addon.cc's Init.
#include <napi.h>

#include <cmath>
#include <string>

#include "gemm_bf16.h"
#include "napi_args.h"

namespace tt {

namespace {

using namespace tt::napi_args;

const Isa *g_isa_ptr = nullptr;

Napi::Value GemmBf16(const Napi::CallbackInfo &info) {
  Args A{info, "gemmBf16"};
  const GemmArgs g = read_gemm_args(A);
  if (gemm_has_work(g)) gemm_bf16(g, g_isa_ptr ? *g_isa_ptr : detect_isa());
  return info.Env().Undefined();
}

Napi::Value Bf16Info(const Napi::CallbackInfo &info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("available", bf16_native_available());
  o.Set("native", bf16_uses_native() && (g_isa_ptr ? *g_isa_ptr : detect_isa()) == ISA_AVX512);
  return o;
}

Napi::Value SetBf16Fallback(const Napi::CallbackInfo &info) {
  Args A{info, "setBf16Fallback"};
  A.count(1);
  set_bf16_fallback(A.boolean(0, "force"));
  return info.Env().Undefined();
}


}  // namespace

void register_bf16(Napi::Env env, Napi::Object exports, const Isa *isa) {
  g_isa_ptr = isa;
  exports.Set("gemmBf16", Napi::Function::New(env, guarded<GemmBf16>, "gemmBf16"));
  exports.Set("bf16Info", Napi::Function::New(env, guarded<Bf16Info>, "bf16Info"));
  exports.Set("setBf16Fallback", Napi::Function::New(env, guarded<SetBf16Fallback>, "setBf16Fallback"));
}

}  // namespace tt
