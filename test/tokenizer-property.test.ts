/**
 * Property tests (fast-check) for the WordPiece tokenizer on the real vocabularies, and for the
 * vocab.txt / tokenizer.json parsers. The normalization used to check offsets here is written
 * independently of src/tokenizers (whole-string NFD, drop \p{Mn}, per-character lowercase).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { TokenizerConfigError, TokenizerFileError, WordPieceTokenizer, type Encoding } from '../src/tokenizers/index.js';

const models = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), '..', 'shared', 'models');
const casedPath = join(models, 'bert-base-cased-vocab', 'vocab.txt');
const uncasedPath = join(models, 'bert-base-uncased-vocab', 'vocab.txt');
const skip = existsSync(casedPath) && existsSync(uncasedPath) ? false : `real BERT vocabularies not found under ${models}`;

let tokenizers: { name: string; tok: WordPieceTokenizer; lower: boolean }[] = [];
function load(): typeof tokenizers {
  if (tokenizers.length === 0) {
    tokenizers = [
      { name: 'cased', tok: WordPieceTokenizer.fromVocabFile(casedPath, { doLowerCase: false }), lower: false },
      { name: 'uncased', tok: WordPieceTokenizer.fromVocabFile(uncasedPath, { doLowerCase: true }), lower: true },
    ];
  }
  return tokenizers;
}

/** Characters on which JS's Unicode tables and BERT's agree, covering every normalization path. */
const PIECES = [
  'a',
  'b',
  'z',
  'Q',
  'É',
  'é',
  'ü',
  'Ö',
  'ß',
  'ñ',
  'e\u0301',
  'o\u0308',
  '\u0301',
  'İ',
  'Ω',
  'д',
  'Ж',
  '한',
  '글',
  '北',
  '京',
  '😀',
  '👍🏽',
  '\u{1D400}',
  ' ',
  '\t',
  '\n',
  '\r',
  '\u00a0',
  '\u3000',
  '\u0000',
  '\u0007',
  '\u200b',
  '\ufeff',
  '\ufffd',
  '\u00ad',
  '.',
  ',',
  '!',
  '?',
  '@',
  '#',
  '$',
  '-',
  '(',
  ']',
  '[',
  "'",
  '"',
  '“',
  '…',
  '¿',
  '1',
  '7',
  'the',
  'The',
  'ing',
  'run',
  '[MASK]',
  '[SEP]',
  'http://t.co/x',
  'x'.repeat(101),
];
const textArb = fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }).map((a) => a.join(''));

/** Independent reference normalization (what the token text should be for a slice of input). */
function reference(s: string, lower: boolean): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || (/[\p{Cc}\p{Cf}\p{Co}]/u.test(ch) && !'\t\n\r'.includes(ch))) continue;
    out += ch;
  }
  if (!lower) return out;
  return [...out.normalize('NFD').replace(/\p{Mn}/gu, '')].map((c) => c.toLowerCase()).join('');
}

function checkStructure(e: Encoding, tok: WordPieceTokenizer, textLength: (w: number | null) => number): void {
  const n = e.ids.length;
  for (const arr of [e.tokens, e.offsets, e.wordIds, e.specialTokensMask, e.attentionMask, e.typeIds]) assert.equal(arr.length, n);
  assert.deepEqual(tok.convertIdsToTokens(e.ids), e.tokens);
  assert.deepEqual(tok.convertTokensToIds(e.tokens), e.ids);
  let lastWord = -1;
  for (let i = 0; i < n; i++) {
    const [a, b] = e.offsets[i]!;
    const w = e.wordIds[i]!;
    if (e.specialTokensMask[i] === 1) {
      assert.equal(w, null);
      assert.deepEqual([a, b], [0, 0]);
      continue;
    }
    assert.ok(w !== null && w >= lastWord, `word ids must not decrease: ${JSON.stringify(e.wordIds)}`);
    lastWord = w;
    assert.ok(a >= 0 && a < b && b <= textLength(w), `offsets [${a}, ${b}] out of range`);
  }
}

test('encode: structure, id round trip, offsets slice text that normalizes to each token', { skip }, () => {
  for (const { tok, lower } of load()) {
    fc.assert(
      fc.property(textArb, (text) => {
        const e = tok.encode(text);
        checkStructure(e, tok, () => text.length);
        const groups = new Map<number, number[]>();
        e.wordIds.forEach((w, i) => {
          if (w !== null) groups.set(w, [...(groups.get(w) ?? []), i]);
        });
        for (const idx of groups.values()) {
          const first = idx[0]!;
          const last = idx[idx.length - 1]!;
          const pieces = idx.map((i) => e.tokens[i]!.replace(/^##/, ''));
          const whole = reference(text.slice(e.offsets[first]![0], e.offsets[last]![1]), lower);
          if (e.tokens[first] === '[UNK]' || e.tokens[first] === '[MASK]' || e.tokens[first] === '[SEP]') continue;
          // A word's pieces, "##" removed, spell its normalized source; each piece lies inside
          // the normalization of its own slice (equal unless one character expanded, e.g. Hangul).
          assert.equal(pieces.join(''), whole, `word ${JSON.stringify(whole)} in ${JSON.stringify(text)}`);
          idx.forEach((i, k) => {
            const slice = reference(text.slice(e.offsets[i]![0], e.offsets[i]![1]), lower);
            assert.ok(slice.includes(pieces[k]!), `piece ${pieces[k]} vs slice ${JSON.stringify(slice)}`);
          });
        }
      }),
      { numRuns: 300 },
    );
  }
});

test('encode never throws on arbitrary UTF-16 (lone surrogates included)', { skip }, () => {
  const anyUtf16 = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 40 }).map((a) => String.fromCharCode(...a));
  const anyCodePoints = fc.string({ unit: 'binary', maxLength: 40 });
  for (const { tok } of load()) {
    fc.assert(
      fc.property(fc.oneof(anyUtf16, anyCodePoints), (text) => {
        const e = tok.encode(text);
        checkStructure(e, tok, () => text.length);
        assert.ok(typeof tok.decode(e.ids) === 'string');
      }),
      { numRuns: 300 },
    );
  }
});

