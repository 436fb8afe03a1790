/**
 * The bf16 mixed-precision GEMM: bf16Round against hand-derived bfloat16 values, then the native
 * gemmBf16 (VDPBF16PS path where the CPU has AVX512_BF16, and the portable round-then-fp32 path)
 * against the TypeScript reference on awkward shapes (1, 7, 33, 129), every transpose, alpha/beta,
 * padded leading dimensions, strided batches and every threading path; results must not depend on
 * the thread count.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bf16Round, type Kernels } from '../src/engine/kernels.js';
import { refKernels } from '../src/engine/ref-kernels.js';
import { Rng } from '../src/engine/random.js';
import { loadNative, nativeBf16Info, nativeInfo, setNativeBf16Fallback, setThreads } from '../src/engine/native.js';

const EPS32 = 1.1920929e-7;

/** Seeded uniform numbers in [-1, 1) from the engine's RNG. */
function rng(seed: number): () => number {
  const r = Rng.fromSeed(seed);
  return () => r.nextFloat() * 2 - 1;
}

test('bf16Round: round to nearest even on 8 significant bits, denormals to signed zero, NaN/inf kept', () => {
  // Near 1 the bf16 spacing is 2^-7.
  assert.equal(bf16Round(1), 1);
  assert.equal(bf16Round(1 + 2 ** -8), 1); // tie -> even (1)
  assert.equal(bf16Round(1 + 3 * 2 ** -8), 1 + 2 ** -6); // tie -> even (1 + 2^-6)
  assert.equal(bf16Round(1 + 2 ** -8 + 2 ** -20), 1 + 2 ** -7); // just above the tie
  assert.equal(bf16Round(-(1 + 2 ** -7 + 2 ** -9)), -(1 + 2 ** -7));
  assert.equal(bf16Round(3.14159265), 3.140625); // 0x4049
  assert.equal(bf16Round(1e-40), 0); // float32 denormal
  assert.ok(Object.is(bf16Round(-1e-40), -0));
  assert.equal(bf16Round(2 ** -126), 2 ** -126); // smallest normal survives
  assert.ok(Number.isNaN(bf16Round(NaN)));
  assert.equal(bf16Round(Infinity), Infinity);
  assert.equal(bf16Round(3.4e38), Infinity); // rounds past the largest bf16 (about 3.39e38)
  assert.equal(bf16Round(65504), 65536);
});

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  batch: number;
  pad: number;
}

function runCase(nk: Kernels, c: Case, seed: number): Float32Array {
  const { transA, transB, m, n, k, alpha, beta, batch, pad } = c;
  const r = rng(seed);
  const [ar, ac] = transA ? [k, m] : [m, k];
  const [br, bc] = transB ? [n, k] : [k, n];
  const lda = ac + pad,
    ldb = bc + pad,
    ldc = n + pad;
  const strideA = ar * lda + pad,
    strideB = br * ldb + 2 * pad,
    strideC = m * ldc + pad;
  const a = Float32Array.from({ length: (batch - 1) * strideA + (ar - 1) * lda + ac }, () => r());
  const b = Float32Array.from({ length: (batch - 1) * strideB + (br - 1) * ldb + bc }, () => r() * 3);
  const cLen = (batch - 1) * strideC + (m - 1) * ldc + n;
  const c0 = Float32Array.from({ length: cLen }, () => (beta === 0 ? NaN : r())); // beta = 0 must not read C
  const cv = Float32Array.from(c0),
    cRef = new Float64Array(c0);
  nk.gemmBf16(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, cv, ldc, strideC, batch);
  // Reference in float64 on the rounded operands (products of bf16 values are exact in float32 too).
  refKernels.gemmBf16(
    transA,
    transB,
    m,
    n,
    k,
    alpha,
    new Float64Array(a),
    lda,
    strideA,
    new Float64Array(b),
    ldb,
    strideB,
    beta,
    cRef,
    ldc,
    strideC,
    batch,
  );
  const mag = new Float64Array(cLen);
  refKernels.gemm(
    transA,
    transB,
    m,
    n,
    k,
    Math.abs(alpha),
    new Float64Array(a.map((x) => Math.abs(bf16Round(x)))),
    lda,
    strideA,
    new Float64Array(b.map((x) => Math.abs(bf16Round(x)))),
    ldb,
    strideB,
    0,
    mag,
    ldc,
    strideC,
    batch,
  );
  const label = `gemmBf16 tA=${transA} tB=${transB} m=${m} n=${n} k=${k} batch=${batch} alpha=${alpha} beta=${beta} pad=${pad}`;
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const at = bi * strideC + i * ldc + j;
        const tol = 4 * EPS32 * Math.sqrt(Math.max(k, 1)) * (mag[at] + Math.abs(beta * c0[at] || 0)) + 1e-30;
        const d = Math.abs(cv[at] - cRef[at]);
        if (!(d <= tol)) assert.fail(`${label}: C[${bi}][${i}][${j}] native ${cv[at]} vs reference ${cRef[at]} (diff ${d} > ${tol})`);
      }
    }
  }
  // Elements between rows/matrices (padding) are untouched.
  for (let at = 0; at < cLen; at++) {
    const bi = Math.floor(at / strideC),
      rem = at - bi * strideC,
      i = Math.floor(rem / ldc),
      j = rem - i * ldc;
    if (i >= m || j >= n) assert.ok(Object.is(cv[at], c0[at]), `${label}: padding element ${at} was written`);
  }
  return cv;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 33],
  [7, 1, 129],
  [33, 129, 7],
  [129, 33, 1],
  [7, 7, 7],
  [33, 33, 33],
  [129, 129, 33],
  [129, 65, 300], // k past one packed depth block (128 pairs), m past one 16-panel unit
  [13, 200, 257], // odd k past a block, n past a two-panel unit
];

