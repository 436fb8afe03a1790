/**
 * RoBERTa and XLM-RoBERTa against transformers 5 (fixtures from scripts/fixtures/make-encoder-fixtures.py:
 * RobertaForTokenClassification saved by save_pretrained, XLMRobertaForTokenClassification as a
 * pytorch_model.bin, a bare RobertaModel with its pooler).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadModelFromDir, robertaPositionIds } from '../src/models/index.js';
import { loadStateDict } from '../src/io/state-dict.js';
import { fixturesDir } from './helpers/fixtures.js';
import { encoderFixture, parityTests } from './helpers/encoder-parity.js';

const keyBias = /attention\.self\.key\.bias$/;
parityTests('roberta-tiny', 'RobertaForTokenClassification', keyBias);
parityTests('xlm-roberta-tiny', 'XLMRobertaForTokenClassification', keyBias);

test('position ids are create_position_ids_from_input_ids: from padding_idx + 1 over non-pad tokens', () => {
  const fx = encoderFixture('roberta-tiny');
  const { inputIds, batchSize, seqLen } = fx.batch;
  assert.deepEqual(Array.from(robertaPositionIds(inputIds, batchSize, seqLen, 1)), Array.from(fx.get('position_ids').data));
  // A pad id in the middle of a row keeps padding_idx and does not advance the count.
  assert.deepEqual(Array.from(robertaPositionIds(Int32Array.from([0, 5, 1, 7, 1]), 1, 5, 1)), [2, 3, 1, 4, 1]);
});

test('a sequence longer than the position table allows (counted from pad_token_id + 1) is refused by name', () => {
  const model = encoderFixture('roberta-tiny').load();
  const T = 39; // max_position_embeddings 40, pad 1: at most 38
  assert.throws(
    () =>
      model.forward(
        { inputIds: new Int32Array(T).fill(5), attentionMask: new Int32Array(T).fill(1), batchSize: 1, seqLen: T },
        { training: false },
      ),
    /sequence length 39 exceeds .*max_position_embeddings 40.*at most 38/,
  );
});

test('a bare RobertaModel checkpoint: base weights under roberta., pooler unused, classifier newly initialised', () => {
  const dir = join(fixturesDir, 'roberta-bare');
  const { model, report } = loadModelFromDir(dir, { labels: ['O', 'B-X', 'I-X'] });
  assert.deepEqual(report.newlyInitialized, ['classifier.weight', 'classifier.bias']);
  assert.deepEqual(report.unused.sort(), ['roberta.pooler.dense.bias', 'roberta.pooler.dense.weight']);
  const state = loadStateDict(dir);
  const w = state.get('encoder.layer.1.output.dense.weight')!;
  assert.deepEqual(Array.from(model.params.get('roberta.encoder.layer.1.output.dense.weight')!.f), Array.from(w.data));
  assert.equal(model.architecture, 'RobertaForTokenClassification');
});

test('property: positions are padding_idx at pad ids and padding_idx + 1, + 2, ... over the other ids of each row', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 12 }),
      fc.infiniteStream(fc.integer({ min: 0, max: 6 })),
      (pad, B, T, stream) => {
        const ids = Int32Array.from(stream.take(B * T));
        const pos = robertaPositionIds(ids, B, T, pad);
        for (let b = 0; b < B; b++) {
          let expected = pad + 1;
          for (let t = 0; t < T; t++) {
            const i = b * T + t;
            if (ids[i] === pad) assert.equal(pos[i], pad);
            else assert.equal(pos[i], expected++);
          }
        }
      },
    ),
  );
});
