// arm64 build of the range kernels (LayerNorm, softmax, GELU, dropout, AdamW, the elementwise ops):
// ops_body.inc's plain loops, which GCC and clang vectorise to 128-bit NEON (FMLA/FMUL .4s, and
// .2d for the double accumulators) at -O3; Advanced SIMD is baseline AArch64, so no target pragma.
// The table is kept apart from ops_scalar so that the arm64 build can state and test its own path.
#include "common.h"

#if TT_ARM
#define TT_OPS_NS neon_ops
#include "ops_body.inc"

namespace tt {
const OpsTable &ops_neon() { return neon_ops::table(); }
}  // namespace tt
#endif
