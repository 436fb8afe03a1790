/** Finite-difference checks of the ops ModernBERT adds: rotary embeddings, GeGLU, block heads. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, ops } from '../src/engine/index.js';
import { gradcheck, leaf64 } from './helpers/gradcheck.js';

test('rotaryQkv: gradient, and a rotation (norms kept, position 0 unchanged, v copied)', () => {
  const B = 2,
    T = 3,
    heads = 2,
    d = 4,
    H = heads * d;
  const tables = ops.ropeTables(T, d, 10000);
  gradcheck('rotaryQkv', (x) => ops.rotaryQkv(x, T, heads, tables), [leaf64([B * T, 3 * H], 31)]);
  const x = leaf64([B * T, 3 * H], 32);
  const y = ops.rotaryQkv(x, T, heads, tables).f;
  for (let r = 0; r < B * T; r++) {
    for (let j = 0; j < 3 * H; j += d) {
      const n = (a: ArrayLike<number>) => Math.hypot(...Array.from({ length: d }, (_, i) => a[r * 3 * H + j + i]));
      assert.ok(Math.abs(n(x.f) - n(y)) < 1e-6);
    }
    if (r % T === 0) for (let j = 0; j < 3 * H; j++) assert.ok(Math.abs(x.f[r * 3 * H + j] - y[r * 3 * H + j]) < 1e-7);
    for (let j = 2 * H; j < 3 * H; j++) assert.equal(y[r * 3 * H + j], x.f[r * 3 * H + j]);
  }
  // HF's inv_freq for d = 4, base 10000: [1, 0.01]; position 2 -> angles [2, 0.02].
  assert.ok(Math.abs(tables.cos[2 * 2] - Math.cos(2)) < 1e-7 && Math.abs(tables.sin[2 * 2 + 1] - Math.sin(0.02)) < 1e-7);
  assert.throws(() => ops.rotaryQkv(leaf64([6, 9], 1), 3, 2, tables), /rotaryQkv/);
});

test('geglu: gradient for input and gate halves, erf and tanh', () => {
  for (const kind of ['erf', 'tanh'] as const) {
    gradcheck(`geglu ${kind}`, (x) => ops.geglu(x, kind), [leaf64([3, 14], 33, 2)], { tol: 1e-5 });
  }
  const y = ops.geglu(Tensor.from(new Float64Array([1, 3]), [1, 2]), 'erf').f[0];
  assert.ok(Math.abs(y - 3 * 0.8413447460685429) < 1e-6);
});

test('blockHeads: gradient, and the layout of HF view + unbind + transpose', () => {
  gradcheck('blockHeads', (x) => ops.blockHeads(x, 1, 3, 2, 2), [leaf64([2 * 3, 3 * 4], 34)]);
  const x = Tensor.from(
    Float64Array.from({ length: 2 * 12 }, (_, i) => i),
    [2, 12],
  );
  // batch 1 of seq 2, 3 blocks of width 4, 2 heads of 2: k block (1), head 1 -> columns 6, 7.
  assert.deepEqual(ops.blockHeads(x, 1, 3, 1, 2).toArray(), [4, 5, 16, 17, 6, 7, 18, 19]);
});
