import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  IGNORE_INDEX,
  bToIMap,
  buildFeatures,
  buildLabelMap,
  convertTags,
  detectScheme,
  findSplitFiles,
  labelsFromWordIds,
  loadSplits,
  readConll,
} from '../src/data/index.js';
import type { Dataset, WordTokenizer } from '../src/data/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';

// dist/test/x.js -> repo root is two levels up; shared data sits beside the repo.
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = resolve(repoRoot, '..', 'shared');
const data = join(shared, 'data');
const skip = existsSync(data) ? false : `shared data not found at ${data}`;

// Each big file is parsed once and shared by the tests that only read it (keeps the suite quick).
const parsed = new Map<string, Dataset>();
function read(rel: string): Dataset {
  let d = parsed.get(rel);
  if (!d) {
    d = readConll(join(data, rel));
    parsed.set(rel, d);
  }
  return d;
}

function count(d: Dataset): [number, number] {
  return [d.sentences.length, d.sentences.reduce((s, x) => s + x.tokens.length, 0)];
}
function tagCounts(d: Dataset): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of d.sentences) for (const t of s.tags) c[t] = (c[t] ?? 0) + 1;
  return c;
}

// Expected numbers are the counts published in the data folders' SOURCE.md files.
test('CoNLL-2003: sentence/token counts of the IOB2 files and the IOB1 originals', { skip }, () => {
  const expected: [string, string, number, number][] = [
    ['iob2_token_tag/train.txt', 'original_iob1/eng.train', 14041, 203621],
    ['iob2_token_tag/valid.txt', 'original_iob1/eng.testa', 3250, 51362],
    ['iob2_token_tag/test.txt', 'original_iob1/eng.testb', 3453, 46435],
  ];
  for (const [iob2, iob1, sents, toks] of expected) {
    assert.deepEqual(count(read(`conll2003/${iob2}`)), [sents, toks], iob2);
    assert.deepEqual(count(read(`conll2003/${iob1}`)), [sents, toks], iob1);
  }
  const train = read('conll2003/iob2_token_tag/train.txt');
  assert.deepEqual(tagCounts(train), {
    O: 169578,
    'B-PER': 6600,
    'I-PER': 4528,
    'B-ORG': 6321,
    'I-ORG': 3704,
    'B-LOC': 7140,
    'I-LOC': 1157,
    'B-MISC': 3438,
    'I-MISC': 1155,
  });
  assert.deepEqual(tagCounts(read('conll2003/original_iob1/eng.testa')), {
    O: 42759,
    'I-PER': 3149,
    'I-LOC': 2094,
    'I-ORG': 2092,
    'I-MISC': 1264,
    'B-MISC': 4,
  });
});

test('CoNLL-2003: converting the IOB1 originals gives exactly the IOB2 files', { skip }, () => {
  for (const [orig, iob2] of [
    ['eng.train', 'train.txt'],
    ['eng.testa', 'valid.txt'],
    ['eng.testb', 'test.txt'],
  ]) {
    const a = read(`conll2003/original_iob1/${orig}`);
    const b = read(`conll2003/iob2_token_tag/${iob2}`);
    assert.equal(detectScheme(a.sentences.map((s) => s.tags)), 'IOB1');
    assert.equal(detectScheme(b.sentences.map((s) => s.tags)), 'IOB2');
    assert.equal(a.sentences.length, b.sentences.length);
    a.sentences.forEach((s, i) => {
      assert.deepEqual(s.tokens, b.sentences[i]!.tokens);
      assert.deepEqual(convertTags(s.tags, 'IOB1', 'IOB2'), b.sentences[i]!.tags, `${orig} sentence at line ${s.line}`);
    });
  }
  // The POS column of the 4-column original reads as unprefixed labels.
  const pos = readConll(join(data, 'conll2003/original_iob1/eng.testb'), { tagColumn: 1 });
  assert.equal(pos.sentences[0]!.tags[0], 'NN');
  assert.equal(detectScheme(pos.sentences.map((s) => s.tags)), 'none');
});

test('WNUT-17: TAB-line separators, counts, tag set', { skip }, () => {
  const expected: [string, number, number][] = [
    ['wnut17train.conll', 3394, 62730],
    ['emerging.dev.conll', 1009, 15733],
    ['emerging.test.annotated', 1287, 23394],
  ];
  for (const [f, sents, toks] of expected) {
    const d = read(`wnut17/${f}`);
    assert.deepEqual(count(d), [sents, toks], f);
    assert.equal(detectScheme(d.sentences.map((s) => s.tags)), 'IOB2');
    assert.equal(buildLabelMap([d]).labels.length, 13);
  }
  const train = read('wnut17/wnut17train.conll');
  assert.deepEqual(train.sentences[0]!.tokens.slice(0, 3), ['@paulwalk', 'It', "'s"]);
  assert.equal(tagCounts(train)['B-person'], 660);
  assert.deepEqual(buildLabelMap([train]).labels, [
    'O',
    'B-corporation',
    'I-corporation',
    'B-creative-work',
    'I-creative-work',
    'B-group',
    'I-group',
    'B-location',
    'I-location',
    'B-person',
    'I-person',
    'B-product',
    'I-product',
  ]);
});

