/**
 * Fused ops: several kernels behind one autograd node, to skip copies and keep fewer buffers alive.
 *
 * selfAttention reads Q, K and V in the layout the linear layers write ([batch, seq, heads * dim],
 * i.e. [B, T, heads, d]) through GEMM leading dimensions, and writes the context in that same
 * layout: no head split/merge copies, forward or backward. The kernels (attentionForward/Backward)
 * work one (sequence, head) block at a time with the block's scores and gradients in cache; only
 * the attention probabilities [B, heads, T, T] are kept for backward, and the dropped-out
 * probabilities are recomputed from the counter-based mask instead of stored.
 */
import { needsGrad, record, gradOf, gradForGemm } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor, type DType } from '../tensor.js';
import type { FloatArray } from '../kernels.js';
import { ShapeError, checked, floatDtype } from './common.js';
import { gemmFor } from './precision.js';
import type { GeluKind } from './activation.js';

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
  const bf16 = gemmFor(K, q.f) === K.gemmBf16;
  const scale = opts.scale;

  // Per (sequence, head) block: scores, softmax -> probs (kept for backward), dropout, probs V.
  const probs = Tensor.empty([B, nh, T, T], dt);
  const ctx = Tensor.empty(q.shape, dt);
  K.attentionForward(q.f, k.f, v.f, H, mask ? mask.f : null, probs.f, ctx.f, H, B, T, nh, d, scale, p, seed, bf16);

  if (needsGrad(q, k, v)) {
    record(ctx, 'selfAttention', [q, k, v], (g) => {
      // Each block writes its rows and head columns of dq, dk and dv: together every element, so a
      // first gradient contribution overwrites (beta 0) instead of needing a zero-filled buffer.
      const slot = (t: Tensor) => (t.requiresGrad ? gradForGemm(t) : null);
      const gq = slot(q), gk = slot(k), gv = slot(v);
      K.attentionBackward(q.f, k.f, v.f, H, probs.f, g, H, gq?.buf ?? null, gk?.buf ?? null, gv?.buf ?? null, H,
        gq?.beta ?? 0, gk?.beta ?? 0, gv?.beta ?? 0, B, T, nh, d, scale, p, seed, bf16);
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

/**
 * residual + dropout(x W^T + b): a linear layer whose output goes through dropout into a residual
 * sum (BERT's attention-output and output blocks), written into one buffer. The unfused chain
 * keeps three [rows, out] tensors alive until the step ends (linear output, dropout output, sum);
 * this keeps one, and bias, dropout and sum are one pass over it (K.biasDropoutAdd). Backward:
 * d(residual) += g; dY = dropout-backward(g) (recomputed mask) into a transient buffer, then the
 * bias gradient and the GEMMs for dx and dW from dY.
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
  K.biasDropoutAdd(y.f, bias.f, residual.f, rows, outF, p, s);
  if (needsGrad(x, weight, bias, residual)) {
    record(y, 'linearDropoutAdd', [x, weight, bias, residual], (g) => {
      if (residual.requiresGrad) K.axpy(n, 1, g, gradOf(residual));
      if (!x.requiresGrad && !weight.requiresGrad && !bias.requiresGrad) return;
      let dy: FloatArray = g;
      const dyt = p > 0 ? scratch(dt, n) : null;
      if (dyt) {
        // Dropout's backward map is its forward map with the same mask; it overwrites (no zero fill).
        dy = dyt.f;
        K.dropoutForward(g, dy, n, p, s);
      }
      if (bias.requiresGrad) K.sumRowsAcc(dy, gradOf(bias), rows, outF);
      if (x.requiresGrad) {
        const gx = gradForGemm(x);
        gemm(false, false, rows, inF, outF, 1, dy, outF, 0, weight.f, inF, 0, gx.beta, gx.buf, inF, 0, 1);
      }
      if (weight.requiresGrad) gemm(true, false, outF, inF, rows, 1, dy, outF, 0, x.f, inF, 0, 1, gradOf(weight), inF, 0, 1);
      dyt?.dispose();
    });
  }
  return checked('linearDropoutAdd', y);
}

/**
 * gelu(x W^T + b): BERT's intermediate block. After the GEMM, bias and GELU are one pass
 * (K.biasGelu; the pre-activation is kept for backward, as the unfused linear -> gelu keeps it).
 * Backward computes GELU's gradient into a transient buffer it overwrites, and the bias gradient
 * (K.geluBackwardSumRows), then the GEMMs for dx and dW: no zero-filled gradient buffer for the
 * pre-activation, one trip fewer through [rows, out] memory each way than linear then gelu.
 */
export function linearGelu(x: Tensor, weight: Tensor, bias: Tensor, kind: GeluKind = 'erf'): Tensor {
  const dt = floatDtype('linearGelu', x, weight, bias);
  const inF = x.shape[x.shape.length - 1], rows = inF === 0 ? 0 : x.size / inF;
  if (weight.shape.length !== 2 || weight.shape[1] !== inF) throw new ShapeError('linearGelu', `weight must be [out, ${inF}]`, x, weight);
  const outF = weight.shape[0];
  if (bias.shape.length !== 1 || bias.shape[0] !== outF) throw new ShapeError('linearGelu', `bias must be [${outF}]`, weight, bias);
  const approx = kind === 'tanh' ? 1 : 0, n = rows * outF;
  const K = kernelsFor(x.f);
  const gemm = gemmFor(K, x.f);
  const shape = [...x.shape.slice(0, -1), outF];
  const pre = Tensor.empty(shape, dt), y = Tensor.empty(shape, dt);
  gemm(false, true, rows, outF, inF, 1, x.f, inF, 0, weight.f, inF, 0, 0, pre.f, outF, 0, 1);
  K.biasGelu(pre.f, bias.f, y.f, rows, outF, approx);
  if (needsGrad(x, weight, bias)) {
    record(y, 'linearGelu', [x, weight, bias], (g) => {
      const dpt = scratch(dt, n), dpre = dpt.f;
      if (bias.requiresGrad) {
        K.geluBackwardSumRows(pre.f, g, dpre, gradOf(bias), rows, outF, approx);
      } else {
        dpre.fill(0);
        K.geluBackward(pre.f, g, dpre, n, approx);
      }
      if (x.requiresGrad) {
        const gx = gradForGemm(x);
        gemm(false, false, rows, inF, outF, 1, dpre, outF, 0, weight.f, inF, 0, gx.beta, gx.buf, inF, 0, 1);
      }
      if (weight.requiresGrad) gemm(true, false, outF, inF, rows, 1, dpre, outF, 0, x.f, inF, 0, 1, gradOf(weight), inF, 0, 1);
      dpt.dispose();
    });
  } else {
    pre.dispose();
  }
  return checked('linearGelu', y);
}
