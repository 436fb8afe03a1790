// AVX-512 build of the range kernels: same source, compiled for a wider target (see ops_body.inc).
#include "common.h"

#if TT_X86
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,prefer-vector-width=512")
#define TT_OPS_NS avx512_ops
#include "ops_body.inc"

namespace tt {
const OpsTable &ops_avx512() { return avx512_ops::table(); }
}  // namespace tt
#pragma GCC pop_options
#endif
