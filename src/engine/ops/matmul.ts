/** Matrix products: linear layers (x W^T + b) and batched matmul with transposes, no copies. */
import { needsGrad, record, gradOf, gradForGemm } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor } from '../tensor.js';
import { ShapeError, checked, floatDtype, rowsCols } from './common.js';
import { gemmFor } from './precision.js';
import { packedWeight } from '../packed-weights.js';

/**
 * y = x W^T + b, as torch.nn.Linear: x [..., in], weight [out, in], bias [out] or null.
 * Backward: dx += dy W, dW += dy^T x, db += column sums of dy (all accumulate via beta = 1).
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  const dt = floatDtype('linear', x, weight, ...(bias ? [bias] : []));
  const [rows, inF] = rowsCols(x);
  if (weight.shape.length !== 2 || weight.shape[1] !== inF) {
    throw new ShapeError('linear', `weight must be [out, ${inF}]`, x, weight);
  }
  const outF = weight.shape[0];
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError('linear', `bias must be [${outF}]`, weight, bias);
  }
  const K = kernelsFor(x.f);
  const y = Tensor.empty([...x.shape.slice(0, -1), outF], dt);
  const gemm = gemmFor(K, x.f);
  gemm(false, true, rows, outF, inF, 1, x.f, inF, 0, weight.f, inF, 0, 0, y.f, outF, 0, 1, packedWeight(K, weight, outF, inF));
  if (bias) K.addBias(y.f, bias.f, y.f, rows, outF);
  if (needsGrad(x, weight, bias)) {
    record(y, 'linear', bias ? [x, weight, bias] : [x, weight], (g) => {
      if (x.requiresGrad) {
        const gx = gradForGemm(x);
        gemm(false, false, rows, inF, outF, 1, g, outF, 0, weight.f, inF, 0, gx.beta, gx.buf, inF, 0, 1);
      }
      if (weight.requiresGrad) gemm(true, false, outF, inF, rows, 1, g, outF, 0, x.f, inF, 0, 1, gradOf(weight), inF, 0, 1);
      if (bias?.requiresGrad) K.sumRowsAcc(g, gradOf(bias), rows, outF);
    });
  }
  return checked('linear', y);
}

/**
 * Batched matmul over the last two axes: a [..., m, k] (or [..., k, m] with transA),
 * b [..., k, n] (or [..., n, k] with transB) -> [..., m, n]. Leading axes must match exactly.
 */
export function matmul(a: Tensor, b: Tensor, opts: { transA?: boolean; transB?: boolean; alpha?: number } = {}): Tensor {
  const dt = floatDtype('matmul', a, b);
  const tA = opts.transA ?? false,
    tB = opts.transB ?? false,
    alpha = opts.alpha ?? 1;
  if (a.shape.length < 2 || b.shape.length !== a.shape.length) {
    throw new ShapeError('matmul', 'operands need the same rank >= 2', a, b);
  }
  const r = a.shape.length;
  const lead = a.shape.slice(0, r - 2);
  if (lead.some((d, i) => d !== b.shape[i])) throw new ShapeError('matmul', 'batch dimensions differ', a, b);
  const [a0, a1] = [a.shape[r - 2], a.shape[r - 1]];
  const [b0, b1] = [b.shape[r - 2], b.shape[r - 1]];
  const m = tA ? a1 : a0,
    k = tA ? a0 : a1;
  const kb = tB ? b1 : b0,
    n = tB ? b0 : b1;
  if (k !== kb)
    throw new ShapeError('matmul', `inner dimensions differ (${k} vs ${kb}${tA || tB ? `, transA=${tA} transB=${tB}` : ''})`, a, b);
  const batch = lead.reduce((x, d) => x * d, 1);
  const K = kernelsFor(a.f);
  const y = Tensor.empty([...lead, m, n], dt);
  const gemm = gemmFor(K, a.f);
  gemm(tA, tB, m, n, k, alpha, a.f, a1, a0 * a1, b.f, b1, b0 * b1, 0, y.f, n, m * n, batch);
  if (needsGrad(a, b)) {
    record(y, 'matmul', [a, b], (g) => {
      // C = op(A) op(B). dop(A) = dC op(B)^T, dop(B) = op(A)^T dC; then undo the transposes.
      if (a.requiresGrad) {
        const ga = gradForGemm(a);
        if (!tA) gemm(false, !tB, m, k, n, alpha, g, n, m * n, b.f, b1, b0 * b1, ga.beta, ga.buf, a1, a0 * a1, batch);
        else gemm(tB, true, k, m, n, alpha, b.f, b1, b0 * b1, g, n, m * n, ga.beta, ga.buf, a1, a0 * a1, batch);
      }
      if (b.requiresGrad) {
        const gb = gradForGemm(b);
        if (!tB) gemm(!tA, false, k, n, m, alpha, a.f, a1, a0 * a1, g, n, m * n, gb.beta, gb.buf, b1, b0 * b1, batch);
        else gemm(true, tA, n, k, m, alpha, g, n, m * n, a.f, a1, a0 * a1, gb.beta, gb.buf, b1, b0 * b1, batch);
      }
    });
  }
  return checked('matmul', y);
}
