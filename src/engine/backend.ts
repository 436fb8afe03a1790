/**
 * Chooses the kernel implementation: the native addon when built, else the TypeScript reference.
 * `TOKENTUNE_BACKEND=ref` forces the reference (slow; for debugging). Float64 arrays always go to
 * the reference kernels, which is how gradient checks run the same op code in double precision.
 */
import type { FloatArray, Kernels } from './kernels.js';
import { refKernels } from './ref-kernels.js';
import { loadNative, nativeBf16Info, nativeInfo } from './native.js';

let active: Kernels | null = null;

export function kernels(): Kernels {
  if (active === null) {
    const forced = process.env.TOKENTUNE_BACKEND;
    active = forced === 'ref' ? refKernels : (loadNative() ?? refKernels);
  }
  return active;
}

/** The kernels that can operate on `arr` (native kernels take float32 only). */
export function kernelsFor(arr: FloatArray): Kernels {
  return arr instanceof Float64Array ? refKernels : kernels();
}

/** Replace the active kernels (tests; e.g. force the reference to compare whole models). */
export function setKernels(k: Kernels): void {
  active = k;
}

/**
 * Why bf16 mixed precision (`--bf16`) is refused on this machine, or null where its matmuls run on
 * VDPBF16PS (AVX512_BF16). Elsewhere each bf16 product is emulated (operands rounded, then the fp32
 * GEMM) and a training step took 2 to 7x as long as in fp32 (Ice Lake, tiny and small); a mode that
 * only slows training down is refused in one line rather than run in silence. The engine switch
 * (ops.setMatmulPrecision) still runs the emulation: it defines the arithmetic tests check.
 */
export function bf16Refusal(): string | null {
  const k = kernels();
  if (k === refKernels)
    return '--bf16 needs the native addon on a CPU with AVX512_BF16; the TypeScript reference kernels only emulate bf16, slower than fp32: train without --bf16';
  const bf16 = nativeBf16Info();
  if (bf16?.native) return null;
  if (bf16?.available) {
    return `--bf16 needs the avx512 kernels with AVX512_BF16; this run uses ${nativeInfo()?.isa ?? 'other'} kernels (TOKENTUNE_KERNEL), where bf16 is only emulated, slower than fp32: train without --bf16`;
  }
  return '--bf16 needs AVX512_BF16 (VDPBF16PS), which this CPU lacks: bf16 matmuls would only be emulated (rounded, then multiplied in fp32), slower than fp32: train without --bf16';
}
