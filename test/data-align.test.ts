import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  IGNORE_INDEX,
  WordPieceCache,
  alignLabels,
  bToIMap,
  buildFeatures,
  labelsFromWordIds,
  makeLabelMap,
  planWindows,
} from '../src/data/index.js';
import type { WordTokenizer } from '../src/data/index.js';

/**
 * A fake WordPiece tokenizer: drops control and zero-width characters (as BERT's normalizer
 * does), then cuts each word into pieces of up to 3 code points; ids are assigned on first sight.
 */
class FakeTokenizer implements WordTokenizer {
  readonly padId = 0;
  readonly unkId = 100;
  readonly clsId = 101;
  readonly sepId = 102;
  readonly vocab = new Map<string, number>();
  calls = 0;

  piecesOf(word: string): string[] {
    const chars = [...word.replace(/[\u0000-\u001f\u007f\u200b\u200c\u200d\ufeff]/g, '')];
    const out: string[] = [];
    for (let i = 0; i < chars.length; i += 3) out.push((i > 0 ? '##' : '') + chars.slice(i, i + 3).join(''));
    return out;
  }

  private id(piece: string): number {
    let id = this.vocab.get(piece);
    if (id === undefined) {
      id = 1000 + this.vocab.size;
      this.vocab.set(piece, id);
    }
    return id;
  }

  encodeWords(words: string[], opts: { addSpecialTokens?: boolean } = {}): { ids: number[]; wordIds: (number | null)[] } {
    this.calls++;
    const special = opts.addSpecialTokens ?? true;
    const ids: number[] = special ? [this.clsId] : [];
    const wordIds: (number | null)[] = special ? [null] : [];
    words.forEach((w, i) => {
      for (const p of this.piecesOf(w)) {
        ids.push(this.id(p));
        wordIds.push(i);
      }
    });
    if (special) {
      ids.push(this.sepId);
      wordIds.push(null);
    }
    return { ids, wordIds };
  }
}

