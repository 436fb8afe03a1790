/**
 * DistilBERT against transformers 5 (fixtures from scripts/fixtures/make-encoder-fixtures.py:
 * DistilBertForTokenClassification saved by save_pretrained, a bare DistilBertModel).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { DistilBertForTokenClassification, configToJson, loadModelFromDir, makeConfig, parseConfig } from '../src/models/index.js';
import { fixturesDir } from './helpers/fixtures.js';
import { encoderFixture, parityTests } from './helpers/encoder-parity.js';

parityTests('distilbert-tiny', 'DistilBertForTokenClassification', /attention\.k_lin\.bias$/);

test('config: DistilBERT names are read into ModelConfig, with eps 1e-12 and no token types', () => {
  const { model } = loadModelFromDir(join(fixturesDir, 'distilbert-tiny'));
  const c = model.config;
  assert.deepEqual([c.hiddenSize, c.numHiddenLayers, c.numAttentionHeads, c.intermediateSize, c.hiddenAct], [16, 3, 4, 32, 'gelu']);
  assert.deepEqual(
    [c.hiddenDropoutProb, c.attentionProbsDropoutProb, c.layerNormEps, c.typeVocabSize, c.classifierDropout],
    [0.1, 0.1, 1e-12, 0, null],
  );
  assert.throws(
    () => parseConfig({ model_type: 'distilbert', dim: 10, n_heads: 4 }, 'x/config.json'),
    /x\/config.json: dim 10 is not a multiple of n_heads 4/,
  );
  assert.throws(
    () => parseConfig({ model_type: 'distilbert', activation: 'relu' }, 'c.json'),
    /c.json: activation 'relu' is not supported/,
  );
  assert.throws(
    () => parseConfig({ model_type: 'distilbert', n_layers: -1 }, 'c.json'),
    /c.json: n_layers must be an integer in \[0, 1024\]/,
  );
});

test("sinusoidal_pos_embds: a fresh model gets create_sinusoidal_embeddings' table", () => {
  const fx = encoderFixture('distilbert-tiny');
  const cfg = makeConfig({
    model_type: 'distilbert',
    vocab_size: 100,
    dim: 16,
    n_heads: 4,
    hidden_dim: 32,
    max_position_embeddings: 40,
    sinusoidal_pos_embds: true,
    id2label: { 0: 'O' },
  });
  const model = DistilBertForTokenClassification.create(cfg, 1);
  const table = model.params.get('distilbert.embeddings.position_embeddings.weight')!.f;
  const ref = fx.get('sinusoidal.table').data;
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(table[i]! - ref[i]!) <= 1e-6, `entry ${i}: ${table[i]} vs ${ref[i]}`);
});

test('a bare DistilBertModel checkpoint: base weights under distilbert., classifier newly initialised and reported', () => {
  const { model, report } = loadModelFromDir(join(fixturesDir, 'distilbert-bare'), { labels: ['O', 'B-X'] });
  assert.deepEqual(report.newlyInitialized, ['classifier.weight', 'classifier.bias']);
  assert.deepEqual(report.unused, []);
  assert.match(report.warnings[0]!, /DistilBertForTokenClassification .* newly initialized: classifier.weight, classifier.bias/);
  assert.equal(model.config.numHiddenLayers, 2);
});

test('property: any valid DistilBERT config survives parse -> configToJson under its own field names', () => {
  fc.assert(
    fc.property(
      fc.record({
        heads: fc.integer({ min: 1, max: 8 }),
        perHead: fc.integer({ min: 1, max: 16 }),
        n_layers: fc.integer({ min: 0, max: 12 }),
        hidden_dim: fc.integer({ min: 1, max: 4096 }),
        dropout: fc.double({ min: 0, max: 0.9, noNaN: true }),
        attention_dropout: fc.double({ min: 0, max: 0.9, noNaN: true }),
        activation: fc.constantFrom('gelu', 'gelu_new'),
        sinusoidal_pos_embds: fc.boolean(),
        seq_classif_dropout: fc.double({ min: 0, max: 0.9, noNaN: true }),
      }),
      (r) => {
        const json = {
          model_type: 'distilbert',
          vocab_size: 50,
          dim: r.heads * r.perHead,
          n_heads: r.heads,
          n_layers: r.n_layers,
          hidden_dim: r.hidden_dim,
          dropout: r.dropout,
          attention_dropout: r.attention_dropout,
          activation: r.activation,
          sinusoidal_pos_embds: r.sinusoidal_pos_embds,
          seq_classif_dropout: r.seq_classif_dropout,
          id2label: { 0: 'O', 1: 'B-X' },
        };
        const cfg = parseConfig(json);
        assert.equal(cfg.hiddenSize, json.dim);
        assert.equal(cfg.hiddenDropoutProb, json.dropout);
        const out = configToJson(cfg, 'DistilBertForTokenClassification');
        for (const [k, v] of Object.entries(json)) if (k !== 'id2label') assert.deepEqual(out[k], v, k);
        for (const bertName of [
          'hidden_size',
          'num_hidden_layers',
          'num_attention_heads',
          'intermediate_size',
          'hidden_act',
          'hidden_dropout_prob',
          'layer_norm_eps',
          'type_vocab_size',
          'classifier_dropout',
        ]) {
          assert.ok(!(bertName in out), `${bertName} is not a DistilBertConfig field`);
        }
        assert.deepEqual(parseConfig(out), { ...cfg, raw: out });
      },
    ),
  );
});
