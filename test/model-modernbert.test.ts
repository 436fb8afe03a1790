/**
 * ModernBERT parity with transformers 5 (fixtures from scripts/fixtures/make-modernbert-fixtures.py:
 * ModernBertForTokenClassification, 4 layers with global attention in layers 0 and 3 and a
 * sliding window of +-3 in layers 1 and 2 over sequences of 12, padding in the batch; `nobias`
 * with the default bias-free layers and erf GELUs, `bias` with every bias and tanh GELUs).
 * Logits are compared on real tokens (padded query rows never reach the loss).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backward, noGrad, ops, tidy } from '../src/engine/index.js';
import {
  ModernBertForTokenClassification,
  loadModelFromDir,
  makeConfig,
  modernBertOptions,
  parseConfig,
  savePretrained,
  type TokenBatch,
  type TokenClassifier,
} from '../src/models/index.js';
import fc from 'fast-check';
import { integralAsFloat } from '../src/models/json-floats.js';
import { fixturesDir, repoRoot } from './helpers/fixtures.js';
import { adamwSteps, close, encoderFixture, skipPaddingTest } from './helpers/encoder-parity.js';
import { findHfPython } from '../tools/hf-python.mjs';

const root = join(fixturesDir, 'modernbert');

const fixture = (name: string) => encoderFixture(`modernbert/${name}`);

/** Rows of [B*T, C] logits at real tokens. */
function realRows(logits: ArrayLike<number>, mask: Int32Array, C: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < mask.length; r++) if (mask[r]) for (let c = 0; c < C; c++) out.push(logits[r * C + c]);
  return out;
}

/** Relative to the tensor's largest magnitude (floored at 1e-3), as the BERT parity test. */
function gradTol(ref: ArrayLike<number>): number {
  let m = 1e-3;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i]));
  return m;
}

for (const name of ['nobias', 'bias']) {
  const fx = fixture(name);
  const load = (): TokenClassifier => loadModelFromDir(fx.dir).model;

  test(`${name}: logits and loss match transformers within 1e-5`, () => {
    const model = load();
    assert.ok(model instanceof ModernBertForTokenClassification);
    const C = model.numLabels;
    tidy(() =>
      noGrad(() => {
        const logits = model.forward(fx.batch, { training: false });
        close('logits', realRows(logits.f, fx.batch.attentionMask, C), realRows(fx.get('logits').data, fx.batch.attentionMask, C), 1e-5);
        close('loss', [ops.crossEntropy(logits, fx.labels).item()], fx.get('loss').data, 1e-5);
      }),
    );
  });

  skipPaddingTest(fx, `modernbert-${name}`);

  test(`${name}: every parameter gradient matches transformers within 1e-4 of its magnitude`, () => {
    const model = load();
    tidy(() => backward(ops.crossEntropy(model.forward(fx.batch, { training: false }), fx.labels)));
    let n = 0;
    for (const [pname, p] of model.parameters()) {
      const ref = fx.get(`grad.${pname}`).data;
      close(`grad ${pname}`, p.grad!, ref, 1e-4, gradTol(ref));
      n++;
    }
    // nobias: embeddings (2) + 4 layers (attn_norm from layer 1, Wqkv, Wo, mlp_norm, Wi, Wo) + final, head, classifier
    assert.equal(n, name === 'nobias' ? 30 : 57);
  });

  test(`${name}: three AdamW steps match torch.optim.AdamW with HF Trainer's groups`, () => {
    const model = load();
    const losses = adamwSteps(model, fx.batch, fx.labels);
    close('adamw losses', losses, fx.get('adamw.losses').data, 1e-5);
    for (const [pname, p] of model.parameters()) close(`adamw3 ${pname}`, p.f, fx.get(`adamw3.${pname}`).data, 1e-5);
  });
}

test('sliding layers whose window covers the sequence (the fused path) match transformers', () => {
  for (const name of ['nobias', 'bias']) {
    const fx = fixture(name);
    const m = loadModelFromDir(fx.dir).model;
    const wide = new ModernBertForTokenClassification({ ...m.config, raw: { ...m.config.raw, local_attention: 64 } }, m.params);
    const C = m.numLabels;
    tidy(() =>
      noGrad(() =>
        close(
          `${name} wide-window logits`,
          realRows(wide.forward(fx.batch, { training: false }).f, fx.batch.attentionMask, C),
          realRows(fx.get('wide.logits').data, fx.batch.attentionMask, C),
          1e-5,
        ),
      ),
    );
  }
});

