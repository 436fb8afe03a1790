/** Shared checks for ops: errors name the op and every shape involved. */
import { Tensor, shapeStr, type DType } from '../tensor.js';
import type { FloatArray } from '../kernels.js';

export class ShapeError extends Error {
  constructor(op: string, message: string, ...tensors: Tensor[]) {
    super(`${op}: ${message} (${tensors.map((t) => `${t.name ?? 'tensor'} ${shapeStr(t.shape)}`).join(', ')})`);
    this.name = 'ShapeError';
  }
}

export function floatDtype(op: string, ...ts: Tensor[]): DType {
  const d = ts[0].dtype;
  for (const t of ts) {
    if (t.dtype === 'int32') throw new TypeError(`${op}: expected float tensors, got int32 ${shapeStr(t.shape)}`);
    if (t.dtype !== d) throw new TypeError(`${op}: mixed dtypes ${ts.map((x) => x.dtype).join(', ')}`);
  }
  return d;
}

/** Last dimension and the product of the others. */
export function rowsCols(t: Tensor): [number, number] {
  const cols = t.shape.length ? t.shape[t.shape.length - 1] : 1;
  return [cols === 0 ? 0 : t.size / cols, cols];
}

export function f(t: Tensor): FloatArray {
  return t.f;
}

/** Optional NaN/Inf guard: TOKENTUNE_CHECK_NAN=1 names the op that first produced a non-finite value. */
const checkNan = process.env.TOKENTUNE_CHECK_NAN === '1';

export function checked(op: string, out: Tensor): Tensor {
  if (checkNan) assertFinite(op, out.f);
  return out;
}

export function assertFinite(op: string, a: FloatArray): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw new Error(`${op} produced ${a[i]} at element ${i} (TOKENTUNE_CHECK_NAN)`);
  }
}
