/**
 * `tokentune distill` end to end on small synthetic data: a teacher trained by tokentune teaches
 * a fresh student (same tokenizer: token-level targets; another tokenizer: word-level targets);
 * the student folder predicts, quantizes and exports to ONNX; a resumed run reads the teacher's
 * outputs from the cache; label sets that differ are an error naming both. The word-level
 * alignment is checked with a teacher whose logits say which token they came from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../src/engine/index.js';
import { buildFeatures, type Feature } from '../src/data/features.js';
import { makeLabelMap } from '../src/data/label-map.js';
import { WordPieceCache } from '../src/data/align.js';
import { loadTokenizer, WordPieceTokenizer } from '../src/tokenizers/index.js';
import type { TokenClassifier } from '../src/models/index.js';
import { firstSubTokens, mapLabelsByName, sameTokenization, tokenLevelTargets, wordLevelTargets } from '../src/train/distill.js';
import { cli, cliWork, quickTrainArgs } from './helpers/cli-run.js';
import { fixturesDir } from './helpers/fixtures.js';
import { loadOnnxRuntime } from '../src/infer/onnx/index.js';

const w = cliWork({ trainSentences: 48 });
process.on('exit', () => rmSync(w.dir, { recursive: true, force: true }));
const teacherDir = join(w.dir, 'teacher');
const raw = join(w.dir, 'raw.txt');
writeFileSync(raw, w.data.validation.sentences.map((s) => s.tokens.join(' ')).join('\n') + '\n');

test('mapLabelsByName: any order maps by name; different sets are an error naming both', () => {
  assert.deepEqual([...mapLabelsByName(['O', 'B-PER', 'I-PER'], ['B-PER', 'O', 'I-PER'])], [1, 0, 2]);
  assert.throws(
    () => mapLabelsByName(['O', 'B-PER', 'I-PER'], ['O', 'B-LOC', 'I-LOC']),
    /teacher \[O, B-PER, I-PER\], student \[O, B-LOC, I-LOC\]/,
  );
});

/** A teacher whose logits at each token are [input id, position, 0, ...]: targets then say which teacher token they came from. */
function echoTeacher(numLabels: number): TokenClassifier {
  return {
    config: { labels: Array.from({ length: numLabels }, (_, i) => `L${i}`) } as unknown as TokenClassifier['config'],
    architecture: 'Echo',
    params: new Map(),
    numLabels,
    parameters: () => [],
    forward: (batch) => {
      const out = new Float32Array(batch.batchSize * batch.seqLen * numLabels);
      for (let i = 0; i < batch.batchSize * batch.seqLen; i++) {
        out[i * numLabels] = batch.inputIds[i]!;
        out[i * numLabels + 1] = i % batch.seqLen;
      }
      return Tensor.from(out, [batch.batchSize * batch.seqLen, numLabels]);
    },
  };
}

test("word-level targets: each student first sub-token gets the teacher logits of the same word's first sub-token (BPE teacher, WordPiece student)", () => {
  const teacherTok = loadTokenizer(join(fixturesDir, 'e2e', 'roberta'));
  const studentTok = WordPieceTokenizer.fromVocabFile(w.vocab, { doLowerCase: false });
  const sentences = w.data.train.sentences.slice(0, 12);
  const labels = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
  const { features } = buildFeatures({ sentences }, studentTok, makeLabelMap(labels), { maxSeqLength: 64 });
  assert.equal(
    sameTokenization(
      teacherTok,
      studentTok,
      sentences.flatMap((s) => s.tokens),
    ),
    false,
  );
  // labelMap: student label j reads teacher column (j + 2) % 9, so the echoed id lands in column 7.
  const labelMap = Int32Array.from(labels, (_, j) => (j + 2) % 9);
  const targets = wordLevelTargets(
    { model: echoTeacher(9), tokenizer: teacherTok, labelMap, maxSeqLength: 64, batchSize: 5 },
    sentences,
    features,
  );
  const pieces = new WordPieceCache(teacherTok);
  let checked = 0;
  features.forEach((f: Feature, i) => {
    const first = firstSubTokens(f.wordIds);
    const t = targets[i]!;
    assert.deepEqual(
      [...t.positions],
      [...first.keys()].filter((k) => first[k]),
    );
    t.positions.forEach((pos, k) => {
      const word = sentences[f.sentenceIndex]!.tokens[f.wordIds[pos]!]!;
      assert.equal(t.logits[k * 9 + 7], pieces.pieces(word)[0], `sentence ${f.sentenceIndex} word ${JSON.stringify(word)}`);
      checked++;
    });
  });
  assert.ok(checked > 50);
  // Same tokenizer: token level, the teacher's logits at the very token.
  const tt = tokenLevelTargets({ model: echoTeacher(9), tokenizer: studentTok, labelMap, maxSeqLength: 64, batchSize: 5 }, features);
  features.forEach((f, i) =>
    tt[i]!.positions.forEach((pos, k) => {
      assert.equal(tt[i]!.logits[k * 9 + 7], f.inputIds[pos]);
      assert.equal(tt[i]!.logits[k * 9 + 8], pos);
    }),
  );
});