test('a bare ModernBertModel pytorch_model.bin loads with a fresh head (head.* and classifier.*) reported', () => {
  const full = loadModelFromDir(join(root, 'nobias')).model;
  const { model, report } = loadModelFromDir(join(root, 'bare'), { labels: full.config.labels });
  assert.deepEqual(report.newlyInitialized, ['head.dense.weight', 'head.norm.weight', 'classifier.weight', 'classifier.bias']);
  assert.deepEqual(report.unused, []);
  // HF's init: classifier std hidden^-0.5, head.dense std initializer_range / sqrt(2 L), truncated at 2 std.
  const cw = model.params.get('classifier.weight')!.f;
  const bound = 2 * model.config.hiddenSize ** -0.5;
  assert.ok(Array.from(cw).every((v) => Math.abs(v) <= bound) && Array.from(cw).some((v) => v !== 0));
  // With nobias's head copied in, the encoder from the .bin gives nobias's logits.
  for (const n of report.newlyInitialized) model.params.get(n)!.f.set(full.params.get(n)!.f);
  const fx = fixture('nobias');
  tidy(() =>
    noGrad(() =>
      close('bare + head logits', model.forward(fx.batch, { training: false }).f, full.forward(fx.batch, { training: false }).f, 0),
    ),
  );
});

