/** Shape ops: reshape (a view), head split/merge (a permute copy), row slicing. */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor } from '../tensor.js';
import { ShapeError, floatDtype } from './common.js';

/** Same data, new shape (no copy). One dimension may be -1. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const y = x.view(shape);
  if (needsGrad(x)) record(y, 'reshape', [x], (g) => kernelsFor(x.f).axpy(x.size, 1, g, gradOf(x)));
  return y;
}

/** [d0, d1, d2, d3] -> [d0, d2, d1, d3]: [B, T, H, D] <-> [B, H, T, D] for attention heads. */
export function permute0213(x: Tensor): Tensor {
  const dt = floatDtype('permute0213', x);
  if (x.shape.length !== 4) throw new ShapeError('permute0213', 'needs a 4-D tensor', x);
  const [d0, d1, d2, d3] = x.shape;
  const K = kernelsFor(x.f);
  const y = Tensor.empty([d0, d2, d1, d3], dt);
  K.permute0213(x.f, y.f, d0, d1, d2, d3, false);
  if (needsGrad(x)) record(y, 'permute0213', [x], (g) => K.permute0213(g, gradOf(x), d0, d2, d1, d3, true));
  return y;
}

/** Rows [start, end) along the first axis (a copy). */
export function sliceRows(x: Tensor, start: number, end: number): Tensor {
  const dt = floatDtype('sliceRows', x);
  const n0 = x.shape[0];
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= n0)) {
    throw new ShapeError('sliceRows', `bad range [${start}, ${end}) for first axis of length ${n0}`, x);
  }
  const inner = n0 === 0 ? 0 : x.size / n0;
  const y = Tensor.empty([end - start, ...x.shape.slice(1)], dt);
  y.f.set(x.f.subarray(start * inner, end * inner));
  if (needsGrad(x)) {
    record(y, 'sliceRows', [x], (g) => kernelsFor(x.f).axpy(y.size, 1, g, gradOf(x).subarray(start * inner, end * inner)));
  }
  return y;
}