test('encodeWords = each word encoded alone, word ids = word index, offsets within the word', { skip }, () => {
  for (const { tok } of load()) {
    fc.assert(
      fc.property(fc.array(textArb, { maxLength: 8 }), (words) => {
        const e = tok.encodeWords(words);
        checkStructure(e, tok, (w) => (w === null ? 0 : words[w]!.length));
        const expected = words.flatMap((w) => tok.encode(w, { addSpecialTokens: false }).ids);
        assert.deepEqual(e.ids.slice(1, -1), expected);
        for (const w of e.wordIds) if (w !== null) assert.ok(w >= 0 && w < words.length);
      }),
      { numRuns: 200 },
    );
  }
});

test('decode inverts encode for lower-case ASCII words (uncased)', { skip }, () => {
  const { tok } = load()[1]!;
  const sentence = fc.array(fc.stringMatching(/^[a-z]{1,15}$/), { minLength: 1, maxLength: 10 }).map((w) => w.join(' '));
  fc.assert(
    fc.property(sentence, (s) => {
      assert.equal(tok.decode(tok.encode(s).ids, { skipSpecialTokens: true }), s);
    }),
    { numRuns: 200 },
  );
});

test('truncation keeps a prefix and never exceeds maxLength', { skip }, () => {
  const { tok } = load()[0]!;
  fc.assert(
    fc.property(textArb, fc.integer({ min: 2, max: 30 }), (text, maxLength) => {
      const full = tok.encode(text);
      const cut = tok.encode(text, { maxLength });
      assert.ok(cut.ids.length <= maxLength);
      assert.deepEqual(cut.ids.slice(0, -1), full.ids.slice(0, cut.ids.length - 1));
      assert.equal(cut.ids[cut.ids.length - 1], tok.sepId);
    }),
    { numRuns: 200 },
  );
});

test('vocab.txt parser: any token list round-trips through any newline style', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokentune-vocab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const token = fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).filter((s) => !/[\r\n]/.test(s) && s !== '[UNK]');
  fc.assert(
    fc.property(fc.uniqueArray(token, { maxLength: 30 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), (tokens, nl, finalNewline) => {
      const all = [
        '[PAD]',
        '[UNK]',
        '[CLS]',
        '[SEP]',
        '[MASK]',
        ...tokens.filter((x) => !['[PAD]', '[CLS]', '[SEP]', '[MASK]'].includes(x)),
      ];
      const file = join(dir, 'vocab.txt');
      writeFileSync(file, all.join(nl) + (finalNewline ? nl : ''));
      const tok = WordPieceTokenizer.fromVocabFile(file);
      assert.equal(tok.vocabSize, all.length);
      assert.deepEqual(tok.convertIdsToTokens(all.map((_, i) => i)), all);
      assert.deepEqual(
        tok.convertTokensToIds(all),
        all.map((_, i) => i),
      );
    }),
    { numRuns: 150 },
  );
});

test('vocab.txt / tokenizer.json parsers: arbitrary bytes fail only with clear tokenizer errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokentune-vocab-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const jsonish = fc.oneof(
    fc.json(),
    fc
      .record({
        model: fc.oneof(fc.constant({ type: 'WordPiece', vocab: { '[UNK]': 0, a: 1 } }), fc.object(), fc.json()),
        normalizer: fc.oneof(fc.constant(null), fc.constant({ type: 'BertNormalizer' }), fc.json()),
        pre_tokenizer: fc.oneof(fc.constant({ type: 'BertPreTokenizer' }), fc.json()),
        post_processor: fc.oneof(fc.constant({ type: 'BertProcessing', cls: ['[CLS]', 2], sep: ['[SEP]', 3] }), fc.json()),
        added_tokens: fc.oneof(fc.constant([]), fc.json()),
      })
      .map((o) => JSON.stringify(o)),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), jsonish, (bytes, json) => {
      const vocab = join(dir, 'vocab.txt');
      writeFileSync(vocab, bytes);
      const tj = join(dir, 'tokenizer.json');
      writeFileSync(tj, json);
      for (const load of [() => WordPieceTokenizer.fromVocabFile(vocab), () => WordPieceTokenizer.fromTokenizerJson(tj)]) {
        try {
          load().encode('Hello [MASK] world');
        } catch (e) {
          assert.ok(e instanceof TokenizerFileError || e instanceof TokenizerConfigError, `unexpected ${String(e)}`);
          assert.ok((e as Error).message.length > 10);
        }
      }
    }),
    { numRuns: 300 },
  );
});
