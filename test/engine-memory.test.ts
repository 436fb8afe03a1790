/** A 1,000-step training loop run inside tidy() holds flat memory: buffers are reused, not leaked. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, backward, clearPool, ops, parameter, poolStats, tidy, Rng } from '../src/engine/index.js';
import { AdamW } from '../src/train/optimizer.js';

test('1,000 training steps keep the buffer pool and array-buffer memory flat', () => {
  const rng = Rng.fromSeed(1);
  const init = (n: number) => Float32Array.from({ length: n }, () => rng.normal() * 0.1);
  const w1 = parameter(init(16 * 8), [16, 8], 'l1.weight'),
    b1 = parameter(new Float32Array(16), [16], 'l1.bias');
  const w2 = parameter(init(3 * 16), [3, 16], 'l2.weight'),
    b2 = parameter(new Float32Array(3), [3], 'l2.bias');
  const opt = new AdamW(
    [
      ['l1.weight', w1],
      ['l1.bias', b1],
      ['l2.weight', w2],
      ['l2.bias', b2],
    ],
    { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
  );
  const x = Tensor.from(init(32 * 8), [32, 8]);
  const y = Tensor.from(
    Int32Array.from({ length: 32 }, (_, i) => i % 3),
    [32],
  );
  let first = 0,
    last = 0,
    after10 = { buffers: 0, bytes: 0 },
    ab10 = 0;
  for (let step = 0; step < 1000; step++) {
    const loss = tidy(() => {
      const h = ops.gelu(ops.linear(x, w1, b1));
      const l = ops.crossEntropy(ops.linear(h, w2, b2), y);
      backward(l);
      return l.item();
    });
    opt.clipGradNorm(1);
    opt.update(1e-2);
    opt.zeroGrad();
    if (step === 0) first = loss;
    if (step === 9) {
      after10 = poolStats();
      ab10 = process.memoryUsage().arrayBuffers;
    }
    last = loss;
  }
  const end = poolStats();
  assert.equal(end.buffers, after10.buffers, 'the same pooled buffers are reused every step');
  assert.equal(end.bytes, after10.bytes);
  const growth = process.memoryUsage().arrayBuffers - ab10;
  assert.ok(growth < 4 * 1024 * 1024, `array buffers grew by ${growth} bytes over 990 steps`);
  assert.ok(last < first * 0.5, `the loop really trains (loss ${first} -> ${last})`);
});

test("batches of varying length (dynamic padding) reuse the longer batches' buffers: the pool stops growing", () => {
  clearPool();
  const rng = Rng.fromSeed(2);
  const init = (n: number) => Float32Array.from({ length: n }, () => rng.normal() * 0.1);
  const w = parameter(init(64 * 32), [64, 32], 'l.weight'),
    b = parameter(new Float32Array(64), [64], 'l.bias');
  const opt = new AdamW(
    [
      ['l.weight', w],
      ['l.bias', b],
    ],
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
  );
  // Row counts like padded batch lengths: the longest first (length-grouped order starts there),
  // then shorter ones in a shuffled order, all within half of it.
  const lengths = [128, ...Array.from({ length: 300 }, () => 64 + rng.nextInt(64))];
  let afterFirst = 0;
  lengths.forEach((rows, step) => {
    tidy(() => {
      const x = Tensor.from(init(rows * 32), [rows, 32]);
      backward(ops.sum(ops.gelu(ops.linear(x, w, b))));
    });
    opt.fusedStep(1e-3, 1);
    if (step === 0) afterFirst = poolStats().bytes;
  });
  assert.ok(poolStats().bytes <= afterFirst, `pool grew from ${afterFirst} to ${poolStats().bytes} bytes over 300 shorter batches`);
});

test('tidy keeps returned tensors and disposes the rest', () => {
  let inner: Tensor | null = null;
  const kept = tidy(() => {
    inner = ops.scale(Tensor.from(new Float32Array([1, 2])), 2);
    return ops.scale(inner, 3);
  });
  assert.deepEqual(kept.toArray(), [6, 12]);
  assert.ok(inner!.disposed, 'intermediate disposed');
  assert.throws(() => inner!.data, /disposed/);
  kept.dispose();
});
