/**
 * The native addon against the TypeScript reference kernels (an independent, plain implementation
 * of the contract in kernels.ts), on awkward sizes (1, 7, 33, 129, sizes that are not multiples of
 * any SIMD width or register tile), for every instruction set this CPU supports (forced with
 * setNativeIsa, and once through TOKENTUNE_KERNEL in a child process), with subarray views whose
 * neighbouring elements must stay untouched.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { dropoutHash, dropoutThreshold, type Kernels } from '../../src/engine/kernels.js';
import { refKernels } from '../../src/engine/ref-kernels.js';
import { Rng } from '../../src/engine/random.js';
import {
  loadNative,
  nativeInfo,
  nativeKernels,
  nativeLoadError,
  setNativeIsa,
  setThreads,
  type NativeIsa,
} from '../../src/engine/native.js';

const native = loadNative();
const EPS32 = 1.1920929e-7;

// ---- helpers ---------------------------------------------------------------------------------------
/** Seeded uniform numbers in [-1, 1) from the engine's RNG. */
function rng(seed: number): () => number {
  const r = Rng.fromSeed(seed);
  return () => r.nextFloat() * 2 - 1;
}

const SENTINEL = 777.25;

/** A Float32Array view at an odd offset inside a larger buffer whose other elements are sentinels. */
class Guarded {
  readonly buf: Float32Array;
  readonly v: Float32Array;
  constructor(
    readonly n: number,
    fill: (i: number) => number,
    readonly off = 3,
  ) {
    this.buf = new Float32Array(n + off + 5).fill(SENTINEL);
    this.v = this.buf.subarray(off, off + n);
    for (let i = 0; i < n; i++) this.v[i] = fill(i);
  }
  copy(): Float32Array {
    return Float32Array.from(this.v);
  }
  checkPadding(label: string): void {
    for (let i = 0; i < this.buf.length; i++) {
      if (i >= this.off && i < this.off + this.n) continue;
      if (this.buf[i] !== SENTINEL) assert.fail(`${label}: element ${i - this.off} outside the view was written`);
    }
  }
}

function randView(n: number, r: () => number, scale = 1): Guarded {
  return new Guarded(n, () => r() * scale);
}

/** |actual - expected| <= atol + rtol * |expected| (or a per-element tolerance), elementwise. */
function assertClose(
  label: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol: number,
  rtol: number,
  tolAt?: (i: number) => number,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    if (Object.is(actual[i], expected[i])) continue; // also NaN in untouched gaps between rows
    const tol = tolAt ? tolAt(i) : atol + rtol * Math.abs(expected[i]);
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= tol)) {
      assert.fail(
        `${label}: element ${i}: native ${actual[i]} vs reference ${expected[i]} (|diff| ${d.toExponential(2)} > ${tol.toExponential(2)})`,
      );
    }
  }
}

