/**
 * DeBERTa's disentangled self-attention (modeling_deberta_v2.py, DisentangledSelfAttention) as one
 * autograd node. Per sequence b and head h, with R[i, j] the clamped relative-position row index:
 *   S[i, j] = q_i . k_j                       content to content
 *           + q_i . posKey[R[i, j]]           content to position (c2p, when posKey is given)
 *           + k_j . posQuery[R[i, j]]         position to content (p2c, when posQuery is given)
 *   P = softmax(scale * S) over keys, with transformers' masked_fill semantics (below)
 *   ctx = dropout(P) v
 * p2c uses the same index as c2p: transformers gathers k . posQuery at clamp(-r(j, i) + span) and
 * transposes; bucketed relative positions are odd (r(j, i) = -r(i, j)), so that is R[i, j].
 *
 * Masking: transformers builds mask[i, j] = keep[i] * keep[j] and masked_fills the scores with the
 * float32 minimum before the softmax. A kept query row therefore ignores padded keys (the additive
 * minimum gives exactly 0, as here), and a padded query row has every score equal: its
 * probabilities are uniform 1/T over all keys and, being constants, pass no gradient back.
 *
 * The two gathers read products q posKey^T and k posQuery^T (GEMMs, per head over all sequences,
 * over only the position rows the index uses: 2T - 1 rows while T is below the span); backward
 * scatters into the same shape and applies two GEMMs per term. These products are transient: only
 * the probabilities [B, heads, T, T] are saved for backward.
 */
import { needsGrad, record, gradForGemm } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor, type DType } from '../tensor.js';

import { ShapeError, checked, floatDtype } from './common.js';
import { gemmFor, type GemmFn } from './precision.js';

export interface DisentangledAttentionOptions {
  heads: number;
  /** Multiplies the summed scores before the softmax: 1 / sqrt(headDim * (1 + number of c2p/p2c terms)). */
  scale: number;
  /** [T * T] row indices into posKey / posQuery, each in [0, rows of posKey / posQuery). */
  relIndex: Int32Array;
  /** Dropout probability on the attention probabilities (0 = none). */
  dropoutP?: number;
  /** uint32 seed of that dropout (mask index = flat index in [B, heads, T, T]). */
  dropoutSeed?: number;
}

/**
 * q, k, v: [B * T, H]; posKey, posQuery: [2 * span, H] or null (the relative embeddings projected
 * by the key and query projections); mask: [B, T] additive (0 = token, float32 minimum = padding).
 * Returns the context [B * T, H] in q's layout (heads side by side).
 */
