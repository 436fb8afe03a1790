// AVX2+FMA build of the range kernels: same source, compiled for a wider target (see ops_body.inc).
#include "common.h"

#if TT_X86
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define TT_OPS_NS avx2_ops
#include "ops_body.inc"

namespace tt {
const OpsTable &ops_avx2() { return avx2_ops::table(); }
}  // namespace tt
#pragma GCC pop_options
#endif