function bytesEqual(a: Float32Array, b: Float32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

const SIZES = [1, 7, 33, 129, 1000, 40000]; // 40000 takes the multi-threaded path

// ---- GEMM ------------------------------------------------------------------------------------------
interface GemmCase {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  batch: number;
  pad: number;
  shareB?: boolean;
}

function runGemmCase(nk: Kernels, c: GemmCase, seed: number): void {
  const { transA, transB, m, n, k, alpha, beta, batch, pad } = c;
  const r = rng(seed);
  const [ar, ac] = transA ? [k, m] : [m, k];
  const [br, bc] = transB ? [n, k] : [k, n];
  const lda = ac + pad,
    ldb = bc + pad,
    ldc = n + pad;
  const strideA = ar * lda + pad,
    strideB = c.shareB ? 0 : br * ldb + 2 * pad,
    strideC = m * ldc + pad;
  const a = randView((batch - 1) * strideA + (ar - 1) * lda + ac, r);
  const b = randView((batch - 1) * strideB + (br - 1) * ldb + bc, r);
  // beta = 0 must not read C: fill it with NaN so any read shows.
  const cv = new Guarded((batch - 1) * strideC + (m - 1) * ldc + n, () => (beta === 0 ? NaN : r()));
  const cRef = cv.copy();
  const label =
    `gemm tA=${transA} tB=${transB} m=${m} n=${n} k=${k} batch=${batch} alpha=${alpha} beta=${beta} ld+${pad}` +
    (c.shareB ? ' (B shared by the batch)' : '');
  nk.gemm(transA, transB, m, n, k, alpha, a.v, lda, strideA, b.v, ldb, strideB, beta, cv.v, ldc, strideC, batch);
  refKernels.gemm(transA, transB, m, n, k, alpha, a.v, lda, strideA, b.v, ldb, strideB, beta, cRef, ldc, strideC, batch);
  // Scale of each entry: |alpha| * sum_p |a||b| + |beta c|; float32 error grows like sqrt(k) of it.
  const absA = a.v.map(Math.abs),
    absB = b.v.map(Math.abs);
  const mag = new Float64Array(cRef.length);
  refKernels.gemm(transA, transB, m, n, k, Math.abs(alpha), absA, lda, strideA, absB, ldb, strideB, 0, mag, ldc, strideC, batch);
  const c0 = cv.copy(); // (only padding between rows differs from cRef, and it must be untouched)
  assertClose(label, c0, cRef, 0, 0, (i) => {
    const orig = beta === 0 ? 0 : Math.abs(beta * cRef[i]);
    return 4 * EPS32 * Math.sqrt(Math.max(k, 1)) * (mag[i] + orig) + 1e-30;
  });
  a.checkPadding(`${label} (a)`);
  b.checkPadding(`${label} (b)`);
  cv.checkPadding(`${label} (c)`);
}

function gemmSuite(nk: Kernels): void {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 7, 33],
    [7, 1, 129],
    [33, 129, 7],
    [129, 33, 1],
    [7, 7, 7],
    [33, 33, 33],
    [129, 129, 33],
    [129, 45, 129],
    [200, 65, 300], // m past one packed A block, k past one packed depth block
    [3, 4200, 5], // n past one packed B block
  ];
  test('gemm: all four transposes on awkward shapes, alpha != 1, beta != 0, padded leading dimensions', () => {
    let seed = 1;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const [m, n, k] of shapes) {
          runGemmCase(nk, { transA, transB, m, n, k, alpha: 1, beta: 0, batch: 1, pad: 0 }, seed++);
          runGemmCase(nk, { transA, transB, m, n, k, alpha: -0.75, beta: 1.5, batch: 1, pad: 3 }, seed++);
        }
      }
    }
  });

  test('gemm: batched with strides (batch split and per-matrix split across threads)', () => {
    let seed = 100;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const batch of [2, 3, 5, 12]) {
          runGemmCase(nk, { transA, transB, m: 33, n: 40, k: 17, alpha: 0.5, beta: 0, batch, pad: 1 }, seed++);
          runGemmCase(nk, { transA, transB, m: 70, n: 129, k: 33, alpha: 1, beta: -1, batch, pad: 0 }, seed++);
          runGemmCase(nk, { transA, transB, m: 9, n: 20, k: 65, alpha: 1, beta: 0, batch, pad: 0, shareB: true }, seed++);
        }
      }
    }
  });

  test('gemm: every threading path (row split with shared B, dynamic column units, batch split) with 3 threads', () => {
    const threads = nativeInfo()!.threads;
    setThreads(3);
    try {
      let seed = 200;
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          // shared-B row split (m large), column split (m small), per-matrix split of an odd batch,
          // batch split
          runGemmCase(nk, { transA, transB, m: 300, n: 70, k: 129, alpha: 1.25, beta: 0.5, batch: 1, pad: 2 }, seed++);
          // shared B with few rows per thread: several L2-sized B blocks (nc_few_rows) and two depth blocks
          runGemmCase(nk, { transA, transB, m: 300, n: 1700, k: 300, alpha: 1, beta: -0.5, batch: 1, pad: 1 }, seed++);
          runGemmCase(nk, { transA, transB, m: 20, n: 3001, k: 40, alpha: 1, beta: 0, batch: 1, pad: 0 }, seed++);
          // a sequence-sized product: dynamic column units on every thread
          runGemmCase(nk, { transA, transB, m: 130, n: 1000, k: 70, alpha: 1, beta: 0.5, batch: 1, pad: 1 }, seed++);
          runGemmCase(nk, { transA, transB, m: 150, n: 129, k: 40, alpha: 1, beta: 2, batch: 4, pad: 1 }, seed++);
          runGemmCase(nk, { transA, transB, m: 64, n: 64, k: 64, alpha: -1, beta: 0, batch: 30, pad: 0 }, seed++);
        }
      }
    } finally {
      setThreads(threads);
    }
  });

  test('gemm: row chunks claimed as threads come give the same bytes for 1, 2, 3 and 5 threads (more threads than cores, so some are descheduled mid-chunk)', () => {
    const threads = nativeInfo()!.threads;
    // Several column blocks (n past the 4096-column block), several depth blocks, a short last
    // chunk of rows, beta != 0 (each depth block adds into C, so block order per row matters);
    // pre-packed B too, and a batch of matrices claimed one by one.
    const cases = [
      { transA: false, transB: true, m: 389, n: 4200, k: 600, batch: 1 },
      { transA: true, transB: false, m: 1000, n: 260, k: 1100, batch: 1 },
      { transA: false, transB: false, m: 70, n: 50, k: 90, batch: 9 },
    ];
    try {
      let seed = 900;
      for (const { transA, transB, m, n, k, batch } of cases) {
        const r = rng(seed++);
        const a = Float32Array.from({ length: m * k * batch }, r),
          b = Float32Array.from({ length: n * k * batch }, r),
          c0 = Float32Array.from({ length: m * n * batch }, r);
        const [lda, ldb] = [transA ? m : k, transB ? k : n];
        const packed = batch === 1 ? nk.packGemmB(b, transB, n, k) : null;
        let want: Float32Array | undefined;
        for (const t of [1, 2, 3, 5, 5, 3]) {
          setThreads(t);
          for (const p of packed ? [null, packed] : [null]) {
            const got = Float32Array.from(c0);
            nk.gemm(transA, transB, m, n, k, 0.75, a, lda, m * k, b, ldb, n * k, 1.5, got, n, m * n, batch, p);
            want ??= got;
            const label = `tA=${transA} tB=${transB} m=${m} n=${n} k=${k} batch=${batch} threads=${t}${p ? ' pre-packed' : ''}`;
            assert.ok(bytesEqual(got, want), label);
          }
        }
      }
    } finally {
      setThreads(threads);
    }
  });

  test('gemm with op(B) pre-packed by packGemmB: the same bytes as packing B on every call, on every threading path', () => {
    const threads = nativeInfo()!.threads;
    // serial; column units; shared-B row split (several B blocks and depth blocks); n <= 32 (the
    // AVX2 tile on AVX-512); edge panels (n not a multiple of any tile width); k past one depth block
    const shapes: [number, number, number][] = [
      [5, 9, 7],
      [130, 1000, 70],
      [300, 1700, 300],
      [128, 30, 600],
      [64, 129, 257],
      [1, 77, 33],
    ];
    let seed = 300;
    try {
      for (const t of [3, 1]) {
        setThreads(t);
        for (const transB of [false, true]) {
          for (const [m, n, k] of shapes) {
            const r = rng(seed++);
            const a = Float32Array.from({ length: m * k }, r),
              b = Float32Array.from({ length: n * k }, r),
              c0 = Float32Array.from({ length: m * n }, r);
            const ldb = transB ? k : n;
            const packed = nk.packGemmB(b, transB, n, k);
            assert.ok(packed, 'the native kernels pack');
            for (const [alpha, beta] of [
              [1, 0],
              [-0.5, 1.5],
            ]) {
              const want = Float32Array.from(c0),
                got = Float32Array.from(c0);
              nk.gemm(false, transB, m, n, k, alpha, a, k, 0, b, ldb, 0, beta, want, n, 0, 1);
              nk.gemm(false, transB, m, n, k, alpha, a, k, 0, b, ldb, 0, beta, got, n, 0, 1, packed);
              assert.ok(bytesEqual(got, want), `tB=${transB} m=${m} n=${n} k=${k} alpha=${alpha} beta=${beta} threads=${t}`);
            }
          }
        }
      }
    } finally {
      setThreads(threads);
    }
  });

  test('gemm: k = 0 scales C by beta, m or n = 0 leaves C alone', () => {
    const c = new Float32Array([1, 2, 3, 4]);
    nk.gemm(false, false, 2, 2, 0, 1, new Float32Array(0), 1, 0, new Float32Array(0), 2, 0, 0.5, c, 2, 4, 1);
    assert.deepEqual([...c], [0.5, 1, 1.5, 2]);
    const d = new Float32Array([NaN, NaN]);
    nk.gemm(false, false, 1, 2, 0, 1, new Float32Array(0), 1, 0, new Float32Array(0), 2, 0, 0, d, 2, 2, 1);
    assert.deepEqual([...d], [0, 0]);
    nk.gemm(false, false, 0, 2, 3, 1, new Float32Array(0), 3, 0, new Float32Array(6), 2, 0, 0, c, 2, 4, 1);
    assert.deepEqual([...c], [0.5, 1, 1.5, 2]);
  });
}

