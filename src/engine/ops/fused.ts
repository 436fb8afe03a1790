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
import { Tensor, sizeOf, type DType } from '../tensor.js';
import type { FloatArray } from '../kernels.js';
import { ShapeError, checked, floatDtype } from './common.js';
import { gemmFor } from './precision.js';
import { packedWeight } from '../packed-weights.js';
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
export function selfAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, batch: number, opts: SelfAttentionOptions): Tensor {
  const dt = floatDtype('selfAttention', q, k, v, ...(mask ? [mask] : []));
  const H = q.shape[q.shape.length - 1];
  for (const t of [k, v]) {
    if (t.size !== q.size || t.shape[t.shape.length - 1] !== H)
      throw new ShapeError('selfAttention', 'q, k and v must have the same shape', q, t);
  }
  return attention('selfAttention', dt, q, H, q.shape, mask, batch, opts, {
    inputs: [q, k, v],
    q: q.f,
    k: k.f,
    v: v.f,
    ld: H,
    grads: () => {
      const slot = (t: Tensor) => (t.requiresGrad ? gradForGemm(t) : null);
      const gq = slot(q),
        gk = slot(k),
        gv = slot(v);
      return {
        dq: gq?.buf ?? null,
        dk: gk?.buf ?? null,
        dv: gv?.buf ?? null,
        ldd: H,
        bq: gq?.beta ?? 0,
        bk: gk?.beta ?? 0,
        bv: gv?.beta ?? 0,
      };
    },
  });
}

/**
 * selfAttention over the output of one fused query/key/value projection: qkv [B * T, 3 * H] holds
 * q, k and v side by side in each row (read in place with row stride 3H); returns ctx [B * T, H].
 */
export function selfAttentionQkv(qkv: Tensor, mask: Tensor | null, batch: number, opts: SelfAttentionOptions): Tensor {
  const dt = floatDtype('selfAttentionQkv', qkv, ...(mask ? [mask] : []));
  const W = qkv.shape[qkv.shape.length - 1];
  if (W % 3 !== 0) throw new ShapeError('selfAttentionQkv', `last axis ${W} is not 3 * hidden`, qkv);
  const H = W / 3,
    f = qkv.f;
  return attention('selfAttentionQkv', dt, qkv, H, [...qkv.shape.slice(0, -1), H], mask, batch, opts, {
    inputs: [qkv],
    q: f,
    k: f.subarray(H),
    v: f.subarray(2 * H),
    ld: W,
    grads: () => {
      // The three column blocks together are every element of qkv's gradient.
      const g = gradForGemm(qkv);
      return { dq: g.buf, dk: g.buf.subarray(H), dv: g.buf.subarray(2 * H), ldd: W, bq: g.beta, bk: g.beta, bv: g.beta };
    },
  });
}

interface AttentionSource {
  /** The tensors the autograd node records. */
  inputs: Tensor[];
  q: FloatArray;
  k: FloatArray;
  v: FloatArray;
  /** Row stride of q, k and v. */
  ld: number;
  /** Gradient buffers (row stride ldd) and betas for backward. */
  grads(): { dq: FloatArray | null; dk: FloatArray | null; dv: FloatArray | null; ldd: number; bq: number; bk: number; bv: number };
}

