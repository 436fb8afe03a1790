import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, backward, ops } from '../src/engine/index.js';
import { gradcheck, leaf64, randoms } from './helpers/gradcheck.js';

// Awkward sizes on purpose: 1, 7, 33 and dimensions that are not multiples of a SIMD width.
test('linear: x W^T + b, gradients for x, W, b', () => {
  for (const [rows, inF, outF] of [
    [1, 1, 1],
    [7, 5, 3],
    [3, 33, 2],
  ]) {
    gradcheck(`linear ${rows}x${inF}->${outF}`, (x, w, b) => ops.linear(x, w, b), [
      leaf64([rows, inF], 1),
      leaf64([outF, inF], 2),
      leaf64([outF], 3),
    ]);
  }
});

test('linear on a 3-D input keeps the leading axes', () => {
  gradcheck('linear 3d', (x, w, b) => ops.linear(x, w, b), [leaf64([2, 3, 4], 4), leaf64([5, 4], 5), leaf64([5], 6)]);
});

test('matmul: all four transpose combinations, batched', () => {
  const m = 3,
    k = 4,
    n = 5,
    batch = 2;
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const a = leaf64(transA ? [batch, k, m] : [batch, m, k], 7);
      const b = leaf64(transB ? [batch, n, k] : [batch, k, n], 8);
      gradcheck(`matmul tA=${transA} tB=${transB}`, (x, y) => ops.matmul(x, y, { transA, transB, alpha: 0.7 }), [a, b]);
    }
  }
});

test('matmul agrees with a hand-computed product', () => {
  const a = Tensor.from(new Float64Array([1, 2, 3, 4, 5, 6]), [2, 3]);
  const b = Tensor.from(new Float64Array([7, 8, 9, 10, 11, 12]), [3, 2]);
  assert.deepEqual(ops.matmul(a, b).toArray(), [58, 64, 139, 154]);
  assert.deepEqual(ops.matmul(a, a, { transB: true }).toArray(), [14, 32, 32, 77]);
});

test('add (same shape and broadcast), mul, scale', () => {
  gradcheck('add', (a, b) => ops.add(a, b), [leaf64([3, 7], 9), leaf64([3, 7], 10)]);
  gradcheck('add broadcast', (a, b) => ops.add(a, b), [leaf64([2, 3, 7], 11), leaf64([7], 12)]);
  gradcheck('add broadcast 2d', (a, b) => ops.add(a, b), [leaf64([2, 3, 7], 11), leaf64([3, 7], 13)]);
  gradcheck('mul', (a, b) => ops.mul(a, b), [leaf64([33], 14), leaf64([33], 15)]);
  gradcheck('scale', (a) => ops.scale(a, -1.5), [leaf64([7], 16)]);
  gradcheck('same input twice accumulates', (a) => ops.mul(a, a), [leaf64([7], 17)]);
});

test('gelu (erf and tanh forms) and tanh', () => {
  const x = leaf64([129], 18, 4);
  gradcheck('gelu erf', (t) => ops.gelu(t, 'erf'), [x], { tol: 1e-5 });
  gradcheck('gelu tanh', (t) => ops.gelu(t, 'tanh'), [x]);
  gradcheck('tanh', (t) => ops.tanh(t), [x]);
  // Known values: gelu(1) = 0.5 (1 + erf(1/sqrt 2)) = 0.8413447...; tanh form 0.8411920...
  const one = Tensor.from(new Float64Array([1, -2]), [2]);
  const [g1, g2] = ops.gelu(one, 'erf').toArray();
  assert.ok(Math.abs(g1 - 0.8413447460685429) < 2e-7 && Math.abs(g2 - -0.04550026389635842) < 2e-7);
  assert.ok(Math.abs(ops.gelu(one, 'tanh').toArray()[0] - 0.8411919906082768) < 1e-12);
});

test('layer norm: x, gamma and beta gradients', () => {
  for (const cols of [1, 7, 33]) {
    gradcheck(
      `layerNorm cols=${cols}`,
      (x, g, b) => ops.layerNorm(x, g, b, 1e-12),
      [leaf64([3, cols], 19, 2), leaf64([cols], 20), leaf64([cols], 21)],
      { tol: 1e-5 },
    );
  }
  // Normalised rows have mean 0 and (biased) variance 1.
  const y = ops.layerNorm(
    Tensor.from(new Float64Array([1, 2, 3, 4]), [1, 4]),
    Tensor.from(new Float64Array([1, 1, 1, 1])),
    Tensor.from(new Float64Array(4)),
    0,
  );
  const v = y.toArray();
  assert.ok(Math.abs(v.reduce((a, b) => a + b)) < 1e-12);
  assert.ok(Math.abs(v.reduce((a, b) => a + b * b, 0) / 4 - 1) < 1e-12);
});

