/**
 * Child process of test/blas-backend.test.ts (TOKENTUNE_BLAS is read when the addon first runs a
 * GEMM, so each setting needs its own process): runs the native gemm on awkward shapes, all four
 * transposes, alpha/beta, padded leading dimensions, a strided batch and beta = 0 over NaN (C must
 * not be read), and compares with the float64 reference at the fp32 GEMM tolerance of
 * slow/native-kernels.test.ts. Prints one JSON line: { blas, cases, worst } or { error }.
 */
import { loadNative, nativeInfo } from '../../src/engine/native.js';
import { refKernels } from '../../src/engine/ref-kernels.js';

const EPS32 = 2 ** -23;
const k = loadNative();
if (!k) {
  console.log(JSON.stringify({ error: 'native addon not built' }));
  process.exit(0);
}
let seed = 7;
const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
let worst = 0,
  cases = 0;
try {
  for (const [m, n, kk] of [
    [1, 1, 1],
    [7, 17, 129],
    [129, 7, 17],
    [64, 129, 64],
    [300, 200, 129],
    [17, 1, 300],
  ]) {
    for (let t = 0; t < 4; t++) {
      const tA = (t & 1) === 1,
        tB = (t & 2) === 2;
      for (const [alpha, beta, pad, batch] of [
        [1, 0, 0, 1],
        [-0.75, 1.5, 3, 2],
      ]) {
        const lda = (tA ? m : kk) + pad,
          ldb = (tB ? kk : n) + pad,
          ldc = n + pad;
        const sA = (tA ? kk : m) * lda,
          sB = (tB ? n : kk) * ldb,
          sC = m * ldc;
        const a = new Float32Array(sA * batch).map(rand),
          b = new Float32Array(sB * batch).map(rand);
        const c = new Float32Array(sC * batch).map(() => (beta === 0 ? NaN : rand()));
        const c0 = Float64Array.from(c),
          want = Float64Array.from(c),
          mag = new Float64Array(c.length);
        k.gemm(tA, tB, m, n, kk, alpha, a, lda, sA, b, ldb, sB, beta, c, ldc, sC, batch);
        refKernels.gemm(tA, tB, m, n, kk, alpha, Float64Array.from(a), lda, sA, Float64Array.from(b), ldb, sB, beta, want, ldc, sC, batch);
        refKernels.gemm(
          tA,
          tB,
          m,
          n,
          kk,
          Math.abs(alpha),
          Float64Array.from(a, Math.abs),
          lda,
          sA,
          Float64Array.from(b, Math.abs),
          ldb,
          sB,
          0,
          mag,
          ldc,
          sC,
          batch,
        );
        for (let i = 0; i < c.length; i++) {
          if (i % ldc >= n) continue; // padding (NaN or random) is not C
          const tol = 4 * EPS32 * Math.sqrt(Math.max(kk, 1)) * (mag[i] + (beta === 0 ? 0 : Math.abs(beta * c0[i]))) + 1e-30;
          const d = Math.abs(c[i] - want[i]);
          if (!(d <= tol)) throw new Error(`tA=${tA} tB=${tB} ${m}x${n}x${kk} batch=${batch} element ${i}: ${c[i]} vs ${want[i]}`);
          worst = Math.max(worst, d / tol);
        }
        cases++;
      }
    }
  }
  console.log(JSON.stringify({ blas: nativeInfo()!.blas, cases, worst }));
} catch (e) {
  console.log(JSON.stringify({ error: (e as Error).message }));
}
