// Runtime ISA detection. AVX-512 is used only when the CPU has AVX512F and the OS saves zmm state
// (__builtin_cpu_supports checks both via cpuid/xgetbv in libgcc).
#include "common.h"

namespace tt {

Isa detect_isa() {
#if TT_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return ISA_AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return ISA_AVX2;
#endif
  return ISA_SCALAR;
}

const char *isa_name(Isa isa) {
  switch (isa) {
    case ISA_AVX512: return "avx512";
    case ISA_AVX2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace tt
