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

/**
 * One tensor over float32 parameters stored back to back, concatenated along the first axis and
 * sharing their data and gradient memory (the query, key and value projections, which the model
 * stores adjacently, become one [3H, H] weight and one GEMM). Gradients flow into the parameters'
 * own `.grad` views: when none is allocated yet, one adjacent block is allocated for all of them.
 * Null when the data (or the existing gradients) are not adjacent; then use the parameters apart.
 */
export function adjacentView(ts: readonly Tensor[]): Tensor | null {
  if (ts.length === 0) return null;
  const tail = ts[0].shape.slice(1);
  const sameTail = (t: Tensor) => t.shape.length === tail.length + 1 && t.shape.every((d, i) => i === 0 || d === tail[i - 1]);
  if (!ts.every((t) => t.dtype === 'float32' && sameTail(t))) return null;
  const data = adjacentSpan(ts.map((t) => t.f as Float32Array));
  if (!data) return null;
  const view = Tensor.from(data, [ts.reduce((a, t) => a + t.shape[0], 0), ...tail]);
  view.name = ts.map((t) => t.name).join('+');
  if (!ts.some((t) => t.requiresGrad)) return view;
  if (!ts.every((t) => t.requiresGrad)) return null;
  if (ts.every((t) => t.grad === null)) {
    const g = new Float32Array(data.length);
    let off = 0;
    for (const t of ts) {
      t.grad = g.subarray(off, off + t.size);
      off += t.size;
    }
  }
  const grads = ts.map((t) => t.grad);
  const grad = grads.every((g): g is Float32Array => g instanceof Float32Array) ? adjacentSpan(grads) : null;
  if (!grad) return null;
  view.requiresGrad = true;
  view.grad = grad;
  return view;
}

/** The array spanning arrays that lie back to back in one buffer, in order, or null. */
function adjacentSpan(arrs: readonly Float32Array[]): Float32Array | null {
  const first = arrs[0];
  let end = first.byteOffset + first.byteLength;
  for (const a of arrs.slice(1)) {
    if (a.buffer !== first.buffer || a.byteOffset !== end) return null;
    end += a.byteLength;
  }
  return new Float32Array(first.buffer, first.byteOffset, (end - first.byteOffset) / 4);
}

/**
 * Makes tensors adjacent (and so eligible for adjacentView) by moving their data into one new
 * buffer, in order; does nothing when they already are. Gradients, if any, are left as they are.
 */
export function storeAdjacent(ts: readonly Tensor[]): void {
  if (ts.length === 0 || ts.some((t) => t.dtype !== 'float32')) return;
  if (adjacentSpan(ts.map((t) => t.f as Float32Array))) return;
  const block = new Float32Array(ts.reduce((a, t) => a + t.size, 0));
  let off = 0;
  for (const t of ts) {
    t.moveTo(block.subarray(off, off + t.size));
    off += t.size;
  }
}
