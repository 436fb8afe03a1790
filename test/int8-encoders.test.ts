/**
 * int8 quantization of every architecture on the shared encoder layer (RoBERTa, XLM-RoBERTa,
 * DistilBERT; BERT is covered by int8-model.test.ts), on the fixtures transformers made
 * (scripts/fixtures/make-encoder-fixtures.py): the quantized folder reloads with int8 layers whose logits
 * stay close to transformers' fp32 logits, and onnxruntime on the exported model_quantized.onnx
 * agrees with them where onnxruntime promises exact int8 products. DeBERTa-v2, whose layer
 * differs, is refused with an error naming it.
 *
 * What onnxruntime promises depends on the CPU. Its x86 u8 x s8 GEMM (MLAS) multiplies with
 * VPDPBUSD where the CPU has AVX512-VNNI or AVX-VNNI (32-bit sums: exact) and otherwise with
 * VPMADDUBSW, whose 16-bit pair sums saturate when u8 x s8 pairs pass 32767 (255 * 127 * 2 does);
 * its quantization guide says so and names the remedy, quantize_dynamic(reduce_range=True): 7-bit
 * weights, whose pair sums (at most 255 * 63 * 2 = 32130) never saturate. `tokentune quantize
 * --weight-bits 7` writes such weights, so on every CPU the test runs onnxruntime on a 7-bit
 * folder's export (exact everywhere, hence the same logits on this CPU as on an AVX2 one) against
 * tokentune's 7-bit logits and transformers' fp32, and the 8-bit export against tokentune's int8
 * only where the CPU has VNNI (or is not x86, where MLAS widens exactly).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncoderForTokenClassification, loadModelFromDir } from '../src/models/index.js';
import { quantizableLayers, saveQuantized } from '../src/models/quantized.js';
import { exportOnnx, loadOnnxRuntime, onnxLogits, ourLogits, type OrtModule } from '../src/infer/onnx/index.js';
import type { TokenBatch } from '../src/models/index.js';
import { main } from '../src/cli/main.js';
import { fixturesDir } from './helpers/fixtures.js';
import { encoderFixture } from './helpers/encoder-parity.js';

// Without onnxruntime-node the ONNX comparison is left out (the rest still runs).
const ort = await loadOnnxRuntime();

/** Whether onnxruntime's u8 x s8 products are exact on this CPU (see the header): VNNI on x86. */
function ortU8S8Exact(): boolean {
  if (arch() !== 'x64' && arch() !== 'ia32') return true;
  let flags = '';
  try {
    flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
  } catch {
    /* not Linux: assume no VNNI */
  }
  return /\b(avx512_vnni|avx_vnni)\b/.test(flags);
}
const ortExact = ortU8S8Exact();

async function ortRun(o: OrtModule, bytes: string | Uint8Array, batch: TokenBatch): Promise<Float32Array> {
  const session = await o.InferenceSession.create(bytes);
  try {
    return await onnxLogits(o, session, batch);
  } finally {
    await session.release();
  }
}

