/**
 * DeBERTa-v2 parity with transformers 5: folders that DebertaV2ForTokenClassification.save_pretrained
 * wrote (scripts/fixtures/make-deberta-fixtures.py; four settings of buckets, shared keys and pos_att_type,
 * padding in the batch), their logits, loss, every parameter gradient and three AdamW steps;
 * transformers' log buckets; a bare base model and a pytorch_model.bin copy; float64 finite
 * differences of the disentangled attention op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Tensor, backward, noGrad, ops, tidy } from '../src/engine/index.js';
import {
  DebertaV2ForTokenClassification,
  MASK_MIN,
  loadModelFromDir,
  logBucketPosition,
  parseConfig,
  relativeIndex,
  debertaV2Options,
  configToJson,
} from '../src/models/index.js';
import { readFixture } from './helpers/fixtures.js';
import { close, encoderFixture, parityTests } from './helpers/encoder-parity.js';
import { gradcheck, leaf64 } from './helpers/gradcheck.js';

const CASES = ['v3', 'nobucket', 'c2p', 'p2c'];

const fixture = (name: string) => encoderFixture(`deberta-${name}`);

for (const name of CASES) parityTests(`deberta-${name}`, 'DebertaV2ForTokenClassification');

test("log buckets equal transformers' make_log_bucket_position for every distance up to 511", () => {
  for (const [key, rec] of readFixture('deberta-buckets.safetensors')) {
    const [, b, m] = /^b(\d+)_m(\d+)$/.exec(key)!.map(Number);
    const ref = rec.data as Int32Array,
      T = (ref.length + 1) / 2;
    for (let i = 0; i < ref.length; i++) {
      const diff = i - (T - 1);
      assert.equal(logBucketPosition(diff, b, m), ref[i], `${key}: distance ${diff}`);
    }
  }
});

test('relative index: clamped into [0, 2 span), symmetric bucket (p2c uses the same index)', () => {
  const o = debertaV2Options(
    parseConfig({
      model_type: 'deberta-v2',
      relative_attention: true,
      max_relative_positions: 3,
      position_buckets: -1,
      pos_att_type: 'c2p|p2c',
    }),
  );
  assert.equal(o.span, 3);
  assert.ok(o.c2p && o.p2c);
  const idx = relativeIndex(6, o);
  assert.equal(idx[0 * 6 + 5], 0); // 0 - 5 + 3 clamped to 0
  assert.equal(idx[5 * 6 + 0], 5); // 5 + 3 clamped to 2 * 3 - 1
  assert.equal(idx[2 * 6 + 2], 3);
});

test('a bare base checkpoint and a pytorch_model.bin load; the base reports the new head', () => {
  const f = fixture('v3');
  const bin = loadModelFromDir(join(f.dir, 'bin')).model;
  tidy(() => noGrad(() => close('bin logits', bin.forward(f.batch, { training: false }).f, f.get('logits').data, 1e-5)));
  const { model: base, report } = loadModelFromDir(join(f.dir, 'base'), { labels: ['O', 'B-X', 'I-X'] });
  assert.deepEqual(report.newlyInitialized, ['classifier.weight', 'classifier.bias']);
  assert.deepEqual(report.unused, []);
  const full = loadModelFromDir(f.dir).model;
  for (const [n, p] of base.parameters()) if (!n.startsWith('classifier.')) assert.deepEqual(p.f, full.params.get(n)!.f, n);
});

test('a config asking for the convolution layer is refused with the field named', () => {
  assert.throws(() => debertaV2Options(parseConfig({ model_type: 'deberta-v2', conv_kernel_size: 3 })), /conv_kernel_size 3/);
  assert.throws(() => debertaV2Options(parseConfig({ model_type: 'deberta-v2', pos_att_type: 7 })), /pos_att_type must be/);
});

test('training mode: dropout on everything still gives finite logits and gradients for every parameter', () => {
  const f = fixture('v3');
  const model = loadModelFromDir(f.dir).model as DebertaV2ForTokenClassification;
  tidy(() => {
    const loss = ops.crossEntropy(model.forward(f.batch, { training: true, dropoutSeed: 3 }), f.labels);
    assert.ok(Number.isFinite(loss.item()));
    backward(loss);
  });
  for (const [n, p] of model.parameters()) assert.ok(p.grad!.every(Number.isFinite), n);
});

test('disentangledAttention: gradients equal float64 finite differences (c2p + p2c, padding, both layouts)', () => {
  const B = 2,
    T = 5,
    nh = 2,
    d = 3,
    H = nh * d,
    S2 = 8;
  const maskData = Float64Array.from([0, 0, 0, 0, 0, 0, 0, 0, MASK_MIN, MASK_MIN]);
  const mask = Tensor.from(maskData, [B, T]);
  const relIndex = relativeIndex(
    T,
    debertaV2Options(
      parseConfig({
        model_type: 'deberta-v2',
        relative_attention: true,
        position_buckets: 4,
        max_relative_positions: 8,
        pos_att_type: ['c2p', 'p2c'],
      }),
    ),
  );
  assert.ok(relIndex.every((r) => r >= 0 && r < S2));
  const q = leaf64([B * T, H], 1),
    k = leaf64([B * T, H], 2),
    v = leaf64([B * T, H], 3);
  const pk = leaf64([S2, H], 4),
    pq = leaf64([S2, H], 5);
  const opts = { heads: nh, scale: 1 / Math.sqrt(3 * d), relIndex };
  gradcheck('c2p+p2c', (a, b, c, e, g) => ops.disentangledAttention(a, b, c, e, g, mask, B, opts), [q, k, v, pk, pq]);
  gradcheck('c2p only', (a, b, c, e) => ops.disentangledAttention(a, b, c, e, null, mask, B, opts), [q, k, v, pk]);
  gradcheck('p2c only', (a, b, c, g) => ops.disentangledAttention(a, b, c, null, g, mask, B, opts), [q, k, v, pq]);
  // Dropout: the same mask forward and backward.
  gradcheck(
    'with dropout',
    (a, b, c, e, g) => ops.disentangledAttention(a, b, c, e, g, mask, B, { ...opts, dropoutP: 0.3, dropoutSeed: 11 }),
    [q, k, v, pk, pq],
  );
});

test("disentangledAttention: a padded query row attends uniformly to every key (transformers' masked_fill)", () => {
  const B = 1,
    T = 4,
    H = 2;
  const mask = Tensor.from(Float32Array.from([0, 0, MASK_MIN, MASK_MIN]), [B, T]);
  const q = Tensor.from(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [T, H]);
  const v = Tensor.from(Float32Array.from([1, 0, 0, 1, 10, 10, 20, 20]), [T, H]);
  const ctx = noGrad(() =>
    ops.disentangledAttention(q, q, v, null, null, mask, B, { heads: 1, scale: 1, relIndex: new Int32Array(T * T) }),
  );
  // Row 3 (padding): the mean of all four value rows, padded ones included.
  close('pad row', ctx.f.subarray(6, 8), [31 / 4, 31 / 4], 1e-6);
  // Row 0: only keys 0 and 1.
  const s0 = 1 * 1 + 2 * 2,
    s1 = 1 * 3 + 2 * 4,
    w1 = Math.exp(s1 - s0) / (1 + Math.exp(s1 - s0));
  close('token row', ctx.f.subarray(0, 2), [1 - w1, w1], 1e-6);
});

test('a config.json without the size fields means what DebertaV2Config() gives (not BERT defaults); saving writes no classifier_dropout', () => {
  // DebertaV2Config().to_dict() in transformers 5.18: layer_norm_eps 1e-07, type_vocab_size 0, vocab_size 128100.
  const cfg = parseConfig({
    model_type: 'deberta-v2',
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 16,
  });
  assert.equal(cfg.layerNormEps, 1e-7);
  assert.equal(cfg.typeVocabSize, 0);
  assert.equal(cfg.vocabSize, 128100);
  assert.equal(cfg.classifierDropout, null, 'the head uses hidden_dropout_prob');
  assert.ok(!('classifier_dropout' in configToJson(cfg, 'DebertaV2ForTokenClassification')));
});
