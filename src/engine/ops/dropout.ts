/** Inverted dropout with a counter-based RNG: the mask is recomputed from the seed in backward. */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor } from '../tensor.js';
import { checked, floatDtype } from './common.js';

/** In eval mode or with p = 0 this is the identity (returns x itself). `seed` is a uint32. */
export function dropout(x: Tensor, p: number, seed: number, training: boolean): Tensor {
  if (!training || p === 0) return x;
  if (!(p > 0 && p < 1)) throw new RangeError(`dropout: probability must be in [0, 1), got ${p}`);
  const dt = floatDtype('dropout', x);
  const K = kernelsFor(x.f);
  const s = seed >>> 0;
  const y = Tensor.empty(x.shape, dt);
  K.dropoutForward(x.f, y.f, x.size, p, s);
  if (needsGrad(x)) record(y, 'dropout', [x], (g) => K.dropoutBackward(g, gradOf(x), x.size, p, s));
  return checked('dropout', y);
}
