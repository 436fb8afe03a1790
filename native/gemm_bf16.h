// bf16 mixed-precision GEMM (see gemm_bf16.cc): same arguments and batching as tt::gemm, with op(A)
// and op(B) rounded to bfloat16 and fp32 accumulation.
#pragma once
#include "common.h"

namespace tt {

// fp32 -> bf16 bits exactly as VCVTNE2PS2BF16: round to nearest even, denormals -> signed zero,
// NaN stays a (quiet) NaN.
uint16_t bf16_bits(float x);
// The fp32 value of bf16_bits(x).
float bf16_round(float x);

void gemm_bf16(const GemmArgs &g, Isa isa);
// Whether this CPU has AVX512_BF16 (VDPBF16PS).
bool bf16_native_available();
// Tests: force the portable path (round, then fp32 GEMM) even where AVX512_BF16 exists.
void set_bf16_fallback(bool force);
// Whether gemm_bf16 with ISA_AVX512 uses VDPBF16PS now.
bool bf16_uses_native();

}  // namespace tt
