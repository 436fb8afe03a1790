/** The attention softmax: scale, additive padding mask and softmax in one kernel. */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor } from '../tensor.js';
import { ShapeError, checked, floatDtype } from './common.js';

/**
 * scores [B, H, Tq, Tk] -> softmax_j(scale * scores + mask[b, j]); mask [B, Tk] additive
 * (0 = attend, the float32 minimum = padding, as Hugging Face builds it) or null.
 */
export function maskedSoftmax(scores: Tensor, mask: Tensor | null, scale: number): Tensor {
  const dt = floatDtype('maskedSoftmax', scores, ...(mask ? [mask] : []));
  if (scores.shape.length !== 4) throw new ShapeError('maskedSoftmax', 'scores must be [batch, heads, tq, tk]', scores);
  const [b, h, tq, tk] = scores.shape;
  if (mask && (mask.shape.length !== 2 || mask.shape[0] !== b || mask.shape[1] !== tk)) {
    throw new ShapeError('maskedSoftmax', `mask must be [${b}, ${tk}]`, scores, mask);
  }
  const K = kernelsFor(scores.f);
  const y = Tensor.empty(scores.shape, dt);
  K.softmaxForward(scores.f, mask ? mask.f : null, y.f, b, h, tq, tk, scale);
  if (needsGrad(scores)) {
    record(y, 'maskedSoftmax', [scores], (g) => K.softmaxBackward(y.f, g, gradOf(scores), b * h * tq, tk, scale));
  }
  return checked('maskedSoftmax', y);
}
