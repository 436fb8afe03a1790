/**
 * What a training run leaves in its output folder (issue 15, "Weak: training"): temporary
 * folders of killed runs are cleaned, a fresh run starts a fresh log.jsonl, and an obstacle to
 * the final save is found before the first step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic.js';
import { Trainer } from '../src/train/trainer.js';
import { OutputObstacleError } from '../src/train/output-check.js';
import { tinyArgs, tinySetup } from './helpers/tiny-setup.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tt-leftovers-'));
/** A pid no process has (above Linux's pid_max limit of 2^22). */
const DEAD_PID = 4_194_305;

const run = async (out: string, maxSteps = 3): Promise<Trainer> => {
  const s = tinySetup();
  const t = new Trainer({ model: s.model, tokenizer: s.tokenizer, trainDataset: s.train, args: tinyArgs(out, { maxSteps }) });
  await t.train();
  return t;
};

test('temporary folders and files of killed runs are removed; an interrupted swap is restored', async () => {
  const out = tmp();
  mkdirSync(join(out, `checkpoint-4.tmp-${DEAD_PID}`), { recursive: true });
  writeFileSync(join(out, `checkpoint-4.tmp-${DEAD_PID}`, 'model.safetensors'), Buffer.alloc(1 << 16));
  writeFileSync(join(out, `model.safetensors.tmp-${DEAD_PID}`), Buffer.alloc(1 << 16));
  mkdirSync(join(out, `checkpoint-2.old-${DEAD_PID}`));
  writeFileSync(join(out, `checkpoint-2.old-${DEAD_PID}`, 'trainer_state.json'), '{}');
  await run(out);
  const names = readdirSync(out);
  assert.deepEqual(
    names.filter((n) => /\.(tmp|old)-\d+$/.test(n)),
    [],
    names.join(', '),
  );
  assert.ok(names.includes('checkpoint-2'), 'the .old copy whose original was missing is renamed back');
});

test('a fresh run in a used folder starts a fresh log.jsonl', async () => {
  const out = tmp();
  await run(out, 3);
  await run(out, 2);
  const steps = readFileSync(join(out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => 'loss' in r)
    .map((r) => r.step);
  assert.deepEqual(steps, [1, 2]);
});

test('an obstacle to the final save stops the run before the first step, naming the path', async () => {
  const out = tmp();
  mkdirSync(join(out, 'model.safetensors'));
  const s = tinySetup();
  const t = new Trainer({ model: s.model, tokenizer: s.tokenizer, trainDataset: s.train, args: tinyArgs(out, { maxSteps: 3 }) });
  await assert.rejects(t.train(), (e: unknown) => {
    assert.ok(e instanceof OutputObstacleError);
    assert.match(
      (e as Error).message,
      /model\.safetensors: is a folder, but training writes a file of this name at the end; remove or rename it/,
    );
    return true;
  });
  assert.equal(t.logHistory.length, 0);
  assert.deepEqual(readdirSync(out), ['model.safetensors']);
  const file = join(tmp(), 'out-is-a-file');
  writeFileSync(file, 'x');
  const t2 = new Trainer({ model: s.model, tokenizer: s.tokenizer, trainDataset: s.train, args: tinyArgs(file, { maxSteps: 1 }) });
  await assert.rejects(t2.train(), /out-is-a-file: the output folder is a file/);
  assert.ok(existsSync(file));
});

test('a file write that cannot be renamed into place leaves no temporary file', () => {
  const out = tmp();
  mkdirSync(join(out, 'model.safetensors'));
  writeFileSync(join(out, 'model.safetensors', 'x'), 'occupied');
  assert.throws(() => writeFileAtomic(join(out, 'model.safetensors'), Buffer.alloc(1 << 20)), /EISDIR|ENOTEMPTY|EEXIST|ENOTDIR/);
  assert.deepEqual(readdirSync(out), ['model.safetensors']);
});
