/**
 * The distillation objective of one batch of logits:
 *   alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))   (mean over rows with a soft target)
 *   + (1 - alpha) * CE(student, gold)                                 (mean over rows with a gold label)
 * Rows of unlabelled text carry a soft target and no gold label: they enter the KL term only.
 * Checked against torch (kl_div, log_target=False; cross_entropy, ignore_index=-100) in
 * test/distill-loss.test.ts.
 */
import { Tensor, ops } from '../engine/index.js';

export interface DistillLossOptions {
  temperature: number;
  /** Weight of the KL term; 1 - alpha weighs the gold cross-entropy. */
  alpha: number;
  /** 1 where the row has a soft target. */
  softMask: Uint8Array;
}

export function distillationLoss(logits: Tensor, teacherLogits: Tensor, labels: Int32Array, opts: DistillLossOptions): Tensor {
  const { temperature, alpha } = opts;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`distillation alpha must be in [0, 1], got ${alpha}`);
  const kl = ops.softTargetKl(logits, teacherLogits, { temperature, rowMask: opts.softMask });
  const hasGold = labels.some((y) => y !== -100);
  if (alpha === 1 || !hasGold) return ops.scale(kl, alpha);
  const ce = ops.crossEntropy(logits, Tensor.from(labels, [labels.length]));
  return alpha === 0 ? ce : ops.add(ops.scale(kl, alpha), ops.scale(ce, 1 - alpha));
}
