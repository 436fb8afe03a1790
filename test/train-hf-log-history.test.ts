/**
 * log_history against transformers' Trainer itself (test/fixtures/hf-trainer/log-history, made by
 * scripts/fixtures/make-hf-trainer-fixtures.py): the same tiny BERT, the same 4 sequences (one optimizer step per
 * epoch, so data order cannot matter), dropout off. Every logged entry must carry the Trainer's
 * step, epoch and learning rate exactly (the rate the step's update USED: 0.0 at step 1 under
 * warmup), and its loss and grad_norm within 1e-4 relative.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Feature } from '../src/data/features.js';
import { loadModelFromDir } from '../src/models/index.js';
import { Trainer, type EncodedSplit, type LogRecord } from '../src/train/trainer.js';
import { defaultTrainingArgs, type TrainingArguments } from '../src/train/training-args.js';
import { fixturesDir } from './helpers/fixtures.js';

interface HfRun {
  logging_strategy: 'steps' | 'epoch';
  logging_steps: number;
  logging_first_step: boolean;
  num_train_epochs: number;
  per_device_train_batch_size: number;
  gradient_accumulation_steps: number;
  warmup_steps: number;
  lr_scheduler_type: TrainingArguments['lrSchedulerType'];
  log_history: Record<string, number>[];
}
interface Fixture {
  transformers: string;
  learning_rate: number;
  weight_decay: number;
  max_grad_norm: number;
  data: { input_ids: number[]; attention_mask: number[]; token_type_ids: number[]; labels: number[] }[];
  runs: HfRun[];
}

const root = join(fixturesDir, 'hf-trainer', 'log-history');
const fx = JSON.parse(readFileSync(join(root, 'runs.json'), 'utf8')) as Fixture;

function trainSplit(): EncodedSplit {
  const features: Feature[] = fx.data.map((d, i) => {
    const n = d.input_ids.length;
    return {
      inputIds: Int32Array.from(d.input_ids),
      attentionMask: Int32Array.from(d.attention_mask),
      tokenTypeIds: Int32Array.from(d.token_type_ids),
      labels: Int32Array.from(d.labels),
      wordIds: Int32Array.from({ length: n }, (_, t) => (t === 0 || t === n - 1 ? -1 : t - 1)),
      sentenceIndex: i,
      windowIndex: 0,
      wordStart: 0,
      wordEnd: n - 2,
      ownedWordStart: 0,
      ownedWordEnd: n - 2,
    };
  });
  return { features, sentences: fx.data.map((d) => ({ tokens: d.input_ids.slice(1, -1).map(String) })) };
}

async function ourLogHistory(run: HfRun): Promise<LogRecord[]> {
  const out = mkdtempSync(join(tmpdir(), 'tt-hf-log-'));
  try {
    const { model } = loadModelFromDir(join(root, 'model'));
    const args: TrainingArguments = {
      ...defaultTrainingArgs(),
      outputDir: out,
      learningRate: fx.learning_rate,
      weightDecay: fx.weight_decay,
      maxGradNorm: fx.max_grad_norm,
      seed: 42,
      saveStrategy: 'no',
      evalStrategy: 'no',
      disableTqdm: true,
      loggingStrategy: run.logging_strategy,
      loggingSteps: run.logging_steps,
      loggingFirstStep: run.logging_first_step,
      numTrainEpochs: run.num_train_epochs,
      perDeviceTrainBatchSize: run.per_device_train_batch_size,
      gradientAccumulationSteps: run.gradient_accumulation_steps,
      warmupSteps: run.warmup_steps,
      lrSchedulerType: run.lr_scheduler_type,
    };
    const trainer = new Trainer({ model, args, trainDataset: trainSplit() });
    await trainer.train();
    return trainer.logHistory;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

const close = (got: unknown, want: number, rel: number, what: string): void => {
  assert.equal(typeof got, 'number', `${what}: missing (want ${want})`);
  const g = got as number;
  assert.ok(Math.abs(g - want) <= rel * Math.max(1e-12, Math.abs(want)), `${what}: ${g} vs transformers ${want}`);
};

for (const run of fx.runs) {
  test(`log_history equals transformers ${fx.transformers} Trainer's: logging_strategy ${run.logging_strategy}, ${run.lr_scheduler_type}, warmup ${run.warmup_steps}`, async () => {
    const ours = (await ourLogHistory(run)).filter((r) => !('message' in r));
    const want = run.log_history;
    assert.deepEqual(
      ours.map((r) => r.step),
      want.map((r) => r.step),
      'the steps that log',
    );
    want.forEach((w, i) => {
      const o = ours[i]!;
      const at = `step ${w.step}`;
      assert.equal(o.epoch, w.epoch, `${at}: epoch`);
      if ('train_loss' in w) {
        close(o.train_loss, w.train_loss!, 1e-4, `${at}: train_loss`);
        return;
      }
      assert.deepEqual(Object.keys(o).sort(), Object.keys(w).sort(), `${at}: the keys of the entry`);
      close(o.learning_rate, w.learning_rate!, 1e-9, `${at}: learning_rate`);
      close(o.loss, w.loss!, 1e-4, `${at}: loss`);
      close(o.grad_norm, w.grad_norm!, 1e-4, `${at}: grad_norm`);
    });
  });
}
