/**
 * Fused ops: several kernels behind one autograd node, to skip copies and keep fewer buffers alive.
 *
 * selfAttention reads Q, K and V in the layout the linear layers write ([batch, seq, heads * dim],
 * i.e. [B, T, heads, d]) through GEMM leading dimensions and batch strides, and writes the context in
 * that same layout: no head split/merge copies, forward or backward. Only the attention
 * probabilities [B, heads, T, T] are kept for backward; the dropped-out probabilities are recomputed
 * from the counter-based mask instead of stored.
 */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor, takeZeroed, releaseBuffer, type DType } from '../tensor.js';
import type { FloatArray, Kernels } from '../kernels.js';
import { ShapeError, checked, floatDtype } from './common.js';
import { gemmFor, type GemmFn } from './precision.js';

export interface SelfAttentionOptions {
  heads: number;
  /** Multiplies Q K^T before the mask is added (1 / sqrt(head dim) in BERT). */
  scale: number;
  /** Dropout probability on the attention probabilities (0 = none). */
  dropoutP?: number;
  /** uint32 seed of that dropout (the mask is dropoutHash(seed, flat index in [B, heads, T, T])). */
  dropoutSeed?: number;
}

/**
 * Scaled dot-product attention over all heads:
 *   P = softmax(scale * Q_h K_h^T + mask[b]) per batch b and head h,  ctx_h = dropout(P) V_h
 * q, k, v: [B, T, heads * d] (or [B * T, heads * d] with `batch` = B given by the mask); mask: [B, T]
 * additive (0 attend, float32 min padding) or null. Returns ctx shaped like q.
 * Equals permute0213(matmul(dropout(maskedSoftmax(matmul(Qh, Kh^T), mask, scale)), Vh)) with
 * Qh = permute0213(reshape(q, [B, T, heads, d])): the same kernels and dropout mask, without copies.
 */
export function selfAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, batch: number,
  opts: SelfAttentionOptions): Tensor {
  const dt = floatDtype('selfAttention', q, k, v, ...(mask ? [mask] : []));
  const nh = opts.heads, p = opts.dropoutP ?? 0, seed = (opts.dropoutSeed ?? 0) >>> 0;
  const H = q.shape[q.shape.length - 1];
  const B = batch;
  if (!(Number.isInteger(nh) && nh > 0 && H % nh === 0)) throw new ShapeError('selfAttention', `hidden size ${H} is not a multiple of heads ${nh}`, q);
  if (!(B > 0 && q.size % (B * H) === 0)) throw new ShapeError('selfAttention', `q does not hold ${B} sequences of width ${H}`, q);
  const T = q.size / (B * H), d = H / nh;
  for (const t of [k, v]) {
    if (t.size !== q.size || t.shape[t.shape.length - 1] !== H) throw new ShapeError('selfAttention', 'q, k and v must have the same shape', q, t);
  }
  if (mask && (mask.shape.length !== 2 || mask.shape[0] !== B || mask.shape[1] !== T)) {
    throw new ShapeError('selfAttention', `mask must be [${B}, ${T}]`, q, mask);
  }
  if (!(p >= 0 && p < 1)) throw new RangeError(`selfAttention: dropout probability must be in [0, 1), got ${p}`);
  const K = kernelsFor(q.f);
  const gemm = gemmFor(K, q.f);
  const nP = B * nh * T * T;
  const heads = new HeadGemm(gemm, B, T, H, nh, d);

  // Scores S[b, h] = Q_h K_h^T, then P = softmax(scale * S + mask); S is dropped right away.
  const scores = Tensor.empty([B, nh, T, T], dt);
  heads.run(false, true, T, T, d, q.f, 'tok', k.f, 'tok', 0, scores.f, 'sq');
  const probs = Tensor.empty([B, nh, T, T], dt);
  K.softmaxForward(scores.f, mask ? mask.f : null, probs.f, B, nh, T, T, opts.scale);
  scores.dispose();

  const ctx = Tensor.empty(q.shape, dt);
  const dropped = p > 0 ? dropoutOf(K, probs.f, nP, p, seed) : null;
  heads.run(false, false, T, d, T, dropped ? dropped.f : probs.f, 'sq', v.f, 'tok', 0, ctx.f, 'tok');
  dropped?.dispose();

  if (needsGrad(q, k, v)) {
    record(ctx, 'selfAttention', [q, k, v], (g) => {
      // dV += dropout(P)^T g;  dP' = g V^T;  dP = dropout-backward(dP');  dS = softmax-backward(dP)
      if (v.requiresGrad) {
        const pd = p > 0 ? dropoutOf(K, probs.f, nP, p, seed) : null;
        heads.run(true, false, T, d, T, pd ? pd.f : probs.f, 'sq', g, 'tok', 1, gradOf(v), 'tok');
        pd?.dispose();
      }
      if (!q.requiresGrad && !k.requiresGrad) return;
      const dPt = scratch(dt, nP), dP = dPt.f; // beta = 0 below: overwritten
      heads.run(false, true, T, T, d, g, 'tok', v.f, 'tok', 0, dP, 'sq');
      // Dropout's backward is its forward map (keep ? x / (1 - p) : 0) with the same mask, in place.
      if (p > 0) K.dropoutForward(dP, dP, nP, p, seed);
      const dS = takeZeroed(dt, nP) as FloatArray;
      K.softmaxBackward(probs.f, dP, dS, B * nh * T, T, opts.scale);
      dPt.dispose();
      if (q.requiresGrad) heads.run(false, false, T, d, T, dS, 'sq', k.f, 'tok', 1, gradOf(q), 'tok');
      if (k.requiresGrad) heads.run(true, false, T, d, T, dS, 'sq', q.f, 'tok', 1, gradOf(k), 'tok');
      releaseBuffer(dS);
    });
  } else {
    probs.dispose();
  }
  return checked('selfAttention', ctx);
}