// ---- the other kernels ---------------------------------------------------------------------------
function elementwiseSuite(nk: Kernels): void {
  test('add, mul, axpy, scale (and add in place)', () => {
    for (const n of SIZES) {
      const r = rng(n);
      const a = randView(n, r),
        b = randView(n, r),
        out = randView(n, r);
      const refOut = new Float32Array(n);
      nk.add(a.v, b.v, out.v, n);
      refKernels.add(a.v, b.v, refOut, n);
      assertClose(`add n=${n}`, out.v, refOut, 0, 0);
      nk.mul(a.v, b.v, out.v, n);
      refKernels.mul(a.v, b.v, refOut, n);
      assertClose(`mul n=${n}`, out.v, refOut, 0, 0);
      const y = randView(n, r),
        yRef = y.copy();
      nk.axpy(n, 0.3, a.v, y.v);
      refKernels.axpy(n, 0.3, a.v, yRef);
      assertClose(`axpy n=${n}`, y.v, yRef, 1e-7, 2e-7);
      nk.scale(a.v, -1.7, out.v, n);
      refKernels.scale(a.v, -1.7, refOut, n);
      assertClose(`scale n=${n}`, out.v, refOut, 0, 2e-7);
      const aRef = a.copy();
      nk.add(a.v, b.v, a.v, n); // out aliases a
      refKernels.add(aRef, b.v, aRef, n);
      assertClose(`add in place n=${n}`, a.v, aRef, 0, 0);
      for (const g of [a, b, out, y]) g.checkPadding(`elementwise n=${n}`);
    }
  });

  test('sumSquares (double precision)', () => {
    for (const n of [...SIZES, 200000]) {
      const x = randView(n, rng(n + 1), 3);
      const got = nk.sumSquares(x.v, n);
      const want = refKernels.sumSquares(x.v, n);
      assert.ok(Math.abs(got - want) <= 1e-12 * want + 1e-300, `sumSquares n=${n}: ${got} vs ${want}`);
    }
    assert.equal(nk.sumSquares(new Float32Array(0), 0), 0);
  });

  test('geluForward/Backward (erf and tanh forms), tanhForward/Backward', () => {
    for (const n of SIZES) {
      const r = rng(n + 2);
      const x = randView(n, r, 6); // covers the tails of erf/tanh
      const dy = randView(n, r);
      for (const approximate of [0, 1]) {
        const y = randView(n, r),
          yRef = new Float32Array(n);
        nk.geluForward(x.v, y.v, n, approximate);
        refKernels.geluForward(x.v, yRef, n, approximate);
        assertClose(`gelu(${approximate}) n=${n}`, y.v, yRef, 1e-6, 1e-6);
        const dx = randView(n, r),
          dxRef = dx.copy();
        nk.geluBackward(x.v, dy.v, dx.v, n, approximate);
        refKernels.geluBackward(x.v, dy.v, dxRef, n, approximate);
        assertClose(`geluBackward(${approximate}) n=${n}`, dx.v, dxRef, 2e-6, 2e-6);
        y.checkPadding('gelu');
        dx.checkPadding('geluBackward');
      }
      const t = randView(n, r),
        tRef = new Float32Array(n);
      nk.tanhForward(x.v, t.v, n);
      refKernels.tanhForward(x.v, tRef, n);
      assertClose(`tanh n=${n}`, t.v, tRef, 3e-7, 1e-6);
      const dx = randView(n, r),
        dxRef = dx.copy();
      nk.tanhBackward(t.v, dy.v, dx.v, n);
      refKernels.tanhBackward(t.v, dy.v, dxRef, n);
      assertClose(`tanhBackward n=${n}`, dx.v, dxRef, 1e-7, 2e-7);
      t.checkPadding('tanh');
    }
  });

  test('dropoutForward/Backward: the keep mask and values match the reference bit for bit', () => {
    for (const n of SIZES) {
      for (const [p, seed] of [
        [0.1, 42],
        [0.5, 4294967295],
        [0, 7],
        [0.9, 123456789],
      ] as const) {
        const r = rng(n + seed);
        const x = randView(n, r);
        const y = randView(n, r),
          yRef = new Float32Array(n);
        nk.dropoutForward(x.v, y.v, n, p, seed);
        refKernels.dropoutForward(x.v, yRef, n, p, seed);
        assert.ok(bytesEqual(y.v, yRef), `dropout p=${p} seed=${seed} n=${n}: values differ from the reference`);
        const thr = dropoutThreshold(p);
        for (let i = 0; i < n; i++) {
          const keep = dropoutHash(seed, i) >= thr;
          if (keep !== (y.v[i] !== 0 || x.v[i] === 0)) assert.fail(`dropout mask differs at ${i}`);
        }
        const dx = randView(n, r),
          dxRef = dx.copy();
        nk.dropoutBackward(x.v, dx.v, n, p, seed);
        refKernels.dropoutBackward(x.v, dxRef, n, p, seed);
        assert.ok(bytesEqual(dx.v, dxRef), `dropoutBackward p=${p} seed=${seed} n=${n}: differs from the reference`);
        y.checkPadding('dropout');
        dx.checkPadding('dropoutBackward');
      }
    }
  });

  test('adamw: three steps against the reference (weight decay, bias correction, clip factor, zeroing)', () => {
    for (const n of SIZES) {
      const r = rng(n + 3);
      const p = randView(n, r),
        m = new Guarded(n, () => 0),
        v = new Guarded(n, () => 0);
      const pRef = p.copy(),
        mRef = new Float32Array(n),
        vRef = new Float32Array(n);
      for (let step = 1; step <= 3; step++) {
        const g = randView(n, r, 0.1);
        const gradScale = step === 2 ? 0.37 : 1,
          zeroGrad = step === 3;
        refKernels.adamw(pRef, g.v.slice(), mRef, vRef, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step, gradScale, false);
        const before = g.v.slice();
        nk.adamw(p.v, g.v, m.v, v.v, n, 1e-3, 0.9, 0.999, 1e-8, 0.01, step, gradScale, zeroGrad);
        if (zeroGrad)
          assert.ok(
            g.v.every((x) => x === 0),
            `adamw n=${n}: zeroGrad leaves the gradients zero`,
          );
        else assert.ok(bytesEqual(g.v, before), `adamw n=${n}: the gradients are not modified`);
        g.checkPadding('adamw grad');
      }
      assertClose(`adamw param n=${n}`, p.v, pRef, 1e-6, 1e-5);
      assertClose(`adamw m n=${n}`, m.v, mRef, 1e-9, 1e-5);
      assertClose(`adamw v n=${n}`, v.v, vRef, 1e-12, 1e-5);
      for (const gd of [p, m, v]) gd.checkPadding('adamw');
    }
  });
}

