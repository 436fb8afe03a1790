/** One column block of a fused projection, split into heads: the copy behind HF's view + unbind + transpose. */
import { needsGrad, record, gradOf } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { ShapeError, checked, floatDtype } from './common.js';

/**
 * x [B * T, n * H] (n column blocks of width H side by side, e.g. n = 3 for q, k, v) -> block
 * `which` as [B, heads, T, H / heads]. Backward adds the gradient back into that block.
 */
export function blockHeads(x: Tensor, which: number, blocks: number, batch: number, heads: number): Tensor {
  const dt = floatDtype('blockHeads', x);
  const W = x.shape[x.shape.length - 1],
    rows = W === 0 ? 0 : x.size / W;
  if (W % blocks !== 0 || !(which >= 0 && which < blocks) || (W / blocks) % heads !== 0 || rows % batch !== 0) {
    throw new ShapeError('blockHeads', `cannot take block ${which} of ${blocks} with ${heads} heads over ${batch} sequences`, x);
  }
  const H = W / blocks,
    d = H / heads,
    T = rows / batch;
  const y = Tensor.empty([batch, heads, T, d], dt);
  const copy = (src: ArrayLike<number>, dst: { [i: number]: number }, back: boolean): void => {
    for (let b = 0; b < batch; b++)
      for (let h = 0; h < heads; h++)
        for (let t = 0; t < T; t++) {
          const xo = (b * T + t) * W + which * H + h * d,
            yo = ((b * heads + h) * T + t) * d;
          if (back) for (let i = 0; i < d; i++) dst[xo + i] += src[yo + i];
          else for (let i = 0; i < d; i++) dst[yo + i] = src[xo + i];
        }
  };
  copy(x.f, y.f, false);
  if (needsGrad(x)) record(y, 'blockHeads', [x], (g) => copy(g, gradOf(x), true));
  return checked('blockHeads', y);
}
