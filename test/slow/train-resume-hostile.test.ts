/**
 * Hostile checkpoints on resume (issue 21, broken #7 and weak items): trainer_state.json with a
 * negative, huge, missing or non-numeric global_step once resumed with lr -50 or trained 0 steps
 * and exited 0. Every field resume reads is checked against the checkpoint's own optimizer and
 * scheduler, with one-line errors naming the file and field; long real histories still resume.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Trainer } from '../../src/train/trainer.js';
import { readOptimizerPt } from '../../src/train/torch-checkpoint.js';
import { torchSave } from '../../src/io/torch-save.js';
import { tinyArgs, tinySetup } from '../helpers/tiny-setup.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tt-resume-'));

/** A real checkpoint-2 of a 4-step run, made once. */
const base = await (async () => {
  const out = tmp();
  const s = tinySetup();
  await new Trainer({
    model: s.model,
    tokenizer: s.tokenizer,
    trainDataset: s.train,
    args: tinyArgs(out, { maxSteps: 4, saveStrategy: 'steps', saveSteps: 2 }),
  }).train();
  return join(out, 'checkpoint-2');
})();

/** Copies checkpoint-2 into a fresh output folder, lets `edit` spoil it, resumes a 4-step run. */
async function resumeEdited(edit: (ckpt: string) => void): Promise<{ out: string; trainer: Trainer }> {
  const out = tmp();
  const ckpt = join(out, 'checkpoint-2');
  cpSync(base, ckpt, { recursive: true });
  edit(ckpt);
  const s = tinySetup();
  const trainer = new Trainer({
    model: s.model,
    tokenizer: s.tokenizer,
    trainDataset: s.train,
    args: tinyArgs(out, { maxSteps: 4, resumeFromCheckpoint: ckpt }),
  });
  await trainer.train();
  return { out, trainer };
}

const editState =
  (f: (s: Record<string, unknown>) => unknown) =>
  (ckpt: string): void => {
    const p = join(ckpt, 'trainer_state.json');
    writeFileSync(p, JSON.stringify(f(JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>)));
  };
const set = (k: string, v: unknown) => editState((s) => ({ ...s, [k]: v }));

const cases: [string, (ckpt: string) => void, RegExp][] = [
  ['global_step -1000000', set('global_step', -1000000), /trainer_state\.json: global_step: expected a non-negative integer, got -1000000/],
  ['global_step 1e12', set('global_step', 1e12), /trainer_state\.json: global_step: 1000000000000 is past this run's 4 training steps/],
  [
    'global_step missing',
    editState((s) => {
      delete s['global_step'];
      return s;
    }),
    /trainer_state\.json: global_step: missing/,
  ],
  ['global_step "2"', set('global_step', '2'), /trainer_state\.json: global_step: expected int/],
  ['global_step 1 (optimizer at 2)', set('global_step', 1), /trainer_state\.json: global_step: 1 but optimizer\.pt has stepped 2 times/],
  ['epoch -3', set('epoch', -3), /trainer_state\.json: epoch: expected a non-negative number/],
  ['best_metric "x"', set('best_metric', 'x'), /trainer_state\.json: best_metric: expected number or null/],
  [
    'best_model_checkpoint /etc',
    set('best_model_checkpoint', '/etc'),
    /trainer_state\.json: best_model_checkpoint: "\/etc" is not a checkpoint-<step> folder/,
  ],
  ['log_history junk', set('log_history', [null, 3]), /trainer_state\.json: log_history\[0\]: expected an object/],
  ['log_history a string', set('log_history', 'x'), /trainer_state\.json: log_history: expected a list/],
  ['state null', (c) => writeFileSync(join(c, 'trainer_state.json'), 'null'), /trainer_state\.json: expected a JSON object/],
  [
    'state invalid JSON',
    (c) => writeFileSync(join(c, 'trainer_state.json'), '{"global_step": 2,'),
    /trainer_state\.json:1:\d+: invalid JSON/,
  ],
  [
    'patience counter -1',
    set('stateful_callbacks', { EarlyStoppingCallback: { attributes: { early_stopping_patience_counter: -1 } } }),
    /early_stopping_patience_counter: expected a non-negative integer/,
  ],
];

for (const [name, edit, pattern] of cases) {
  test(`resume refuses trainer_state.json with ${name}`, async () => {
    await assert.rejects(resumeEdited(edit), (e: Error) => {
      assert.match(e.message, pattern);
      assert.doesNotMatch(e.message, /\n/, 'one line');
      return true;
    });
  });
}

test('a trainer_state.json with 300k log_history records resumes and the run finishes', async () => {
  const { out, trainer } = await resumeEdited(
    editState((s) => {
      const h = s['log_history'] as unknown[];
      for (let i = 0; i < 300_000; i++) h.unshift({ step: 1, loss: 1 + (i % 7) / 10, epoch: 0.1 });
      return s;
    }),
  );
  assert.equal(trainer.logHistory.filter((r) => r.step === 4).length > 0, true);
  assert.ok(existsSync(join(out, 'model.safetensors')));
});

test('optimizer.pt listing 1M parameter ids is refused by name, not with a stack overflow', () => {
  const p = join(tmp(), 'optimizer.pt');
  const ids = Array.from({ length: 1_000_000 }, (_, i) => i);
  torchSave(
    p,
    'optimizer',
    new Map<string, never>([
      ['state', new Map() as never],
      ['param_groups', [new Map([['params', ids]]), new Map([['params', []]])] as never],
    ]),
    new Map(),
  );
  const s = tinySetup();
  const t = new Trainer({ model: s.model, tokenizer: s.tokenizer, trainDataset: s.train, args: tinyArgs(tmp(), { maxSteps: 1 }) });
  assert.throws(() => readOptimizerPt(p, t.optimizer), /optimizer\.pt: optimizer groups hold \[1000000, 0\] parameters/);
});

test('NaN optimizer moments are refused naming the tensor', async () => {
  // Rewrite checkpoint-2's optimizer.pt with one NaN in the first exp_avg (same layout as written).
  const s = tinySetup();
  const t = new Trainer({ model: s.model, tokenizer: s.tokenizer, trainDataset: s.train, args: tinyArgs(tmp(), { maxSteps: 1 }) });
  readOptimizerPt(join(base, 'optimizer.pt'), t.optimizer);
  t.optimizer.m[0] = NaN;
  const { writeOptimizerPt } = await import('../../src/train/torch-checkpoint.js');
  await assert.rejects(
    resumeEdited((c) => writeOptimizerPt(join(c, 'optimizer.pt'), t.optimizer, 1e-3, 2e-3)),
    /optimizer\.pt: state\[0\]\.exp_avg \(.*\) holds NaN at element 0/,
  );
});
