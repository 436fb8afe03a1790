/**
 * Fused self-attention: finite-difference gradient checks in float64 (with padding mask and dropout),
 * and agreement with the unfused composition it replaces (linear outputs -> permute0213 -> matmul ->
 * maskedSoftmax -> dropout -> matmul -> permute0213), forward and every gradient, on awkward sizes,
 * in float64 (reference kernels) and float32 (native kernels when built).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, adjacentView, backward, ops, storeAdjacent, tidy } from '../src/engine/index.js';
import { gradcheck, leaf64, randoms } from './helpers/gradcheck.js';
import { MASK_MIN } from '../src/models/forward.js';

function maskOf(B: number, T: number, lengths: number[], f64: boolean): Tensor {
  const m = f64 ? new Float64Array(B * T) : new Float32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) m[b * T + t] = t < lengths[b % lengths.length] ? 0 : MASK_MIN;
  return Tensor.from(m, [B, T]);
}

/** A random leaf tensor that requires grad, float64 or float32. */
function leafOf(shape: number[], seed: number, f64: boolean): Tensor {
  const r = randoms(
    shape.reduce((a, b) => a * b, 1),
    seed,
  );
  const t = Tensor.from(f64 ? r : Float32Array.from(r), shape);
  t.requiresGrad = true;
  return t;
}

/** f()'s output and every input's gradient after backward with output gradient gOut. */
function outputAndGrads(ins: Tensor[], gOut: Float32Array | Float64Array, f: () => Tensor): number[][] {
  return tidy(() => {
    for (const t of ins) t.grad = null;
    const y = f();
    const out = Array.from(y.f);
    backward(y, gOut);
    return [out, ...ins.map((t) => Array.from(t.grad!))];
  });
}

/** The composition the model used before the fused op. */
function unfused(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, B: number, nh: number, p: number, seed: number): Tensor {
  const H = q.shape[q.shape.length - 1],
    T = q.size / (B * H),
    d = H / nh;
  const heads = (x: Tensor): Tensor => ops.permute0213(ops.reshape(x, [B, T, nh, d]));
  const probs = ops.dropout(ops.maskedSoftmax(ops.matmul(heads(q), heads(k), { transB: true }), mask, 1 / Math.sqrt(d)), p, seed, p > 0);
  return ops.reshape(ops.permute0213(ops.matmul(probs, heads(v))), q.shape);
}

test('selfAttention: gradients of q, k, v by finite differences (float64, mask, dropout)', () => {
  for (const [B, T, nh, d, p] of [
    [1, 1, 1, 1, 0],
    [2, 3, 2, 3, 0],
    [2, 5, 3, 2, 0.3],
    [1, 7, 1, 4, 0.5],
  ] as const) {
    const H = nh * d;
    const mask = maskOf(B, T, [T, Math.max(1, T - 2)], true);
    gradcheck(
      `selfAttention B=${B} T=${T} heads=${nh} d=${d} p=${p}`,
      (q, k, v) => ops.selfAttention(q, k, v, mask, B, { heads: nh, scale: 1 / Math.sqrt(d), dropoutP: p, dropoutSeed: 1234 }),
      [leaf64([B * T, H], 1), leaf64([B * T, H], 2), leaf64([B * T, H], 3)],
    );
  }
});

function compare(f64: boolean, B: number, T: number, nh: number, d: number, p: number, withMask: boolean): void {
  const H = nh * d,
    n = B * T * H;
  const mk = (seed: number): Tensor => {
    const r = randoms(n, seed);
    const t = Tensor.from(f64 ? r : Float32Array.from(r), [B, T, H]);
    t.requiresGrad = true;
    return t;
  };
  const q = mk(11),
    k = mk(12),
    v = mk(13);
  const mask = withMask ? maskOf(B, T, [T, 1, Math.max(1, T >> 1)], f64) : null;
  const gOut = f64 ? randoms(n, 14) : Float32Array.from(randoms(n, 14));
  const run = (f: () => Tensor): { y: number[]; g: number[][] } =>
    tidy(() => {
      for (const t of [q, k, v]) t.grad = null;
      const y = f();
      const out = Array.from(y.f);
      backward(y, gOut);
      return { y: out, g: [q, k, v].map((t) => Array.from(t.grad!)) };
    });
  const label = `${f64 ? 'float64' : 'float32'} B=${B} T=${T} heads=${nh} d=${d} p=${p} mask=${withMask}`;
  const a = run(() => ops.selfAttention(q, k, v, mask, B, { heads: nh, scale: 1 / Math.sqrt(d), dropoutP: p, dropoutSeed: 77 }));
  const b = run(() => unfused(q, k, v, mask, B, nh, p, 77));
  const tol = f64 ? 1e-12 : 2e-5;
  const close = (x: number[], y: number[], what: string): void => {
    for (let i = 0; i < x.length; i++) {
      assert.ok(Math.abs(x[i] - y[i]) <= tol * (1 + Math.abs(y[i])), `${label} ${what}[${i}]: fused ${x[i]} vs unfused ${y[i]}`);
    }
  };
  close(a.y, b.y, 'output');
  a.g.forEach((g, i) => close(g, b.g[i], `d${'qkv'[i]}`));
}

