/**
 * Rotary position embeddings (RoPE) on a fused query/key/value projection, as Hugging Face's
 * apply_rotary_pos_emb with rotate_half: for each head's vector x of width d (half = d / 2),
 *   y[i]        = x[i] cos[t, i] - x[i + half] sin[t, i]
 *   y[i + half] = x[i + half] cos[t, i] + x[i] sin[t, i]       (i < half)
 * applied to the query and key column blocks of qkv [B * T, 3 * H]; the value block is copied.
 * The rotation is orthogonal, so backward is the inverse rotation (sin negated) of the gradient.
 */
import { needsGrad, record, gradOf } from '../autograd.js';
import { Tensor } from '../tensor.js';
import type { FloatArray } from '../kernels.js';
import { ShapeError, checked, floatDtype } from './common.js';

/**
 * cos and sin tables [seqLen, headDim / 2] for positions 0..seqLen-1 and base `theta`, rounded
 * as HF computes them in float32: inv_freq = 1 / theta^(2i/d), freq = t * inv_freq, then cos/sin.
 */
export function ropeTables(seqLen: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  if (headDim % 2 !== 0) throw new RangeError(`rope: head dimension ${headDim} must be even`);
  const half = headDim / 2,
    f = Math.fround;
  const cos = new Float32Array(seqLen * half),
    sin = new Float32Array(seqLen * half);
  for (let i = 0; i < half; i++) {
    const inv = f(1 / f(theta ** f(f(2 * i) / headDim)));
    for (let t = 0; t < seqLen; t++) {
      const a = f(t * inv);
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** Rotates rows of `src` (width 3H) into `dst`; dir = -1 applies the inverse rotation. */
function rotate(
  src: FloatArray,
  dst: FloatArray,
  rows: number,
  seqLen: number,
  H: number,
  heads: number,
  cos: Float32Array,
  sin: Float32Array,
  dir: number,
  accumulate: boolean,
): void {
  const d = H / heads,
    half = d / 2,
    W = 3 * H;
  for (let r = 0; r < rows; r++) {
    const t = r % seqLen,
      o = r * W,
      tc = t * half;
    for (let blk = 0; blk < 2; blk++) {
      for (let h = 0; h < heads; h++) {
        const base = o + blk * H + h * d;
        for (let i = 0; i < half; i++) {
          const c = cos[tc + i],
            s = dir * sin[tc + i];
          const a = src[base + i],
            b = src[base + i + half];
          const y0 = a * c - b * s,
            y1 = b * c + a * s;
          if (accumulate) {
            dst[base + i] += y0;
            dst[base + i + half] += y1;
          } else {
            dst[base + i] = y0;
            dst[base + i + half] = y1;
          }
        }
      }
    }
    for (let j = o + 2 * H; j < o + W; j++) dst[j] = accumulate ? dst[j] + src[j] : src[j];
  }
}

/**
 * qkv [B * T, 3H] (rows in sequence order, T per sequence) -> the same with RoPE applied to q and
 * k per head. cos/sin from ropeTables(T, H / heads, theta).
 */
export function rotaryQkv(qkv: Tensor, seqLen: number, heads: number, tables: { cos: Float32Array; sin: Float32Array }): Tensor {
  const dt = floatDtype('rotaryQkv', qkv);
  const W = qkv.shape[qkv.shape.length - 1],
    rows = W === 0 ? 0 : qkv.size / W;
  if (W % 3 !== 0 || (W / 3) % heads !== 0 || (W / 3 / heads) % 2 !== 0) {
    throw new ShapeError('rotaryQkv', `last axis ${W} is not 3 x heads ${heads} x an even head size`, qkv);
  }
  if (rows % seqLen !== 0) throw new ShapeError('rotaryQkv', `${rows} rows are not whole sequences of ${seqLen}`, qkv);
  const H = W / 3,
    half = H / heads / 2;
  if (tables.cos.length < seqLen * half) throw new RangeError(`rotaryQkv: tables cover fewer than ${seqLen} positions`);
  const y = Tensor.empty(qkv.shape, dt);
  rotate(qkv.f, y.f, rows, seqLen, H, heads, tables.cos, tables.sin, 1, false);
  if (needsGrad(qkv)) {
    record(y, 'rotaryQkv', [qkv], (g) => rotate(g, gradOf(qkv), rows, seqLen, H, heads, tables.cos, tables.sin, -1, true));
  }
  return checked('rotaryQkv', y);
}