function attention(
  op: string,
  dt: DType,
  first: Tensor,
  H: number,
  outShape: readonly number[],
  mask: Tensor | null,
  batch: number,
  opts: SelfAttentionOptions,
  src: AttentionSource,
): Tensor {
  const nh = opts.heads,
    p = opts.dropoutP ?? 0,
    seed = (opts.dropoutSeed ?? 0) >>> 0;
  const B = batch,
    rows = sizeOf(outShape) / H;
  if (!(Number.isInteger(nh) && nh > 0 && H % nh === 0))
    throw new ShapeError(op, `hidden size ${H} is not a multiple of heads ${nh}`, first);
  if (!(B > 0 && Number.isInteger(rows) && rows % B === 0))
    throw new ShapeError(op, `the input does not hold ${B} sequences of width ${H}`, first);
  const T = rows / B,
    d = H / nh;
  if (mask && (mask.shape.length !== 2 || mask.shape[0] !== B || mask.shape[1] !== T)) {
    throw new ShapeError(op, `mask must be [${B}, ${T}]`, first, mask);
  }
  if (!(p >= 0 && p < 1)) throw new RangeError(`${op}: dropout probability must be in [0, 1), got ${p}`);
  const K = kernelsFor(first.f);
  const bf16 = gemmFor(K, first.f) === K.gemmBf16;
  const scale = opts.scale;

  // Per (sequence, head) block: scores, softmax -> probs (kept for backward), dropout, probs V.
  const probs = Tensor.empty([B, nh, T, T], dt);
  const ctx = Tensor.empty(outShape, dt);
  K.attentionForward(src.q, src.k, src.v, src.ld, mask ? mask.f : null, probs.f, ctx.f, H, B, T, nh, d, scale, p, seed, bf16);

  if (needsGrad(...src.inputs)) {
    record(ctx, op, src.inputs, (g) => {
      // Each block writes its rows and head columns of dq, dk and dv: together every element, so a
      // first gradient contribution overwrites (beta 0) instead of needing a zero-filled buffer.
      const r = src.grads();
      K.attentionBackward(
        src.q,
        src.k,
        src.v,
        src.ld,
        probs.f,
        g,
        H,
        r.dq,
        r.dk,
        r.dv,
        r.ldd,
        r.bq,
        r.bk,
        r.bv,
        B,
        T,
        nh,
        d,
        scale,
        p,
        seed,
        bf16,
      );
    });
  } else {
    probs.dispose();
  }
  return checked(op, ctx);
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
export function linearDropoutAdd(x: Tensor, weight: Tensor, bias: Tensor, residual: Tensor, p: number, seed: number): Tensor {
  const dt = floatDtype('linearDropoutAdd', x, weight, bias, residual);
  const inF = x.shape[x.shape.length - 1],
    rows = inF === 0 ? 0 : x.size / inF;
  if (weight.shape.length !== 2 || weight.shape[1] !== inF)
    throw new ShapeError('linearDropoutAdd', `weight must be [out, ${inF}]`, x, weight);
  const outF = weight.shape[0];
  if (bias.shape.length !== 1 || bias.shape[0] !== outF) throw new ShapeError('linearDropoutAdd', `bias must be [${outF}]`, weight, bias);
  if (residual.size !== rows * outF || residual.shape[residual.shape.length - 1] !== outF) {
    throw new ShapeError('linearDropoutAdd', `residual must hold ${rows} rows of ${outF}`, x, residual);
  }
  if (!(p >= 0 && p < 1)) throw new RangeError(`linearDropoutAdd: dropout probability must be in [0, 1), got ${p}`);
  const s = seed >>> 0,
    n = rows * outF;
  const K = kernelsFor(x.f);
  const gemm = gemmFor(K, x.f);
  const y = Tensor.empty(residual.shape, dt);
  gemm(false, true, rows, outF, inF, 1, x.f, inF, 0, weight.f, inF, 0, 0, y.f, outF, 0, 1, packedWeight(K, weight, outF, inF));
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
  const inF = x.shape[x.shape.length - 1],
    rows = inF === 0 ? 0 : x.size / inF;
  if (weight.shape.length !== 2 || weight.shape[1] !== inF) throw new ShapeError('linearGelu', `weight must be [out, ${inF}]`, x, weight);
  const outF = weight.shape[0];
  if (bias.shape.length !== 1 || bias.shape[0] !== outF) throw new ShapeError('linearGelu', `bias must be [${outF}]`, weight, bias);
  const approx = kind === 'tanh' ? 1 : 0,
    n = rows * outF;
  const K = kernelsFor(x.f);
  const gemm = gemmFor(K, x.f);
  const shape = [...x.shape.slice(0, -1), outF];
  const pre = Tensor.empty(shape, dt),
    y = Tensor.empty(shape, dt);
  gemm(false, true, rows, outF, inF, 1, x.f, inF, 0, weight.f, inF, 0, 0, pre.f, outF, 0, 1, packedWeight(K, weight, outF, inF));
  K.biasGelu(pre.f, bias.f, y.f, rows, outF, approx);
  if (needsGrad(x, weight, bias)) {
    record(y, 'linearGelu', [x, weight, bias], (g) => {
      const dpt = scratch(dt, n),
        dpre = dpt.f;
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