test('selfAttention equals the unfused permute/matmul/softmax/dropout composition (float64 and float32)', () => {
  for (const f64 of [true, false]) {
    for (const [B, T, nh, d, p, m] of [
      [1, 1, 1, 1, 0, false],
      [2, 7, 3, 5, 0.1, true],
      [3, 33, 2, 7, 0, true],
      [1, 33, 4, 8, 0.2, false],
    ] as const) {
      compare(f64, B, T, nh, d, p, m);
    }
  }
  compare(false, 2, 129, 2, 16, 0.1, true); // native multi-threaded paths
});

test('selfAttention checks shapes and the dropout probability', () => {
  const q = Tensor.from(new Float32Array(2 * 3 * 4), [2, 3, 4]);
  assert.throws(() => ops.selfAttention(q, q, q, null, 2, { heads: 3, scale: 1 }), /multiple of heads/);
  assert.throws(() => ops.selfAttention(q, q, Tensor.from(new Float32Array(8), [2, 4]), null, 2, { heads: 2, scale: 1 }), /same shape/);
  assert.throws(
    () => ops.selfAttention(q, q, q, Tensor.from(new Float32Array(4), [2, 2]), 2, { heads: 2, scale: 1 }),
    /mask must be \[2, 3\]/,
  );
  assert.throws(() => ops.selfAttention(q, q, q, null, 2, { heads: 2, scale: 1, dropoutP: 1 }), RangeError);
});

test('linearDropoutAdd: gradients of x, W, b and the residual by finite differences (float64)', () => {
  for (const [rows, inF, outF, p] of [
    [1, 1, 1, 0],
    [7, 5, 3, 0.3],
    [3, 33, 2, 0.5],
    [2, 4, 7, 0],
  ] as const) {
    gradcheck(`linearDropoutAdd ${rows}x${inF}->${outF} p=${p}`, (x, w, b, r) => ops.linearDropoutAdd(x, w, b, r, p, 99), [
      leaf64([rows, inF], 21),
      leaf64([outF, inF], 22),
      leaf64([outF], 23),
      leaf64([rows, outF], 24),
    ]);
  }
});

test('linearDropoutAdd equals residual + dropout(linear(x)) forward and backward (float64 and float32)', () => {
  for (const f64 of [true, false]) {
    for (const [rows, inF, outF, p] of [
      [1, 1, 1, 0.1],
      [7, 33, 129, 0.1],
      [129, 7, 33, 0],
      [300, 64, 96, 0.2],
    ] as const) {
      const ins = [leafOf([rows, inF], 31, f64), leafOf([outF, inF], 32, f64), leafOf([outF], 33, f64), leafOf([rows, outF], 34, f64)];
      const gOut = f64 ? randoms(rows * outF, 35) : Float32Array.from(randoms(rows * outF, 35));
      const run = (f: () => Tensor) => outputAndGrads(ins, gOut, f);
      const [x, w, b, r] = ins;
      const a = run(() => ops.linearDropoutAdd(x, w, b, r, p, 4242));
      const e = run(() => ops.add(ops.dropout(ops.linear(x, w, b), p, 4242, p > 0), r));
      const tol = f64 ? 1e-12 : 1e-6;
      a.forEach((arr, j) =>
        arr.forEach((v, i) =>
          assert.ok(
            Math.abs(v - e[j][i]) <= tol * (1 + Math.abs(e[j][i])),
            `${f64 ? 'float64' : 'float32'} ${rows}x${inF}->${outF} p=${p}: ${['y', 'dx', 'dW', 'db', 'dres'][j]}[${i}] fused ${v} vs unfused ${e[j][i]}`,
          ),
        ),
      );
    }
  }
  const q = Tensor.from(new Float32Array(6), [2, 3]);
  assert.throws(
    () => ops.linearDropoutAdd(q, Tensor.from(new Float32Array(8), [2, 4]), Tensor.from(new Float32Array(2), [2]), q, 0, 1),
    /weight must be \[out, 3\]/,
  );
  assert.throws(
    () => ops.linearDropoutAdd(q, Tensor.from(new Float32Array(6), [2, 3]), Tensor.from(new Float32Array(2), [2]), q, 0, 1),
    /residual must hold 2 rows of 2/,
  );
});