function rowSuite(nk: Kernels): void {
  const RC: [number, number][] = [
    [1, 1],
    [1, 7],
    [7, 33],
    [33, 7],
    [129, 129],
    [5, 1000],
    [64, 768],
  ];

  test('fused row passes (biasGelu, geluBackwardSumRows, biasDropoutAdd) equal the separate kernels', () => {
    const threads = nativeInfo()!.threads;
    try {
      for (const t of [1, 2, 3]) {
        setThreads(t);
        for (const [rows, cols] of [...RC, [70, 600] as [number, number]]) {
          const r = rng(rows * 7 + cols),
            n = rows * cols;
          const x = randView(n, r, 3),
            bias = randView(cols, r),
            g = randView(n, r),
            res = randView(n, r);
          for (const approximate of [0, 1]) {
            // biasGelu: against the reference, and bit for bit against addBias + geluForward.
            const pre = new Guarded(n, () => 0),
              y = randView(n, r);
            pre.v.set(x.v);
            nk.biasGelu(pre.v, bias.v, y.v, rows, cols, approximate);
            const preRef = x.v.slice(),
              yRef = new Float32Array(n);
            refKernels.biasGelu(preRef, bias.v, yRef, rows, cols, approximate);
            assertClose(`biasGelu pre ${rows}x${cols}`, pre.v, preRef, 0, 0);
            assertClose(`biasGelu(${approximate}) ${rows}x${cols}`, y.v, yRef, 1e-6, 1e-6);
            const ySep = new Float32Array(n);
            nk.geluForward(pre.v, ySep, n, approximate);
            assert.ok(bytesEqual(y.v, ySep), `biasGelu ${rows}x${cols}: differs from geluForward`);
            pre.checkPadding('biasGelu x');
            y.checkPadding('biasGelu y');

            // geluBackwardSumRows overwrites dx (garbage before) and accumulates db.
            const dx = randView(n, r),
              db = randView(cols, r);
            const dxRef = new Float32Array(n),
              dbRef = db.v.slice(),
              dbSep = db.v.slice(),
              dxSep = new Float32Array(n);
            nk.geluBackwardSumRows(pre.v, g.v, dx.v, db.v, rows, cols, approximate);
            refKernels.geluBackwardSumRows(pre.v, g.v, dxRef, dbRef, rows, cols, approximate);
            assertClose(`geluBackwardSumRows(${approximate}) dx ${rows}x${cols}`, dx.v, dxRef, 2e-6, 2e-6);
            assertClose(`geluBackwardSumRows(${approximate}) db ${rows}x${cols}`, db.v, dbRef, 1e-5, 1e-5);
            nk.geluBackward(pre.v, g.v, dxSep, n, approximate);
            nk.sumRowsAcc(dxSep, dbSep, rows, cols);
            assert.ok(
              bytesEqual(dx.v, dxSep) && bytesEqual(db.v, dbSep),
              `geluBackwardSumRows ${rows}x${cols}: differs from the separate kernels`,
            );
            dx.checkPadding('geluBackwardSumRows dx');
            db.checkPadding('geluBackwardSumRows db');
          }
          for (const p of [0, 0.1, 0.5]) {
            const seed = 1000 + rows + cols;
            const yv = randView(n, r),
              y0 = yv.v.slice();
            nk.biasDropoutAdd(yv.v, bias.v, res.v, rows, cols, p, seed);
            const yRef = y0.slice();
            refKernels.biasDropoutAdd(yRef, bias.v, res.v, rows, cols, p, seed);
            assertClose(`biasDropoutAdd p=${p} ${rows}x${cols}`, yv.v, yRef, 0, 0);
            yv.checkPadding('biasDropoutAdd');
          }
        }
      }
    } finally {
      setThreads(threads);
    }
  });

  test('addBias and sumRowsAcc', () => {
    for (const [rows, cols] of RC) {
      const r = rng(rows * 1000 + cols);
      const x = randView(rows * cols, r),
        bias = randView(cols, r),
        out = randView(rows * cols, r);
      const outRef = new Float32Array(rows * cols);
      nk.addBias(x.v, bias.v, out.v, rows, cols);
      refKernels.addBias(x.v, bias.v, outRef, rows, cols);
      assertClose(`addBias ${rows}x${cols}`, out.v, outRef, 0, 0);
      const db = randView(cols, r),
        dbRef = db.copy();
      nk.sumRowsAcc(x.v, db.v, rows, cols);
      refKernels.sumRowsAcc(x.v, dbRef, rows, cols);
      assertClose(`sumRowsAcc ${rows}x${cols}`, db.v, dbRef, 1e-6, 1e-6);
      out.checkPadding('addBias');
      db.checkPadding('sumRowsAcc');
    }
  });

  test('layerNormForward/Backward (biased variance; backward accumulates)', () => {
    for (const [rows, cols] of RC) {
      const r = rng(rows * 77 + cols);
      const x = new Guarded(rows * cols, () => 2 + 3 * r()); // offset mean, as real activations
      const gamma = randView(cols, r),
        beta = randView(cols, r);
      const y = randView(rows * cols, r),
        mean = randView(rows, r),
        rstd = randView(rows, r);
      const yRef = new Float32Array(rows * cols),
        meanRef = new Float32Array(rows),
        rstdRef = new Float32Array(rows);
      nk.layerNormForward(x.v, gamma.v, beta.v, y.v, mean.v, rstd.v, rows, cols, 1e-12);
      refKernels.layerNormForward(x.v, gamma.v, beta.v, yRef, meanRef, rstdRef, rows, cols, 1e-12);
      const label = `layerNorm ${rows}x${cols}`;
      assertClose(`${label} y`, y.v, yRef, 2e-6, 2e-6);
      assertClose(`${label} mean`, mean.v, meanRef, 1e-7, 1e-6);
      assertClose(`${label} rstd`, rstd.v, rstdRef, 0, 2e-6);
      const dy = randView(rows * cols, r);
      const dx = randView(rows * cols, r),
        dg = randView(cols, r),
        db = randView(cols, r);
      const dxRef = dx.copy(),
        dgRef = dg.copy(),
        dbRef = db.copy();
      nk.layerNormBackward(dy.v, x.v, gamma.v, meanRef, rstdRef, dx.v, dg.v, db.v, rows, cols);
      refKernels.layerNormBackward(dy.v, x.v, gamma.v, meanRef, rstdRef, dxRef, dgRef, dbRef, rows, cols);
      assertClose(`${label} dx`, dx.v, dxRef, 1e-5, 1e-5);
      // dgamma/dbeta sum over rows: tolerance grows with the number of rows summed.
      assertClose(`${label} dgamma`, dg.v, dgRef, 2e-6 * Math.sqrt(rows), 1e-5);
      assertClose(`${label} dbeta`, db.v, dbRef, 2e-6 * Math.sqrt(rows), 1e-5);
      for (const g of [y, mean, rstd, dx, dg, db]) g.checkPadding(label);
    }
  });

  test('softmaxForward (masked, scaled) and softmaxBackward', () => {
    const shapes: [number, number, number, number][] = [
      [1, 1, 1, 1],
      [1, 2, 3, 7],
      [2, 3, 7, 33],
      [2, 12, 33, 129],
      [3, 1, 2, 1],
    ];
    for (const [batch, heads, tq, tk] of shapes) {
      const r = rng(batch * heads * tq * tk);
      const n = batch * heads * tq * tk;
      const s = randView(n, r, 8);
      // Padding masks as the model builds them: 0 to attend, a large negative number for padding;
      // the last batch row is fully masked (the contract: still finite and uniform).
      const mask = new Guarded(batch * tk, (i) => {
        const b = Math.floor(i / tk),
          j = i % tk;
        return b === batch - 1 && batch > 1 ? -1e4 : j > 0 && j % 5 === 0 ? -3.4e38 : 0;
      });
      for (const m of [mask.v, null]) {
        const y = randView(n, r),
          yRef = new Float32Array(n);
        nk.softmaxForward(s.v, m, y.v, batch, heads, tq, tk, 0.125);
        refKernels.softmaxForward(s.v, m, yRef, batch, heads, tq, tk, 0.125);
        const label = `softmax ${batch}x${heads}x${tq}x${tk} mask=${m !== null}`;
        assertClose(label, y.v, yRef, 1e-7, 2e-6);
        const dy = randView(n, r),
          ds = randView(n, r),
          dsRef = ds.copy();
        nk.softmaxBackward(y.v, dy.v, ds.v, batch * heads * tq, tk, 0.125);
        refKernels.softmaxBackward(y.v, dy.v, dsRef, batch * heads * tq, tk, 0.125);
        assertClose(`${label} backward`, ds.v, dsRef, 1e-6, 1e-5);
        y.checkPadding(label);
        ds.checkPadding(label);
      }
    }
  });

  test('embeddingForward/Backward (repeated ids sum)', () => {
    for (const [n, dim, vocab] of [
      [1, 1, 1],
      [7, 33, 5],
      [129, 7, 200],
      [300, 768, 50],
    ] as const) {
      const r = rng(n * dim);
      const table = randView(vocab * dim, r);
      const idsBuf = new Int32Array(n + 2);
      const ids = idsBuf.subarray(1, n + 1);
      for (let i = 0; i < n; i++) ids[i] = Math.floor(((r() + 1) / 2) * vocab) % vocab;
      const out = randView(n * dim, r),
        outRef = new Float32Array(n * dim);
      nk.embeddingForward(table.v, ids, out.v, n, dim);
      refKernels.embeddingForward(table.v, ids, outRef, n, dim);
      assertClose(`embedding ${n}x${dim}`, out.v, outRef, 0, 0);
      const dout = randView(n * dim, r),
        dt = randView(vocab * dim, r),
        dtRef = dt.copy();
      nk.embeddingBackward(dout.v, ids, dt.v, n, dim);
      refKernels.embeddingBackward(dout.v, ids, dtRef, n, dim);
      assertClose(`embeddingBackward ${n}x${dim}`, dt.v, dtRef, 0, 0); // same order of float adds
      out.checkPadding('embedding');
      dt.checkPadding('embeddingBackward');
    }
  });

  test('permute0213 (overwrite and accumulate)', () => {
    for (const [d0, d1, d2, d3] of [
      [1, 1, 1, 1],
      [2, 7, 3, 5],
      [2, 33, 12, 64],
      [1, 129, 1, 7],
    ] as const) {
      const r = rng(d0 * d1 * d2 * d3);
      const n = d0 * d1 * d2 * d3;
      const x = randView(n, r);
      for (const accumulate of [false, true]) {
        const out = randView(n, r),
          outRef = out.copy();
        nk.permute0213(x.v, out.v, d0, d1, d2, d3, accumulate);
        refKernels.permute0213(x.v, outRef, d0, d1, d2, d3, accumulate);
        assertClose(`permute0213 ${d0}x${d1}x${d2}x${d3} acc=${accumulate}`, out.v, outRef, 0, 0);
        out.checkPadding('permute0213');
      }
    }
  });

  test('crossEntropyForward/Backward with ignored rows and class weights', () => {
    for (const [rows, classes] of [
      [1, 1],
      [7, 9],
      [129, 13],
      [2000, 33],
    ] as const) {
      const r = rng(rows * classes);
      const logits = randView(rows * classes, r, 10);
      const labels = new Int32Array(rows);
      for (let i = 0; i < rows; i++) labels[i] = i % 4 === 3 ? -100 : Math.floor(((r() + 1) / 2) * classes) % classes;
      const weights = randView(classes, () => 0.5 + Math.abs(r()));
      for (const w of [null, weights.v]) {
        const probs = randView(rows * classes, r),
          probsRef = new Float32Array(rows * classes);
        const [loss, wsum] = nk.crossEntropyForward(logits.v, labels, w, probs.v, rows, classes, -100);
        const [lossRef, wsumRef] = refKernels.crossEntropyForward(logits.v, labels, w, probsRef, rows, classes, -100);
        const label = `crossEntropy ${rows}x${classes} weights=${w !== null}`;
        assert.ok(Math.abs(loss - lossRef) <= 1e-6 * Math.abs(lossRef) + 1e-6, `${label}: loss ${loss} vs ${lossRef}`);
        assert.ok(Math.abs(wsum - wsumRef) <= 1e-9 * Math.abs(wsumRef), `${label}: weight sum ${wsum} vs ${wsumRef}`);
        assertClose(`${label} probs`, probs.v, probsRef, 1e-7, 2e-6);
        const dl = randView(rows * classes, r),
          dlRef = dl.copy();
        nk.crossEntropyBackward(probsRef, labels, w, dl.v, rows, classes, -100, 0.37);
        refKernels.crossEntropyBackward(probsRef, labels, w, dlRef, rows, classes, -100, 0.37);
        assertClose(`${label} backward`, dl.v, dlRef, 1e-7, 1e-6);
        probs.checkPadding(label);
        dl.checkPadding(label);
      }
    }
  });
}

