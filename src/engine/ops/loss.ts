/** Cross-entropy with ignore index, as torch.nn.functional.cross_entropy(reduction='mean'). */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor } from '../tensor.js';
import { ShapeError, floatDtype } from './common.js';

export interface CrossEntropyOptions {
  ignoreIndex?: number;
  /** Per-class weights (torch's `weight`): the mean divides by the summed weights of counted rows. */
  classWeights?: Tensor | null;
}

/**
 * logits [N, C], labels int32 [N] -> scalar mean loss over rows whose label != ignoreIndex.
 * With every row ignored the loss is NaN, as in torch (0/0); its gradient is then zero.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const dt = floatDtype('crossEntropy', logits);
  const ignore = opts.ignoreIndex ?? -100;
  const w = opts.classWeights ?? null;
  if (logits.shape.length !== 2) throw new ShapeError('crossEntropy', 'logits must be [N, classes]', logits);
  const [n, c] = logits.shape;
  if (labels.size !== n) throw new ShapeError('crossEntropy', `labels must have ${n} elements`, logits, labels);
  if (w && w.size !== c) throw new ShapeError('crossEntropy', `class weights must have ${c} elements`, logits, w);
  const lab = labels.i;
  for (let i = 0; i < n; i++) {
    if (lab[i] !== ignore && (lab[i] < 0 || lab[i] >= c)) {
      throw new RangeError(`crossEntropy: label ${lab[i]} at row ${i} is outside [0, ${c}) and is not the ignore index ${ignore}`);
    }
  }
  const K = kernelsFor(logits.f);
  const probs = Tensor.empty(logits.shape, dt);
  const [total, wsum] = K.crossEntropyForward(logits.f, lab, w ? w.f : null, probs.f, n, c, ignore);
  const y = Tensor.empty([], dt);
  y.f[0] = total / wsum;
  if (needsGrad(logits)) {
    record(y, 'crossEntropy', [logits], (g) => {
      if (wsum > 0) K.crossEntropyBackward(probs.f, lab, w ? w.f : null, gradOf(logits), n, c, ignore, g[0] / wsum);
    });
  }
  return y;
}