test('distill CLI: student folder predicts, quantizes, exports; the model card names the teacher; a resumed run reuses the cached teacher outputs', async () => {
  const t = await cli(quickTrainArgs(w, teacherDir, ['--max-steps', '20']));
  assert.equal(t.code, 0, t.err);
  const out = join(w.dir, 'student');
  const common = [
    '--teacher',
    teacherDir,
    '--student-config',
    '1x16',
    '--train-file',
    w.train,
    '--test-file',
    w.test,
    '--unlabeled-file',
    raw,
    '--output-dir',
    out,
    '--per-device-train-batch-size',
    '8',
    '--learning-rate',
    '1e-3',
    '--max-seq-length',
    '64',
    '--disable-tqdm',
    '--logging-steps',
    '1',
    '--temperature',
    '3',
    '--alpha',
    '0.7',
  ];
  const first = await cli(['distill', ...common, '--max-steps', '4', '--save-steps', '2']);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /token level/);
  assert.match(first.out, /unlabelled: teacher outputs computed and cached/);
  const card = readFileSync(join(out, 'README.md'), 'utf8');
  assert.ok(card.includes(`distilled from the teacher \`${teacherDir}\``), card);
  assert.match(card, /0\.7 \* T\^2 \* KL.*T = 3/);
  assert.ok(readdirSync(join(out, 'teacher-cache')).length === 2);

  const resumed = await cli(['distill', ...common, '--max-steps', '6', '--resume-from-checkpoint', join(out, 'checkpoint-4')]);
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /train: teacher outputs read from/);
  assert.match(resumed.out, /unlabelled: teacher outputs read from/);

  const pred = await cli(['predict', '--model', out, '--text', 'Peter Smith visited Paris .']);
  assert.equal(pred.code, 0, pred.err);
  const q = join(w.dir, 'student-int8');
  const quant = await cli(['quantize', '--model', out, '--out', q]);
  assert.equal(quant.code, 0, quant.err);
  const predQ = await cli(['predict', '--model', q, '--text', 'Peter Smith visited Paris .']);
  assert.equal(predQ.code, 0, predQ.err);
  const onnx = join(w.dir, 'student-onnx');
  // --verify needs onnxruntime-node, which `npm test` installs (scripts/test-deps.mjs); a bare `node --test` may lack it.
  const ort = await loadOnnxRuntime();
  const exp = await cli(['export', '--model', out, '--onnx', onnx, ...(ort ? ['--verify'] : [])]);
  assert.equal(exp.code, 0, exp.err);
  assert.ok(existsSync(join(onnx, 'onnx', 'model.onnx')));
});

test('distill CLI: another tokenizer gives word-level targets; a label set the teacher lacks is an error naming both', async () => {
  if (!existsSync(join(teacherDir, 'config.json'))) assert.equal((await cli(quickTrainArgs(w, teacherDir, ['--max-steps', '20']))).code, 0);
  const out = join(w.dir, 'student-bpe');
  const r = await cli([
    'distill',
    '--teacher',
    teacherDir,
    '--student-config',
    '1x16',
    '--tokenizer-name',
    join(fixturesDir, 'e2e', 'roberta'),
    '--train-file',
    w.train,
    '--output-dir',
    out,
    '--max-steps',
    '2',
    '--per-device-train-batch-size',
    '8',
    '--max-seq-length',
    '64',
    '--disable-tqdm',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /word level/);
  const bad = await cli([
    'distill',
    '--teacher',
    join(fixturesDir, 'e2e', 'distilbert'),
    '--student-config',
    '1x16',
    '--tokenizer-name',
    w.vocab,
    '--train-file',
    w.train,
    '--output-dir',
    join(w.dir, 'bad'),
    '--max-steps',
    '2',
    '--disable-tqdm',
  ]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /data \[.*B-ORG.*\], teacher \[O, B-PER, I-PER, B-LOC, I-LOC\]/);
});
