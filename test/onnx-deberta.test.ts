/**
 * ONNX export of DeBERTa-v2 / DeBERTa-v3 (src/models/deberta-v2/deberta-v2-graph.ts), checked in
 * onnxruntime-node against the logits transformers computed for the four fixture settings
 * (scripts/fixtures/make-deberta-fixtures.py: log buckets or none, shared keys or not, c2p and/or p2c,
 * embed_proj, token types) and against ours on random padded batches, including sequences longer
 * than the relative-index table's reach. Skips when onnxruntime-node is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  exportOnnx,
  loadOnnxRuntime,
  maxAbsDiff,
  onnxLogits,
  ourLogits,
  randomBatch,
  relativeIndexTable,
} from '../src/infer/onnx/index.js';
import { DebertaV2ForTokenClassification, relativeIndex } from '../src/models/index.js';
import { encoderFixture } from './helpers/encoder-parity.js';

const ort = await loadOnnxRuntime();
const ortSkip = ort ? false : 'onnxruntime-node is not installed (npm test installs it: node scripts/test-deps.mjs)';
const tmp = mkdtempSync(join(tmpdir(), 'tt-onnx-deberta-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const CASES = [
  // name, token_type_ids input, random batch shapes (T beyond the table's reach where positions allow)
  [
    'v3',
    false,
    [
      [3, 20, 1],
      [1, 90, 2],
    ],
  ],
  [
    'nobucket',
    true,
    [
      [3, 20, 1],
      [2, 64, 2],
    ],
  ],
  [
    'c2p',
    false,
    [
      [3, 20, 1],
      [1, 70, 2],
    ],
  ],
  [
    'p2c',
    false,
    [
      [3, 20, 1],
      [1, 100, 2],
    ],
  ],
] as const;

test("the distance table gives the model's relative index for every pair, beyond its reach too", () => {
  for (const [name] of CASES) {
    const model = encoderFixture(`deberta-${name}`).load() as DebertaV2ForTokenClassification;
    const { table, reach } = relativeIndexTable(model.options);
    const T = 3 * reach + 2;
    const want = relativeIndex(T, model.options);
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        const d = Math.min(Math.max(i - j, -reach), reach);
        assert.equal(table[d + reach], want[i * T + j], `${name}: query ${i}, key ${j}`);
      }
    }
  }
});

for (const [name, types, shapes] of CASES) {
  test(`deberta-${name}: onnxruntime reproduces transformers' logits within 1e-4, and ours on random padded batches`, {
    skip: ortSkip,
  }, async () => {
    const fx = encoderFixture(`deberta-${name}`);
    const model = fx.load();
    const res = exportOnnx(model, null, join(tmp, name));
    for (const level of ['disabled', 'all'] as const) {
      const session = await ort!.InferenceSession.create(res.modelPath, { graphOptimizationLevel: level, intraOpNumThreads: 1 });
      try {
        const inputs = types ? ['attention_mask', 'input_ids', 'token_type_ids'] : ['attention_mask', 'input_ids'];
        assert.deepEqual([...session.inputNames].sort(), inputs, "optimum's inputs: token_type_ids only when type_vocab_size > 0");
        const d = maxAbsDiff(await onnxLogits(ort!, session, fx.batch), fx.get('logits').data as Float32Array);
        assert.ok(d <= 1e-4, `deberta-${name} (optimization ${level}): max |onnxruntime - transformers| = ${d}`);
        for (const [B, T, seed] of shapes) {
          const batch = randomBatch(model, B, T, seed);
          const dd = maxAbsDiff(ourLogits(model, batch), await onnxLogits(ort!, session, batch));
          assert.ok(dd <= 1e-4, `deberta-${name} batch ${B}x${T} (optimization ${level}): max |ours - onnxruntime| = ${dd}`);
        }
      } finally {
        await session.release();
      }
    }
  });
}