/** A pooled scratch buffer that the caller overwrites completely (no zero fill). */
function scratch(dt: DType, n: number): Tensor {
  return Tensor.empty([n], dt);
}

function dropoutOf(K: Kernels, x: FloatArray, n: number, p: number, seed: number): Tensor {
  const y = scratch(x instanceof Float64Array ? 'float64' : 'float32', n);
  K.dropoutForward(x, y.f, n, p, seed);
  return y;
}

/**
 * Per-head batched GEMMs over two layouts: 'tok' = [B, T, heads, d] (a head's [T, d] matrix has row
 * stride H = heads * d) and 'sq' = [B, heads, T, T]. One call per head with the batch axis strided,
 * so every output matrix of a call is disjoint from the others.
 */
class HeadGemm {
  constructor(private readonly gemm: GemmFn, private readonly B: number, private readonly T: number,
    private readonly H: number, private readonly nh: number, private readonly d: number) {}

  private at(layout: 'tok' | 'sq', h: number): [number, number, number] { // [offset, row stride, batch stride]
    const { T, H, nh, d } = this;
    return layout === 'tok' ? [h * d, H, T * H] : [h * T * T, T, nh * T * T];
  }

  run(tA: boolean, tB: boolean, m: number, n: number, kk: number, a: FloatArray, la: 'tok' | 'sq',
    b: FloatArray, lb: 'tok' | 'sq', beta: number, c: FloatArray, lc: 'tok' | 'sq'): void {
    for (let h = 0; h < this.nh; h++) {
      const [ao, ald, as] = this.at(la, h), [bo, bld, bs] = this.at(lb, h), [co, cld, cs] = this.at(lc, h);
      this.gemm(tA, tB, m, n, kk, 1, a.subarray(ao), ald, as, b.subarray(bo), bld, bs, beta, c.subarray(co), cld, cs, this.B);
    }
  }
}

/**
 * residual + dropout(x W^T + b): a linear layer whose output goes through dropout into a residual
 * sum (BERT's attention-output and output blocks), written into one buffer. The unfused chain
 * keeps three [rows, out] tensors alive until the step ends (linear output, dropout output, sum);
 * this keeps one. Backward: d(residual) += g; dY = dropout-backward(g) (recomputed mask) into a
 * transient buffer, then the linear backward (dx, dW, db) from dY.
 * p = 0 (or training false) is the plain residual + linear.
 */
export function linearDropoutAdd(x: Tensor, weight: Tensor, bias: Tensor, residual: Tensor,
  p: number, seed: number): Tensor {
  const dt = floatDtype('linearDropoutAdd', x, weight, bias, residual);
  const inF = x.shape[x.shape.length - 1], rows = inF === 0 ? 0 : x.size / inF;
  if (weight.shape.length !== 2 || weight.shape[1] !== inF) throw new ShapeError('linearDropoutAdd', `weight must be [out, ${inF}]`, x, weight);
  const outF = weight.shape[0];
  if (bias.shape.length !== 1 || bias.shape[0] !== outF) throw new ShapeError('linearDropoutAdd', `bias must be [${outF}]`, weight, bias);
  if (residual.size !== rows * outF || residual.shape[residual.shape.length - 1] !== outF) {
    throw new ShapeError('linearDropoutAdd', `residual must hold ${rows} rows of ${outF}`, x, residual);
  }
  if (!(p >= 0 && p < 1)) throw new RangeError(`linearDropoutAdd: dropout probability must be in [0, 1), got ${p}`);
  const s = seed >>> 0, n = rows * outF;
  const K = kernelsFor(x.f);
  const gemm = gemmFor(K, x.f);
  const y = Tensor.empty(residual.shape, dt);
  gemm(false, true, rows, outF, inF, 1, x.f, inF, 0, weight.f, inF, 0, 0, y.f, outF, 0, 1);
  K.addBias(y.f, bias.f, y.f, rows, outF);
  if (p > 0) K.dropoutForward(y.f, y.f, n, p, s); // elementwise: in place is safe
  K.add(y.f, residual.f, y.f, n);
  if (needsGrad(x, weight, bias, residual)) {
    record(y, 'linearDropoutAdd', [x, weight, bias, residual], (g) => {
      if (residual.requiresGrad) K.axpy(n, 1, g, gradOf(residual));
      if (!x.requiresGrad && !weight.requiresGrad && !bias.requiresGrad) return;
      let dy: FloatArray = g;
      const dyt = p > 0 ? scratch(dt, n) : null;
      if (dyt) {
        // Dropout's backward map is its forward map with the same mask; forward overwrites (no zero fill).
        dy = dyt.f;
        K.dropoutForward(g, dy, n, p, s);
      }
      if (x.requiresGrad) gemm(false, false, rows, inF, outF, 1, dy, outF, 0, weight.f, inF, 0, 1, gradOf(x), inF, 0, 1);
      if (weight.requiresGrad) gemm(true, false, outF, inF, rows, 1, dy, outF, 0, x.f, inF, 0, 1, gradOf(weight), inF, 0, 1);
      if (bias.requiresGrad) K.sumRowsAcc(dy, gradOf(bias), rows, outF);
      dyt?.dispose();
    });
  }
  return checked('linearDropoutAdd', y);
}