const labelMap = makeLabelMap(['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
const X = IGNORE_INDEX;

test('alignLabels: first sub-token labelled, the rest and specials -100 (run_ner.py)', () => {
  const tok = new FakeTokenizer();
  const cache = new WordPieceCache(tok);
  const words = ['Angela', 'Merkel', 'in', 'Brandenburg'];
  const pieces = words.map((w) => cache.pieces(w));
  assert.deepEqual(
    pieces.map((p) => p.length),
    [2, 2, 1, 4],
  );
  const r = alignLabels(pieces, [1, 2, 0, 3], tok);
  assert.deepEqual(Array.from(r.labels), [X, 1, X, 2, X, 0, 3, X, X, X, X]);
  assert.deepEqual(Array.from(r.wordIds), [-1, 0, 0, 1, 1, 2, 3, 3, 3, 3, -1]);
  assert.deepEqual(Array.from(r.inputIds), tok.encodeWords(words).ids);
  // label_all_tokens: continuation pieces of B-X become I-X.
  const all = alignLabels(pieces, [1, 2, 0, 3], tok, { labelAllTokens: true, bToI: bToIMap(labelMap) });
  assert.deepEqual(Array.from(all.labels), [X, 1, 2, 2, 2, 0, 3, 4, 4, 4, X]);
  // Same as the word-id based reference on the tokenizer's own word ids.
  const ref = labelsFromWordIds(tok.encodeWords(words).wordIds, [1, 2, 0, 3], { labelAllTokens: true, bToI: bToIMap(labelMap) });
  assert.deepEqual(all.labels, ref);
});

test('a word with zero pieces becomes [UNK] and keeps its label', () => {
  const tok = new FakeTokenizer();
  const { features, stats } = buildFeatures(
    { sentences: [{ tokens: ['Bob', '\u200b', 'x'], tags: ['B-PER', 'B-LOC', 'O'] }] },
    tok,
    labelMap,
  );
  const f = features[0]!;
  assert.deepEqual(Array.from(f.inputIds.subarray(1, 4)), [tok.vocab.get('Bob'), tok.unkId, tok.vocab.get('x')]);
  assert.deepEqual(Array.from(f.labels), [X, 1, 3, 0, X]);
  assert.equal(stats.zeroPieceWords, 1);
});

test('the cache tokenizes each distinct word once', () => {
  const tok = new FakeTokenizer();
  buildFeatures(
    {
      sentences: [
        { tokens: ['a', 'b', 'a'], tags: ['O', 'O', 'O'] },
        { tokens: ['b', 'a'], tags: ['O', 'O'] },
      ],
    },
    tok,
    labelMap,
  );
  assert.equal(tok.calls, 2);
});

test('unknown tag in buildFeatures names file, line and tag', () => {
  assert.throws(
    () => buildFeatures({ source: 'dev.txt', sentences: [{ tokens: ['a'], tags: ['B-ORG'], line: 7 }] }, new FakeTokenizer(), labelMap),
    /^DataFormatError: dev\.txt:7: sentence 0, word 0 \("a"\): label "B-ORG" is not in the label map/,
  );
});

const wordArb = fc.string({ minLength: 1, maxLength: 10, unit: fc.constantFrom('a', 'b', 'é', '😀', '\u200b', '\u0001', '.') });
const sentArb = fc.integer({ min: 0, max: 15 }).chain((n) =>
  fc.record({
    tokens: fc.array(wordArb, { minLength: n, maxLength: n }),
    tags: fc.array(fc.constantFrom(...labelMap.labels), { minLength: n, maxLength: n }),
  }),
);

test('property: first-token mode labels exactly one sub-token per word; lengths agree; matches the tokenizer', () => {
  fc.assert(
    fc.property(fc.array(sentArb, { minLength: 1, maxLength: 5 }), fc.boolean(), (sentences, all) => {
      const tok = new FakeTokenizer();
      const { features } = buildFeatures({ sentences }, tok, labelMap, { labelAllTokens: all });
      assert.equal(features.length, sentences.length);
      features.forEach((f, i) => {
        const s = sentences[i]!;
        for (const arr of [f.labels, f.wordIds, f.attentionMask, f.tokenTypeIds]) assert.equal(arr.length, f.inputIds.length);
        const firstCount = new Array<number>(s.tokens.length).fill(0);
        for (let t = 0; t < f.inputIds.length; t++) {
          const w = f.wordIds[t]!;
          if (w < 0) {
            assert.equal(f.labels[t], X);
            continue;
          }
          if (t === 0 || f.wordIds[t - 1] !== w) {
            firstCount[w]!++;
            assert.equal(f.labels[t], labelMap.label2id.get(s.tags[w]!));
          } else if (!all) assert.equal(f.labels[t], X);
        }
        assert.deepEqual(firstCount, new Array<number>(s.tokens.length).fill(1));
        // Where no word vanishes, the cached path reproduces the tokenizer's own encoding.
        if (s.tokens.every((w) => tok.piecesOf(w).length > 0)) {
          const enc = tok.encodeWords(s.tokens);
          assert.deepEqual(Array.from(f.inputIds), enc.ids);
          assert.deepEqual(
            f.labels,
            labelsFromWordIds(
              enc.wordIds,
              s.tags.map((t) => labelMap.label2id.get(t)!),
              all ? { labelAllTokens: true, bToI: bToIMap(labelMap) } : {},
            ),
          );
        }
      });
    }),
    { numRuns: 300 },
  );
});

test('planWindows: hand example with overlap and ownership split in the middle', () => {
  // 10 one-piece words, 6 tokens per window, overlap up to 2.
  const w = planWindows(new Array(10).fill(1), 6, 2);
  assert.deepEqual(
    w.map((x) => [x.start, x.end, x.ownStart, x.ownEnd]),
    [
      [0, 6, 0, 5],
      [4, 10, 5, 10],
    ],
  );
  assert.deepEqual(
    planWindows([3, 2], 6, 2).map((x) => [x.start, x.end, x.ownStart, x.ownEnd]),
    [[0, 2, 0, 2]],
  );
  // Oversize word gets its own window.
  assert.deepEqual(
    planWindows([1, 9, 1], 4, 1).map((x) => [x.start, x.end, x.ownStart, x.ownEnd]),
    [
      [0, 1, 0, 1],
      [1, 2, 1, 2],
      [2, 3, 2, 3],
    ],
  );
  assert.throws(() => planWindows([1], 4, 4), /stride/);
});

test('property: windows cover every word, respect the budget and overlap, and own each word once (most central)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 60 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 0, max: 19 }),
      (counts, budget, strideRaw) => {
        const stride = strideRaw % budget;
        const wins = planWindows(counts, budget, stride);
        const n = counts.length;
        const tok = (a: number, b: number): number => {
          let s = 0;
          for (let i = a; i < b; i++) s += Math.min(counts[i]!, budget);
          return s;
        };
        const owner = new Array<number>(n).fill(-1);
        wins.forEach((win, k) => {
          assert.ok(win.end > win.start || n === 0);
          assert.ok(tok(win.start, win.end) <= budget || win.end - win.start === 1);
          if (k > 0) {
            const prev = wins[k - 1]!;
            assert.ok(win.start > prev.start && win.end > prev.end, 'progress');
            assert.ok(win.start <= prev.end, 'no gap');
            assert.ok(tok(win.start, prev.end) <= stride, 'overlap within stride');
            assert.ok(win.ownStart >= prev.ownEnd, 'owned ranges in order');
          }
          assert.ok(win.start <= win.ownStart && win.ownEnd <= win.end);
          for (let w = win.ownStart; w < win.ownEnd; w++) {
            assert.equal(owner[w], -1, 'owned twice');
            owner[w] = k;
          }
        });
        assert.ok(
          owner.every((o) => o >= 0),
          'every word owned',
        );
        if (n > 0) {
          assert.equal(wins[0]!.start, 0);
          assert.equal(wins.at(-1)!.end, n);
        }
        // Brute force: the owner maximizes min(left, right) context (sentence edges unlimited), earliest on ties.
        for (let w = 0; w < n; w++) {
          const scores = wins.map((win) =>
            w < win.start || w >= win.end
              ? -1
              : Math.min(win.start === 0 ? Infinity : tok(win.start, w), win.end === n ? Infinity : tok(w + 1, win.end)),
          );
          const best = Math.max(...scores);
          assert.equal(owner[w], scores.indexOf(best));
        }
      },
    ),
    { numRuns: 1000 },
  );
});

