/**
 * int8 inference kernels (linearInt8, packInt8Weights): every native path this CPU has
 * (AVX512-VNNI, AVX-VNNI, AVX2, portable; forced with setNativeInt8Path, and at load with TOKENTUNE_INT8) against the TypeScript
 * reference, bit for bit before the GELU, with 8-bit and 7-bit weights (AVX2's vpmaddubsw tile, at
 * the -64 / 63 boundary against u8 0 / 255, and a -65 that must take the exact tile), on awkward shapes (n and k off every block and tile
 * width, rows past one tile and one row block; products big enough to be split between threads)
 * and 1, 2 and 3 threads; edge rows (all zero, all negative, huge, NaN); and the reference itself against the float product within the
 * quantization error bound (an outside check: plain float64 arithmetic, no int8 code).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { int8PackedSize, quantizeRowU8, roundHalfEven, type Kernels } from '../src/engine/kernels.js';
import { refKernels } from '../src/engine/ref-kernels.js';
import { Rng } from '../src/engine/random.js';
import { int8PathFromEnv, loadNative, nativeInfo, nativeInt8Info, setNativeInt8Path, setThreads } from '../src/engine/native.js';
import { int8Linear } from '../src/engine/ops/int8.js';
import { nativeProbe } from './helpers/native-child.js';

const native = loadNative();

interface Case {
  m: number;
  n: number;
  k: number;
  bias: boolean;
  residual: boolean;
  act: number;
  /** 7: weights in [-63, 63] and linearInt8's weights7 set (AVX2's vpmaddubsw tile); 8: full range. */
  bits?: 7 | 8;
  /** y is the residual itself (the residual updated in place, which the kernel allows). */
  inPlace?: boolean;
}

function quantizeWeights(w: Float32Array, n: number, k: number, qmax = 127): { q: Int8Array; scale: Float32Array; sum: Int32Array } {
  const q = new Int8Array(n * k),
    scale = new Float32Array(n),
    sum = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let mx = 0;
    for (let p = 0; p < k; p++) mx = Math.max(mx, Math.abs(w[j * k + p]));
    const s = Math.fround(mx / qmax);
    scale[j] = s;
    for (let p = 0; p < k; p++) {
      const v = s === 0 ? 0 : Math.max(-qmax, Math.min(qmax, roundHalfEven(Math.fround(w[j * k + p] / s))));
      q[j * k + p] = v;
      sum[j] += v;
    }
  }
  return { q, scale, sum };
}

function makeCase(c: Case, seed: number, rowKind?: (i: number, r: () => number) => number | null) {
  const rng = Rng.fromSeed(seed);
  const r = () => rng.nextFloat() * 2 - 1;
  const x = new Float32Array(c.m * c.k);
  for (let i = 0; i < c.m; i++) for (let p = 0; p < c.k; p++) x[i * c.k + p] = rowKind?.(i, r) ?? r() * 3;
  const w = new Float32Array(c.n * c.k).map(() => r() * 0.2);
  const { q, scale, sum } = quantizeWeights(w, c.n, c.k, c.bits === 7 ? 63 : 127);
  const packed = new Int8Array(int8PackedSize(c.n, c.k));
  refKernels.packInt8Weights(q, c.n, c.k, packed);
  const bias = c.bias ? new Float32Array(c.n).map(() => r()) : null;
  const residual = c.residual ? new Float32Array(c.m * c.n).map(() => r()) : null;
  return { x, w, q, scale, sum, packed, bias, residual };
}

function run(k: Kernels, c: Case, d: ReturnType<typeof makeCase>): Float32Array {
  const y = c.inPlace && d.residual ? Float32Array.from(d.residual) : new Float32Array(c.m * c.n).fill(NaN);
  k.linearInt8(
    c.m,
    c.n,
    c.k,
    d.x,
    d.packed,
    d.scale,
    d.sum,
    d.bias,
    c.inPlace ? y : d.residual ? Float32Array.from(d.residual) : null,
    c.act,
    y,
    c.bits === 7,
  );
  return y;
}

function compare(label: string, got: Float32Array, want: Float32Array, act: number): void {
  for (let i = 0; i < want.length; i++) {
    if (Object.is(got[i], want[i])) continue;
    // GELU: the native polynomial erf/tanh against the reference's (both within 2.5e-7 absolute).
    if (act && Math.abs(got[i] - want[i]) <= 1e-6 + 1e-6 * Math.abs(want[i])) continue;
    assert.fail(`${label}: element ${i}: native ${got[i]} vs reference ${want[i]}`);
  }
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 16, 4],
  [2, 17, 5],
  [7, 33, 3],
  [6, 64, 64],
  [13, 65, 130],
  [5, 200, 33],
  [129, 48, 77],
  [300, 40, 9], // rows past one row block, column blocks fewer than threads
  [37, 769, 260], // n past several 64-column tiles, ragged (threaded: columns split)
  [600, 40, 200], // threaded with fewer column blocks than 2 per thread: rows split
  [250, 300, 100],
];