/** max |a - b| over the batch's real tokens, and max |b| there. */
function realDiff(a: ArrayLike<number>, b: ArrayLike<number>, mask: Int32Array, classes: number): { diff: number; scale: number } {
  let diff = 0,
    scale = 0;
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
  test(`${name}: the quantized folder reloads as ${architecture} with int8 layers, logits within 1% (8-bit weights) / 1.5% (7-bit) of transformers' fp32; onnxruntime int8 agrees (reduce_range weights on every CPU, 8-bit where VNNI makes them exact)`, async () => {
    const fx = encoderFixture(name);
    const float = fx.load();
    const out = mkdtempSync(join(tmpdir(), `tt-int8-${name}-`));
    try {
      const C = float.numLabels,
        mask = fx.batch.attentionMask,
        theirs = fx.get('logits').data;
      // 8-bit weights within 1% of the largest |logit| (0.62-0.95% measured); 7-bit ones, with twice
      // the rounding step, within the 1.5% this test held 8-bit weights to before (1.36-1.42% measured
      // on these random tiny models; on a CoNLL-trained one the mean per-sentence error is 0.45% against
      // 0.37%, and the F1 is the same: docs/int8-quantization.md).
      const rel: Record<number, string> = {};
      for (const bits of [8, 7] as const) {
        const info = saveQuantized(float, join(out, `q${bits}`), undefined, bits);
        assert.match(info.layers[0]!, layerPattern);
        assert.equal(info.layers.length, 6 * float.config.numHiddenLayers);
        assert.equal(JSON.parse(readFileSync(join(out, `q${bits}`, 'quantization.json'), 'utf8')).weight_bits, bits);
        const qb = loadModelFromDir(join(out, `q${bits}`)).model;
        assert.ok(
          qb instanceof EncoderForTokenClassification && qb.int8Layers?.length === qb.config.numHiddenLayers,
          'int8 layers attached',
        );
        assert.equal(qb.int8WeightBits, bits);
        assert.ok(
          qb.int8Layers.every((l) => l.qkv.weights7 === (bits === 7)),
          'the 7-bit tile is chosen for 7-bit weights only',
        );
        const d = realDiff(ourLogits(qb, fx.batch), theirs, mask, C);
        assert.ok(d.diff > 0, 'the int8 path ran');
        // Our int8 kernels are bit-exact across ISAs (int8-kernels.test.ts), so this holds on every CPU.
        assert.ok(
          d.diff <= (bits === 8 ? 0.01 : 0.015) * d.scale,
          `int8 (${bits}-bit weights) vs transformers fp32: max |diff| ${d.diff} (max |logit| ${d.scale})`,
        );
        rel[bits] = `${((d.diff / d.scale) * 100).toFixed(2)}%`;
      }
      const q = loadModelFromDir(join(out, 'q8')).model;
      assert.equal(q.architecture, architecture);
      const ours = ourLogits(q, fx.batch);
      if (ort) {
        // Exact on every CPU: onnxruntime on the 7-bit folder's export (its own weight bytes; MLAS's
        // VPMADDUBSW cannot saturate on them) against tokentune's 7-bit logits and transformers' fp32.
        const q7 = loadModelFromDir(join(out, 'q7')).model;
        const res7 = exportOnnx(q7, null, join(out, 'onnx7'), { int8: true });
        const ort7 = await ortRun(ort, res7.quantizedPath!, fx.batch);
        const ort7VsOurs = realDiff(ourLogits(q7, fx.batch), ort7, mask, C);
        assert.ok(
          ort7VsOurs.diff <= 0.03 * ort7VsOurs.scale,
          `tokentune int8 (7-bit) vs onnxruntime on its export: max |diff| ${ort7VsOurs.diff} (max |logit| ${ort7VsOurs.scale})`,
        );
        const rrVsFp32 = realDiff(ort7, theirs, mask, C);
        // Per-tensor activations there (per row here) on top of 7-bit weights: 1.3-2.2% measured, hence 4%.
        assert.ok(
          rrVsFp32.diff <= 0.04 * rrVsFp32.scale,
          `onnxruntime int8 (7-bit weights) vs transformers fp32: max |diff| ${rrVsFp32.diff} (max |logit| ${rrVsFp32.scale})`,
        );
        if (ortExact) {
          const res = exportOnnx(q, null, join(out, 'onnx'), { int8: true });
          const ortInt8 = await ortRun(ort, res.quantizedPath!, fx.batch);
          // onnxruntime quantizes activations per tensor, tokentune per row: close, not equal.
          const vsOrt = realDiff(ours, ortInt8, mask, C);
          assert.ok(
            vsOrt.diff <= 0.03 * vsOrt.scale,
            `tokentune int8 vs onnxruntime int8: max |diff| ${vsOrt.diff} (max |logit| ${vsOrt.scale})`,
          );
        }
        console.log(
          `# ${name}: int8 vs fp32 ${rel[8]} (8-bit weights), ${rel[7]} (7-bit), onnxruntime on the 7-bit export vs fp32 ${((rrVsFp32.diff / rrVsFp32.scale) * 100).toFixed(2)}% of max |logit|; onnxruntime 8-bit ${ortExact ? 'compared (VNNI)' : 'not compared: no VNNI on this CPU'}`,
        );
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test('DeBERTa-v2 is refused by quantize (API and CLI) and export --int8 with the architectures that quantize, and nothing is written', async () => {
  const deberta = loadModelFromDir(join(fixturesDir, 'deberta-v3')).model;
  const refusal =
    /int8 quantization supports BERT, RoBERTa, XLM-RoBERTa and DistilBERT \(the shared encoder layer\), not DebertaV2ForTokenClassification \(model_type 'deberta-v2'\)/;
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
