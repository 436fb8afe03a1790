/**
 * The kernel contract: every numeric primitive the engine needs, as plain functions over typed arrays.
 *
 * Two implementations exist and must agree: `ref-kernels.ts` (plain TypeScript, readable, works on
 * Float32Array or Float64Array so gradient checks can run in float64) and the native addon
 * (`native.ts` loads `build/Release/tokentune.node`, C++ with AVX-512/AVX2/scalar dispatch).
 *
 * Conventions (all kernels):
 * - Row-major, contiguous. Views are passed as `subarray`s; kernels never take element offsets.
 * - Outputs are written in place. Forward kernels OVERWRITE their outputs. Backward kernels
 *   ACCUMULATE (+=) into gradient outputs, so autograd can sum contributions without temporaries.
 * - Reductions are deterministic for a fixed thread count (no atomics on floats).
 * - Sizes are element counts, never bytes.
 */
import { fmix32 } from './random.js';

export type FloatArray = Float32Array | Float64Array;

export interface Kernels {
  readonly name: string;

  /**
   * Batched GEMM: for i in [0, batch):
   *   C_i = alpha * op(A_i) @ op(B_i) + beta * C_i
   * with op(X) = X or X^T. op(A_i) is [m, k], op(B_i) is [k, n], C_i is [m, n].
   * A_i starts at a[i * strideA], B_i at b[i * strideB], C_i at c[i * strideC]; lda/ldb/ldc are the
   * row strides of the matrices as stored (A stored [m,k] with lda >= k when !transA, [k,m] with
   * lda >= m when transA; same for B). beta = 0 means C is not read (may hold NaN).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: FloatArray,
    lda: number,
    strideA: number,
    b: FloatArray,
    ldb: number,
    strideB: number,
    beta: number,
    c: FloatArray,
    ldc: number,
    strideC: number,
    batch: number,
    /**
     * op(B) packed once by `packGemmB(b, transB, n, k)` (batch 1): used instead of packing b on
     * every call, with the same arithmetic, so results are identical. It must hold b's current
     * values; b is still passed (a packing the kernels cannot use falls back to it).
     */
    packedB?: Float32Array | null,
  ): void;
  /**
   * op(B) [k x n] of a matrix that stops changing (an inference weight: b stored [n, k] when
   * transB) in the GEMM's own packed layout, for `gemm`'s packedB; null where the kernels gain
   * nothing from it (the reference multiplies in place).
   */
  packGemmB(b: Float32Array, transB: boolean, n: number, k: number): Float32Array | null;

  /**
   * bf16 mixed-precision GEMM (the matmuls of the bf16 training mode): the same arguments, layout and
   * beta = 0 rule as `gemm`, but every element of op(A) and op(B) is first rounded to bfloat16 with
   * `bf16Round` (round to nearest even; float32 denormals become signed zero; NaN stays NaN), and
   * products and sums are formed in (at least) float32. A product of two bf16 values is exact in
   * float32, so two implementations differ only by the order of the float32 sums. Float64 inputs
   * are first rounded to float32 (the reference accumulates in the array's precision).
   */
  gemmBf16(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: FloatArray,
    lda: number,
    strideA: number,
    b: FloatArray,
    ldb: number,
    strideB: number,
    beta: number,
    c: FloatArray,
    ldc: number,
    strideC: number,
    batch: number,
  ): void;

  /**
   * int8 linear layer for inference (dynamic quantization, as onnxruntime's quantize_dynamic but
   * with a scale per activation row): y[i, j] = dequantized (x_i . w_j) + bias[j] (+ residual[i, j]),
   * then GELU when act = 1 (erf) or 2 (tanh). x is [m, k] float32, y [m, n] (y may alias residual).
   * Each row of x is quantized to u8 (`quantizeRowU8` below: float32 arithmetic, round half to
   * even, saturation); w is the s8 weight [n, k] packed by `packInt8Weights` (wScale[j] its
   * per-channel scale, wSum[j] the sum of channel j's s8 weights). With A the row's u8 values, z its
   * zero point and s_a its scale, in this order and in float32:
   *   acc = sum_p A[p] * w[j, p] (exact int32);  v = float(acc - z * wSum[j]) * (s_a * wScale[j]);
   *   v = v + bias[j];  v = v + residual[i, j]
   * so every implementation gives the same bits before the GELU (which is the `geluForward` kernel's).
   * k is at most 65536 (the int32 sums cannot overflow). weights7 says every weight is in
   * [-64, 63] (7 bits, `tokentune quantize --weight-bits 7`), which lets plain AVX2 multiply with
   * vpmaddubsw (exact only in that range); the result is the same either way.
   */
  linearInt8(
    m: number,
    n: number,
    k: number,
    x: Float32Array,
    w: Int8Array,
    wScale: Float32Array,
    wSum: Int32Array,
    bias: Float32Array | null,
    residual: Float32Array | null,
    act: number,
    y: Float32Array,
    weights7: boolean,
  ): void;
  /**
   * Packs s8 weights w [n, k] (row-major, torch.nn.Linear's [out, in]) for `linearInt8` into
   * `out` of `int8PackedSize(n, k)` bytes: output channels in blocks of 16, per block ceil(k/4)
   * groups of 64 bytes holding channel c's weights k = 4g..4g+3 at bytes 4c..4c+3 (the operand of
   * one vpdpbusd); padding is zero.
   */
  packInt8Weights(w: Int8Array, n: number, k: number, out: Int8Array): void;

  /** out[r, c] = x[r, c] + bias[c], for rows x cols. `out` may alias `x`. */
  addBias(x: FloatArray, bias: FloatArray, out: FloatArray, rows: number, cols: number): void;
  /** db[c] += sum_r dy[r, c] (bias gradient). */
  sumRowsAcc(dy: FloatArray, db: FloatArray, rows: number, cols: number): void;
  /** out[i] = a[i] + b[i]. `out` may alias `a` or `b`. */
  add(a: FloatArray, b: FloatArray, out: FloatArray, n: number): void;
  /** y[i] += alpha * x[i]. */
  axpy(n: number, alpha: number, x: FloatArray, y: FloatArray): void;
  /** out[i] = a[i] * b[i]. */
  mul(a: FloatArray, b: FloatArray, out: FloatArray, n: number): void;
  /** out[i] = alpha * x[i]. `out` may alias `x`. */
  scale(x: FloatArray, alpha: number, out: FloatArray, n: number): void;
  /** Sum of squares in double precision (for gradient-norm clipping). */
  sumSquares(x: FloatArray, n: number): number;

  /**
   * GELU. approximate = 0: exact, 0.5 x (1 + erf(x / sqrt 2)) (HF "gelu").
   * approximate = 1: tanh form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (HF "gelu_new").
   */
  geluForward(x: FloatArray, y: FloatArray, n: number, approximate: number): void;
  /** dx[i] += dy[i] * gelu'(x[i]). */
  geluBackward(x: FloatArray, dy: FloatArray, dx: FloatArray, n: number, approximate: number): void;
  /**
   * A linear layer's bias and GELU in one pass over [rows, cols]: x += bias (x keeps the
   * pre-activation for backward), y = gelu(x). Equals addBias(x, bias, x) then geluForward(x, y).
   */
  biasGelu(x: FloatArray, bias: FloatArray, y: FloatArray, rows: number, cols: number, approximate: number): void;
  /**
   * GELU's backward into a buffer it overwrites (no zero fill needed), and the bias gradient:
   * dx = dy * gelu'(x), db += column sums of dx. Equals zeroing dx, geluBackward, then sumRowsAcc(dx, db).
   */
  geluBackwardSumRows(x: FloatArray, dy: FloatArray, dx: FloatArray, db: FloatArray, rows: number, cols: number, approximate: number): void;
  /** y = tanh(x). */
  tanhForward(x: FloatArray, y: FloatArray, n: number): void;
  /** dx += dy * (1 - y^2), y the forward output. */
  tanhBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, n: number): void;

  /**
   * Layer norm over the last axis (biased variance, as torch): for each row r,
   * mean[r], rstd[r] = 1/sqrt(var + eps); y = (x - mean) * rstd * gamma + beta.
   * mean and rstd are saved for the backward pass.
   */
  layerNormForward(
    x: FloatArray,
    gamma: FloatArray,
    beta: FloatArray,
    y: FloatArray,
    mean: FloatArray,
    rstd: FloatArray,
    rows: number,
    cols: number,
    eps: number,
  ): void;
  /** dx += ..., dgamma += ..., dbeta += ... (the exact layer-norm gradient). */
  layerNormBackward(
    dy: FloatArray,
    x: FloatArray,
    gamma: FloatArray,
    mean: FloatArray,
    rstd: FloatArray,
    dx: FloatArray,
    dgamma: FloatArray,
    dbeta: FloatArray,
    rows: number,
    cols: number,
  ): void;

  /**
   * Masked scaled softmax over attention scores [batch, heads, tq, tk]:
   *   y[b,h,i,j] = softmax_j(scale * s[b,h,i,j] + mask[b, j])
   * mask is additive, [batch, tk] (0 for attend, a large negative number for padding), or null.
   * A row whose every entry is masked still gets a finite softmax (uniform over its entries), as torch.
   */
  softmaxForward(
    s: FloatArray,
    mask: FloatArray | null,
    y: FloatArray,
    batch: number,
    heads: number,
    tq: number,
    tk: number,
    scale: number,
  ): void;
  /** ds += scale * y * (dy - sum_j(dy * y)) per row of length tk; rows = batch*heads*tq. */
  /**
   * Scaled dot-product attention over all heads, computed one (sequence b, head h) block at a time:
   *   probs[b, h] = softmax(scale * Q_bh K_bh^T + mask[b]),  ctx_bh = dropout(probs[b, h]) V_bh
   * q, k, v: [batch, seqLen, heads * headDim] with row stride ld (so they may be column slices of
   * one wider buffer); X_bh = rows of sequence b, columns h * headDim .. + headDim. ctx has row
   * stride ldc; mask [batch, seqLen] additive or null; probs [batch, heads, seqLen, seqLen] is written.
   * Dropout is dropoutForward's with the flat index in probs; bf16: the four products per block use
   * gemmBf16. Equals, bit for bit, per-block gemm + softmaxForward + dropoutForward + gemm.
   */
  attentionForward(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    ld: number,
    mask: FloatArray | null,
    probs: FloatArray,
    ctx: FloatArray,
    ldc: number,
    batch: number,
    seqLen: number,
    heads: number,
    headDim: number,
    scale: number,
    p: number,
    seed: number,
    bf16: boolean,
  ): void;
  /**
   * attentionForward's backward from dctx (row stride ldc) and the saved probs, per block:
   *   dv = betaV dv + dropout(P)^T dctx;  dP = dropout-backward(dctx V^T);  dS = softmax-backward(P, dP)
   *   dq = betaQ dq + dS K;  dk = betaK dk + dS^T Q
   * dq, dk, dv (row stride ldd) may be null to skip; beta 0 overwrites (the blocks cover them).
   */
  attentionBackward(
    q: FloatArray,
    k: FloatArray,
    v: FloatArray,
    ld: number,
    probs: FloatArray,
    dctx: FloatArray,
    ldc: number,
    dq: FloatArray | null,
    dk: FloatArray | null,
    dv: FloatArray | null,
    ldd: number,
    betaQ: number,
    betaK: number,
    betaV: number,
    batch: number,
    seqLen: number,
    heads: number,
    headDim: number,
    scale: number,
    p: number,
    seed: number,
    bf16: boolean,
  ): void;
  softmaxBackward(y: FloatArray, dy: FloatArray, ds: FloatArray, rows: number, tk: number, scale: number): void;

  /**
   * Inverted dropout with a counter-based RNG so results do not depend on thread count:
   * keep[i] = dropoutHash(seed, i) >= floor(p * 2^32); y[i] = keep ? x[i] / (1 - p) : 0.
   * `seed` is a uint32. See `dropoutHash` below for the exact hash. `y` may alias `x` (elementwise),
   * which also makes it dropout's backward map without accumulation (dx = keep ? dy / (1 - p) : 0).
   */
  dropoutForward(x: FloatArray, y: FloatArray, n: number, p: number, seed: number): void;
  /** dx[i] += keep[i] ? dy[i] / (1 - p) : 0 with the same keep mask (recomputed from seed). */
  dropoutBackward(dy: FloatArray, dx: FloatArray, n: number, p: number, seed: number): void;
  /**
   * y = dropout(y + bias) + residual over [rows, cols], in place, in one pass (BERT's dense ->
   * dropout -> residual sum); p = 0 skips the dropout. Equals addBias(y, bias, y),
   * dropoutForward(y, y, rows * cols, p, seed), add(y, residual, y).
   */
  biasDropoutAdd(y: FloatArray, bias: FloatArray, residual: FloatArray, rows: number, cols: number, p: number, seed: number): void;

  /** out[r, :] = table[ids[r], :]. ids are checked by the caller to be in [0, vocab). */
  embeddingForward(table: FloatArray, ids: Int32Array, out: FloatArray, n: number, dim: number): void;
  /** dtable[ids[r], :] += dout[r, :] (scatter-add; repeated ids sum; deterministic). */
  embeddingBackward(dout: FloatArray, ids: Int32Array, dtable: FloatArray, n: number, dim: number): void;

  /**
   * Permute [d0, d1, d2, d3] -> [d0, d2, d1, d3] (split heads / merge heads).
   * accumulate = false: out = permuted x; true: out += permuted x (used by backward).
   */
  permute0213(x: FloatArray, out: FloatArray, d0: number, d1: number, d2: number, d3: number, accumulate: boolean): void;

  /**
   * Cross-entropy forward over logits [rows, classes] with integer labels.
   * Writes probs = softmax(logits) per row. Rows whose label == ignoreIndex contribute nothing.
   * Returns [sum_r w[label_r] * -log p[r, label_r], sum_r w[label_r]] over non-ignored rows,
   * with w = classWeights or 1 (torch's "mean" reduction is the first divided by the second).
   * Labels outside [0, classes) other than ignoreIndex are the caller's to reject.
   */
  crossEntropyForward(
    logits: FloatArray,
    labels: Int32Array,
    classWeights: FloatArray | null,
    probs: FloatArray,
    rows: number,
    classes: number,
    ignoreIndex: number,
  ): [number, number];
  /** dlogits[r, c] += gradScale * w[label_r] * (probs[r, c] - [c == label_r]) for non-ignored rows. */
  crossEntropyBackward(
    probs: FloatArray,
    labels: Int32Array,
    classWeights: FloatArray | null,
    dlogits: FloatArray,
    rows: number,
    classes: number,
    ignoreIndex: number,
    gradScale: number,
  ): void;

  /**
   * One AdamW step exactly as torch.optim.AdamW (decoupled weight decay, bias correction),
   * over n parameters, `step` counted from 1:
   *   p -= lr * wd * p
   *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
   *   p -= (lr / (1 - b1^step)) * m / (sqrt(v) / sqrt(1 - b2^step) + eps)
   * where g = gradScale * grad (gradient clipping's factor, applied as each gradient is read, in the
   * parameters' precision as torch's in-place clip does). zeroGrad: write 0 to grad afterwards.
   */
  adamw(
    param: FloatArray,
    grad: FloatArray,
    m: FloatArray,
    v: FloatArray,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    step: number,
    gradScale: number,
    zeroGrad: boolean,
  ): void;
}

