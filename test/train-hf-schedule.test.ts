/**
 * The learning rate of every step against transformers' own schedulers (get_scheduler, with
 * TrainingArguments.get_warmup_steps), from a fixture made by scripts/fixtures/make-hf-trainer-fixtures.py.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lrAt, resolveWarmup, type ScheduleParams } from '../src/train/lr-schedule.js';

interface Case {
  type: string;
  total_steps: number;
  warmup_steps_arg: number;
  warmup_steps: number;
  base_lr: number;
  lr: number[];
}
const fixture = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../test/fixtures/hf-trainer/lr_schedules.json', import.meta.url)), 'utf8'),
) as { transformers: string; cases: Case[] };

test(`LR at every step equals transformers ${fixture.transformers} (warmup as steps and as a ratio; linear, cosine, constant)`, () => {
  assert.ok(fixture.cases.length >= 12);
  for (const c of fixture.cases) {
    const warmup = resolveWarmup({ warmupSteps: c.warmup_steps_arg, warmupRatio: 0 }, c.total_steps);
    assert.equal(warmup, c.warmup_steps, `${c.type} warmup ${c.warmup_steps_arg} of ${c.total_steps}`);
    c.lr.forEach((want, step) => {
      const got = lrAt(step, { type: c.type as ScheduleParams['type'], baseLr: c.base_lr, warmupSteps: warmup, totalSteps: c.total_steps });
      assert.ok(
        Math.abs(got - want) <= 1e-12 + 1e-9 * Math.abs(want),
        `${c.type} total ${c.total_steps} warmup ${c.warmup_steps_arg} step ${step}: ${got} vs ${want}`,
      );
    });
  }
});
