/** Layer norm over the last axis, fused forward and backward (mean and 1/std saved per row). */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor } from '../tensor.js';
import { ShapeError, checked, floatDtype, rowsCols } from './common.js';

export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps: number): Tensor {
  const dt = floatDtype('layerNorm', x, gamma, beta);
  const [rows, cols] = rowsCols(x);
  if (gamma.size !== cols || beta.size !== cols) {
    throw new ShapeError('layerNorm', `weight and bias must have ${cols} elements`, x, gamma, beta);
  }
  const K = kernelsFor(x.f);
  const y = Tensor.empty(x.shape, dt);
  const mean = Tensor.empty([rows], dt),
    rstd = Tensor.empty([rows], dt);
  K.layerNormForward(x.f, gamma.f, beta.f, y.f, mean.f, rstd.f, rows, cols, eps);
  if (needsGrad(x, gamma, beta)) {
    record(y, 'layerNorm', [x, gamma, beta], (g) => {
      // The kernel produces all three gradients at once; unused ones go to a scratch buffer.
      const dx = x.requiresGrad ? gradOf(x) : scratch(x.f, x.size);
      const dg = gamma.requiresGrad ? gradOf(gamma) : scratch(x.f, cols);
      const db = beta.requiresGrad ? gradOf(beta) : scratch(x.f, cols);
      K.layerNormBackward(g, x.f, gamma.f, mean.f, rstd.f, dx, dg, db, rows, cols);
    });
  }
  return checked('layerNorm', y);
}

function scratch(like: Float32Array | Float64Array, n: number): Float32Array | Float64Array {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}