const native = loadNative();
const bf16 = native ? nativeBf16Info() : null;
const paths: [string, boolean][] = [];
if (native && bf16?.available) paths.push(['VDPBF16PS', false]);
if (native) paths.push(['portable fallback', true]);

for (const [pathName, fallback] of paths) {
  describe(`native gemmBf16 (${pathName}) vs reference`, () => {
    const nk = native!;
    const withPath = <T>(fn: () => T): T => {
      setNativeBf16Fallback(fallback);
      try {
        return fn();
      } finally {
        setNativeBf16Fallback(false);
      }
    };

    test('every transpose, awkward shapes, alpha != 1, beta != 0, padded leading dimensions', () =>
      withPath(() => {
        if (!fallback) assert.equal(nativeBf16Info()!.native, nativeInfo()!.isa === 'avx512');
        let seed = 1;
        for (const transA of [false, true]) {
          for (const transB of [false, true]) {
            for (const [m, n, k] of SHAPES) {
              runCase(nk, { transA, transB, m, n, k, alpha: 1, beta: 0, batch: 1, pad: 0 }, seed++);
              runCase(nk, { transA, transB, m, n, k, alpha: -0.75, beta: 1.5, batch: 1, pad: 3 }, seed++);
            }
          }
        }
      }));

    test('strided batches and large products on 1, 2 and 3 threads give identical bits', () =>
      withPath(() => {
        const threads = nativeInfo()!.threads;
        const cases: Case[] = [
          { transA: false, transB: true, m: 33, n: 40, k: 17, alpha: 0.5, beta: 0, batch: 5, pad: 1 },
          { transA: true, transB: false, m: 70, n: 129, k: 33, alpha: 1, beta: -1, batch: 3, pad: 0 },
          { transA: false, transB: false, m: 300, n: 150, k: 129, alpha: 1.25, beta: 0.5, batch: 1, pad: 2 }, // shared packing
          { transA: true, transB: true, m: 64, n: 64, k: 64, alpha: -1, beta: 0, batch: 30, pad: 0 },
        ];
        try {
          const results = [1, 2, 3].map((t) => {
            setThreads(t);
            return cases.map((c, i) => runCase(nk, c, 500 + i));
          });
          for (let i = 0; i < cases.length; i++) {
            assert.deepEqual(results[1][i], results[0][i], `case ${i}: 2 threads vs 1`);
            assert.deepEqual(results[2][i], results[0][i], `case ${i}: 3 threads vs 1`);
          }
        } finally {
          setThreads(threads);
        }
      }));

    test('rounding matches the definition exactly (1 x 1 products of tie and denormal cases)', () =>
      withPath(() => {
        const vals = [1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -7 + 2 ** -9), 3.14159265, 1e-40, -1e-40, 2 ** -126, 65504, 0.1];
        for (const x of vals) {
          for (const y of [1, -3, 1 + 2 ** -8]) {
            const c = new Float32Array(1);
            nk.gemmBf16(false, false, 1, 1, 1, 1, Float32Array.of(x), 1, 0, Float32Array.of(y), 1, 0, 0, c, 1, 0, 1);
            // The sum starts from +0 (so a -0 product gives +0, as in every GEMM).
            assert.equal(c[0], Math.fround(0 + bf16Round(x) * bf16Round(y)), `bf16(${x}) * bf16(${y})`);
          }
        }
      }));

    test('k = 0 scales C by beta; Float64Array is rejected', () =>
      withPath(() => {
        const c = new Float32Array([1, 2, 3, 4]);
        nk.gemmBf16(false, false, 2, 2, 0, 1, new Float32Array(0), 1, 0, new Float32Array(0), 2, 0, 0.5, c, 2, 4, 1);
        assert.deepEqual([...c], [0.5, 1, 1.5, 2]);
        const d = new Float32Array([NaN, NaN]);
        nk.gemmBf16(false, false, 1, 2, 0, 1, new Float32Array(0), 1, 0, new Float32Array(0), 2, 0, 0, d, 2, 2, 1);
        assert.deepEqual([...d], [0, 0]);
        assert.throws(
          () =>
            nk.gemmBf16(false, false, 1, 1, 1, 1, new Float64Array(1), 1, 0, new Float32Array(1), 1, 0, 0, new Float32Array(1), 1, 0, 1),
          TypeError,
        );
        assert.throws(
          () =>
            nk.gemmBf16(false, false, 2, 2, 2, 1, new Float32Array(3), 2, 0, new Float32Array(4), 2, 0, 0, new Float32Array(4), 2, 0, 1),
          RangeError,
        );
      }));
  });
}

test('native gemmBf16 availability is reported', { skip: native ? false : 'native addon not built' }, () => {
  const info = nativeBf16Info()!;
  assert.equal(typeof info.available, 'boolean');
  if (!info.available) assert.equal(info.native, false);
});
