/**
 * Chooses the kernel implementation: the native addon when built, else the TypeScript reference.
 * `TOKENTUNE_BACKEND=ref` forces the reference (slow; for debugging). Float64 arrays always go to
 * the reference kernels, which is how gradient checks run the same op code in double precision.
 */
import type { FloatArray, Kernels } from './kernels.js';
import { refKernels } from './ref-kernels.js';
import { loadNative } from './native.js';

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