// ---- determinism, validation, configuration -------------------------------------------------------
function runAll(nk: Kernels, seed: number): Float32Array[] {
  const r = rng(seed);
  const outs: Float32Array[] = [];
  const a = randView(300 * 200, r).v,
    b = randView(500 * 200, r).v;
  const c = new Float32Array(300 * 500).fill(0.5);
  nk.gemm(false, true, 300, 500, 200, 0.7, a, 200, 0, b, 200, 0, -1.5, c, 500, 0, 1);
  outs.push(c);
  // Few rows, wide output: L2-sized B blocks on one thread, column units on several.
  const wa = randView(100 * 300, r).v,
    wb = randView(300 * 2000, r).v;
  const wc = new Float32Array(100 * 2000).fill(0.25);
  nk.gemm(false, false, 100, 2000, 300, 1, wa, 300, 0, wb, 2000, 0, 0.5, wc, 2000, 0, 1);
  outs.push(wc);
  const big = randView(100000, r).v,
    dy = randView(100000, r).v;
  const db = new Float32Array(1000);
  nk.sumRowsAcc(big, db, 100, 1000);
  outs.push(db);
  const dg = new Float32Array(1000),
    dbeta = new Float32Array(1000),
    dx = new Float32Array(100000);
  const mean = new Float32Array(100),
    rstd = new Float32Array(100),
    y = new Float32Array(100000);
  nk.layerNormForward(big, db, db, y, mean, rstd, 100, 1000, 1e-5);
  nk.layerNormBackward(dy, big, db, mean, rstd, dx, dg, dbeta, 100, 1000);
  outs.push(y, dx, dg, dbeta);
  const ids = new Int32Array(100).map((_, i) => i % 7);
  const dt = new Float32Array(7 * 1000);
  nk.embeddingBackward(big, ids, dt, 100, 1000);
  outs.push(dt, new Float32Array([nk.sumSquares(big, 100000)]));
  const probs = new Float32Array(100000);
  const labels = new Int32Array(10000).map((_, i) => i % 10);
  outs.push(new Float32Array(nk.crossEntropyForward(big, labels, null, probs, 10000, 10, -100)), probs);
  return outs;
}