test('buildFeatures: long sentences become windows; every word predicted once; stats', () => {
  const tok = new FakeTokenizer();
  const long = Array.from({ length: 40 }, (_, i) => `w${i}xyz`); // 2 pieces each
  const tags = long.map((_, i) => (i % 3 === 0 ? 'B-PER' : 'O'));
  const { features, stats } = buildFeatures(
    {
      sentences: [
        { tokens: ['short'], tags: ['O'] },
        { tokens: long, tags },
      ],
    },
    tok,
    labelMap,
    { maxSeqLength: 16, stride: 4 },
  );
  assert.equal(stats.splitSentences, 1);
  assert.equal(stats.features, features.length);
  assert.ok(features.length > 3);
  const owned = new Array<number>(40).fill(0);
  for (const f of features) {
    assert.ok(f.inputIds.length <= 16);
    assert.equal(f.inputIds[0], tok.clsId);
    assert.equal(f.inputIds.at(-1), tok.sepId);
    if (f.sentenceIndex === 1) for (let w = f.ownedWordStart; w < f.ownedWordEnd; w++) owned[w]!++;
  }
  assert.deepEqual(owned, new Array<number>(40).fill(1));
  // labelOwnedOnly: across windows each word carries exactly one label.
  const only = buildFeatures({ sentences: [{ tokens: long, tags }] }, tok, labelMap, { maxSeqLength: 16, stride: 4, labelOwnedOnly: true });
  const labelled = new Array<number>(40).fill(0);
  for (const f of only.features)
    f.labels.forEach((l, t) => {
      if (l !== X) labelled[f.wordIds[t]!]!++;
    });
  assert.deepEqual(labelled, new Array<number>(40).fill(1));
  // Prediction mode: no label map, all labels ignored.
  const pred = buildFeatures({ sentences: [{ tokens: long }] }, tok, null, { maxSeqLength: 16, stride: 4 });
  assert.ok(pred.features.every((f) => f.labels.every((l) => l === X)));
  assert.equal(pred.stats.labelledTokens, 0);
});

test('a word longer than the window is truncated but keeps its labelled first piece', () => {
  const tok = new FakeTokenizer();
  const { features, stats } = buildFeatures(
    { sentences: [{ tokens: ['a', 'x'.repeat(30), 'b'], tags: ['O', 'B-LOC', 'O'] }] },
    tok,
    labelMap,
    { maxSeqLength: 6, stride: 1 },
  );
  assert.equal(stats.truncatedWords, 1);
  const mid = features.find((f) => f.wordStart === 1)!;
  assert.equal(mid.inputIds.length, 6);
  assert.deepEqual(Array.from(mid.labels), [X, 3, X, X, X, X]);
  assert.throws(() => buildFeatures({ sentences: [] }, tok, labelMap, { maxSeqLength: 2 }), /maxSeqLength/);
});
