/**
 * Hostile tokenizer.json and config.json values (issue 21, weak items): Sequences nested 5,000
 * deep overflowed the stack with no file named; Unigram scores of 1e999 were accepted (Rust's
 * tokenizers refuses them); model_type "__proto__" gave a raw internal error; a 2M-entry vocab
 * and 200k added tokens must load (no quadratic step).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonTokenizer, TokenizerFileError } from '../src/tokenizers/index.js';
import { ConfigError, parseConfig } from '../src/models/config.js';
import { architectureFor } from '../src/models/registry.js';
import { formatEntityTable, jsonForTerminal } from '../src/cli/predict.js';
import { fixturesDir } from './helpers/fixtures.js';

const base = JSON.parse(readFileSync(join(fixturesDir, 'e2e', 'roberta', 'tokenizer.json'), 'utf8')) as Record<string, unknown>;

test('Sequences nested 5,000 deep are refused naming the file and field, not a stack overflow', () => {
  for (const [key, listKey, leaf] of [
    ['normalizer', 'normalizers', { type: 'NFC' }],
    ['pre_tokenizer', 'pretokenizers', { type: 'Whitespace' }],
    ['decoder', 'decoders', { type: 'Fuse' }],
    ['post_processor', 'processors', { type: 'ByteLevel', trim_offsets: true }],
  ] as const) {
    // Built as text: JSON.stringify itself overflows on 5,000 levels.
    const nested = `{"type":"Sequence","${listKey}":[`.repeat(5000) + JSON.stringify(leaf) + ']}'.repeat(5000);
    const json = JSON.stringify({ ...base, [key]: '@@' }).replace('"@@"', nested);
    assert.throws(
      () => new JsonTokenizer(json, 'tokenizer.json'),
      (e: unknown) =>
        e instanceof TokenizerFileError && /^tokenizer\.json: /.test(e.message) && /Sequence nested more than 64 deep/.test(e.message),
      key,
    );
  }
});

test('Unigram scores that are not finite (1e999) are refused', () => {
  const json = `{"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,"decoder":null,
    "model":{"type":"Unigram","unk_id":0,"vocab":[["<unk>",0],["a",1e999],["b",-1]]}}`;
  assert.throws(
    () => new JsonTokenizer(json, 'tokenizer.json'),
    /tokenizer\.json: model\.vocab\[1\]: score Infinity is not a finite number/,
  );
});

test('model_type "__proto__" or "constructor" is an unsupported type, not an internal error', () => {
  for (const t of ['__proto__', 'constructor', 'toString']) {
    assert.throws(
      () =>
        architectureFor(
          parseConfig(
            { model_type: t, vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8 },
            'config.json',
          ),
        ),
      (e: unknown) =>
        (e instanceof ConfigError || e instanceof Error) && new RegExp(`model_type "${t}" is not supported yet`).test((e as Error).message),
      t,
    );
  }
});

test('predict escapes control characters in labels and text (a model cannot clear the screen)', () => {
  const ents = [{ entity_group: 'PER\x1b[2J\x9b31m', score: 0.9, word: 'x', start: 0, end: 5 }];
  const table = formatEntityTable('ab\x1bcd', ents as never);
  assert.doesNotMatch(table, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  assert.match(table, /PER\\x1b\[2J\\x9b31m/);
  const json = jsonForTerminal(ents);
  assert.doesNotMatch(json, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  assert.deepEqual(JSON.parse(json), ents);
});

test('id2label with terminal escapes is refused when the config loads (so no output path prints them)', () => {
  const base = { model_type: 'bert', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8 };
  for (const bad of ['PER\x1b[2J', 'LOC\x9b31m', 'A\x07']) {
    assert.throws(
      () => parseConfig({ ...base, id2label: { 0: 'O', 1: bad } }, 'config.json'),
      (e: unknown) =>
        e instanceof ConfigError &&
        /^config\.json: id2label entry "1": .* contains control characters$/.test((e as Error).message) &&
        !/[\x00-\x1f\x7f-\x9f]/.test((e as Error).message),
    );
  }
  assert.deepEqual(parseConfig({ ...base, id2label: { 0: 'O', 1: 'B-PER' } }, 'config.json').labels, ['O', 'B-PER']);
});