test('a folder we save reloads identically (and in transformers, when TOKENTUNE_HF_PYTHON is set)', (t) => {
  const fx = fixture('bias');
  const model = loadModelFromDir(fx.dir).model;
  const dir = mkdtempSync(join(tmpdir(), 'tt-modernbert-'));
  try {
    savePretrained(model, dir);
    // ModernBertConfig's own names (norm_eps, hidden_activation, ...) and nothing BERT-only (hidden_act, type_vocab_size).
    const theirs = JSON.parse(readFileSync(join(fx.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const ours = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    for (const [k, v] of Object.entries(theirs)) assert.deepEqual(ours[k], v, `config field ${k}`);
    assert.deepEqual(
      Object.keys(ours).filter((k) => !(k in theirs) && !['architectures', 'torch_dtype'].includes(k)),
      [],
    );
    const again = loadModelFromDir(dir).model;
    const logits = tidy(() => noGrad(() => Array.from(model.forward(fx.batch, { training: false }).f)));
    close(
      'reloaded logits',
      tidy(() => noGrad(() => Array.from(again.forward(fx.batch, { training: false }).f))),
      logits,
      0,
    );
    const { python: py, missing } = findHfPython();
    if (missing !== undefined) {
      t.diagnostic(`${missing}: transformers round trip not run`);
      return;
    }
    const { batchSize: B, seqLen: T } = fx.batch;
    const rows = (a: ArrayLike<number>) => Array.from({ length: B }, (_, b) => Array.from(a).slice(b * T, (b + 1) * T));
    writeFileSync(
      join(dir, 'ours-logits.json'),
      JSON.stringify({ input_ids: rows(fx.batch.inputIds), attention_mask: rows(fx.batch.attentionMask), logits }),
    );
    const r = spawnSync(py, [join(repoRoot, 'scripts', 'fixtures', 'make-modernbert-fixtures.py'), '--check-ours', dir], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `transformers could not load our folder or its logits differ:\n${r.stdout}\n${r.stderr}`);
    t.diagnostic(r.stdout.trim());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config: the Hub spelling (global_attn_every_n_layers, *_rope_theta) and transformers 5 spelling agree', () => {
  const base = {
    model_type: 'modernbert',
    hidden_size: 16,
    num_attention_heads: 2,
    intermediate_size: 24,
    num_hidden_layers: 7,
    vocab_size: 64,
    pad_token_id: 0,
  };
  const old = modernBertOptions(parseConfig({ ...base, global_attn_every_n_layers: 3, global_rope_theta: 5e4, local_rope_theta: 1e3 }));
  assert.deepEqual(
    old.layerTypes.map((t) => t[0]),
    ['f', 's', 's', 'f', 's', 's', 'f'],
  );
  const v5 = modernBertOptions(
    parseConfig({
      ...base,
      layer_types: old.layerTypes,
      rope_parameters: {
        full_attention: { rope_type: 'default', rope_theta: 5e4 },
        sliding_attention: { rope_type: 'default', rope_theta: 1e3 },
      },
    }),
  );
  assert.deepEqual(v5, old);
  const defaults = modernBertOptions(parseConfig(base));
  assert.equal(defaults.globalRopeTheta, 160000);
  assert.equal(defaults.localRopeTheta, 10000);
  assert.equal(defaults.localAttention, 128);
  assert.equal(defaults.normBias, false);
  assert.throws(() => modernBertOptions(parseConfig({ ...base, layer_types: ['full_attention'] })), /layer_types must be a list of 7/);
  assert.throws(() => modernBertOptions(parseConfig({ ...base, hidden_activation: 'silu' })), /hidden_activation 'silu' is not supported/);
  assert.throws(
    () => modernBertOptions(parseConfig({ ...base, rope_parameters: { full_attention: { rope_type: 'yarn' } } })),
    /rope_type 'yarn' is not supported/,
  );
  assert.throws(() => modernBertOptions(parseConfig({ ...base, norm_bias: 'no' })), /norm_bias must be true or false/);
});

test('create() follows HF init: truncated normals with per-module std; training with dropout runs', () => {
  const cfg = makeConfig({
    model_type: 'modernbert',
    hidden_size: 16,
    num_attention_heads: 2,
    intermediate_size: 24,
    num_hidden_layers: 3,
    vocab_size: 50,
    pad_token_id: 0,
    id2label: { 0: 'O', 1: 'B-X' },
  } as never);
  cfg.raw.attention_dropout = 0.1;
  cfg.raw.mlp_dropout = 0.1;
  cfg.raw.embedding_dropout = 0.1;
  cfg.raw.local_attention = 4;
  const model = ModernBertForTokenClassification.create(cfg, 1);
  const wo = model.params.get('model.layers.0.attn.Wo.weight')!.f;
  const std = 0.02 / Math.sqrt(6);
  assert.ok(Array.from(wo).every((v) => Math.abs(v) <= 2 * std + 1e-9));
  const batch: TokenBatch = {
    inputIds: Int32Array.from({ length: 20 }, (_, i) => 1 + (i % 40)),
    attentionMask: new Int32Array(20).fill(1),
    batchSize: 2,
    seqLen: 10,
  };
  const a = tidy(() => noGrad(() => Array.from(model.forward(batch, { training: true, dropoutSeed: 1 }).f)));
  const b = tidy(() => noGrad(() => Array.from(model.forward(batch, { training: false }).f)));
  assert.notDeepEqual(a, b);
  assert.ok(a.every(Number.isFinite));
});

test('config properties: layer types from global_attn_every_n_layers; Python floats keep the JSON value', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 8 }), (L, n) => {
      const o = modernBertOptions(
        parseConfig({
          model_type: 'modernbert',
          hidden_size: 16,
          num_attention_heads: 2,
          intermediate_size: 8,
          num_hidden_layers: L,
          global_attn_every_n_layers: n,
        }),
      );
      return o.layerTypes.length === L && o.layerTypes.every((t, i) => (t === 'full_attention') === (i % n === 0));
    }),
  );
  const key = fc.constantFrom('a', 'b.c', 'norm_eps', 'x"y');
  fc.assert(
    fc.property(
      fc.dictionary(key, fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.constant(null))),
      fc.subarray(['a', 'b.c', 'norm_eps', 'x"y']),
      (obj, floats) => {
        const text = integralAsFloat(JSON.stringify(obj, null, 2), floats);
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(obj)));
        // Python's json reads a number with a '.' or an exponent as a float.
        for (const k of floats) {
          if (typeof obj[k] !== 'number') continue;
          const token = text
            .split('\n')
            .find((l) => l.startsWith(`  ${JSON.stringify(k)}: `))!
            .split(': ')
            .pop()!
            .replace(/,$/, '');
          assert.match(token, /[.eE]/, text);
        }
      },
    ),
  );
});
