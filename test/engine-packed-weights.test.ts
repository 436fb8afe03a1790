/**
 * Weights packed once for inference (engine/packed-weights.ts): a model opted in predicts the same
 * bytes as one that packs its weights on every GEMM; each weight is packed once, not in passes that
 * record a graph, and again after the weights change (an optimizer step, weightsChanged()).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Tensor,
  backward,
  kernels,
  noGrad,
  ops,
  packForInference,
  setKernels,
  tidy,
  weightsChanged,
  Rng,
  type Kernels,
} from '../src/engine/index.js';
import { BertForTokenClassification, makeConfig, type TokenBatch } from '../src/models/index.js';
import { AdamW } from '../src/train/optimizer.js';
import { loadNative } from '../src/engine/native.js';

const skip = loadNative() ? false : 'native addon not built (the reference kernels do not pack)';

function tinyBert(seed: number): BertForTokenClassification {
  const config = makeConfig({
    vocab_size: 120,
    hidden_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 96,
    id2label: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [String(i), `L${i}`])),
  });
  return BertForTokenClassification.create(config, seed);
}

function batchOf(seed: number, B = 3, T = 11): TokenBatch {
  const r = Rng.fromSeed(seed);
  return {
    inputIds: Int32Array.from({ length: B * T }, () => 1 + r.nextInt(119)),
    attentionMask: Int32Array.from({ length: B * T }, (_, i) => (i % T < T - (Math.floor(i / T) % 3) ? 1 : 0)),
    batchSize: B,
    seqLen: T,
  };
}

const logits = (m: BertForTokenClassification, b: TokenBatch): Float32Array =>
  noGrad(() => tidy(() => Float32Array.from(m.forward(b, { training: false }).f as Float32Array)));

/** Runs fn with the active kernels wrapped so that packGemmB calls are counted. */
function countingPacks<T>(fn: (packs: () => number) => T): T {
  const base = kernels();
  let n = 0;
  const packGemmB: Kernels['packGemmB'] = (...args) => {
    n++;
    return base.packGemmB(...args);
  };
  setKernels(Object.assign(Object.create(base) as Kernels, { packGemmB }));
  try {
    return fn(() => n);
  } finally {
    setKernels(base);
  }
}

test('an opted-in model predicts the same bytes, packing each linear weight once', { skip }, () => {
  const plain = tinyBert(5),
    packed = tinyBert(5);
  packForInference(packed.params.values());
  const b = batchOf(1);
  countingPacks((packs) => {
    assert.deepEqual(logits(packed, b), logits(plain, b));
    // per layer: the fused QKV, attention output, intermediate, output; then the classifier
    const perPass = 2 * 4 + 1;
    assert.equal(packs(), perPass);
    assert.deepEqual(logits(packed, batchOf(2, 2, 30)), logits(plain, batchOf(2, 2, 30)));
    assert.equal(packs(), perPass, 'a second pass (another shape) reuses the packs');
    // A pass that records a graph packs nothing (its weights are about to change).
    tidy(() => packed.forward(b, { training: false }));
    assert.equal(packs(), perPass);
  });
});

test('packs follow the weights: after an optimizer step, after weightsChanged()', { skip }, () => {
  const plain = tinyBert(9),
    packed = tinyBert(9);
  const opts = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
  const optPlain = new AdamW(plain.parameters(), opts),
    optPacked = new AdamW(packed.parameters(), opts);
  // After AdamW flattened them: the buffers the model now uses.
  packForInference(packed.params.values());
  const b = batchOf(3);
  const labels = Tensor.from(
    Int32Array.from({ length: 33 }, (_, i) => i % 5),
    [33],
  );
  countingPacks((packs) => {
    assert.deepEqual(logits(packed, b), logits(plain, b));
    const before = packs();
    for (const [m, o] of [
      [plain, optPlain],
      [packed, optPacked],
    ] as const) {
      tidy(() => backward(ops.crossEntropy(m.forward(b, { training: false }), labels)));
      o.update(1e-2);
      o.zeroGrad();
    }
    const after = logits(packed, b);
    assert.deepEqual(after, logits(plain, b), 'the stepped weights are used');
    assert.equal(packs(), 2 * before, 'every weight packed again once');
    // Written directly: stale until weightsChanged() says so.
    const w = packed.parameters().find(([n]) => n === 'classifier.weight')![1];
    const pw = plain.parameters().find(([n]) => n === 'classifier.weight')![1];
    (w.f as Float32Array).fill(0.01);
    (pw.f as Float32Array).fill(0.01);
    weightsChanged();
    assert.deepEqual(logits(packed, b), logits(plain, b));
  });
});