describe('int8 kernels: reference', () => {
  test('packInt8Weights lays out 16-channel blocks of 4-deep groups, zero padded', () => {
    const n = 18,
      k = 6,
      w = Int8Array.from({ length: n * k }, (_, i) => (i % 251) - 125);
    const out = new Int8Array(int8PackedSize(n, k)).fill(99);
    refKernels.packInt8Weights(w, n, k, out);
    assert.equal(out.length, 2 * 2 * 64);
    // channel 17, depth 5 -> block 1, group 1, lane 1, byte 1
    assert.equal(out[1 * 2 * 64 + 1 * 64 + 1 * 4 + 1], w[17 * k + 5]);
    assert.equal(out[0 * 128 + 0 * 64 + 3 * 4 + 2], w[3 * k + 2]);
    assert.equal(out[1 * 128 + 1 * 64 + 1 * 4 + 2], 0); // depth 6 is padding
    assert.equal(out[1 * 128 + 0 * 64 + 5 * 4 + 0], 0); // channel 21 is padding
  });

  test('quantizeRowU8: zero is exact, values within half a step, DynamicQuantizeLinear range rules', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 40 }),
        (vals) => {
          const x = Float32Array.from(vals),
            q = new Uint8Array(x.length);
          const { scale, zero } = quantizeRowU8(x, q);
          const mn = Math.min(0, ...x),
            mx = Math.max(0, ...x);
          if (mx === mn) {
            assert.equal(scale, 0);
            return;
          }
          assert.equal(scale, Math.fround(Math.fround(mx - mn) / 255));
          assert.ok(zero >= 0 && zero <= 255 && Number.isInteger(zero));
          for (let p = 0; p < x.length; p++) {
            // Half a step; a full step where the rounded zero point pushes the row's extreme past 0..255
            // and it saturates (onnxruntime's DynamicQuantizeLinear does the same).
            const back = (q[p] - zero) * scale,
              steps = q[p] === 0 || q[p] === 255 ? 1 : 0.5;
            assert.ok(Math.abs(back - x[p]) <= scale * steps * (1 + 1e-5) + 1e-30, `x=${x[p]} q=${q[p]} back=${back}`);
            if (x[p] === 0) assert.equal(q[p], zero);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('quantizeRowU8 rounds half to even and saturates like onnxruntime', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.7].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 4]);
    const q = new Uint8Array(3);
    // range [-1, 254/255*...]: scale 1/255*(255)... min -1, max 254 -> scale 1, zero 1
    const s = quantizeRowU8(Float32Array.from([-1, 254, 2.5]), q);
    assert.deepEqual([s.scale, s.zero, ...q], [1, 1, 0, 255, 3]);
    assert.deepEqual(quantizeRowU8(Float32Array.from([1, NaN, 2]), q), { scale: NaN, zero: 0 });
  });

  test('linearInt8 reference is within the quantization error bound of the float64 product', () => {
    for (const [m, n, k] of [
      [3, 5, 7],
      [9, 33, 64],
      [4, 20, 300],
    ] as [number, number, number][]) {
      const c: Case = { m, n, k, bias: true, residual: true, act: 0 };
      const d = makeCase(c, m * 31 + n);
      const y = run(refKernels, c, d);
      for (let i = 0; i < m; i++) {
        const row = d.x.subarray(i * k, (i + 1) * k);
        const sa = (Math.max(0, ...row) - Math.min(0, ...row)) / 255;
        for (let j = 0; j < n; j++) {
          let exact = d.bias![j] + d.residual![i * n + j],
            absX = 0,
            absW = 0;
          for (let p = 0; p < k; p++) {
            exact += row[p] * d.w[j * k + p];
            absX += Math.abs(row[p]);
            absW += Math.abs(d.q[j * k + p] * d.scale[j]);
          }
          // |x w - x~ w~| <= |x - x~| |w~| + |x| |w - w~|: at most half a step each (a full step for
          // an activation that saturates).
          const bound = sa * absW + (d.scale[j] / 2) * absX + 1e-5 * (1 + Math.abs(exact));
          assert.ok(Math.abs(y[i * n + j] - exact) <= bound, `m${m} n${n} k${k} [${i},${j}]: ${y[i * n + j]} vs ${exact} (bound ${bound})`);
        }
      }
    }
  });
});

