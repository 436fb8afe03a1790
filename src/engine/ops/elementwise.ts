/** Elementwise arithmetic with autograd: add (same shape or trailing-shape broadcast), mul, scale, sum. */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor } from '../tensor.js';
import { ShapeError, checked, floatDtype } from './common.js';

/**
 * a + b. b may have a's exact shape, or a trailing part of it (broadcast over the leading axes,
 * e.g. adding a bias [h] to [n, t, h]).
 */
export function add(a: Tensor, b: Tensor): Tensor {
  const dt = floatDtype('add', a, b);
  const K = kernelsFor(a.f);
  const y = Tensor.empty(a.shape, dt);
  if (b.size === a.size && sameShape(a.shape, b.shape)) {
    K.add(a.f, b.f, y.f, a.size);
    if (needsGrad(a, b)) {
      record(y, 'add', [a, b], (g) => {
        if (a.requiresGrad) K.axpy(a.size, 1, g, gradOf(a));
        if (b.requiresGrad) K.axpy(b.size, 1, g, gradOf(b));
      });
    }
    return checked('add', y);
  }
  const tail = a.shape.slice(a.shape.length - b.shape.length);
  if (b.shape.length > a.shape.length || !sameShape(tail, b.shape)) {
    throw new ShapeError('add', 'shapes do not broadcast (b must match a trailing part of a)', a, b);
  }
  const cols = b.size,
    rows = cols === 0 ? 0 : a.size / cols;
  K.addBias(a.f, b.f, y.f, rows, cols);
  if (needsGrad(a, b)) {
    record(y, 'add', [a, b], (g) => {
      if (a.requiresGrad) K.axpy(a.size, 1, g, gradOf(a));
      if (b.requiresGrad) K.sumRowsAcc(g, gradOf(b), rows, cols);
    });
  }
  return checked('add', y);
}

/** a * b, same shape. */
export function mul(a: Tensor, b: Tensor): Tensor {
  const dt = floatDtype('mul', a, b);
  if (!sameShape(a.shape, b.shape)) throw new ShapeError('mul', 'shapes differ', a, b);
  const K = kernelsFor(a.f);
  const y = Tensor.empty(a.shape, dt);
  K.mul(a.f, b.f, y.f, a.size);
  if (needsGrad(a, b)) {
    record(y, 'mul', [a, b], (g) => {
      const n = a.size;
      if (a.requiresGrad) {
        const ga = gradOf(a),
          bf = b.f;
        for (let i = 0; i < n; i++) ga[i] += g[i] * bf[i];
      }
      if (b.requiresGrad) {
        const gb = gradOf(b),
          af = a.f;
        for (let i = 0; i < n; i++) gb[i] += g[i] * af[i];
      }
    });
  }
  return checked('mul', y);
}

/** alpha * x. */
export function scale(x: Tensor, alpha: number): Tensor {
  const dt = floatDtype('scale', x);
  const K = kernelsFor(x.f);
  const y = Tensor.empty(x.shape, dt);
  K.scale(x.f, alpha, y.f, x.size);
  if (needsGrad(x)) record(y, 'scale', [x], (g) => K.axpy(x.size, alpha, g, gradOf(x)));
  return checked('scale', y);
}

/** Sum of all elements (a scalar tensor). */
export function sum(x: Tensor): Tensor {
  const dt = floatDtype('sum', x);
  const y = Tensor.empty([], dt);
  const xf = x.f;
  let s = 0;
  for (let i = 0; i < xf.length; i++) s += xf[i];
  y.f[0] = s;
  if (needsGrad(x)) {
    record(y, 'sum', [x], (g) => {
      const gx = gradOf(x),
        g0 = g[0];
      for (let i = 0; i < gx.length; i++) gx[i] += g0;
    });
  }
  return y;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
