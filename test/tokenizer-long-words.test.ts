/**
 * Very long words (issue 21, broken #2): byte-level BPE merged by rescanning every pair per merge
 * (quadratic), and WordPiece with max_input_chars_per_word 1e9 tried every candidate length. The
 * ids must equal Hugging Face `tokenizers`' (fixture from scripts/fixtures/make-long-word-fixtures.py), and
 * a 100k-character word must tokenize in a child process that is killed if it takes a minute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { JsonTokenizer, WordPieceTokenizer } from '../src/tokenizers/index.js';
import { fixturesDir, repoRoot } from './helpers/fixtures.js';

interface Fixture {
  texts: string[];
  wordpiece_override: Record<string, number>;
  models: Record<string, number[][]>;
}
const fx = JSON.parse(gunzipSync(readFileSync(join(fixturesDir, 'tokenizers', 'long-words.json.gz'))).toString('utf8')) as Fixture;

function tokenizerJson(name: string): string {
  const j = JSON.parse(readFileSync(join(fixturesDir, 'e2e', name, 'tokenizer.json'), 'utf8')) as { model: Record<string, unknown> };
  if (j.model['type'] === 'WordPiece') Object.assign(j.model, fx.wordpiece_override);
  return JSON.stringify(j);
}

for (const name of Object.keys(fx.models)) {
  test(`${name}: long words tokenize as Hugging Face tokenizers does`, () => {
    const tok = new JsonTokenizer(tokenizerJson(name), `${name}/tokenizer.json`);
    fx.texts.forEach((text, i) => assert.deepEqual(tok.encode(text).ids, fx.models[name]![i], `${name} text ${i}`));
  });
}

test('the BERT-native WordPiece tokenizer with max_input_chars_per_word 1e9 matches too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-long-'));
  writeFileSync(join(dir, 'tokenizer.json'), tokenizerJson('distilbert'));
  const tok = WordPieceTokenizer.fromTokenizerJson(join(dir, 'tokenizer.json'));
  fx.texts.forEach((text, i) => assert.deepEqual(tok.encode(text).ids, fx.models['distilbert']![i], `text ${i}`));
});

test('a 100k-character word tokenizes in seconds (BPE, WordPiece, Unigram), not minutes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-long-'));
  for (const name of ['roberta', 'modernbert', 'xlm-roberta', 'distilbert']) writeFileSync(join(dir, `${name}.json`), tokenizerJson(name));
  const script = `
    import { JsonTokenizer } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'tokenizers', 'index.js'))};
    import { readFileSync } from 'node:fs';
    const word = 'in'.repeat(50000) + 'x'.repeat(100) + 'abcdefghij'.repeat(3000);
    for (const name of ['roberta', 'modernbert', 'xlm-roberta', 'distilbert']) {
      const tok = new JsonTokenizer(readFileSync(${JSON.stringify(dir)} + '/' + name + '.json', 'utf8'), name);
      const n = tok.encode(word).ids.length;
      if (!(n > 2)) throw new Error(name + ': ' + n + ' ids');
    }
    console.log('done');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.signal, null, 'tokenizing one 130k-character word took over a minute');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /done/);
});