test('loadSplits on the CoNLL-2003 folders; label map is the union (eng.testa alone has 6 tags)', { skip }, async () => {
  assert.deepEqual(findSplitFiles(join(data, 'conll2003/original_iob1')), {
    train: join(data, 'conll2003/original_iob1/eng.train'),
    validation: join(data, 'conll2003/original_iob1/eng.testa'),
    test: join(data, 'conll2003/original_iob1/eng.testb'),
  });
  const s = await loadSplits(join(data, 'conll2003/iob2_token_tag'));
  assert.deepEqual(
    [s.train, s.validation, s.test].map((d) => d!.sentences.length),
    [14041, 3250, 3453],
  );
  assert.deepEqual(buildLabelMap([s.train!, s.validation!, s.test!]).labels, [
    'O',
    'B-LOC',
    'I-LOC',
    'B-MISC',
    'I-MISC',
    'B-ORG',
    'I-ORG',
    'B-PER',
    'I-PER',
  ]);
  const wnut = await loadSplits(join(data, 'wnut17'));
  assert.deepEqual(
    [wnut.train, wnut.validation, wnut.test].map((d) => d!.sentences.length),
    [3394, 1009, 1287],
  );
  const testa = read('conll2003/original_iob1/eng.testa');
  assert.equal(buildLabelMap([testa]).labels.length, 6);
});

test("bert-base-cased: cached per-word alignment equals the tokenizer's own is_split_into_words encoding", { skip }, () => {
  const tok = WordPieceTokenizer.fromVocabFile(join(shared, 'models/bert-base-cased-vocab/vocab.txt'), { doLowerCase: false });
  const asWordTokenizer: WordTokenizer = tok; // the real tokenizer satisfies the structural interface
  // A zero-width space is deleted by BERT's normalizer: the word becomes [UNK] and keeps its label.
  const z = buildFeatures(
    { sentences: [{ tokens: ['Bob', '\u200b', '.'], tags: ['B-PER', 'B-LOC', 'O'] }] },
    tok,
    buildLabelMap([{ sentences: [{ tags: ['B-PER', 'B-LOC', 'O'] }] }]),
  );
  assert.deepEqual(tok.convertIdsToTokens(Array.from(z.features[0]!.inputIds)), ['[CLS]', 'Bob', '[UNK]', '.', '[SEP]']);
  assert.deepEqual(Array.from(z.features[0]!.labels), [IGNORE_INDEX, 2, 1, 0, IGNORE_INDEX]); // O, B-LOC, B-PER
  assert.equal(z.stats.zeroPieceWords, 1);
  for (const f of ['wnut17/wnut17train.conll', 'conll2003/iob2_token_tag/valid.txt']) {
    const d = read(f);
    const labelMap = buildLabelMap([d]);
    for (const labelAllTokens of [false, true]) {
      const { features, stats } = buildFeatures(d, asWordTokenizer, labelMap, { maxSeqLength: 512, labelAllTokens });
      assert.equal(stats.splitSentences, 0, f);
      assert.equal(features.length, d.sentences.length);
      let compared = 0;
      features.forEach((feat, i) => {
        const s = d.sentences[i]!;
        const enc = tok.encodeWords(s.tokens);
        // Words the tokenizer drops entirely get [UNK] here; compare only where none is dropped.
        if (new Set(enc.wordIds.filter((w) => w !== null)).size !== s.tokens.length) return;
        compared++;
        assert.deepEqual(Array.from(feat.inputIds), enc.ids, `${f}:${s.line}`);
        const ref = labelsFromWordIds(
          enc.wordIds,
          s.tags.map((t) => labelMap.label2id.get(t)!),
          labelAllTokens ? { labelAllTokens, bToI: bToIMap(labelMap) } : {},
        );
        assert.deepEqual(feat.labels, ref, `${f}:${s.line}`);
      });
      assert.ok(compared >= d.sentences.length - stats.zeroPieceWords);
      if (!labelAllTokens) {
        const labelled = features.reduce((n, x) => n + x.labels.filter((l) => l !== IGNORE_INDEX).length, 0);
        assert.equal(
          labelled,
          d.sentences.reduce((n, x) => n + x.tokens.length, 0),
          'one label per word',
        );
      }
    }
  }
});
