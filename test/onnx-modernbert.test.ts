/**
 * ModernBERT ONNX export: onnxruntime (an outside implementation of every operator) must
 * reproduce transformers' logits from the committed fixtures (scripts/fixtures/make-modernbert-fixtures.py)
 * and ours on longer random batches where the sliding window masks. Skips without onnxruntime-node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModernBertForTokenClassification, loadModelFromDir, makeConfig, type TokenBatch } from '../src/models/index.js';
import {
  buildModernBertOnnxModel,
  encodeModel,
  exportOnnx,
  loadOnnxRuntime,
  onnxLogits,
  ourLogits,
  randomBatch,
} from '../src/infer/onnx/index.js';
import { fixturesDir, readFixture } from './helpers/fixtures.js';

const ort = await loadOnnxRuntime();
const ortSkip = ort ? false : 'onnxruntime-node is not installed (npm test installs it: node scripts/test-deps.mjs)';

/** max |a - b| / max(1, |b|) over the rows of real tokens (NaN counts as Infinity). */
function realDiff(a: ArrayLike<number>, b: ArrayLike<number>, mask: Int32Array, C: number): number {
  let m = 0;
  for (let r = 0; r < mask.length; r++) {
    if (!mask[r]) continue;
    for (let c = 0; c < C; c++) {
      const d = Math.abs(a[r * C + c] - b[r * C + c]) / Math.max(1, Math.abs(b[r * C + c]));
      m = Number.isNaN(d) ? Infinity : Math.max(m, d);
    }
  }
  return m;
}

for (const name of ['nobias', 'bias']) {
  test(`${name}: onnxruntime reproduces transformers' logits within 1e-5 (relative, real tokens)`, { skip: ortSkip }, async () => {
    const dir = join(fixturesDir, 'modernbert', name);
    const model = loadModelFromDir(dir).model;
    const io = readFixture(`modernbert/${name}/io.safetensors`);
    const [B, T] = io.get('input_ids')!.shape;
    const batch: TokenBatch = {
      inputIds: io.get('input_ids')!.data as Int32Array,
      attentionMask: io.get('attention_mask')!.data as Int32Array,
      batchSize: B,
      seqLen: T,
    };
    const bytes = encodeModel(buildModernBertOnnxModel(model)).toBytes();
    for (const level of ['disabled', 'all'] as const) {
      const session = await ort!.InferenceSession.create(bytes, { graphOptimizationLevel: level, intraOpNumThreads: 1 });
      try {
        assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids']);
        const theirs = await onnxLogits(ort!, session, batch);
        const d = realDiff(theirs, io.get('logits')!.data, batch.attentionMask, model.numLabels);
        assert.ok(d <= 1e-5, `onnxruntime (optimization ${level}) vs transformers: ${d}`);
      } finally {
        await session.release();
      }
    }
  });
}

test('random model, sequences of 40 with a window of +-4: onnxruntime equals ours within 1e-5 relative', { skip: ortSkip }, async () => {
  const cfg = makeConfig({
    model_type: 'modernbert',
    vocab_size: 97,
    pad_token_id: 0,
    hidden_size: 32,
    num_attention_heads: 4,
    intermediate_size: 40,
    num_hidden_layers: 4,
    id2label: { 0: 'O', 1: 'B-X', 2: 'I-X' },
  } as never);
  cfg.raw.local_attention = 8;
  cfg.raw.attention_bias = true;
  cfg.raw.classifier_activation = 'gelu_pytorch_tanh';
  const model = ModernBertForTokenClassification.create(cfg, 3);
  // A larger spread than the init's so attention is peaked and the window matters.
  for (const [, t] of model.parameters()) if (t.shape.length === 2) for (let i = 0; i < t.size; i++) t.f[i] *= 8;
  const session = await ort!.InferenceSession.create(encodeModel(buildModernBertOnnxModel(model)).toBytes(), { intraOpNumThreads: 1 });
  try {
    for (const [B, T, seed] of [
      [3, 40, 1],
      [2, 7, 2],
    ]) {
      const batch = randomBatch(model, B, T, seed);
      const d = realDiff(await onnxLogits(ort!, session, batch), ourLogits(model, batch), batch.attentionMask, model.numLabels);
      assert.ok(d <= 1e-5, `batch ${B} x ${T}: ${d}`);
    }
    // Teeth: without the window (local_attention 80 covers 40 tokens) the logits differ.
    const wide = new ModernBertForTokenClassification({ ...cfg, raw: { ...cfg.raw, local_attention: 80 } }, model.params);
    const batch = randomBatch(model, 3, 40, 1);
    assert.ok(realDiff(await onnxLogits(ort!, session, batch), ourLogits(wide, batch), batch.attentionMask, model.numLabels) > 1e-3);
  } finally {
    await session.release();
  }
});

test('exportOnnx writes a ModernBERT folder whose config.json reloads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-mb-onnx-'));
  try {
    const model = loadModelFromDir(join(fixturesDir, 'modernbert', 'bias')).model;
    const r = exportOnnx(model, null, dir);
    assert.ok(r.modelBytes > 0);
    assert.equal(loadModelFromDir(join(fixturesDir, 'modernbert', 'bias')).model.config.modelType, 'modernbert');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
