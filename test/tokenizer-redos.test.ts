/**
 * ReDoS from tokenizer.json (issue 21, broken #6): a Split pre-tokenizer or Replace normalizer with
 * `(a+)+$`, `(\w+\s?)+$` or `(a|aa)+$` hung on 40 a's and '!'. Such patterns are now refused when
 * the tokenizer loads, naming the pattern; the patterns real tokenizers ship still load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonTokenizer, TokenizerFileError } from '../src/tokenizers/index.js';
import { backtrackingProblem } from '../src/tokenizers/tokenizer-json/regex-safety.js';
import { GPT2_PATTERN } from '../src/tokenizers/tokenizer-json/pre-tokenizers.js';
import { fixturesDir } from './helpers/fixtures.js';

const base = JSON.parse(readFileSync(join(fixturesDir, 'e2e', 'roberta', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const HOSTILE = [
  '(a+)+$',
  '(\\w+\\s?)+$',
  '(a|aa)+$',
  '(a*)*b',
  '(?:a|a)*$',
  '((ab)*)+$',
  '(?=(a+)+$)a',
  '(a{1,3}){2,}$',
  '(.*a){20}',
  '(\\s|\\s\\s)+x',
  '(?:[a-z]|\\w)+!',
];

for (const pattern of HOSTILE) {
  test(`a Split or Replace with ${pattern} is refused when the tokenizer loads`, () => {
    const split = {
      ...base,
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [{ type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false }, base['pre_tokenizer']],
      },
    };
    const replace = { ...base, normalizer: { type: 'Replace', pattern: { Regex: pattern }, content: ' ' } };
    for (const json of [split, replace]) {
      assert.throws(
        () => new JsonTokenizer(JSON.stringify(json), 'tokenizer.json'),
        (e: unknown) =>
          e instanceof TokenizerFileError &&
          e.message.startsWith('tokenizer.json: ') &&
          e.message.includes(JSON.stringify(pattern)) &&
          /exponential time/.test(e.message),
      );
    }
  });
}

test('the patterns real tokenizers ship pass the check', () => {
  const real = [
    GPT2_PATTERN, // GPT-2, RoBERTa, ModernBERT (ByteLevel)
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", // Llama-3
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?", // GPT-4o
    '\\s{2,}|[\\n\\r\\t]', // DeBERTa-v3 / XLNet normalizer
    '[#@]',
    '[.!?]',
    '\\p{N}+',
    '\\s+',
    '\\p{L}+',
    ' ?\\p{L}+',
    '\\d{1,3}(?=(\\d{3})+(?!\\d))',
    '(?:ab|cd)+',
    '(?:\\r\\n|\\n)+',
  ];
  for (const p of real) assert.equal(backtrackingProblem(p), null, p);
  for (const p of HOSTILE) assert.notEqual(backtrackingProblem(p), null, p);
  assert.match(backtrackingProblem('('.repeat(100) + 'a' + ')'.repeat(100))!, /nests groups more than 64 deep/);
});

test('the committed tokenizer fixtures with Split/Replace regexes still load and encode', () => {
  const split = {
    ...base,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [{ type: 'Split', pattern: { Regex: '[.!?]' }, behavior: 'Isolated', invert: false }, base['pre_tokenizer']],
    },
  };
  const tok = new JsonTokenizer(JSON.stringify(split), 'tokenizer.json');
  assert.ok(tok.encode('a'.repeat(40) + '!').ids.length > 2);
});