describe('int8 kernels: native against the reference', { skip: native ? false : 'native addon not built' }, () => {
  const info = nativeInt8Info()!;
  const threads0 = nativeInfo()?.threads ?? 1;
  after(() => {
    setNativeInt8Path('auto');
    setThreads(threads0);
  });

  test(`paths this CPU has: ${info?.paths.join(', ')}`, () => {
    assert.ok(info.paths.includes('scalar'));
  });

  for (const path of info?.paths ?? []) {
    test(`${path}: awkward shapes, 8-bit and 7-bit weights, bias / residual (also in place) / GELU, 1-3 threads, bit-exact before GELU`, () => {
      setNativeInt8Path(path);
      assert.equal(nativeInt8Info()!.path, path);
      let seed = 1;
      for (const [m, n, k] of SHAPES) {
        for (const opt of [
          { bias: false, residual: false, act: 0 },
          { bias: true, residual: true, act: 0 },
          { bias: false, residual: true, act: 0 },
          { bias: true, residual: true, act: 0, inPlace: true },
          { bias: true, residual: false, act: 1 },
          { bias: true, residual: false, act: 2 },
          { bias: false, residual: false, act: 0, bits: 7 as const },
          { bias: true, residual: true, act: 0, bits: 7 as const },
          { bias: true, residual: false, act: 1, bits: 7 as const },
        ]) {
          const c: Case = { m, n, k, ...opt };
          const d = makeCase(c, seed++);
          const want = run(refKernels, c, d);
          for (const t of [1, 2, 3]) {
            setThreads(t);
            compare(`${path} m${m} n${n} k${k} ${JSON.stringify(opt)} threads ${t}`, run(native!, c, d), want, c.act);
          }
        }
      }
    });

    test(`${path}: zero, negative, huge and NaN rows; packing matches the reference`, () => {
      setNativeInt8Path(path);
      const c: Case = { m: 5, n: 40, k: 70, bias: true, residual: false, act: 0 };
      const kinds = [() => 0, (r: () => number) => -Math.abs(r()), (r: () => number) => r() * 3e30, null, (r: () => number) => r()];
      const d = makeCase(c, 99, (i, r) => kinds[i]?.(r) ?? null);
      d.x[3 * c.k + 11] = NaN;
      const got = run(native!, c, d),
        want = run(refKernels, c, d);
      compare(`${path} edge rows`, got, want, 0);
      for (let j = 0; j < c.n; j++) assert.equal(got[j], d.bias![j]); // a zero row gives the bias
      assert.ok(Number.isNaN(got[3 * c.n]));
      const packed = new Int8Array(int8PackedSize(c.n, c.k)).fill(7);
      native!.packInt8Weights(d.q, c.n, c.k, packed);
      assert.deepEqual(packed, d.packed);
    });

    test(`${path}: 7-bit weights at -64 / 63 against u8 0 / 255, random shapes incl. edge tiles, bit-exact`, () => {
      setNativeInt8Path(path);
      const rng = Rng.fromSeed(7);
      for (let trial = 0; trial < 40; trial++) {
        const m = 1 + rng.nextInt(trial < 20 ? 9 : 70),
          n = 1 + rng.nextInt(trial < 20 ? 40 : 150),
          k = 1 + rng.nextInt(trial < 20 ? 20 : 400);
        const c: Case = { m, n, k, bias: true, residual: false, act: 0, bits: 7 };
        const d = makeCase(c, 1000 + trial);
        // Rows of mostly their maximum (u8 255) and minimum (u8 0), against weights that are mostly
        // the extremes -64 and 63: the largest pair sums vpmaddubsw can meet (255 * -64 * 2 = -32640).
        for (let i = 0; i < m; i++)
          for (let p = 0; p < k; p++) {
            const u = rng.nextFloat();
            d.x[i * k + p] = p === 0 ? -1 : u < 0.6 ? 2 : u < 0.8 ? -1 : rng.nextFloat() - 0.5;
          }
        for (let i = 0; i < n * k; i++) {
          const u = rng.nextFloat();
          d.q[i] = u < 0.45 ? -64 : u < 0.9 ? 63 : d.q[i]!;
        }
        d.sum.fill(0);
        for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) d.sum[j] += d.q[j * k + p]!;
        refKernels.packInt8Weights(d.q, n, k, d.packed);
        const q = new Uint8Array(k);
        quantizeRowU8(d.x.subarray(0, k), q);
        assert.ok(q.includes(0) && (k < 3 || q.includes(255)), 'rows reach u8 0 and 255');
        const want = run(refKernels, c, d);
        for (const t of [1, 2]) {
          setThreads(t);
          compare(`${path} 7-bit boundary m${m} n${n} k${k} threads ${t}`, run(native!, c, d), want, 0);
        }
      }
    });

    test(`${path}: a -65 or 64 among 7-bit weights makes int8Linear take the exact tile (the bits equal the reference's)`, () => {
      setNativeInt8Path(path);
      const m = 9,
        n = 35,
        k = 67;
      // Every activation 255 (zero point 0) against -65s: vpmaddubsw's pair sums would saturate at
      // -32768 where the exact sum is 255 * -65 * 2 = -33150.
      const x = new Float32Array(m * k).fill(1);
      for (const stray of [-65, 64]) {
        const q = new Int8Array(n * k).map((_, i) => (i % 3 === 0 ? -64 : 63));
        for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) if ((j + p) % 2 === 0) q[j * k + p] = j % 2 ? stray : -65;
        const scale = new Float32Array(n).fill(1 / 64);
        const lin = int8Linear(q, scale, n, k, null);
        assert.equal(lin.weights7, false, `a ${stray} is outside 7 bits`);
        const within = int8Linear(
          Int8Array.from(q, (v) => Math.max(-64, Math.min(63, v))),
          scale,
          n,
          k,
          null,
        );
        assert.equal(within.weights7, true);
        const want = new Float32Array(m * n),
          got = new Float32Array(m * n);
        refKernels.linearInt8(m, n, k, x, lin.packed, lin.scale, lin.sums, null, null, 0, want, lin.weights7);
        native!.linearInt8(m, n, k, x, lin.packed, lin.scale, lin.sums, null, null, 0, got, lin.weights7);
        compare(`${path} stray ${stray}`, got, want, 0);
        const f = Math.fround;
        assert.equal(want[0], f(f(255 * lin.sums[0]!) * f(f(1 / 255) * f(1 / 64))), 'the exact sum, unsaturated');
        // The reference refuses a false weights7 claim rather than computing something else.
        assert.throws(
          () => refKernels.linearInt8(m, n, k, x, lin.packed, lin.scale, lin.sums, null, null, 0, want, true),
          /weights7 is set but packed weight \d+ is -65, outside \[-64, 63\]/,
        );
        if (path === 'avx2' && stray === -65) {
          // The case is one where the vpmaddubsw tile would be wrong: forcing it (a false claim) saturates.
          native!.linearInt8(m, n, k, x, lin.packed, lin.scale, lin.sums, null, null, 0, got, true);
          assert.notDeepEqual(got, want, 'vpmaddubsw saturates on -65 x 255 pairs');
        }
      }
    });
  }

  test('bad arguments throw before touching memory', () => {
    const x = new Float32Array(4),
      w = new Int8Array(64),
      s = new Float32Array(1),
      sum = new Int32Array(1),
      y = new Float32Array(4);
    assert.throws(
      () => native!.linearInt8(4, 1, 1, x, w, s, sum, null, null, 0, new Float32Array(3), false),
      /y has 3 elements, needs at least 4/,
    );
    assert.throws(
      () => native!.linearInt8(1, 1, 4, x, new Int8Array(10), s, sum, null, null, 0, y, false),
      /w has 10 elements, needs at least 64/,
    );
    assert.throws(() => native!.linearInt8(1, 1, 4, x, w, s, sum, null, null, 3, y, false), /act must be 0/);
    assert.throws(() => native!.linearInt8(1, 1, 4, x, w, s, sum, null, null, 0, y, 1 as unknown as boolean), /weights7 must be a boolean/);
    assert.throws(
      () =>
        native!.linearInt8(1, 1, 4, x, w as unknown as Int8Array, s, new Float32Array(1) as unknown as Int32Array, null, null, 0, y, false),
      /wSum must be a Int32Array/,
    );
    assert.throws(() => setNativeInt8Path('neon' as never), /unknown int8 path 'neon'/);
  });
});

