/**
 * Knowledge-distillation loss term: KL(softmax(teacher / T) || softmax(student / T)) * T^2, as
 * torch.nn.functional.kl_div(log_softmax(s / T), softmax(t / T), reduction='sum', log_target=False)
 * * T^2 / rows (Hinton et al.'s T^2 keeps the gradient scale independent of T).
 */
import { needsGrad, record, gradOf } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { ShapeError, floatDtype } from './common.js';

export interface SoftTargetKlOptions {
  /** Softmax temperature T > 0 (default 1). */
  temperature?: number;
  /** 1 where a row has a soft target, 0 where it is skipped (default: every row counts). */
  rowMask?: Uint8Array | Int32Array | null;
}

/**
 * studentLogits [N, C] (differentiable), teacherLogits [N, C] (a constant: no gradient flows to
 * the teacher) -> scalar T^2 * sum over counted rows of KL(p_t || p_s) / counted rows.
 * Counted rows: rowMask[i] != 0. With no counted row the loss is 0 and so is its gradient
 * (a batch of gold-only rows contributes no KL term, instead of torch's 0/0).
 * d/ds_ij = T * (p_s,ij - p_t,ij) / rows.
 */
export function softTargetKl(studentLogits: Tensor, teacherLogits: Tensor, opts: SoftTargetKlOptions = {}): Tensor {
  const dt = floatDtype('softTargetKl', studentLogits, teacherLogits);
  const T = opts.temperature ?? 1;
  if (!(T > 0) || !Number.isFinite(T)) throw new RangeError(`softTargetKl: temperature must be a positive number, got ${T}`);
  if (studentLogits.shape.length !== 2) throw new ShapeError('softTargetKl', 'student logits must be [N, classes]', studentLogits);
  const [n, c] = studentLogits.shape;
  if (teacherLogits.shape.length !== 2 || teacherLogits.shape[0] !== n || teacherLogits.shape[1] !== c) {
    throw new ShapeError('softTargetKl', "teacher logits must have the student logits' shape", studentLogits, teacherLogits);
  }
  const mask = opts.rowMask ?? null;
  if (mask && mask.length !== n) throw new RangeError(`softTargetKl: rowMask has ${mask.length} entries for ${n} rows`);
  const s = studentLogits.f,
    t = teacherLogits.f;
  // Softened student probabilities are kept for the backward pass; teacher probabilities too.
  const ps = new Float64Array(n * c),
    pt = new Float64Array(n * c);
  let total = 0,
    rows = 0;
  for (let i = 0; i < n; i++) {
    if (mask && !mask[i]) continue;
    rows++;
    const o = i * c;
    let ms = -Infinity,
      mt = -Infinity;
    for (let j = 0; j < c; j++) {
      ms = Math.max(ms, s[o + j] / T);
      mt = Math.max(mt, t[o + j] / T);
    }
    let zs = 0,
      zt = 0;
    for (let j = 0; j < c; j++) {
      zs += Math.exp(s[o + j] / T - ms);
      zt += Math.exp(t[o + j] / T - mt);
    }
    const lzs = Math.log(zs),
      lzt = Math.log(zt);
    let kl = 0;
    for (let j = 0; j < c; j++) {
      const logPs = s[o + j] / T - ms - lzs,
        logPt = t[o + j] / T - mt - lzt;
      const p = Math.exp(logPt);
      ps[o + j] = Math.exp(logPs);
      pt[o + j] = p;
      // torch's kl_div: target * (log target - input), 0 where the target is 0.
      if (p > 0) kl += p * (logPt - logPs);
    }
    total += kl;
  }
  const y = Tensor.empty([], dt);
  y.f[0] = rows > 0 ? (T * T * total) / rows : 0;
  if (rows > 0 && needsGrad(studentLogits)) {
    record(y, 'softTargetKl', [studentLogits], (g) => {
      const gs = gradOf(studentLogits);
      const k = (g[0] * T) / rows;
      for (let i = 0; i < n; i++) {
        if (mask && !mask[i]) continue;
        const o = i * c;
        for (let j = 0; j < c; j++) gs[o + j] += k * (ps[o + j] - pt[o + j]);
      }
    });
  }
  return y;
}
