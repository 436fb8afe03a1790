/**
 * Mean squared error over selected rows: torch.nn.functional.mse_loss(pred[m], target[m]) (mean
 * over the selected rows' elements). Distillation's hidden-state term (TinyBERT's MSE between
 * projected student and teacher hidden states on the tokens that carry a target).
 */
import { needsGrad, record, gradOf } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { ShapeError, floatDtype } from './common.js';

/**
 * pred [N, H] (differentiable), target [N, H] (a constant), rowMask [N] (1 = row counts) ->
 * scalar sum over counted rows of (pred - target)^2 / (rows * H); 0 (and no gradient) when no
 * row counts. d/dpred = 2 (pred - target) / (rows * H) on counted rows.
 */
export function maskedMse(pred: Tensor, target: Tensor, rowMask: Uint8Array): Tensor {
  const dt = floatDtype('maskedMse', pred, target);
  if (pred.shape.length !== 2) throw new ShapeError('maskedMse', 'pred must be [N, H]', pred);
  const [n, h] = pred.shape;
  if (target.shape.length !== 2 || target.shape[0] !== n || target.shape[1] !== h)
    throw new ShapeError('maskedMse', "target must have pred's shape", pred, target);
  if (rowMask.length !== n) throw new RangeError(`maskedMse: rowMask has ${rowMask.length} entries for ${n} rows`);
  const p = pred.f,
    t = target.f;
  let total = 0,
    rows = 0;
  for (let i = 0; i < n; i++) {
    if (!rowMask[i]) continue;
    rows++;
    for (let j = i * h; j < (i + 1) * h; j++) {
      const d = p[j] - t[j];
      total += d * d;
    }
  }
  const y = Tensor.empty([], dt);
  const count = rows * h;
  y.f[0] = rows > 0 ? total / count : 0;
  if (rows > 0 && needsGrad(pred)) {
    record(y, 'maskedMse', [pred], (g) => {
      const gp = gradOf(pred);
      const k = (2 * g[0]) / count;
      for (let i = 0; i < n; i++) {
        if (!rowMask[i]) continue;
        for (let j = i * h; j < (i + 1) * h; j++) gp[j] += k * (p[j] - t[j]);
      }
    });
  }
  return y;
}