test('linearGelu: gradients of x, W and b by finite differences (float64, erf and tanh forms)', () => {
  for (const kind of ['erf', 'tanh'] as const) {
    for (const [rows, inF, outF] of [
      [1, 1, 1],
      [7, 5, 3],
      [3, 33, 2],
    ] as const) {
      gradcheck(`linearGelu(${kind}) ${rows}x${inF}->${outF}`, (x, w, b) => ops.linearGelu(x, w, b, kind), [
        leaf64([rows, inF], 41),
        leaf64([outF, inF], 42),
        leaf64([outF], 43),
      ]);
    }
  }
});

test('linearGelu equals gelu(linear(x)) forward and backward (float64 and float32)', () => {
  for (const f64 of [true, false]) {
    for (const kind of ['erf', 'tanh'] as const) {
      for (const [rows, inF, outF] of [
        [1, 1, 1],
        [7, 33, 129],
        [300, 64, 96],
      ] as const) {
        const ins = [leafOf([rows, inF], 51, f64), leafOf([outF, inF], 52, f64), leafOf([outF], 53, f64)];
        const gOut = f64 ? randoms(rows * outF, 54) : Float32Array.from(randoms(rows * outF, 54));
        const run = (f: () => Tensor) => outputAndGrads(ins, gOut, f);
        const [x, w, b] = ins;
        const a = run(() => ops.linearGelu(x, w, b, kind));
        const e = run(() => ops.gelu(ops.linear(x, w, b), kind));
        const tol = f64 ? 1e-12 : 1e-6;
        a.forEach((arr, j) =>
          arr.forEach((v, i) =>
            assert.ok(
              Math.abs(v - e[j][i]) <= tol * (1 + Math.abs(e[j][i])),
              `${f64 ? 'float64' : 'float32'} ${kind} ${rows}x${inF}->${outF}: ${['y', 'dx', 'dW', 'db'][j]}[${i}] fused ${v} vs unfused ${e[j][i]}`,
            ),
          ),
        );
      }
    }
  }
  const q = Tensor.from(new Float32Array(6), [2, 3]);
  assert.throws(
    () => ops.linearGelu(q, Tensor.from(new Float32Array(8), [2, 4]), Tensor.from(new Float32Array(2), [2])),
    /weight must be \[out, 3\]/,
  );
  assert.throws(
    () => ops.linearGelu(q, Tensor.from(new Float32Array(6), [2, 3]), Tensor.from(new Float32Array(3), [3])),
    /bias must be \[2\]/,
  );
});

test('dropoutForward in place (y aliasing x) equals the out-of-place result, native and reference', async () => {
  const { loadNative } = await import('../src/engine/native.js');
  const { refKernels } = await import('../src/engine/ref-kernels.js');
  for (const K of [refKernels, loadNative()].filter((k) => k !== null)) {
    for (const n of [1, 7, 33, 129, 40000]) {
      const x = Float32Array.from(randoms(n, n));
      const y = new Float32Array(n);
      K!.dropoutForward(x, y, n, 0.3, 5);
      K!.dropoutForward(x, x, n, 0.3, 5);
      assert.deepEqual(x, y, `${K!.name} n=${n}`);
    }
  }
});

