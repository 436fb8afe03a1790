/**
 * added_tokens.json in folders without tokenizer.json (legacy vocab.json + merges.txt, SentencePiece
 * models): ids and offsets as transformers' AutoTokenizer gives them on the same folders
 * (test/fixtures/added-tokens-json.json, made by scripts/fixtures/make-added-tokens-fixture.py).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { fixturesDir } from './helpers/fixtures.js';

interface Case {
  name: string;
  base: { folder: string; files: string[] };
  files: Record<string, unknown>;
  added: Record<string, number>;
  expected: { ids: number[]; offsets: [number, number][] }[];
}
const fixture = JSON.parse(readFileSync(join(fixturesDir, 'added-tokens-json.json'), 'utf8')) as {
  transformers: string;
  texts: string[];
  cases: Case[];
};
const tmp = mkdtempSync(join(tmpdir(), 'tt-added-json-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

for (const c of fixture.cases) {
  test(`added_tokens.json, ${c.name}: ids and offsets as transformers ${fixture.transformers} AutoTokenizer`, () => {
    const dir = join(tmp, c.name);
    mkdirSync(dir);
    for (const f of c.base.files) copyFileSync(join(fixturesDir, 'e2e', c.base.folder, f), join(dir, f));
    for (const [f, obj] of Object.entries({ ...c.files, 'added_tokens.json': c.added })) writeFileSync(join(dir, f), JSON.stringify(obj));
    const tok = loadTokenizer(dir);
    fixture.texts.forEach((text, i) => {
      const e = tok.encode(text);
      const want = c.expected[i]!;
      assert.deepEqual([...e.ids], want.ids, `${c.name}, text ${i}`);
      assert.deepEqual(
        e.offsets.map(([s, t]) => [s, t]),
        want.offsets,
        `${c.name}, text ${i} offsets`,
      );
    });
  });
}

test('added_tokens.json with an id that is not an integer names the file and the token', () => {
  const dir = join(tmp, 'bad');
  mkdirSync(dir);
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(fixturesDir, 'e2e', 'roberta', f), join(dir, f));
  writeFileSync(join(dir, 'added_tokens.json'), JSON.stringify({ '<ent>': 'x' }));
  assert.throws(() => loadTokenizer(dir), /added_tokens\.json: "<ent>" has id "x", not a non-negative integer/);
});
