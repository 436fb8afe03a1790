/**
 * The int8 linear layer for inference (dynamic quantization): weights quantized once to s8 per
 * output channel and packed, activations quantized per row on every call inside the kernel
 * (`linearInt8` in kernels.ts). No gradient: a quantized model only predicts.
 */
import { needsGrad } from '../autograd.js';
import { kernels } from '../backend.js';
import { int8PackedSize, roundHalfEven } from '../kernels.js';
import { Tensor } from '../tensor.js';
import { ShapeError, checked, rowsCols } from './common.js';

/** A linear layer's int8 weight, packed for the kernel, with its float bias. */
export interface Int8Linear {
  /** Output channels and input features (torch.nn.Linear's weight is [n, k]). */
  n: number;
  k: number;
  /** s8 weights [n, k] as stored (kept for saving and export). */
  q: Int8Array;
  /** Per-channel scales: weight[j, p] ~ q[j, p] * scale[j]. */
  scale: Float32Array;
  packed: Int8Array;
  /** Sum of each channel's s8 weights (the zero point's correction). */
  sums: Int32Array;
  /** Every weight is in [-64, 63] (7 bits): plain AVX2 then multiplies with vpmaddubsw, exactly. */
  weights7: boolean;
  bias: Float32Array | null;
}

/** Weight precisions `tokentune quantize --weight-bits` offers. */
export type WeightBits = 7 | 8;

/**
 * Symmetric per-channel weights: scale = max |w| / qmax, q = round half even (w / scale), in
 * float32, with qmax = 127 (8 bits) or 63 (7 bits, onnxruntime's reduce_range: what plain AVX2
 * multiplies exactly with vpmaddubsw).
 */
export function quantizeWeightPerChannel(
  w: Float32Array,
  n: number,
  k: number,
  bits: WeightBits = 8,
): { q: Int8Array; scale: Float32Array } {
  if (w.length !== n * k) throw new Error(`quantizeWeightPerChannel: weight has ${w.length} values, expected ${n} x ${k}`);
  const qmax = bits === 7 ? 63 : 127;
  const q = new Int8Array(n * k),
    scale = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let mx = 0;
    for (let p = 0; p < k; p++) mx = Math.max(mx, Math.abs(w[j * k + p]));
    if (!Number.isFinite(mx)) throw new Error(`quantizeWeightPerChannel: output channel ${j} has a non-finite weight`);
    const s = Math.fround(mx / qmax);
    scale[j] = s;
    if (s === 0) continue;
    for (let p = 0; p < k; p++) q[j * k + p] = Math.max(-qmax, Math.min(qmax, roundHalfEven(Math.fround(w[j * k + p] / s))));
  }
  return { q, scale };
}

/** Packs s8 weights [n, k] and their scales for `linearInt8`. */
export function int8Linear(q: Int8Array, scale: Float32Array, n: number, k: number, bias: Float32Array | null): Int8Linear {
  if (q.length !== n * k || scale.length !== n || (bias && bias.length !== n)) {
    throw new Error(
      `int8Linear: expected weight ${n} x ${k} (${q.length} given), ${n} scales (${scale.length})${bias ? `, ${n} biases (${bias.length})` : ''}`,
    );
  }
  const packed = new Int8Array(int8PackedSize(n, k));
  kernels().packInt8Weights(q, n, k, packed);
  const sums = new Int32Array(n);
  let weights7 = true;
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let p = 0; p < k; p++) {
      const v = q[j * k + p];
      s += v;
      if (v < -64 || v > 63) weights7 = false;
    }
    sums[j] = s;
  }
  // Decided by the values themselves, not by what a folder claims: a stray 64 or -65 takes the exact path.
  return { n, k, q, scale, packed, sums, bias, weights7 };
}

/** y = x W^T + b (+ residual), then GELU if asked, with W in int8: x [..., k] float32 -> [..., n]. */
export function linearInt8(x: Tensor, w: Int8Linear, opts: { residual?: Tensor; gelu?: 'erf' | 'tanh' } = {}): Tensor {
  if (!(x.data instanceof Float32Array)) throw new Error(`linearInt8: x must be float32, got ${x.dtype}`);
  if (needsGrad(x)) throw new Error('linearInt8: int8 layers are for inference only (run under noGrad; train the float model)');
  const [rows, inF] = rowsCols(x);
  if (inF !== w.k) throw new ShapeError('linearInt8', `input features must be ${w.k}`, x);
  const res = opts.residual;
  if (res && (res.size !== rows * w.n || !(res.data instanceof Float32Array)))
    throw new ShapeError('linearInt8', `residual must be float32 [${rows}, ${w.n}]`, x, res);
  const y = Tensor.empty([...x.shape.slice(0, -1), w.n]);
  const act = opts.gelu === 'erf' ? 1 : opts.gelu === 'tanh' ? 2 : 0;
  kernels().linearInt8(
    rows,
    w.n,
    w.k,
    x.data,
    w.packed,
    w.scale,
    w.sums,
    w.bias,
    res ? (res.data as Float32Array) : null,
    act,
    y.data as Float32Array,
    w.weights7,
  );
  return checked('linearInt8', y);
}
