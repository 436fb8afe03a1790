/**
 * Reference of the int8 kernels (`linearInt8`, `packInt8Weights`; semantics in kernels.ts): plain
 * loops over the packed layout, exact integer sums, the contract's float32 epilogue. The native
 * paths (AVX512-VNNI, AVX-VNNI, AVX2, portable) are tested against these bit for bit.
 */
import { int8PackedSize, quantizeRowU8 } from './kernels.js';

export function refPackInt8Weights(w: Int8Array, n: number, k: number, out: Int8Array): void {
  const kg = Math.ceil(k / 4);
  out.fill(0, 0, int8PackedSize(n, k));
  for (let j = 0; j < n; j++) {
    const base = Math.floor(j / 16) * kg * 64 + (j % 16) * 4;
    for (let p = 0; p < k; p++) out[base + Math.floor(p / 4) * 64 + (p % 4)] = w[j * k + p];
  }
}

export function refLinearInt8(
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
  gelu: (x: Float32Array, y: Float32Array, n: number, approximate: number) => void,
): void {
  const f = Math.fround;
  const kg = Math.ceil(k / 4);
  // weights7 changes no result, only which native tile may run; a false claim would let plain AVX2
  // saturate, so the reference refuses it.
  if (weights7) {
    const bad = w.subarray(0, int8PackedSize(n, k)).findIndex((v) => v < -64 || v > 63);
    if (bad >= 0) throw new RangeError(`linearInt8: weights7 is set but packed weight ${bad} is ${w[bad]}, outside [-64, 63]`);
  }
  const q = new Uint8Array(k);
  for (let i = 0; i < m; i++) {
    const { scale, zero } = quantizeRowU8(x.subarray(i * k, (i + 1) * k), q);
    for (let j = 0; j < n; j++) {
      const base = Math.floor(j / 16) * kg * 64 + (j % 16) * 4;
      let acc = 0;
      for (let p = 0; p < k; p++) acc += q[p] * w[base + Math.floor(p / 4) * 64 + (p % 4)];
      let v = f(f(acc - zero * wSum[j]) * f(scale * wScale[j]));
      if (bias) v = f(v + bias[j]);
      if (residual) v = f(v + residual[i * n + j]);
      y[i * n + j] = v;
    }
    if (act) gelu(y.subarray(i * n, (i + 1) * n), y.subarray(i * n, (i + 1) * n), n, act === 2 ? 1 : 0);
  }
}
