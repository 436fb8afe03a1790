/** Shape ops: reshape (a view), head split/merge (a permute copy), row slicing, gathering and scattering. */
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

/**
 * gatherRows (x the full [total, ...] tensor, y the rows) or scatterRows (x the rows, y a zero full
 * tensor): one copy per run of consecutive rows (a padded batch's real tokens are one run per
 * sequence); the backward adds the same spans of y's gradient into x's.
 */
function moveRows(op: string, x: Tensor, rows: Int32Array, total: number, gather: boolean): Tensor {
  const dt = floatDtype(op, x);
  const inner = x.shape[0] === 0 ? 0 : x.size / x.shape[0];
  // [offset in x, offset in y, length] per run, in elements.
  const spans: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!(r >= 0 && r < total) || (i > 0 && r <= rows[i - 1])) {
      throw new RangeError(`${op}: row ${r} at position ${i} is not ascending within [0, ${total})`);
    }
    if (i > 0 && r === rows[i - 1] + 1) spans[spans.length - 1] += inner;
    else spans.push(gather ? r * inner : i * inner, gather ? i * inner : r * inner, inner);
  }
  const rest = x.shape.slice(1);
  const y = gather ? Tensor.empty([rows.length, ...rest], dt) : Tensor.zeros([total, ...rest], dt);
  for (let i = 0; i < spans.length; i += 3) y.f.set(x.f.subarray(spans[i], spans[i] + spans[i + 2]), spans[i + 1]);
  if (needsGrad(x)) {
    record(y, op, [x], (g) => {
      const K = kernelsFor(x.f),
        gx = gradOf(x);
      for (let i = 0; i < spans.length; i += 3) {
        const [from, to, len] = [spans[i], spans[i + 1], spans[i + 2]];
        K.axpy(len, 1, g.subarray(to, to + len), gx.subarray(from, from + len));
      }
    });
  }
  return y;
}

/** x [total, ...] -> the given rows (ascending) [rows.length, ...], a copy; the backward adds them back. */
export function gatherRows(x: Tensor, rows: Int32Array): Tensor {
  return moveRows('gatherRows', x, rows, x.shape[0], true);
}

/** gatherRows' inverse: x [rows.length, ...] placed at `rows` (ascending) of a zero [total, ...]. */
export function scatterRows(x: Tensor, rows: Int32Array, total: number): Tensor {
  if (x.shape[0] !== rows.length) throw new ShapeError('scatterRows', `${rows.length} rows for a first axis of ${x.shape[0]}`, x);
  return moveRows('scatterRows', x, rows, total, false);
}
