/**
 * Issue 22 item 2: run_ner.py's --do_train / --do_eval / --do_predict. When any is given the run
 * does exactly what they say: nothing trains without --do-train; an evaluate-only or predict-only
 * run of a trained model writes run_ner.py's files for those modes (eval_results.json,
 * predict_results.json, predictions.txt, all_results.json) and leaves the model alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cli, cliWork, quickTrainArgs } from './helpers/cli-run.js';

const w = cliWork();
const model = join(w.dir, 'model');
const trained = cli(quickTrainArgs(w, model));
const json = (p: string): Record<string, number> => JSON.parse(readFileSync(p, 'utf8')) as Record<string, number>;

test('--do-eval alone evaluates the given model: no training, eval_results.json + all_results.json, the same metrics as `evaluate`', async () => {
  assert.equal((await trained).code, 0);
  const weights = statSync(join(model, 'model.safetensors')).mtimeMs;
  const out = join(w.dir, 'eval-only');
  const r = await cli([
    'train',
    '--model-name-or-path',
    model,
    '--train-file',
    w.train,
    '--validation-file',
    w.validation,
    '--do-eval',
    '--output-dir',
    out,
    '--disable-tqdm',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.err, /step 1 \|/, 'no training step ran');
  assert.ok(
    !existsSync(join(out, 'model.safetensors')) &&
      !existsSync(join(out, 'train_results.json')) &&
      !existsSync(join(out, 'trainer_state.json')),
  );
  assert.equal(statSync(join(model, 'model.safetensors')).mtimeMs, weights);
  const ev = json(join(out, 'eval_results.json'));
  assert.deepEqual(json(join(out, 'all_results.json')), ev);
  assert.equal(ev.eval_samples, w.data.validation.sentences.length);
  assert.ok(!('epoch' in ev), 'an evaluate-only run has no epoch (HF: state.epoch is None)');
  const ref = await cli(['evaluate', '--model', model, '--data', w.validation, '--json']);
  assert.equal(ref.code, 0, ref.err);
  const refRec = JSON.parse(ref.out) as Record<string, number>;
  assert.equal(ev.eval_f1, refRec.eval_f1);
  assert.equal(ev.eval_loss, refRec.eval_loss);
  assert.ok(!('epoch' in refRec), '`evaluate` prints no epoch');
});

test('--do-predict alone (into the model folder, which needs no --overwrite-output-dir): predict_results.json, predictions.txt, predict_* on the console', async () => {
  assert.equal((await trained).code, 0);
  const r = await cli([
    'train',
    '--model-name-or-path',
    model,
    '--test-file',
    w.test,
    '--do-predict',
    '--output-dir',
    model,
    '--disable-tqdm',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\*\*\*\*\* predict metrics \*\*\*\*\*/);
  assert.match(r.out, /predict_f1/);
  assert.doesNotMatch(r.out, /test_/);
  const pr = json(join(model, 'predict_results.json'));
  assert.equal(pr.predict_samples, w.data.test.sentences.length);
  assert.ok(!('epoch' in pr));
  const lines = readFileSync(join(model, 'predictions.txt'), 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, w.data.test.sentences.length);
  assert.equal(json(join(model, 'all_results.json')).predict_f1, pr.predict_f1);
  assert.match(r.out, /wrote all_results\.json, predict_results\.json and predictions\.txt to /);
});

test('--do-train needs training data; --do-eval without --do-train needs a model; implicit runs still train', async () => {
  const noTrain = await cli([
    'train',
    '--model-name-or-path',
    model,
    '--validation-file',
    w.validation,
    '--do-train',
    '--output-dir',
    join(w.dir, 'x'),
  ]);
  assert.equal(noTrain.code, 2);
  assert.match(noTrain.err, /--do-train needs training data/);
  const noModel = await cli([
    'train',
    '--config-name',
    w.config,
    '--tokenizer-name',
    w.vocab,
    '--validation-file',
    w.validation,
    '--do-eval',
    '--output-dir',
    join(w.dir, 'y'),
  ]);
  assert.equal(noModel.code, 2);
  assert.match(noModel.err, /needs a trained model: give --model-name-or-path/);
});

test('--do-train --do-eval --do-predict: the closing line names every file written, and each exists', async () => {
  const out = join(w.dir, 'all');
  const r = await cli(
    quickTrainArgs(w, out, ['--validation-file', w.validation, '--test-file', w.test, '--do-train', '--do-eval', '--do-predict']),
  );
  assert.equal(r.code, 0, r.err);
  const m = /wrote (.*) to /.exec(r.out);
  assert.ok(m, r.out);
  const files = m[1]!.replace(' and ', ', ').split(', ');
  assert.deepEqual(files, [
    'README.md',
    'all_results.json',
    'eval_results.json',
    'predict_results.json',
    'predictions.txt',
    'train_results.json',
    'trainer_state.json',
    'training_args.json',
  ]);
  for (const f of files) assert.ok(existsSync(join(out, f)), f);
  assert.ok('epoch' in json(join(out, 'eval_results.json')), 'after training the eval record carries the epoch');
});
