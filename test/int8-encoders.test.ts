/**
 * int8 quantization of every architecture on the shared encoder layer (RoBERTa, XLM-RoBERTa,
 * DistilBERT; BERT is covered by int8-model.test.ts), on the fixtures transformers made
 * (scripts/make-encoder-fixtures.py): the quantized folder reloads with int8 layers whose logits
 * stay close to transformers' fp32 logits, and onnxruntime on the exported model_quantized.onnx
 * agrees with them. DeBERTa-v2, whose layer differs, is refused with an error naming it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncoderForTokenClassification, loadModelFromDir } from '../src/models/index.js';
import { quantizableLayers, saveQuantized } from '../src/models/quantized.js';
import { exportOnnx, loadOnnxRuntime, onnxLogits, ourLogits } from '../src/infer/onnx/index.js';
import { main } from '../src/cli/main.js';
import { fixturesDir } from './helpers/fixtures.js';
import { encoderFixture } from './helpers/encoder-parity.js';

// Without onnxruntime-node the ONNX comparison is left out (the rest still runs).
const ort = await loadOnnxRuntime();

/** max |a - b| over the batch's real tokens, and max |b| there. */
function realDiff(a: ArrayLike<number>, b: ArrayLike<number>, mask: Int32Array, classes: number): { diff: number; scale: number } {
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    if (!mask[Math.floor(i / classes)]) continue;
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}

for (const [name, architecture, layerPattern] of [
  ['roberta-tiny', 'RobertaForTokenClassification', /^roberta\.encoder\.layer\.0\.attention\.self\.query$/],
  ['xlm-roberta-tiny', 'XLMRobertaForTokenClassification', /^roberta\.encoder\.layer\.0\.attention\.self\.query$/],
  ['distilbert-tiny', 'DistilBertForTokenClassification', /^distilbert\.transformer\.layer\.0\.attention\.q_lin$/],
] as const) {
  test(`${name}: the quantized folder reloads as ${architecture} with int8 layers, logits within 3% of transformers' fp32; onnxruntime int8 agrees`, async () => {
    const fx = encoderFixture(name);
    const float = fx.load();
    const out = mkdtempSync(join(tmpdir(), `tt-int8-${name}-`));
    try {
      const info = saveQuantized(float, join(out, 'q'));
      assert.match(info.layers[0]!, layerPattern);
      assert.equal(info.layers.length, 6 * float.config.numHiddenLayers);
      const q = loadModelFromDir(join(out, 'q')).model;
      assert.equal(q.architecture, architecture);
      assert.ok(q instanceof EncoderForTokenClassification && q.int8Layers?.length === q.config.numHiddenLayers, 'int8 layers attached');
      const C = q.numLabels, mask = fx.batch.attentionMask;
      const ours = ourLogits(q, fx.batch), theirs = fx.get('logits').data;
      const vsFp32 = realDiff(ours, theirs, mask, C);
      assert.ok(vsFp32.diff > 0, 'the int8 path ran');
      assert.ok(vsFp32.diff <= 0.03 * vsFp32.scale, `int8 vs transformers fp32: max |diff| ${vsFp32.diff} (max |logit| ${vsFp32.scale})`);
      if (ort) {
        const res = exportOnnx(q, null, join(out, 'onnx'), { int8: true });
        const session = await ort.InferenceSession.create(res.quantizedPath!);
        const ortInt8 = await onnxLogits(ort, session, fx.batch);
        await session.release();
        // onnxruntime quantizes activations per tensor, tokentune per row: close, not equal.
        const vsOrt = realDiff(ours, ortInt8, mask, C);
        assert.ok(vsOrt.diff <= 0.03 * vsOrt.scale, `tokentune int8 vs onnxruntime int8: max |diff| ${vsOrt.diff} (max |logit| ${vsOrt.scale})`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test('DeBERTa-v2 is refused by quantize (API and CLI) and export --int8 with the architectures that quantize, and nothing is written', async () => {
  const deberta = loadModelFromDir(join(fixturesDir, 'deberta-v3')).model;
  const refusal = /int8 quantization supports BERT, RoBERTa, XLM-RoBERTa and DistilBERT \(the shared encoder layer\), not DebertaV2ForTokenClassification \(model_type 'deberta-v2'\)/;
  assert.throws(() => quantizableLayers(deberta), refusal);
  const out = join(mkdtempSync(join(tmpdir(), 'tt-int8-deberta-')), 'q');
  assert.throws(() => saveQuantized(deberta, out), refusal);
  const err: string[] = [];
  const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (err.push(s), true) } } as never;
  assert.equal(await main(['quantize', '--model', join(fixturesDir, 'deberta-v3'), '--out', out], io), 1);
  assert.match(err.join(''), refusal);
  assert.ok(!existsSync(out), 'no output folder');
  // DeBERTa exports to ONNX in fp32, but not with --int8.
  assert.throws(() => exportOnnx(deberta, null, out, { int8: true }), refusal);
  assert.ok(!existsSync(out), 'no ONNX folder either');
});
