/**
 * ONNX export of RoBERTa, XLM-RoBERTa and DistilBERT, checked in onnxruntime-node against the
 * logits transformers computed for the fixtures (scripts/fixtures/make-encoder-fixtures.py) and against
 * ours on random padded batches. Skips when onnxruntime-node is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, loadOnnxRuntime, maxAbsDiff, onnxLogits, ourLogits, randomBatch } from '../src/infer/onnx/index.js';
import { encoderFixture } from './helpers/encoder-parity.js';
import { optionalImport } from './helpers/optional-import.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';

const ort = await loadOnnxRuntime();
const ortSkip = ort ? false : 'onnxruntime-node is not installed (npm test installs it: node scripts/test-deps.mjs)';
const tmp = mkdtempSync(join(tmpdir(), 'tt-onnx-enc-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

for (const name of ['roberta-tiny', 'xlm-roberta-tiny', 'distilbert-tiny']) {
  test(`${name}: onnxruntime reproduces transformers' logits within 1e-4, and ours on random padded batches`, {
    skip: ortSkip,
  }, async () => {
    const fx = encoderFixture(name);
    const model = fx.load();
    const res = exportOnnx(model, null, join(tmp, name));
    for (const level of ['disabled', 'all'] as const) {
      const session = await ort!.InferenceSession.create(res.modelPath, { graphOptimizationLevel: level, intraOpNumThreads: 1 });
      try {
        assert.deepEqual(
          [...session.inputNames].sort(),
          ['attention_mask', 'input_ids'],
          "optimum's inputs for this type: no token_type_ids",
        );
        const theirs = await onnxLogits(ort!, session, fx.batch);
        const d = maxAbsDiff(theirs, fx.get('logits').data as Float32Array);
        assert.ok(d <= 1e-4, `${name} (optimization ${level}): max |onnxruntime - transformers| = ${d}`);
        // Random batches: other shapes, padding, and (random ids) pad ids inside rows for RoBERTa's positions.
        for (const [B, T, seed] of [
          [4, 24, 7],
          [1, 5, 8],
          [2, 30, 9],
        ] as const) {
          const batch = randomBatch(model, B, T, seed);
          const dd = maxAbsDiff(ourLogits(model, batch), await onnxLogits(ort!, session, batch));
          assert.ok(dd <= 1e-4, `${name} batch ${B}x${T} (optimization ${level}): max |ours - onnxruntime| = ${dd}`);
        }
      } finally {
        await session.release();
      }
    }
  });
}

test("roberta-tiny: the exported positions follow the pad ids (shifting a row's padding changes onnxruntime's logits)", {
  skip: ortSkip,
}, async () => {
  const fx = encoderFixture('roberta-tiny');
  const model = fx.load();
  const res = exportOnnx(model, null, join(tmp, 'roberta-teeth'));
  const session = await ort!.InferenceSession.create(res.modelPath);
  try {
    // Row [<s> a b pad]: with the mask all ones the pad is still attended, but keeps position padding_idx.
    const batch = { inputIds: Int32Array.from([0, 7, 9, 1]), attentionMask: Int32Array.from([1, 1, 1, 1]), batchSize: 1, seqLen: 4 };
    const ours = ourLogits(model, batch);
    assert.ok(maxAbsDiff(ours, await onnxLogits(ort!, session, batch)) <= 1e-4);
    const sequential = { ...batch, inputIds: Int32Array.from([0, 7, 9, 5]) };
    assert.ok(maxAbsDiff(ourLogits(model, sequential), ours) > 1e-3, 'a different last token should change the logits');
  } finally {
    await session.release();
  }
});

const transformers = await optionalImport('@huggingface/transformers');
const tjsSkip = transformers ? false : 'transformers.js is not installed (npm install --no-save @huggingface/transformers)';

const WORDS = ['john', 'smith', 'lives', 'in', 'new', 'york', 'the', 'cat', 'sat', 'on', 'mat', '##s', ',', '.'];
for (const [name, specials] of [
  ['roberta-tiny', ['[CLS]', '[PAD]', '[SEP]', '[UNK]', '[MASK]']],
  ['xlm-roberta-tiny', ['[CLS]', '[PAD]', '[SEP]', '[UNK]', '[MASK]']],
  ['distilbert-tiny', ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']],
  ['deberta-v3', ['[PAD]', '[CLS]', '[SEP]', '[UNK]', '[MASK]']],
] as const) {
  test(`${name}: transformers.js loads the exported folder (WordPiece tokenizer) and its scores are our softmax`, {
    skip: tjsSkip || ortSkip,
  }, async () => {
    const tokens = [...specials, ...WORDS];
    while (tokens.length < 100) tokens.push(`unused${tokens.length}`);
    const tokenizer = WordPieceTokenizer.fromTokens(tokens, { doLowerCase: true });
    const model = encoderFixture(name).load();
    const root = join(tmp, `tjs-${name}`);
    exportOnnx(model, tokenizer, join(root, 'm'));
    const { env, pipeline } = transformers;
    env.allowRemoteModels = false;
    env.localModelPath = root + '/';
    const ner = await pipeline('token-classification', 'm');
    const text = 'John Smith lives in New York, the cats sat on mats.';
    const got = (await ner(text, { ignore_labels: [] })) as { score: number; index: number }[];
    const enc = tokenizer.encode(text);
    const T = enc.ids.length;
    const logits = ourLogits(model, {
      inputIds: Int32Array.from(enc.ids),
      attentionMask: new Int32Array(T).fill(1),
      batchSize: 1,
      seqLen: T,
    });
    const L = model.numLabels;
    assert.deepEqual(
      got.map((g) => g.index),
      enc.ids.flatMap((id, j) => (tokenizer.isSpecialId(id) ? [] : [j])),
    );
    for (const g of got) {
      const row = Array.from(logits.subarray(g.index * L, (g.index + 1) * L));
      const max = Math.max(...row);
      const best = 1 / row.reduce((a, v) => a + Math.exp(v - max), 0);
      assert.ok(Math.abs(g.score - best) <= 1e-4, `token ${g.index}: score ${g.score} vs ours ${best}`);
    }
  });
}