test('embedding: repeated ids sum their gradients', () => {
  const ids = Tensor.from(new Int32Array([2, 0, 2, 2, 1]), [5]);
  gradcheck('embedding', (t) => ops.embedding(t, ids), [leaf64([4, 3], 22)]);
  assert.throws(() => ops.embedding(leaf64([4, 3], 22), Tensor.from(new Int32Array([4]))), /outside \[0, 4\)/);
  // padding_idx: that row gets no gradient (torch semantics), the others are unaffected.
  const table = leaf64([4, 3], 22);
  backward(ops.sum(ops.embedding(table, ids, 2)));
  assert.deepEqual(Array.from(table.grad!), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
});

test('masked softmax with scale and padding mask', () => {
  const mask = Tensor.from(new Float64Array([0, 0, -1e9, 0, 0, 0, 0, -1e9]), [2, 4]);
  gradcheck('maskedSoftmax', (s) => ops.maskedSoftmax(s, mask, 0.5), [leaf64([2, 3, 2, 4], 23)]);
  const y = ops.maskedSoftmax(leaf64([2, 3, 2, 4], 23), mask, 0.5).toArray();
  assert.ok(Math.abs(y[2]) < 1e-300, 'masked key gets zero probability');
  assert.ok(Math.abs(y[0] + y[1] + y[2] + y[3] - 1) < 1e-12);
});

test('reshape, permute0213 and sliceRows', () => {
  gradcheck('reshape', (x) => ops.reshape(x, [3, -1]), [leaf64([2, 3, 2], 24)]);
  gradcheck('permute0213', (x) => ops.permute0213(x), [leaf64([2, 3, 4, 5], 25)]);
  gradcheck('sliceRows', (x) => ops.sliceRows(x, 1, 3), [leaf64([4, 3], 26)]);
  const p = ops.permute0213(Tensor.from(new Float64Array([0, 1, 2, 3, 4, 5]), [1, 2, 3, 1]));
  assert.deepEqual(p.shape, [1, 3, 2, 1]);
  assert.deepEqual(p.toArray(), [0, 3, 1, 4, 2, 5]);
});

test('gatherRows and scatterRows: inverse copies, gradients, and rows that are not ascending', () => {
  const rows = Int32Array.from([0, 2, 3, 5]); // runs [0], [2, 3], [5]
  gradcheck('gatherRows', (x) => ops.gatherRows(x, rows), [leaf64([6, 2, 2], 27)]);
  gradcheck('scatterRows', (x) => ops.scatterRows(x, rows, 7), [leaf64([4, 3], 28)]);
  const x = Tensor.from(new Float64Array([1, 2, 3, 4, 5, 6]), [3, 2]);
  const wide = ops.scatterRows(x, Int32Array.from([1, 2, 4]), 5);
  assert.deepEqual(wide.toArray(), [0, 0, 1, 2, 3, 4, 0, 0, 5, 6]);
  assert.deepEqual(ops.gatherRows(wide, Int32Array.from([1, 2, 4])).toArray(), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => ops.gatherRows(wide, Int32Array.from([2, 1])), /gatherRows: row 1 at position 1 is not ascending within \[0, 5\)/);
  assert.throws(() => ops.scatterRows(x, Int32Array.from([0, 1, 5]), 5), /scatterRows: row 5 at position 2/);
  assert.throws(() => ops.scatterRows(x, Int32Array.from([0, 1]), 5), /scatterRows: 2 rows for a first axis of 3/);
});

test('dropout: seeded mask, identity in eval mode, gradient through the same mask', () => {
  const x = leaf64([257], 27);
  gradcheck('dropout', (t) => ops.dropout(t, 0.3, 1234, true), [x]);
  const a = ops.dropout(x, 0.3, 1234, true).toArray(),
    b = ops.dropout(x, 0.3, 1234, true).toArray();
  assert.deepEqual(a, b);
  const dropped = a.filter((v) => v === 0).length;
  assert.ok(dropped > 257 * 0.15 && dropped < 257 * 0.45, `dropped ${dropped} of 257`);
  assert.equal(ops.dropout(x, 0.3, 1234, false), x);
});

test('cross-entropy with ignore index and class weights matches the closed form', () => {
  const labels = Tensor.from(new Int32Array([2, -100, 0, 1]));
  gradcheck('crossEntropy', (l) => ops.crossEntropy(l, labels), [leaf64([4, 3], 28, 3)]);
  const w = Tensor.from(new Float64Array([0.5, 2, 1]));
  gradcheck('crossEntropy weighted', (l) => ops.crossEntropy(l, labels, { classWeights: w }), [leaf64([4, 3], 29, 3)]);
  // Closed form: uniform logits give log(C) whatever the labels.
  const uniform = Tensor.from(new Float64Array(12), [4, 3]);
  assert.ok(Math.abs(ops.crossEntropy(uniform, labels).item() - Math.log(3)) < 1e-12);
  assert.throws(() => ops.crossEntropy(uniform, Tensor.from(new Int32Array([3, 0, 0, 0]))), /label 3 at row 0/);
});

test('shape errors name the op and both shapes', () => {
  const a = leaf64([2, 3], 30),
    b = leaf64([4, 5], 31);
  assert.throws(() => ops.matmul(a, b), /matmul: inner dimensions differ.*\[2, 3\].*\[4, 5\]/);
  assert.throws(() => ops.linear(a, b, null), /linear: weight must be \[out, 3\]/);
  assert.throws(() => ops.add(a, b), /add: shapes do not broadcast/);
});

test('randoms are deterministic', () => {
  assert.deepEqual(Array.from(randoms(3, 5)), Array.from(randoms(3, 5)));
});
