/**
 * Expectations taken from Hugging Face transformers' own tests,
 * tests/models/bert/test_tokenization_bert.py (BasicTokenizer / WordpieceTokenizer / fast offsets),
 * checked through our tokenizer. Basic-tokenizer cases use a small vocabulary holding exactly the
 * expected words, so the WordPiece step passes them through and the output shows the basic split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WordPieceTokenizer, type WordPieceOptions } from '../src/tokenizers/index.js';
import { isPunctuation, isRemovedByClean, isWhitespace } from '../src/tokenizers/unicode.js';

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = [
  'hello',
  '!',
  'how',
  'are',
  'you',
  '?',
  'HeLLo',
  'Are',
  'yoU',
  'hällo',
  'hallo',
  'HäLLo',
  'HaLLo',
  'h\u00e9llo',
  'ah',
  'zz',
  '\u535a',
  '\u63a8',
];
function basic(options: WordPieceOptions): WordPieceTokenizer {
  return WordPieceTokenizer.fromTokens([...SPECIALS, ...WORDS], options);
}

test('test_chinese: CJK characters split out', () => {
  assert.deepEqual(basic({}).tokenize('ah\u535A\u63A8zz'), ['ah', '\u535A', '\u63A8', 'zz']);
});

test('test_basic_tokenizer_lower / _lower_strip_accents_default', () => {
  const t = basic({ doLowerCase: true });
  assert.deepEqual(t.tokenize(' \tHeLLo!how  \n Are yoU?  '), ['hello', '!', 'how', 'are', 'you', '?']);
  assert.deepEqual(t.tokenize('H\u00E9llo'), ['hello']);
  assert.deepEqual(t.tokenize(' \tHäLLo!how  \n Are yoU?  '), ['hallo', '!', 'how', 'are', 'you', '?']);
});

test('test_basic_tokenizer_lower_strip_accents_false / _true', () => {
  const keep = basic({ doLowerCase: true, stripAccents: false });
  assert.deepEqual(keep.tokenize(' \tHäLLo!how  \n Are yoU?  '), ['hällo', '!', 'how', 'are', 'you', '?']);
  assert.deepEqual(keep.tokenize('H\u00E9llo'), ['h\u00E9llo']);
  const strip = basic({ doLowerCase: true, stripAccents: true });
  assert.deepEqual(strip.tokenize(' \tHäLLo!how  \n Are yoU?  '), ['hallo', '!', 'how', 'are', 'you', '?']);
  assert.deepEqual(strip.tokenize('H\u00E9llo'), ['hello']);
});

test('test_basic_tokenizer_no_lower / _no_lower_strip_accents_false / _true', () => {
  assert.deepEqual(basic({ doLowerCase: false }).tokenize(' \tHeLLo!how  \n Are yoU?  '), ['HeLLo', '!', 'how', 'Are', 'yoU', '?']);
  assert.deepEqual(basic({ doLowerCase: false, stripAccents: false }).tokenize(' \tHäLLo!how  \n Are yoU?  '), [
    'HäLLo',
    '!',
    'how',
    'Are',
    'yoU',
    '?',
  ]);
  assert.deepEqual(basic({ doLowerCase: false, stripAccents: true }).tokenize(' \tHäLLo!how  \n Are yoU?  '), [
    'HaLLo',
    '!',
    'how',
    'Are',
    'yoU',
    '?',
  ]);
});

test('test_basic_tokenizer_respects_never_split_tokens (slow-tokenizer never_split)', () => {
  const t = basic({ doLowerCase: false, neverSplit: ['[UNK]'] });
  assert.deepEqual(t.tokenize(' \tHeLLo!how  \n Are yoU? [UNK]'), ['HeLLo', '!', 'how', 'Are', 'yoU', '?', '[UNK]']);
  // A never_split entry that is not a special token: kept whole, no lowercasing, no punct split.
  const ns = WordPieceTokenizer.fromTokens([...SPECIALS, '<e1>', 'x', '<', '>', 'e', '##1'], { neverSplit: ['<E1>'] });
  assert.deepEqual(ns.tokenize('x <E1> x'), ['x', '[UNK]', 'x']); // "<E1>" itself is not in the vocabulary
  assert.deepEqual(ns.tokenize('<E1>x'), ['<', 'e', '##1', '>', 'x']); // only whole chunks match
});

test('test_wordpiece_tokenizer', () => {
  const t = WordPieceTokenizer.fromTokens(['[UNK]', '[CLS]', '[SEP]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing'], {
    padToken: '[UNK]',
    maskToken: '[UNK]',
  });
  assert.deepEqual(t.tokenize(''), []);
  assert.deepEqual(t.tokenize('unwanted running'), ['un', '##want', '##ed', 'runn', '##ing']);
  assert.deepEqual(t.tokenize('unwantedX running'), ['[UNK]', 'runn', '##ing']);
});

test('test_is_whitespace / test_is_control / test_is_punctuation', () => {
  for (const c of [' ', '\t', '\r', '\n', '\u00A0']) assert.ok(isWhitespace(c.codePointAt(0)!), JSON.stringify(c));
  for (const c of ['A', '-']) assert.ok(!isWhitespace(c.codePointAt(0)!), c);
  assert.ok(isRemovedByClean(0x05));
  for (const c of ['A', ' ', '\t', '\r']) assert.ok(!isRemovedByClean(c.codePointAt(0)!), JSON.stringify(c));
  for (const c of ['-', '$', '`', '.']) assert.ok(isPunctuation(c.codePointAt(0)!), c);
  for (const c of ['A', ' ']) assert.ok(!isPunctuation(c.codePointAt(0)!), JSON.stringify(c));
});

test('test_clean_text: soft hyphen (U+00AD, Cf) vanishes', () => {
  const t = WordPieceTokenizer.fromTokens(['[UNK]', '[CLS]', '[SEP]', 'want', '##want', '##ed', 'wa', 'un', 'runn', '##ing'], {
    padToken: '[UNK]',
    maskToken: '[UNK]',
  });
  assert.deepEqual(
    ['Test', '\xad', 'test'].map((w) => t.tokenize(w)),
    [['[UNK]'], [], ['[UNK]']],
  );
});

const models = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), '..', 'shared', 'models');
const cased = join(models, 'bert-base-cased-vocab', 'vocab.txt');
const uncased = join(models, 'bert-base-uncased-vocab', 'vocab.txt');
const skip = existsSync(cased) && existsSync(uncased) ? false : `real BERT vocabularies not found under ${models}`;

test('test_offsets_with_special_characters (fast tokenizer offsets, cased and uncased)', { skip }, () => {
  const sentence = 'A, naïve [MASK] AllenNLP sentence.';
  const c = WordPieceTokenizer.fromVocabFile(cased, { doLowerCase: false }).encode(sentence);
  assert.deepEqual(
    c.offsets.map((o, i) => [o, c.tokens[i]]),
    [
      [[0, 0], '[CLS]'],
      [[0, 1], 'A'],
      [[1, 2], ','],
      [[3, 5], 'na'],
      [[5, 6], '##ï'],
      [[6, 8], '##ve'],
      [[9, 15], '[MASK]'],
      [[16, 21], 'Allen'],
      [[21, 23], '##NL'],
      [[23, 24], '##P'],
      [[25, 33], 'sentence'],
      [[33, 34], '.'],
      [[0, 0], '[SEP]'],
    ],
  );
  const u = WordPieceTokenizer.fromVocabFile(uncased, { doLowerCase: true }).encode(sentence);
  assert.deepEqual(
    u.offsets.map((o, i) => [o, u.tokens[i]]),
    [
      [[0, 0], '[CLS]'],
      [[0, 1], 'a'],
      [[1, 2], ','],
      [[3, 8], 'naive'],
      [[9, 15], '[MASK]'],
      [[16, 21], 'allen'],
      [[21, 23], '##nl'],
      [[23, 24], '##p'],
      [[25, 33], 'sentence'],
      [[33, 34], '.'],
      [[0, 0], '[SEP]'],
    ],
  );
});
