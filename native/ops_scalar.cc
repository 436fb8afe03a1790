// Portable build of the range kernels (baseline x86-64 SSE2, or the host ISA on arm64).
#include "common.h"

#define TT_OPS_NS scalar_ops
#include "ops_body.inc"

namespace tt {
const OpsTable &ops_scalar() { return scalar_ops::table(); }
}  // namespace tt
