/**
 * Regression tests for three issue-21 fixes that had none: a parquet footer listing more row
 * groups than the reader accepts, NaN weights in a model folder, and `model_type: "__proto__"`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { DataFormatError, readParquet } from '../src/data/index.js';
import { loadModelFromDir, savePretrained } from '../src/models/index.js';
import { fixturesDir, repoRoot } from './helpers/fixtures.js';
import { cli } from './helpers/cli-run.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tt-leftovers-'));
const BIN = join(repoRoot, 'bin', 'tokentune.js');
const roberta = join(fixturesDir, 'e2e', 'roberta');

/** Counts fs.open / fs.openSync calls on `path` while `body` runs (hyparquet's streams open through fs.open). */
async function countOpens<T>(path: string, body: () => Promise<T>): Promise<{ opens: number; result: PromiseSettledResult<T> }> {
  const m = fs as unknown as Record<'open' | 'openSync', (...a: unknown[]) => unknown>;
  const { open, openSync } = m;
  let opens = 0;
  m.open = (...a: unknown[]) => {
    if (a[0] === path) opens++;
    return open.apply(fs, a);
  };
  m.openSync = (...a: unknown[]) => {
    if (a[0] === path) opens++;
    return openSync.apply(fs, a);
  };
  syncBuiltinESMExports();
  try {
    const [result] = await Promise.allSettled([body()]);
    return { opens, result: result! };
  } finally {
    m.open = open;
    m.openSync = openSync;
    syncBuiltinESMExports();
  }
}

test('a parquet footer listing more row groups than the 10,000 accepted is refused in one line, naming the file and the count, on one descriptor', async () => {
  // One row per row group: a valid file whose footer lists 10,001 groups (the cap is MAX_ROW_GROUPS
  // in src/data/parquet.ts). The old reader opened a read stream per slice and read every group.
  const n = 10_001;
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'tokens', data: Array.from({ length: n }, () => ['a']) },
      { name: 'ner_tags', data: Array.from({ length: n }, () => ['O']) },
    ],
    rowGroupSize: 1,
  });
  const p = join(tmp(), 'many-groups.parquet');
  writeFileSync(p, new Uint8Array(buf));
  const { opens, result } = await countOpens(p, () => readParquet(p));
  assert.equal(result.status, 'rejected', 'a footer with 10,001 row groups was read');
  const e = (result as PromiseRejectedResult).reason as Error;
  assert.ok(e instanceof DataFormatError, String(e));
  assert.ok(e.message.includes(p), e.message);
  assert.match(e.message, /10001 row groups, more than the 10000 accepted/);
  assert.doesNotMatch(e.message, /\n/);
  assert.equal(opens, 1, `the file was opened ${opens} times`);
});

test('NaN weights in a model folder give a warning naming the tensor (predict through the CLI, and the load report)', async () => {
  const { model } = loadModelFromDir(roberta);
  const [name, t] = model.parameters().find(([k]) => k.includes('encoder.layer.0.attention') && k.endsWith('weight'))!;
  const dir = tmp();
  // A clean copy first: no such warning without NaN.
  for (const f of ['tokenizer.json', 'vocab.json', 'merges.txt']) copyFileSync(join(roberta, f), join(dir, f));
  savePretrained(model, dir);
  assert.ok(!loadModelFromDir(dir).report.warnings.some((w) => /NaN/.test(w)));
  t.f[3] = NaN;
  savePretrained(model, dir);
  const { report } = loadModelFromDir(dir);
  assert.ok(
    report.warnings.some((w) => w.includes('NaN') && w.includes(`${name} (1 of ${t.f.length})`)),
    report.warnings.join('\n'),
  );
  const r = await cli(['predict', '--model', dir, '--text', 'Alice lives in Paris']);
  assert.match(r.err, new RegExp(`warning: .*NaN or infinite.*${name.replace(/\./g, '\\.')}`), r.err);
});

for (const modelType of ['__proto__', 'constructor']) {
  test(`config.json with model_type "${modelType}": predict and evaluate exit non-zero with one line naming config.json and model_type`, () => {
    const dir = tmp();
    for (const f of ['model.safetensors', 'tokenizer.json', 'vocab.json', 'merges.txt']) copyFileSync(join(roberta, f), join(dir, f));
    const config = JSON.parse(readFileSync(join(roberta, 'config.json'), 'utf8'));
    config.model_type = modelType;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const data = join(dir, 'test.conll');
    writeFileSync(data, 'Alice B-PER\nsleeps O\n\n');
    for (const args of [
      ['predict', '--model', dir, '--text', 'x'],
      ['evaluate', '--model', dir, '--data', data],
    ]) {
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.notEqual(r.status, 0, `${args[0]} exited 0: ${r.stderr}`);
      const err = r.stderr.trim();
      assert.doesNotMatch(err, /\n/, err);
      assert.ok(err.includes(join(dir, 'config.json')), err);
      assert.match(err, new RegExp(`model_type "${modelType}" is not supported`), err);
      assert.doesNotMatch(err, /TypeError|Cannot read properties|is not a function|\bat .*:\d+:\d+/, err);
    }
  });
}
