/**
 * The distillation objective of one batch of logits:
 *   alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))   (mean over rows with a soft target)
 *   + (1 - alpha) * CE(student, gold)                                 (mean over rows with a gold label)
 *   [+ hiddenWeight * mean over mapped layer pairs of MSE(student_h W + b, teacher_h)   (rows with a soft target)]
 * Rows of unlabelled text carry a soft target and no gold label: they enter the KL (and hidden) terms only.
 * Checked against torch (kl_div, log_target=False; cross_entropy, ignore_index=-100; mse_loss of a
 * linear projection) in test/distill-loss.test.ts.
 */
import { Tensor, ops } from '../engine/index.js';

/** One mapped layer pair: the student's hidden states [N, Hs] (with their graph), the teacher's [N, Ht], the projection Hs -> Ht (none when Hs = Ht). */
export interface HiddenPair {
  student: Tensor;
  teacher: Tensor;
  projection: { weight: Tensor; bias: Tensor } | null;
}

export interface DistillLossOptions {
  temperature: number;
  /** Weight of the KL term; 1 - alpha weighs the gold cross-entropy. */
  alpha: number;
  /** 1 where the row has a soft target. */
  softMask: Uint8Array;
  /** TinyBERT-style hidden-state matching on the soft-target rows. */
  hidden?: { weight: number; pairs: readonly HiddenPair[] };
}

export function distillationLoss(logits: Tensor, teacherLogits: Tensor, labels: Int32Array, opts: DistillLossOptions): Tensor {
  const { temperature, alpha } = opts;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`distillation alpha must be in [0, 1], got ${alpha}`);
  const kl = ops.softTargetKl(logits, teacherLogits, { temperature, rowMask: opts.softMask });
  const hasGold = labels.some((y) => y !== -100);
  let loss: Tensor;
  if (alpha === 1 || !hasGold) loss = ops.scale(kl, alpha);
  else {
    const ce = ops.crossEntropy(logits, Tensor.from(labels, [labels.length]));
    loss = alpha === 0 ? ce : ops.add(ops.scale(kl, alpha), ops.scale(ce, 1 - alpha));
  }
  const h = opts.hidden;
  if (!h || h.weight === 0 || h.pairs.length === 0) return loss;
  for (const p of h.pairs) {
    const s = p.projection ? ops.linear(p.student, p.projection.weight, p.projection.bias) : p.student;
    loss = ops.add(loss, ops.scale(ops.maskedMse(s, p.teacher, opts.softMask), h.weight / h.pairs.length));
  }
  return loss;
}
