/**
 * Matmul precision of the float32 ops (linear, matmul): 'fp32' (default) or 'bf16', the mixed
 * precision mode: operands of every matrix product (forward and backward) are rounded to bfloat16,
 * products accumulate in float32, and everything else (parameters, optimizer state, activations,
 * layer norm, softmax, losses, gradients) stays float32. Float64 tensors (gradient checks) always
 * multiply in float64. An op records the precision it ran its forward with, so its backward uses
 * the same one even if the switch changes in between.
 */
import type { FloatArray, Kernels } from '../kernels.js';

export type MatmulPrecision = 'fp32' | 'bf16';

let current: MatmulPrecision = 'fp32';

export function setMatmulPrecision(p: MatmulPrecision): void {
  if (p !== 'fp32' && p !== 'bf16') throw new RangeError(`setMatmulPrecision: expected 'fp32' or 'bf16', got ${String(p)}`);
  current = p;
}

export function matmulPrecision(): MatmulPrecision {
  return current;
}

/** Runs fn with the given precision, restoring the previous one afterwards. */
export function withMatmulPrecision<T>(p: MatmulPrecision, fn: () => T): T {
  const prev = current;
  setMatmulPrecision(p);
  try {
    return fn();
  } finally {
    current = prev;
  }
}

export type GemmFn = Kernels['gemm'];

/** The GEMM kernel for an op on `arr` under the current precision. */
export function gemmFor(K: Kernels, arr: FloatArray): GemmFn {
  return current === 'bf16' && arr instanceof Float32Array ? K.gemmBf16 : K.gemm;
}
