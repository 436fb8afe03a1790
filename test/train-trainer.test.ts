/** Trainer behaviour: determinism, gradient accumulation, resume after SIGKILL, checkpoints, evaluation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Trainer, type LogRecord } from '../src/train/trainer.js';
import { loadModelFromDir } from '../src/models/index.js';
import { tinyArgs, tinySetup } from './helpers/tiny-setup.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tt-trainer-'));
const losses = (h: readonly LogRecord[]): [number, number][] =>
  h.filter((r) => typeof r.loss === 'number').map((r) => [Number(r.step), Number(r.loss)]);

test('same seed, same data, same threads: identical losses (dropout on)', async () => {
  const run = async () => {
    const s = tinySetup();
    const t = new Trainer({ model: s.model, tokenizer: s.tokenizer, trainDataset: s.train, args: tinyArgs(tmp(), { maxSteps: 6 }) });
    await t.train();
    return losses(t.logHistory);
  };
  const a = await run(),
    b = await run();
  assert.equal(a.length, 6);
  assert.deepEqual(a, b);
});

test('gradient accumulation: 4 x 4 gives the same update as one batch of 16', async () => {
  const params = async (batch: number, accum: number) => {
    const s = tinySetup({ dropout: 0 });
    const t = new Trainer({
      model: s.model,
      tokenizer: s.tokenizer,
      trainDataset: s.train,
      args: tinyArgs(tmp(), { maxSteps: 2, perDeviceTrainBatchSize: batch, gradientAccumulationSteps: accum, maxGradNorm: 0 }),
    });
    await t.train();
    return { params: t.optimizer.flat.data.slice(), losses: losses(t.logHistory) };
  };
  const one = await params(16, 1),
    four = await params(4, 4);
  for (let i = 0; i < one.losses.length; i++)
    assert.ok(Math.abs(one.losses[i][1] - four.losses[i][1]) < 1e-5, `loss ${one.losses[i]} vs ${four.losses[i]}`);
  let worst = 0;
  for (let i = 0; i < one.params.length; i++) worst = Math.max(worst, Math.abs(one.params[i] - four.params[i]));
  assert.ok(worst < 1e-5, `max parameter difference ${worst}`);
});

test('a run killed with SIGKILL resumes from its last checkpoint and logs the same losses', async () => {
  const maxSteps = 12;
  const full = tinySetup();
  const ref = new Trainer({ model: full.model, tokenizer: full.tokenizer, trainDataset: full.train, args: tinyArgs(tmp(), { maxSteps }) });
  await ref.train();
  const expected = losses(ref.logHistory);

  const out = tmp();
  const child = spawn(process.execPath, [fileURLToPath(new URL('./helpers/train-child.js', import.meta.url)), out, String(maxSteps)], {
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
  const poll = setInterval(() => {
    if (existsSync(join(out, 'checkpoint-4'))) child.kill('SIGKILL');
  }, 10);
  const signal = await exited;
  clearInterval(poll);
  assert.equal(signal, 'SIGKILL', 'the child was killed, not finished');
  assert.ok(existsSync(join(out, 'checkpoint-4')));
  assert.ok(!existsSync(join(out, 'checkpoint-12')), 'the child was killed before finishing');

  const s = tinySetup();
  const resumed = new Trainer({
    model: s.model,
    tokenizer: s.tokenizer,
    trainDataset: s.train,
    args: tinyArgs(out, { maxSteps, saveStrategy: 'steps', saveSteps: 4, resumeFromCheckpoint: true }),
  });
  await resumed.train();
  const got = losses(resumed.logHistory);
  assert.equal(got.length, maxSteps, "log history holds every step once (the killed run's records past the checkpoint are dropped)");
  for (let i = 0; i < maxSteps; i++) {
    assert.equal(got[i][0], expected[i][0]);
    assert.ok(Math.abs(got[i][1] - expected[i][1]) <= 1e-6, `step ${got[i][0]}: resumed ${got[i][1]} vs uninterrupted ${expected[i][1]}`);
  }
  // log.jsonl agrees with the in-memory history: one loss record per step.
  const lines = readFileSync(join(out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogRecord);
  assert.deepEqual(losses(lines), got);
});

test('checkpoints: HF layout, rotation keeps the best, final model reloads with the same predictions', async () => {
  const s = tinySetup({ trainSentences: 96 });
  const out = tmp();
  const t = new Trainer({
    model: s.model,
    tokenizer: s.tokenizer,
    trainDataset: s.train,
    evalDataset: s.validation,
    args: tinyArgs(out, {
      maxSteps: 12,
      evalStrategy: 'steps',
      evalSteps: 3,
      saveStrategy: 'steps',
      saveSteps: 3,
      saveTotalLimit: 2,
      metricForBestModel: 'f1',
      loadBestModelAtEnd: true,
    }),
  });
  await t.train();
  const ckpts = readdirSync(out)
    .filter((d) => d.startsWith('checkpoint-'))
    .sort();
  assert.ok(ckpts.length <= 3, `rotation keeps at most the limit plus the best: ${ckpts}`);
  const state = JSON.parse(readFileSync(join(out, ckpts[0], 'trainer_state.json'), 'utf8'));
  for (const k of ['global_step', 'epoch', 'log_history', 'best_metric', 'best_model_checkpoint'])
    assert.ok(k in state, `trainer_state.json has ${k}`);
  const best = String(t.trainerState().best_model_checkpoint);
  assert.ok(existsSync(best), `best checkpoint ${best} survives rotation`);
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'optimizer.pt', 'scheduler.pt', 'rng_state.pth', 'trainer_state.json'])
    assert.ok(existsSync(join(best, f)), `${f} in checkpoint`);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(config.architectures, ['BertForTokenClassification']);
  assert.equal(config.id2label['0'], s.labels[0]);
  const before = t.evaluate();
  const reloaded = loadModelFromDir(out).model;
  const t2 = new Trainer({ model: reloaded, tokenizer: s.tokenizer, evalDataset: s.validation, args: tinyArgs('') });
  const after = t2.evaluate();
  assert.equal(after.eval_f1, before.eval_f1);
  assert.equal(after.eval_loss, before.eval_loss);
  for (const k of [
    'eval_loss',
    'eval_precision',
    'eval_recall',
    'eval_f1',
    'eval_accuracy',
    'eval_runtime',
    'eval_samples_per_second',
    'eval_steps_per_second',
  ])
    assert.ok(k in after, `evaluate() returns ${k}`);
  // As HF: the epoch is logged once training has run (state.epoch set), never for a model only evaluated.
  assert.ok('epoch' in before, 'evaluate() after train() returns the epoch');
  assert.ok(!('epoch' in after), 'evaluate() of a trainer that never trained has no epoch');
});

test('an allocation failure names the batch and suggests gradient accumulation', async () => {
  const { withMemoryHelp } = await import('../src/train/trainer.js');
  const args = tinyArgs('', { perDeviceTrainBatchSize: 16, gradientAccumulationSteps: 1, maxSeqLength: 512 });
  assert.throws(
    () =>
      withMemoryHelp({ batchSize: 16, seqLen: 512 }, args, () => {
        throw new RangeError('Array buffer allocation failed');
      }),
    /out of memory on a batch of 16 x 512 tokens.*--per-device-train-batch-size 4 --gradient-accumulation-steps 4/,
  );
  // Anything else passes through untouched.
  assert.throws(
    () =>
      withMemoryHelp({ batchSize: 1, seqLen: 1 }, args, () => {
        throw new RangeError('label 9 at row 0');
      }),
    /^RangeError: label 9/,
  );
  // A real allocation that cannot be satisfied (a 2^40-element buffer) is turned into the advice.
  assert.throws(
    () => withMemoryHelp({ batchSize: 16, seqLen: 128 }, args, () => new Float32Array(2 ** 40)),
    /out of memory on a batch of 16 x 128/,
  );
});

test('--bf16 without AVX512_BF16 (or with it forced off) is refused in one line by the Trainer and the CLI', async () => {
  const { bf16Refusal } = await import('../src/engine/index.js');
  const why = bf16Refusal();
  if (why === null) {
    // This CPU has VDPBF16PS: force the emulation, the state of a CPU without it.
    const { setNativeBf16Fallback } = await import('../src/engine/native.js');
    setNativeBf16Fallback(true);
    try {
      await checkRefusal(bf16Refusal());
    } finally {
      setNativeBf16Fallback(false);
    }
  } else {
    await checkRefusal(why);
  }
  async function checkRefusal(msg: string | null): Promise<void> {
    assert.match(
      msg ?? '',
      /^--bf16 needs (AVX512_BF16|the avx512 kernels with AVX512_BF16|the native addon).*slower than fp32: train without --bf16$/,
    );
    const s = tinySetup();
    assert.throws(
      () =>
        new Trainer({ model: s.model, tokenizer: s.tokenizer, trainDataset: s.train, args: tinyArgs(tmp(), { maxSteps: 1, bf16: true }) }),
      { message: msg! },
    );
    const { main } = await import('../src/cli/main.js');
    const out: string[] = [],
      err: string[] = [];
    const io = { stdout: { write: (x: string) => (out.push(x), true) }, stderr: { write: (x: string) => (err.push(x), true) } } as never;
    const code = await main(
      ['train', '--bf16', '--config-name', 'tiny', '--tokenizer-name', 'no-such-vocab.txt', '--output-dir', tmp()],
      io,
    );
    assert.notEqual(code, 0);
    assert.deepEqual(err.join('').trim().split('\n'), [`tokentune train: ${msg}`], 'one line, before any data is read');
  }
});

test('--bf16: the Trainer trains in bf16 mixed precision, tracking the fp32 loss curve within 1% (CPUs with AVX512_BF16)', async (t) => {
  const { parseTrainingArgs } = await import('../src/cli/training-flags.js');
  assert.equal(parseTrainingArgs({ argv: ['--bf16'] }).args.bf16, true);
  assert.equal(parseTrainingArgs({ config: { bf16: true } }).args.bf16, true);
  assert.throws(() => parseTrainingArgs({ config: { fp16: true } }), /fp16 is not supported/);
  const { bf16Refusal } = await import('../src/engine/index.js');
  const why = bf16Refusal();
  if (why) return t.skip(why);
  const run = async (bf16: boolean) => {
    const s = tinySetup();
    const t = new Trainer({ model: s.model, tokenizer: s.tokenizer, trainDataset: s.train, args: tinyArgs(tmp(), { maxSteps: 8, bf16 }) });
    await t.train();
    return losses(t.logHistory).map(([, l]) => l);
  };
  const fp32 = await run(false),
    bf16 = await run(true);
  assert.notDeepEqual(bf16, fp32, 'bf16 matmuls really ran (rounding changes the losses)');
  for (let i = 0; i < fp32.length; i++)
    assert.ok(Math.abs(bf16[i] - fp32[i]) <= 0.01 * fp32[i], `step ${i + 1}: bf16 ${bf16[i]} vs fp32 ${fp32[i]}`);
});
