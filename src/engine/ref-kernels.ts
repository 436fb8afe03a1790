/**
 * Plain TypeScript reference implementation of every kernel in `kernels.ts`.
 * Written for clarity, not speed: the native kernels are tested against these, and gradient
 * checks run them on Float64Array. Semantics are documented on the interface.
 */
import { bf16Round, dropoutHash, dropoutThreshold, type FloatArray, type Kernels } from './kernels.js';
import { refLinearInt8, refPackInt8Weights } from './int8-ref.js';

const SQRT1_2 = Math.SQRT1_2;
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** erf with |error| < 1.2e-7 (Numerical Recipes erfc, Chebyshev); enough for float32 GELU. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

function gelu(x: number, approximate: number): number {
  if (approximate) {
    const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
    return 0.5 * x * (1 + Math.tanh(u));
  }
  return 0.5 * x * (1 + erf(x * SQRT1_2));
}

function geluGrad(x: number, approximate: number): number {
  if (approximate) {
    const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
    const th = Math.tanh(u);
    const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
    return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * du;
  }
  return 0.5 * (1 + erf(x * SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x);
}

export const refKernels: Kernels = {
  name: 'ref',

  linearInt8(m, n, k, x, w, wScale, wSum, bias, residual, act, y, weights7) {
    refLinearInt8(m, n, k, x, w, wScale, wSum, bias, residual, act, y, weights7, (a, b, len, approx) =>
      this.geluForward(a, b, len, approx),
    );
  },
  packInt8Weights: refPackInt8Weights,

  packGemmB: () => null,

  gemm(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch) {
    for (let bi = 0; bi < batch; bi++) {
      const ao = bi * strideA,
        bo = bi * strideB,
        co = bi * strideC;
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let p = 0; p < k; p++) {
            const av = transA ? a[ao + p * lda + i] : a[ao + i * lda + p];
            const bv = transB ? b[bo + j * ldb + p] : b[bo + p * ldb + j];
            acc += av * bv;
          }
          const ci = co + i * ldc + j;
          c[ci] = beta === 0 ? alpha * acc : alpha * acc + beta * c[ci];
        }
      }
    }
  },

  gemmBf16(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch) {
    // Round the operands' elements (every stored element the product reads), then an exact-input GEMM.
    const round = (x: FloatArray): FloatArray => {
      const r = x instanceof Float64Array ? new Float64Array(x.length) : new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) r[i] = bf16Round(x[i]);
      return r;
    };
    refKernels.gemm(transA, transB, m, n, k, alpha, round(a), lda, strideA, round(b), ldb, strideB, beta, c, ldc, strideC, batch);
  },

  addBias(x, bias, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < cols; j++) out[r * cols + j] = x[r * cols + j] + bias[j];
    }
  },

  sumRowsAcc(dy, db, rows, cols) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += dy[r * cols + j];
      db[j] += s;
    }
  },

  add(a, b, out, n) {
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  },

  axpy(n, alpha, x, y) {
    for (let i = 0; i < n; i++) y[i] += alpha * x[i];
  },

  mul(a, b, out, n) {
    for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
  },

  scale(x, alpha, out, n) {
    for (let i = 0; i < n; i++) out[i] = alpha * x[i];
  },

  sumSquares(x, n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  },

  geluForward(x, y, n, approximate) {
    for (let i = 0; i < n; i++) y[i] = gelu(x[i], approximate);
  },

  geluBackward(x, dy, dx, n, approximate) {
    for (let i = 0; i < n; i++) dx[i] += dy[i] * geluGrad(x[i], approximate);
  },

  biasGelu(x, bias, y, rows, cols, approximate) {
    refKernels.addBias(x, bias, x, rows, cols);
    refKernels.geluForward(x, y, rows * cols, approximate);
  },

  geluBackwardSumRows(x, dy, dx, db, rows, cols, approximate) {
    dx.fill(0, 0, rows * cols);
    refKernels.geluBackward(x, dy, dx, rows * cols, approximate);
    refKernels.sumRowsAcc(dx, db, rows, cols);
  },

  tanhForward(x, y, n) {
    for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
  },

  tanhBackward(y, dy, dx, n) {
    for (let i = 0; i < n; i++) dx[i] += dy[i] * (1 - y[i] * y[i]);
  },

  layerNormForward(x, gamma, beta, y, mean, rstd, rows, cols, eps) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mu = 0;
      for (let j = 0; j < cols; j++) mu += x[o + j];
      mu /= cols;
      let v = 0;
      for (let j = 0; j < cols; j++) {
        const d = x[o + j] - mu;
        v += d * d;
      }
      v /= cols;
      const rs = 1 / Math.sqrt(v + eps);
      mean[r] = mu;
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) y[o + j] = (x[o + j] - mu) * rs * gamma[j] + beta[j];
    }
  },

  layerNormBackward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const mu = mean[r],
        rs = rstd[r];
      // dxhat = dy * gamma; dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
      let sumD = 0,
        sumDX = 0;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[o + j] - mu) * rs;
        const d = dy[o + j] * gamma[j];
        sumD += d;
        sumDX += d * xhat;
        dgamma[j] += dy[o + j] * xhat;
        dbeta[j] += dy[o + j];
      }
      sumD /= cols;
      sumDX /= cols;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[o + j] - mu) * rs;
        const d = dy[o + j] * gamma[j];
        dx[o + j] += rs * (d - sumD - xhat * sumDX);
      }
    }
  },

  softmaxForward(s, mask, y, batch, heads, tq, tk, scale) {
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < tq; i++) {
          const o = ((b * heads + h) * tq + i) * tk;
          let mx = -Infinity;
          for (let j = 0; j < tk; j++) {
            const v = scale * s[o + j] + (mask ? mask[b * tk + j] : 0);
            y[o + j] = v;
            if (v > mx) mx = v;
          }
          let sum = 0;
          for (let j = 0; j < tk; j++) {
            const e = Math.exp(y[o + j] - mx);
            y[o + j] = e;
            sum += e;
          }
          for (let j = 0; j < tk; j++) y[o + j] /= sum;
        }
      }
    }
  },

  attentionForward(q, k, v, ld, mask, probs, ctx, ldc, batch, seqLen, heads, headDim, scale, p, seed, bf16) {
    const T = seqLen,
      TT = T * T,
      nP = batch * heads * TT;
    const mm = bf16 ? refKernels.gemmBf16 : refKernels.gemm;
    const blocks = attentionBlocks(batch, heads, T, headDim);
    const scores = allocLike(q, nP);
    blocks((row0, blk) =>
      mm(false, true, T, T, headDim, 1, q.subarray(row0(ld)), ld, 0, k.subarray(row0(ld)), ld, 0, 0, scores.subarray(blk), T, 0, 1),
    );
    refKernels.softmaxForward(scores, mask, probs, batch, heads, T, T, scale);
    const used = p > 0 ? allocLike(q, nP) : probs;
    if (p > 0) refKernels.dropoutForward(probs, used, nP, p, seed);
    blocks((row0, blk) =>
      mm(false, false, T, headDim, T, 1, used.subarray(blk), T, 0, v.subarray(row0(ld)), ld, 0, 0, ctx.subarray(row0(ldc)), ldc, 0, 1),
    );
  },

  attentionBackward(
    q,
    k,
    v,
    ld,
    probs,
    dctx,
    ldc,
    dq,
    dk,
    dv,
    ldd,
    betaQ,
    betaK,
    betaV,
    batch,
    seqLen,
    heads,
    headDim,
    scale,
    p,
    seed,
    bf16,
  ) {
    const T = seqLen,
      d = headDim,
      TT = T * T,
      nP = batch * heads * TT;
    const mm = bf16 ? refKernels.gemmBf16 : refKernels.gemm;
    const blocks = attentionBlocks(batch, heads, T, d);
    if (dv) {
      const used = p > 0 ? allocLike(q, nP) : probs;
      if (p > 0) refKernels.dropoutForward(probs, used, nP, p, seed);
      blocks((row0, blk) =>
        mm(true, false, T, d, T, 1, used.subarray(blk), T, 0, dctx.subarray(row0(ldc)), ldc, 0, betaV, dv.subarray(row0(ldd)), ldd, 0, 1),
      );
    }
    if (!dq && !dk) return;
    const dP = allocLike(q, nP),
      dS = allocLike(q, nP);
    blocks((row0, blk) =>
      mm(false, true, T, T, d, 1, dctx.subarray(row0(ldc)), ldc, 0, v.subarray(row0(ld)), ld, 0, 0, dP.subarray(blk), T, 0, 1),
    );
    if (p > 0) refKernels.dropoutForward(dP, dP, nP, p, seed);
    refKernels.softmaxBackward(probs, dP, dS, batch * heads * T, T, scale);
    if (dq)
      blocks((row0, blk) =>
        mm(false, false, T, d, T, 1, dS.subarray(blk), T, 0, k.subarray(row0(ld)), ld, 0, betaQ, dq.subarray(row0(ldd)), ldd, 0, 1),
      );
    if (dk)
      blocks((row0, blk) =>
        mm(true, false, T, d, T, 1, dS.subarray(blk), T, 0, q.subarray(row0(ld)), ld, 0, betaK, dk.subarray(row0(ldd)), ldd, 0, 1),
      );
  },

  softmaxBackward(y, dy, ds, rows, tk, scale) {
    for (let r = 0; r < rows; r++) {
      const o = r * tk;
      let dot = 0;
      for (let j = 0; j < tk; j++) dot += dy[o + j] * y[o + j];
      for (let j = 0; j < tk; j++) ds[o + j] += scale * y[o + j] * (dy[o + j] - dot);
    }
  },

  dropoutForward(x, y, n, p, seed) {
    const thr = dropoutThreshold(p);
    const inv = 1 / (1 - p);
    for (let i = 0; i < n; i++) y[i] = dropoutHash(seed, i) >= thr ? x[i] * inv : 0;
  },

  biasDropoutAdd(y, bias, residual, rows, cols, p, seed) {
    refKernels.addBias(y, bias, y, rows, cols);
    if (p > 0) refKernels.dropoutForward(y, y, rows * cols, p, seed);
    refKernels.add(y, residual, y, rows * cols);
  },

  dropoutBackward(dy, dx, n, p, seed) {
    const thr = dropoutThreshold(p);
    const inv = 1 / (1 - p);
    for (let i = 0; i < n; i++) if (dropoutHash(seed, i) >= thr) dx[i] += dy[i] * inv;
  },

  embeddingForward(table, ids, out, n, dim) {
    for (let r = 0; r < n; r++) {
      const src = ids[r] * dim,
        dst = r * dim;
      for (let j = 0; j < dim; j++) out[dst + j] = table[src + j];
    }
  },

  embeddingBackward(dout, ids, dtable, n, dim) {
    for (let r = 0; r < n; r++) {
      const dst = ids[r] * dim,
        src = r * dim;
      for (let j = 0; j < dim; j++) dtable[dst + j] += dout[src + j];
    }
  },

  permute0213(x, out, d0, d1, d2, d3, accumulate) {
    for (let a = 0; a < d0; a++) {
      for (let b = 0; b < d1; b++) {
        for (let c = 0; c < d2; c++) {
          const src = ((a * d1 + b) * d2 + c) * d3;
          const dst = ((a * d2 + c) * d1 + b) * d3;
          if (accumulate) for (let e = 0; e < d3; e++) out[dst + e] += x[src + e];
          else for (let e = 0; e < d3; e++) out[dst + e] = x[src + e];
        }
      }
    }
  },

  crossEntropyForward(logits, labels, classWeights, probs, rows, classes, ignoreIndex) {
    let loss = 0,
      wsum = 0;
    for (let r = 0; r < rows; r++) {
      const o = r * classes;
      let mx = -Infinity;
      for (let c = 0; c < classes; c++) if (logits[o + c] > mx) mx = logits[o + c];
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c] - mx);
      const lse = mx + Math.log(sum);
      for (let c = 0; c < classes; c++) probs[o + c] = Math.exp(logits[o + c] - lse);
      const y = labels[r];
      if (y === ignoreIndex) continue;
      const w = classWeights ? classWeights[y] : 1;
      loss += w * (lse - logits[o + y]);
      wsum += w;
    }
    return [loss, wsum];
  },

  crossEntropyBackward(probs, labels, classWeights, dlogits, rows, classes, ignoreIndex, gradScale) {
    for (let r = 0; r < rows; r++) {
      const y = labels[r];
      if (y === ignoreIndex) continue;
      const o = r * classes;
      const g = gradScale * (classWeights ? classWeights[y] : 1);
      for (let c = 0; c < classes; c++) dlogits[o + c] += g * (probs[o + c] - (c === y ? 1 : 0));
    }
  },

  adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step, gradScale, zeroGrad) {
    const bc1 = 1 - beta1 ** step;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
    const stepSize = lr / bc1;
    const f32 = param instanceof Float32Array; // the scaled gradient is rounded like an in-place float32 multiply
    for (let i = 0; i < n; i++) {
      let p = param[i];
      if (weightDecay !== 0) p *= 1 - lr * weightDecay;
      const g = f32 ? Math.fround(Math.fround(gradScale) * grad[i]) : gradScale * grad[i];
      if (zeroGrad) grad[i] = 0;
      const mi = beta1 * m[i] + (1 - beta1) * g;
      const vi = beta2 * v[i] + (1 - beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i] = p - (stepSize * mi) / (Math.sqrt(vi) / bc2Sqrt + eps);
    }
  },
};

/**
 * Visits the (sequence b, head h) blocks of attention: row0(stride) is the offset of (b, t = 0,
 * head h) in a [batch, seqLen, heads * headDim] view with that row stride, blk the offset of the
 * block's [seqLen, seqLen] matrix in a [batch, heads, seqLen, seqLen] buffer.
 */
function attentionBlocks(batch: number, heads: number, T: number, d: number) {
  return (f: (row0: (stride: number) => number, blk: number) => void): void => {
    for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) f((stride) => b * T * stride + h * d, (b * heads + h) * T * T);
  };
}

/** Allocate an array of the same precision as `like`. */
export function allocLike(like: FloatArray, n: number): FloatArray {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}
