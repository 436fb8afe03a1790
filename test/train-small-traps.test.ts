/** Issue 22 item 5: early stopping says why, predict's usage shows its default, the demo folder is ignored by git. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, cliWork, quickTrainArgs } from './helpers/cli-run.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

test('early stopping names the metric, its best value and the patience', async () => {
  const w = cliWork();
  // A threshold no evaluation can beat: the second evaluation exhausts a patience of 1.
  const r = await cli(
    quickTrainArgs(w, join(w.dir, 'es'), [
      '--validation-file',
      w.validation,
      '--max-steps',
      '6',
      '--eval-strategy',
      'steps',
      '--eval-steps',
      '1',
      '--save-strategy',
      'steps',
      '--save-steps',
      '1',
      '--load-best-model-at-end',
      '--early-stopping-patience',
      '1',
      '--early-stopping-threshold',
      '100',
    ]),
  );
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.err,
    /early stopping at step 2 of 6: eval_loss \d+(\.\d+)? has not fallen below its best \d+(\.\d+)? by more than 100 \(--early-stopping-threshold\) for 1 evaluation \(--early-stopping-patience 1\)/,
  );
  const state = JSON.parse(readFileSync(join(w.dir, 'es', 'trainer_state.json'), 'utf8')) as { global_step: number };
  assert.equal(state.global_step, 2);
});

test('predict --help shows the default aggregation (first); .gitignore covers the demo folder', async () => {
  const r = await cli(['predict', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /\[--aggregation first\|/);
  assert.doesNotMatch(r.out, /\[--aggregation simple\]/);
  const ignored = readFileSync(join(repo, '.gitignore'), 'utf8').split('\n');
  assert.ok(ignored.includes('tokentune-demo/'), '.gitignore lists tokentune-demo/');
});