test('TOKENTUNE_INT8 forces an int8 path at load; one the CPU lacks, or an unknown name, is an error naming what it has', () => {
  assert.equal(int8PathFromEnv(undefined, ['scalar', 'avx2']), null);
  assert.equal(int8PathFromEnv('', ['scalar', 'avx2']), null);
  assert.equal(int8PathFromEnv('avx2', ['scalar', 'avx2', 'avxvnni']), 'avx2');
  assert.throws(
    () => int8PathFromEnv('avx512vnni', ['scalar', 'avx2']),
    /^Error: TOKENTUNE_INT8=avx512vnni: not available; this CPU runs scalar, avx2 at this ISA level \(TOKENTUNE_KERNEL\)$/,
  );
  assert.throws(() => int8PathFromEnv('vnni', ['scalar']), /TOKENTUNE_INT8=vnni: unknown int8 path; this CPU runs scalar/);
  if (!native) return;
  // The real addon at load, in a child process per path: each path this CPU has runs when asked for.
  const inChild = (path: string) => nativeProbe({ TOKENTUNE_INT8: path }, 'm.nativeInt8Info().path');
  for (const path of nativeInt8Info()!.paths) {
    const res = inChild(path);
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim(), path);
  }
  const bad = inChild('sse9');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /TOKENTUNE_INT8=sse9: unknown int8 path; this CPU runs scalar/);
});
