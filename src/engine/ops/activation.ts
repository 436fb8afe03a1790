/** Activations: GELU (exact erf form and tanh form) and tanh. */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor } from '../tensor.js';
import { checked, floatDtype } from './common.js';

export type GeluKind = 'erf' | 'tanh';

export function gelu(x: Tensor, kind: GeluKind = 'erf'): Tensor {
  const dt = floatDtype('gelu', x);
  const K = kernelsFor(x.f);
  const approx = kind === 'tanh' ? 1 : 0;
  const y = Tensor.empty(x.shape, dt);
  K.geluForward(x.f, y.f, x.size, approx);
  if (needsGrad(x)) record(y, 'gelu', [x], (g) => K.geluBackward(x.f, g, gradOf(x), x.size, approx));
  return checked('gelu', y);
}

export function tanh(x: Tensor): Tensor {
  const dt = floatDtype('tanh', x);
  const K = kernelsFor(x.f);
  const y = Tensor.empty(x.shape, dt);
  K.tanhForward(x.f, y.f, x.size);
  if (needsGrad(x)) record(y, 'tanh', [x], (g) => K.tanhBackward(y.f, g, gradOf(x), x.size));
  return checked('tanh', y);
}