/**
 * The dropout RNG: murmur3's 32-bit finaliser over (i * 0x9E3779B1 + seed) mod 2^32.
 * Native code implements the same arithmetic on uint32.
 */
export function dropoutHash(seed: number, i: number): number {
  return fmix32((Math.imul(i, 0x9e3779b1) + seed) >>> 0);
}

/** The keep threshold for dropout probability p, shared by both implementations. */
export function dropoutThreshold(p: number): number {
  return Math.min(4294967295, Math.floor(p * 4294967296));
}

const bf16Scratch = new Float32Array(1);
const bf16Bits = new Uint32Array(bf16Scratch.buffer);

/**
 * x rounded to the nearest bfloat16 value, as x86's VCVTNE2PS2BF16 does it: x is first a float32;
 * round to nearest, ties to even, in the top 16 bits; float32 denormals (and zeros) become a zero of
 * the same sign; NaN stays NaN; values that round past the largest bf16 become infinity.
 */
export function bf16Round(x: number): number {
  bf16Scratch[0] = x;
  const u = bf16Bits[0];
  const mag = u & 0x7fffffff;
  if (mag > 0x7f800000) return NaN;
  if (mag < 0x00800000) return (u & 0x80000000) !== 0 ? -0 : 0;
  bf16Bits[0] = ((u + 0x7fff + ((u >>> 16) & 1)) >>> 0) & 0xffff0000;
  return bf16Scratch[0];
}