test('selfAttentionQkv on [q | k | v] rows equals selfAttention on the three blocks, forward and gradient (float64 and float32)', () => {
  for (const f64 of [true, false]) {
    for (const [B, T, nh, d, p] of [
      [1, 1, 1, 1, 0],
      [2, 5, 3, 4, 0.25],
      [3, 17, 2, 8, 0],
    ] as const) {
      const H = nh * d,
        rows = B * T;
      const raw = randoms(rows * 3 * H, 61 + T);
      const qkv = Tensor.from(f64 ? raw : Float32Array.from(raw), [rows, 3 * H]);
      qkv.requiresGrad = true;
      const block = (j: number): Tensor => {
        const a = f64 ? new Float64Array(rows * H) : new Float32Array(rows * H);
        for (let r = 0; r < rows; r++) for (let c = 0; c < H; c++) a[r * H + c] = qkv.f[r * 3 * H + j * H + c];
        const t = Tensor.from(a, [rows, H]);
        t.requiresGrad = true;
        return t;
      };
      const [q, k, v] = [0, 1, 2].map(block);
      const mask = maskOf(B, T, [T, Math.max(1, T - 2)], f64);
      const opts = { heads: nh, scale: 1 / Math.sqrt(d), dropoutP: p, dropoutSeed: 5 };
      const gOut = f64 ? randoms(rows * H, 62) : Float32Array.from(randoms(rows * H, 62));
      const fused = tidy(() => {
        const y = ops.selfAttentionQkv(qkv, mask, B, opts);
        const out = Array.from(y.f);
        backward(y, gOut);
        return out;
      });
      const apart = tidy(() => {
        const y = ops.selfAttention(q, k, v, mask, B, opts);
        const out = Array.from(y.f);
        backward(y, gOut);
        return out;
      });
      const label = `${f64 ? 'float64' : 'float32'} B=${B} T=${T} nh=${nh} d=${d} p=${p}`;
      assert.deepEqual(fused, apart, `${label}: context`);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < 3; j++) {
          for (let c = 0; c < H; c++) {
            const got = qkv.grad![r * 3 * H + j * H + c],
              want = [q, k, v][j].grad![r * H + c];
            assert.equal(got, want, `${label}: d${'qkv'[j]}[${r}, ${c}]`);
          }
        }
      }
    }
  }
  assert.throws(() => ops.selfAttentionQkv(Tensor.from(new Float32Array(8), [2, 4]), null, 2, { heads: 1, scale: 1 }), /not 3 \* hidden/);
});

test('adjacentView: one tensor over parameters stored back to back, sharing data and gradients; null otherwise', () => {
  const mk = (arr: Float32Array, shape: number[]): Tensor => {
    const t = Tensor.from(arr, shape);
    t.requiresGrad = true;
    return t;
  };
  const block = Float32Array.from({ length: 18 }, (_, i) => i);
  const ts = [mk(block.subarray(0, 6), [2, 3]), mk(block.subarray(6, 12), [2, 3]), mk(block.subarray(12, 18), [2, 3])];
  const view = adjacentView(ts)!;
  assert.deepEqual(view.shape, [6, 3]);
  assert.deepEqual(Array.from(view.f), Array.from(block));
  // No gradients yet: one adjacent block is allocated for the three, and the view's gradient is it.
  view.grad![7] = 2.5;
  assert.equal(ts[1].grad![1], 2.5);
  assert.ok(adjacentView(ts) !== null, 'still adjacent, gradients included');
  // Out of order, a gap, or non-adjacent gradients: null.
  assert.equal(adjacentView([ts[1], ts[0]]), null);
  assert.equal(adjacentView([mk(block.subarray(0, 6), [2, 3]), mk(block.subarray(9, 15), [2, 3])]), null);
  const split = [mk(block.subarray(0, 6), [2, 3]), mk(block.subarray(6, 12), [2, 3])];
  split[0].grad = new Float32Array(6);
  split[1].grad = new Float32Array(6);
  assert.equal(adjacentView(split), null);
  // storeAdjacent moves separate tensors into one buffer (values kept), making them eligible.
  const loose = [Tensor.from(Float32Array.of(1, 2), [1, 2]), Tensor.from(Float32Array.of(3, 4), [1, 2])];
  assert.equal(adjacentView(loose), null);
  storeAdjacent(loose);
  assert.deepEqual(Array.from(adjacentView(loose)!.f), [1, 2, 3, 4]);
});