function determinismSuite(nk: Kernels, defaultThreads: number): void {
  test('deterministic: same inputs twice, and 1 vs 2 vs 3 threads, give identical bytes', () => {
    try {
      const first = runAll(nk, 9);
      const again = runAll(nk, 9);
      first.forEach((o, i) => assert.ok(bytesEqual(o, again[i]), `output ${i} differs between two identical runs`));
      for (const t of [1, 3]) {
        setThreads(t);
        const other = runAll(nk, 9);
        first.forEach((o, i) => assert.ok(bytesEqual(o, other[i]), `output ${i} differs with ${t} threads`));
      }
    } finally {
      setThreads(defaultThreads);
    }
  });
}

function validationSuite(nk: Kernels): void {
  test('bad arguments throw clear errors instead of touching memory', () => {
    const f = new Float32Array(6);
    assert.throws(
      () => nk.gemm(false, false, 2, 2, 3, 1, new Float32Array(5), 3, 0, f, 2, 0, 0, f, 2, 0, 1),
      (e: Error) => e instanceof RangeError && /gemm: a has 5 elements, needs at least 6/.test(e.message),
    );
    assert.throws(() => nk.gemm(false, false, 2, 2, 3, 1, f, 2, 0, f, 2, 0, 0, f, 2, 0, 1), /lda = 2 is less than/);
    assert.throws(() => nk.gemm(false, false, 2, 2, 3, 1, f, 3, 6, f, 2, 6, 0, f, 2, 2, 2), /strideC/);
    assert.throws(
      () => nk.gemm(false, false, 2, 2, 3, 1, new Float64Array(6), 3, 0, f, 2, 0, 0, f, 2, 0, 1),
      (e: Error) => e instanceof TypeError && /Float32Array/.test(e.message),
    );
    assert.throws(() => nk.add(f, f, f, 7), RangeError);
    assert.throws(() => (nk.add as unknown as (a: Float32Array) => void)(f), /expected 4 arguments, got 1/);
    assert.throws(() => nk.add(f, f, f, -1), RangeError);
    assert.throws(() => nk.add(f, f, f, 1.5), RangeError);
    assert.throws(() => nk.embeddingForward(f, new Int32Array([3]), f, 1, 2), /ids\[0\] = 3 is outside the table's 3 rows/);
    assert.throws(() => nk.crossEntropyForward(f, new Int32Array([0, 5]), null, f, 2, 3, -100), /labels\[1\] = 5/);
    assert.throws(() => nk.dropoutForward(f, f, 6, 1, 0), /p must be in \[0, 1\)/);
    assert.throws(() => nk.softmaxForward(f, new Float32Array(1), f, 1, 1, 3, 2, 1), /mask has 1 elements/);
    assert.throws(() => nk.geluForward(f, f, 6, 2), /approximate/);
    // A packed op(B) must be packGemmB's, for this product's shape, whole.
    const w = Float32Array.from({ length: 12 }, (_, i) => i - 5);
    const pw = nk.packGemmB(w, true, 4, 3)!;
    const x = new Float32Array(6).fill(1),
      y = new Float32Array(8);
    assert.throws(
      () => nk.gemm(false, true, 2, 4, 3, 1, x, 3, 0, w, 3, 0, 0, y, 4, 0, 1, new Float32Array(pw.length)),
      /packedB was not made by packGemmB/,
    );
    assert.throws(
      () => nk.gemm(false, true, 2, 3, 4, 1, new Float32Array(8), 4, 0, w, 4, 0, 0, y, 3, 0, 1, pw),
      /packedB holds a 3 x 4 op\(B\); this product is 4 x 3/,
    );
    assert.throws(
      () => nk.gemm(false, true, 2, 4, 3, 1, x, 3, 0, w, 3, 0, 0, y, 4, 0, 1, pw.slice(0, 20)),
      /packedB has 20 elements, needs at least/,
    );
    assert.throws(() => nk.gemm(false, true, 1, 4, 3, 1, x, 3, 3, w, 3, 0, 0, y, 4, 4, 2, pw), /\(batch 2\)/);
    nk.gemm(false, true, 2, 4, 3, 1, x, 3, 0, w, 3, 0, 0, y, 4, 0, 1, pw);
    assert.deepEqual([...y], [-12, -3, 6, 15, -12, -3, 6, 15]);
    // SharedArrayBuffer-backed views work like any other (worker threads may share buffers).
    const shared = new Float32Array(new SharedArrayBuffer(4 * 8)).fill(2).subarray(2, 6);
    nk.scale(shared, 1.5, shared, 4);
    assert.deepEqual([...shared], [3, 3, 3, 3]);
  });
}

// ---- fused attention ------------------------------------------------------------------------------
function attentionSuite(nk: Kernels): void {
  test('attentionForward/Backward: every (sequence, head) block against the reference, fp32 and bf16, strided views, mask, dropout, betas', () => {
    const threads = nativeInfo()!.threads;
    const cases = [
      { B: 1, T: 1, nh: 1, d: 1, extra: 0, p: 0, masked: false },
      { B: 2, T: 7, nh: 3, d: 5, extra: 4, p: 0.2, masked: true },
      { B: 3, T: 33, nh: 2, d: 16, extra: 0, p: 0, masked: true },
      { B: 2, T: 20, nh: 4, d: 8, extra: 32, p: 0.5, masked: false },
    ];
    try {
      for (const c of cases) {
        const { B, T, nh, d } = c;
        const H = nh * d,
          ld = H + c.extra,
          ldd = H + 3,
          r = rng(B * 1000 + T * 10 + nh);
        const q = randView(B * T * ld, r),
          k = randView(B * T * ld, r),
          v = randView(B * T * ld, r);
        const mask = c.masked ? new Float32Array(B * T).map((_, i) => (i % T < T - 1 - (i % 3) ? 0 : -3.4028234663852886e38)) : null;
        const g = randView(B * T * H, r);
        const nP = B * nh * T * T,
          scale = 1 / Math.sqrt(d),
          seed = 77 + T;
        for (const bf16 of [false, true]) {
          const results: Float32Array[][] = [];
          for (const t of [1, 2, 3]) {
            setThreads(t);
            const probs = new Guarded(nP, () => NaN),
              ctx = new Guarded(B * T * H, () => NaN);
            nk.attentionForward(q.v, k.v, v.v, ld, mask, probs.v, ctx.v, H, B, T, nh, d, scale, c.p, seed, bf16);
            // dq overwritten (beta 0, garbage before), dk accumulated (beta 1), dv overwritten.
            const dq = randView(B * T * ldd, rng(5)),
              dk = randView(B * T * ldd, rng(6)),
              dv = randView(B * T * ldd, rng(7));
            const dk0 = dk.v.slice();
            nk.attentionBackward(q.v, k.v, v.v, ld, probs.v, g.v, H, dq.v, dk.v, dv.v, ldd, 0, 1, 0, B, T, nh, d, scale, c.p, seed, bf16);
            for (const x of [probs, ctx, dq, dk, dv]) x.checkPadding('attention');
            results.push([probs.v, ctx.v, dq.v, dk.v, dv.v].map((x) => x.slice()));
            if (t > 1) {
              results[results.length - 1].forEach((x, i) =>
                assert.ok(
                  bytesEqual(x, results[0][i]),
                  `attention ${JSON.stringify(c)} bf16=${bf16}: output ${i} with ${t} threads differs from 1 thread`,
                ),
              );
              continue;
            }
            const pRef = new Float32Array(nP),
              cRef = new Float32Array(B * T * H);
            refKernels.attentionForward(q.v, k.v, v.v, ld, mask, pRef, cRef, H, B, T, nh, d, scale, c.p, seed, bf16);
            const tol = bf16 ? 2e-5 : 2e-6;
            assertClose(`attention probs ${JSON.stringify(c)} bf16=${bf16}`, probs.v, pRef, tol, tol);
            assertClose(`attention ctx ${JSON.stringify(c)} bf16=${bf16}`, ctx.v, cRef, tol, tol);
            const dqRef = new Float32Array(B * T * ldd),
              dkRef = dk0,
              dvRef = new Float32Array(B * T * ldd);
            refKernels.attentionBackward(
              q.v,
              k.v,
              v.v,
              ld,
              pRef,
              g.v,
              H,
              dqRef,
              dkRef,
              dvRef,
              ldd,
              0,
              1,
              0,
              B,
              T,
              nh,
              d,
              scale,
              c.p,
              seed,
              bf16,
            );
            // Columns past H in the ldd-strided gradients are never written.
            const inView = (i: number) => i % ldd < H;
            const gtol = bf16 ? 1e-4 : 1e-5;
            for (const [name, a, e] of [
              ['dq', dq.v, dqRef],
              ['dk', dk.v, dkRef],
              ['dv', dv.v, dvRef],
            ] as const) {
              assertClose(
                `attention ${name} ${JSON.stringify(c)} bf16=${bf16}`,
                a.filter((_, i) => inView(i)),
                e.filter((_, i) => inView(i)),
                gtol,
                gtol,
              );
            }
          }
        }
        // Null gradients are skipped; dv alone still matches.
        const probs = new Float32Array(nP),
          ctx = new Float32Array(B * T * H);
        nk.attentionForward(q.v, k.v, v.v, ld, mask, probs, ctx, H, B, T, nh, d, scale, c.p, seed, false);
        const dvOnly = new Float32Array(B * T * ldd),
          dvRef = new Float32Array(B * T * ldd);
        nk.attentionBackward(q.v, k.v, v.v, ld, probs, g.v, H, null, null, dvOnly, ldd, 0, 0, 0, B, T, nh, d, scale, c.p, seed, false);
        refKernels.attentionBackward(
          q.v,
          k.v,
          v.v,
          ld,
          probs,
          g.v,
          H,
          null,
          null,
          dvRef,
          ldd,
          0,
          0,
          0,
          B,
          T,
          nh,
          d,
          scale,
          c.p,
          seed,
          false,
        );
        assertClose(`attention dv only ${JSON.stringify(c)}`, dvOnly, dvRef, 1e-5, 1e-5);
      }
    } finally {
      setThreads(threads);
    }
  });
}

// ---- registration ---------------------------------------------------------------------------------
if (native === null) {
  test('native kernels', {
    skip: `native addon not built (${nativeLoadError()}); run "npm ci" or "npm run install" to build it`,
  }, () => {});
} else {
  const info = nativeInfo()!;
  const levels: NativeIsa[] = info.maxIsa === 'neon' ? ['scalar', 'neon'] : ['scalar', 'avx2', 'avx512'];
  const available = levels.slice(0, levels.indexOf(info.maxIsa) + 1);
  after(() => setNativeIsa(info.isa));
  for (const isa of levels) {
    if (!available.includes(isa)) {
      test(`native kernels (${isa})`, { skip: `this CPU supports at most ${info.maxIsa}` }, () => {});
      continue;
    }
    describe(`native kernels (${isa}) vs reference`, () => {
      test(`switch to ${isa}`, () => {
        setNativeIsa(isa);
        assert.equal(native.name, `native-${isa}`);
      });
      gemmSuite(native);
      elementwiseSuite(native);
      rowSuite(native);
      attentionSuite(native);
      determinismSuite(native, info.threads);
    });
  }
  describe('native addon', () => {
    validationSuite(native);

    test('configuration: nativeKernels reports the pool and ISA; setThreads validates', () => {
      assert.equal(nativeKernels.available, true);
      assert.equal(nativeKernels.threads, nativeInfo()!.threads);
      assert.ok(['scalar', 'avx2', 'avx512', 'neon'].includes(nativeKernels.isa!));
      assert.throws(() => setThreads(0), RangeError);
      assert.throws(() => setNativeIsa('sse9' as NativeIsa), /unknown ISA/);
      assert.equal(loadNative(), native);
    });

    test('a B packed under another ISA (other panel width) is not used: the product is still right', () => {
      const [m, n, k] = [40, 200, 50];
      const r = rng(77);
      const a = Float32Array.from({ length: m * k }, r),
        b = Float32Array.from({ length: n * k }, r);
      for (const [from, to] of [
        [available.at(-1)!, 'scalar'],
        ['scalar', available.at(-1)!],
      ] as [NativeIsa, NativeIsa][]) {
        setNativeIsa(from);
        const packed = native.packGemmB(b, true, n, k);
        setNativeIsa(to);
        const want = new Float32Array(m * n),
          got = new Float32Array(m * n);
        native.gemm(false, true, m, n, k, 1, a, k, 0, b, k, 0, 0, want, n, 0, 1);
        native.gemm(false, true, m, n, k, 1, a, k, 0, b, k, 0, 0, got, n, 0, 1, packed);
        assert.ok(bytesEqual(got, want), `packed under ${from}, used under ${to}`);
      }
      setNativeIsa(info.isa);
    });

    test('TOKENTUNE_KERNEL and TOKENTUNE_THREADS are honoured at load (child process)', () => {
      const nativeJs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'engine', 'native.js');
      const script = `import(${JSON.stringify(nativeJs)}).then((m) => {
        const k = m.loadNative();
        const c = new Float32Array(4);
        k.gemm(false, true, 2, 2, 3, 1, new Float32Array([1, 2, 3, 4, 5, 6]), 3, 0,
          new Float32Array([1, 0, 1, 0, 1, 0]), 3, 0, 0, c, 2, 0, 1);
        console.log(JSON.stringify({ info: m.nativeInfo(), c: [...c] }));
      });`;
      const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, TOKENTUNE_KERNEL: 'scalar', TOKENTUNE_THREADS: '3' },
        encoding: 'utf8',
      });
      assert.equal(res.status, 0, res.stderr);
      const out = JSON.parse(res.stdout) as { info: { isa: string; threads: number }; c: number[] };
      assert.equal(out.info.isa, 'scalar');
      assert.equal(out.info.threads, 3);
      assert.deepEqual(out.c, [4, 2, 10, 5]);
    });
  });
}