export function disentangledAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  posKey: Tensor | null,
  posQuery: Tensor | null,
  mask: Tensor,
  batch: number,
  opts: DisentangledAttentionOptions,
): Tensor {
  const op = 'disentangledAttention';
  const pos = [posKey, posQuery].filter((t): t is Tensor => t !== null);
  const dt = floatDtype(op, q, k, v, mask, ...pos);
  const H = q.shape[q.shape.length - 1],
    nh = opts.heads,
    B = batch;
  for (const t of [k, v])
    if (t.size !== q.size || t.shape[t.shape.length - 1] !== H) throw new ShapeError(op, 'q, k and v must have the same shape', q, t);
  if (!(Number.isInteger(nh) && nh > 0 && H % nh === 0)) throw new ShapeError(op, `hidden size ${H} is not a multiple of heads ${nh}`, q);
  const rows = q.size / H;
  if (!(B > 0 && Number.isInteger(rows / B))) throw new ShapeError(op, `the input does not hold ${B} sequences of width ${H}`, q);
  const T = rows / B,
    d = H / nh,
    TT = T * T;
  if (mask.shape.length !== 2 || mask.shape[0] !== B || mask.shape[1] !== T) throw new ShapeError(op, `mask must be [${B}, ${T}]`, q, mask);
  const S2 = pos.length ? pos[0].shape[0] : 0;
  for (const t of pos)
    if (t.shape.length !== 2 || t.shape[0] !== S2 || t.shape[1] !== H)
      throw new ShapeError(op, `posKey and posQuery must both be [2 * span, ${H}]`, ...pos);
  const R = opts.relIndex;
  if (R.length !== TT) throw new RangeError(`${op}: relIndex has ${R.length} entries, expected ${T} x ${T}`);
  if (pos.length)
    for (let i = 0; i < TT; i++)
      if (!(R[i] >= 0 && R[i] < S2)) throw new RangeError(`${op}: relIndex[${i}] = ${R[i]} is outside [0, ${S2})`);
  const p = opts.dropoutP ?? 0,
    seed = (opts.dropoutSeed ?? 0) >>> 0;
  if (!(p >= 0 && p < 1)) throw new RangeError(`${op}: dropout probability must be in [0, 1), got ${p}`);
  const K = kernelsFor(q.f);
  const gemm = heads(gemmFor(K, q.f));
  const n = B * nh * TT;
  // Query rows of padding (mask != 0): uniform probabilities, no gradient.
  const padRow = new Uint8Array(B * T);
  for (let i = 0; i < B * T; i++) padRow[i] = mask.f[i] !== 0 ? 1 : 0;

  // Only the rows of posKey / posQuery that R uses enter the products ([rlo, rhi]: for T below the
  // span that is 2T - 1 of the 2 * span rows), and the products cover all B sequences at once:
  // relK[h] = q_h posKey_h^T and relQ[h] = k_h posQuery_h^T, [B * T, used rows] per head.
  let rlo = 0,
    rhi = -1;
  if (pos.length) {
    rlo = S2;
    rhi = 0;
    for (let i = 0; i < TT; i++) {
      if (R[i] < rlo) rlo = R[i];
      if (R[i] > rhi) rhi = R[i];
    }
  }
  const SU = rhi - rlo + 1,
    BT = B * T,
    RS = BT * SU;
  const Ru = new Int32Array(TT);
  for (let i = 0; i < TT; i++) Ru[i] = R[i] - rlo;
  const relK = posKey ? scratch(dt, nh * RS) : null,
    relQ = posQuery ? scratch(dt, nh * RS) : null;
  if (relK) gemm(false, true, BT, SU, d, 1, q.f, H, d, posKey!.f.subarray(rlo * H), H, d, 0, relK.f, SU, RS, nh);
  if (relQ) gemm(false, true, BT, SU, d, 1, k.f, H, d, posQuery!.f.subarray(rlo * H), H, d, 0, relQ.f, SU, RS, nh);

  const probs = Tensor.empty([B, nh, T, T], dt);
  const scores = scratch(dt, nh * TT);
  const sf = scores.f,
    pf = probs.f;
  for (let b = 0; b < B; b++) {
    const qb = q.f.subarray(b * T * H),
      kb = k.f.subarray(b * T * H);
    gemm(false, true, T, T, d, 1, qb, H, d, kb, H, d, 0, sf, T, TT, nh);
    if (relK) {
      const rf = relK.f;
      for (let h = 0; h < nh; h++) {
        for (let i = 0; i < T; i++) {
          const s0 = h * TT + i * T,
            r0 = h * RS + (b * T + i) * SU,
            x0 = i * T;
          for (let j = 0; j < T; j++) sf[s0 + j] += rf[r0 + Ru[x0 + j]];
        }
      }
    }
    if (relQ) {
      const rf = relQ.f;
      for (let h = 0; h < nh; h++) {
        for (let i = 0; i < T; i++) {
          const s0 = h * TT + i * T,
            x0 = i * T,
            r0 = h * RS + b * T * SU;
          for (let j = 0; j < T; j++) sf[s0 + j] += rf[r0 + j * SU + Ru[x0 + j]];
        }
      }
    }
    K.softmaxForward(sf, mask.f.subarray(b * T), pf.subarray(b * nh * TT), 1, nh, T, T, opts.scale);
    for (let i = 0; i < T; i++) {
      if (!padRow[b * T + i]) continue;
      for (let h = 0; h < nh; h++) pf.fill(1 / T, (b * nh + h) * TT + i * T, (b * nh + h) * TT + (i + 1) * T);
    }
  }
  scores.dispose();
  relK?.dispose();
  relQ?.dispose();

  const ctx = Tensor.empty(q.shape, dt);
  const dropped = (): Tensor | null => {
    if (p === 0) return null;
    const t = scratch(dt, n);
    K.dropoutForward(pf, t.f, n, p, seed);
    return t;
  };
  const pdt = dropped();
  const pd = pdt ? pdt.f : pf;
  for (let b = 0; b < B; b++) {
    gemm(false, false, T, d, T, 1, pd.subarray(b * nh * TT), T, TT, v.f.subarray(b * T * H), H, d, 0, ctx.f.subarray(b * T * H), H, d, nh);
  }
  pdt?.dispose();

  const inputs = [q, k, v, ...pos];
  if (needsGrad(...inputs)) {
    record(ctx, op, inputs, (g) => {
      const slot = (t: Tensor | null) => (t && t.requiresGrad ? gradForGemm(t) : null);
      const gq = slot(q),
        gk = slot(k),
        gv = slot(v),
        gpk = slot(posKey),
        gpq = slot(posQuery);
      // dP = dropout-backward(dctx v^T), then dS = scale * softmax-backward (accumulating kernel).
      const dP = scratch(dt, n),
        dS = scratch(dt, n);
      for (let b = 0; b < B; b++) {
        gemm(false, true, T, T, d, 1, g.subarray(b * T * H), H, d, v.f.subarray(b * T * H), H, d, 0, dP.f.subarray(b * nh * TT), T, TT, nh);
      }
      if (p > 0) K.dropoutForward(dP.f, dP.f, n, p, seed);
      if (gv) {
        const pdb = dropped();
        const src = pdb ? pdb.f : pf;
        for (let b = 0; b < B; b++) {
          gemm(
            true,
            false,
            T,
            d,
            T,
            1,
            src.subarray(b * nh * TT),
            T,
            TT,
            g.subarray(b * T * H),
            H,
            d,
            gv.beta,
            gv.buf.subarray(b * T * H),
            H,
            d,
            nh,
          );
        }
        pdb?.dispose();
      }
      const ds = dS.f;
      ds.fill(0);
      K.softmaxBackward(pf, dP.f, ds, B * nh * T, T, opts.scale);
      dP.dispose();
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < T; i++) {
          if (!padRow[b * T + i]) continue;
          for (let h = 0; h < nh; h++) ds.fill(0, (b * nh + h) * TT + i * T, (b * nh + h) * TT + (i + 1) * T);
        }
      }
      // Content terms per sequence; then the relative terms' gathers are scattered back into
      // [heads, B * T, used rows] and go through one product per head over all sequences.
      const dRelK = posKey && (gq || gpk) ? zeroed(dt, nh * RS) : null;
      const dRelQ = posQuery && (gk || gpq) ? zeroed(dt, nh * RS) : null;
      for (let b = 0; b < B; b++) {
        const dsb = ds.subarray(b * nh * TT);
        if (gq) gemm(false, false, T, d, T, 1, dsb, T, TT, k.f.subarray(b * T * H), H, d, gq.beta, gq.buf.subarray(b * T * H), H, d, nh);
        if (gk) gemm(true, false, T, d, T, 1, dsb, T, TT, q.f.subarray(b * T * H), H, d, gk.beta, gk.buf.subarray(b * T * H), H, d, nh);
        if (dRelK) {
          const dr = dRelK.f;
          for (let h = 0; h < nh; h++) {
            for (let i = 0; i < T; i++) {
              const s0 = h * TT + i * T,
                r0 = h * RS + (b * T + i) * SU,
                x0 = i * T;
              for (let j = 0; j < T; j++) dr[r0 + Ru[x0 + j]] += dsb[s0 + j];
            }
          }
        }
        if (dRelQ) {
          const dr = dRelQ.f;
          for (let h = 0; h < nh; h++) {
            for (let i = 0; i < T; i++) {
              const s0 = h * TT + i * T,
                x0 = i * T,
                r0 = h * RS + b * T * SU;
              for (let j = 0; j < T; j++) dr[r0 + j * SU + Ru[x0 + j]] += dsb[s0 + j];
            }
          }
        }
      }
      // dX += dRel posRows; dPos[rows rlo..rhi] += dRel^T X. The position gradient's other rows get
      // nothing: a fresh (beta 0) buffer is zeroed first.
      const relBack = (dRel: Tensor, x: Tensor, gx: typeof gq, posT: Tensor, gp: typeof gq): void => {
        if (gx) gemm(false, false, BT, d, SU, 1, dRel.f, SU, RS, posT.f.subarray(rlo * H), H, d, 1, gx.buf, H, d, nh);
        if (gp) {
          if (gp.beta === 0) gp.buf.fill(0);
          gemm(true, false, SU, d, BT, 1, dRel.f, SU, RS, x.f, H, d, 1, gp.buf.subarray(rlo * H), H, d, nh);
        }
      };
      if (dRelK) relBack(dRelK, q, gq, posKey!, gpk);
      if (dRelQ) relBack(dRelQ, k, gk, posQuery!, gpq);
      dRelK?.dispose();
      dRelQ?.dispose();
      dS.dispose();
    });
  } else {
    probs.dispose();
  }
  return checked(op, ctx);
}

/**
 * The batched GEMM over heads. Outputs written into column blocks of a wider matrix (ld > n, the
 * heads of [T, H]) are one call per head: the kernel's batch wants C matrices that do not interleave.
 */
function heads(gemm: GemmFn): GemmFn {
  return (tA, tB, m, n, k, alpha, a, lda, sA, b, ldb, sB, beta, c, ldc, sC, count) => {
    if (count === 1 || sC >= (m - 1) * ldc + n) return gemm(tA, tB, m, n, k, alpha, a, lda, sA, b, ldb, sB, beta, c, ldc, sC, count);
    for (let i = 0; i < count; i++) {
      gemm(tA, tB, m, n, k, alpha, a.subarray(i * sA), lda, 0, b.subarray(i * sB), ldb, 0, beta, c.subarray(i * sC), ldc, 0, 1);
    }
  };
}

function zeroed(dt: DType, size: number): Tensor {
  const t = scratch(dt, size);
  t.f.fill(0);
  return t;
}

/** A pooled scratch buffer that the caller overwrites completely (no zero fill). */
function scratch(dt: DType, size: number): Tensor {
  return Tensor.empty([size], dt);
}
