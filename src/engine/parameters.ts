/**
 * Parameters live in one flat float32 buffer (and their gradients in another), so the optimizer
 * updates every weight with one fused AdamW call per group and gradient clipping is one pass.
 */
import { Tensor } from './tensor.js';

export function parameter(data: Float32Array, shape: readonly number[], name: string): Tensor {
  const t = Tensor.from(data, shape);
  t.requiresGrad = true;
  t.name = name;
  return t;
}

export interface FlatParameters {
  readonly params: readonly Tensor[];
  readonly data: Float32Array;
  readonly grad: Float32Array;
  /** Offset of each parameter in the flat buffers, same order as params. */
  readonly offsets: readonly number[];
}

/**
 * Copies the parameters, in the given order, into one buffer and rebinds each tensor's data and
 * grad to its slice. The order decides the layout (put parameters that share optimizer settings
 * next to each other).
 */
export function flattenParameters(params: readonly Tensor[]): FlatParameters {
  let total = 0;
  const offsets: number[] = [];
  for (const p of params) {
    if (p.dtype !== 'float32') throw new TypeError(`parameter ${p.name} must be float32, got ${p.dtype}`);
    offsets.push(total);
    total += p.size;
  }
  const data = new Float32Array(total);
  const grad = new Float32Array(total);
  params.forEach((p, i) => {
    p.moveTo(data.subarray(offsets[i], offsets[i] + p.size));
    p.grad = grad.subarray(offsets[i], offsets[i] + p.size);
  });
  return { params, data, grad, offsets };
}