/** Bytes of `packInt8Weights`' output for n output channels of depth k. */
export function int8PackedSize(n: number, k: number): number {
  return Math.ceil(n / 16) * Math.ceil(k / 4) * 64;
}

/** Round half to even (C's nearbyint in the default rounding mode). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * One row quantized to u8 as onnxruntime's DynamicQuantizeLinear does a tensor: the range
 * [min(0, min x), max(0, max x)] maps onto 0..255, scale = (max - min) / 255 and zero point
 * round(-min / scale), q = saturate(round(x / scale) + zero point), all in float32. A row of zeros
 * gets scale 0 (outputs are then the bias); a row with Inf or NaN gets scale NaN (outputs NaN).
 */
export function quantizeRowU8(x: Float32Array, q: Uint8Array): { scale: number; zero: number } {
  const f = Math.fround;
  let mn = 0,
    mx = 0,
    finite = true;
  for (let p = 0; p < x.length; p++) {
    const v = x[p];
    if (!Number.isFinite(v)) finite = false;
    else {
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
  }
  q.fill(0);
  const s = f(f(mx - mn) / 255);
  if (!finite || !Number.isFinite(s) || s === 0) return { scale: finite && s === 0 ? 0 : NaN, zero: 0 };
  const zero = Math.min(255, Math.max(0, roundHalfEven(f(-mn / s))));
  for (let p = 0; p < x.length; p++) q[p] = Math.min(255, Math.max(0, roundHalfEven(f(x[p] / s)) + zero));
  return { scale: s, zero };
}
