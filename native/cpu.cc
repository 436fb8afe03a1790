// Runtime ISA detection. AVX-512 is used only when the CPU has AVX512F and the OS saves zmm state
// (__builtin_cpu_supports checks both via cpuid/xgetbv in libgcc).
#include "common.h"

#if TT_ARM && defined(__linux__)
#include <sys/auxv.h>
#elif TT_ARM && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace tt {

Isa detect_isa() {
#if TT_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
  return ISA_SCALAR;
#elif TT_ARM
  return ISA_NEON;  // Advanced SIMD is part of every AArch64 CPU (and of the ABI)
#else
  return ISA_SCALAR;
#endif
}

const char *isa_name(Isa isa) {
  switch (isa) {
    case ISA_AVX512: return "avx512";
    case ISA_AVX2: return "avx2";
    case ISA_NEON: return "neon";
    default: return "scalar";
  }
}

// ---- arm64 optional features ---------------------------------------------------------------------
#if TT_ARM
namespace {
struct ArmFeatures {
  bool dotprod = false, i8mm = false, bf16 = false;
  ArmFeatures() {
#if defined(__linux__)
    // Bit numbers from the kernel's arch/arm64/include/uapi/asm/hwcap.h (spelled out: older
    // headers lack the HWCAP2 names).
    const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    dotprod = hw & (1UL << 20);   // HWCAP_ASIMDDP
    i8mm = hw2 & (1UL << 13);     // HWCAP2_I8MM
    bf16 = hw2 & (1UL << 14);     // HWCAP2_BF16
#elif defined(__APPLE__)
    dotprod = sysctl_flag("hw.optional.arm.FEAT_DotProd");
    i8mm = sysctl_flag("hw.optional.arm.FEAT_I8MM");
    bf16 = sysctl_flag("hw.optional.arm.FEAT_BF16");
#endif
  }
#if defined(__APPLE__)
  static bool sysctl_flag(const char *name) {
    int v = 0;
    size_t len = sizeof(v);
    return sysctlbyname(name, &v, &len, nullptr, 0) == 0 && v != 0;
  }
#endif
};
const ArmFeatures &arm_features() {
  static const ArmFeatures f;
  return f;
}
}  // namespace
bool arm_has_dotprod() { return arm_features().dotprod; }
bool arm_has_i8mm() { return arm_features().i8mm; }
bool arm_has_bf16() { return arm_features().bf16; }
#else
bool arm_has_dotprod() { return false; }
bool arm_has_i8mm() { return false; }
bool arm_has_bf16() { return false; }
#endif

}  // namespace tt
