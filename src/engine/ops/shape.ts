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
 * Maximal runs of consecutive indices in `rows` (ascending, each in [0, total)) as [first, length]
 * pairs, so the copies below are one per run (a padded batch's real tokens: one run per sequence).
 */
function rowRuns(op: string, rows: Int32Array, total: number): number[] {
  const runs: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (!(r >= 0 && r < total) || (i > 0 && r <= rows[i - 1])) {
      throw new RangeError(`${op}: row ${r} at position ${i} is not ascending within [0, ${total})`);
    }
    if (i > 0 && r === rows[i - 1] + 1) runs[runs.length - 1]++;
    else runs.push(r, 1);
  }
  return runs;
}

/** f(offset in the full tensor, offset in the gathered one, length) per run, in elements. */
function eachRun(runs: number[], inner: number, f: (full: number, packed: number, len: number) => void): void {
  for (let i = 0, packed = 0; i < runs.length; i += 2) {
    const len = runs[i + 1] * inner;
    f(runs[i] * inner, packed, len);
    packed += len;
  }
}

/** x [R, ...] -> the given rows (ascending) [rows.length, ...], a copy; the backward adds them back. */
export function gatherRows(x: Tensor, rows: Int32Array): Tensor {
  const dt = floatDtype('gatherRows', x);
  const total = x.shape[0];
  const runs = rowRuns('gatherRows', rows, total);
  const inner = total === 0 ? 0 : x.size / total;
  const y = Tensor.empty([rows.length, ...x.shape.slice(1)], dt);
  eachRun(runs, inner, (full, packed, len) => y.f.set(x.f.subarray(full, full + len), packed));
  if (needsGrad(x)) {
    record(y, 'gatherRows', [x], (g) => {
      const K = kernelsFor(x.f),
        gx = gradOf(x);
      eachRun(runs, inner, (full, packed, len) => K.axpy(len, 1, g.subarray(packed, packed + len), gx.subarray(full, full + len)));
    });
  }
  return y;
}

/** gatherRows' inverse: x [rows.length, ...] placed at `rows` (ascending) of a zero [total, ...]. */
export function scatterRows(x: Tensor, rows: Int32Array, total: number): Tensor {
  const dt = floatDtype('scatterRows', x);
  if (x.shape[0] !== rows.length) throw new ShapeError('scatterRows', `${rows.length} rows for a first axis of ${x.shape[0]}`, x);
  const runs = rowRuns('scatterRows', rows, total);
  const inner = rows.length === 0 ? 0 : x.size / rows.length;
  const y = Tensor.zeros([total, ...x.shape.slice(1)], dt);
  eachRun(runs, inner, (full, packed, len) => y.f.set(x.f.subarray(packed, packed + len), full));
  if (needsGrad(x)) {
    record(y, 'scatterRows', [x], (g) => {
      const K = kernelsFor(x.f),
        gx = gradOf(x);
      eachRun(runs, inner, (full, packed, len) => K.axpy(len, 1, g.subarray(full, full + len), gx.subarray(packed, packed + len)));
    });
  }
  return y;
}
