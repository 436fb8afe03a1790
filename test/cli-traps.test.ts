/**
 * The traps a run_ner.py user hit in tokentune's CLI (issue 14), one test each: every one failed
 * before its fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, cliWork, quickTrainArgs } from './helpers/cli-run.js';
import { sniffInputFormat, outputFormatFor } from '../src/cli/predict-format.js';
import { vocabIsUncased } from '../src/cli/train-checks.js';

const BIN = fileURLToPath(new URL('../../bin/tokentune.js', import.meta.url));

test('#1 train refuses a non-empty output folder unless overwriting or resuming; --overwrite-output-dir drops the old checkpoints', async () => {
  const w = cliWork();
  const out = join(w.dir, 'results');
  const first = await cli(quickTrainArgs(w, out, ['--save-strategy', 'steps', '--save-steps', '2']));
  assert.equal(first.code, 0, first.err);
  assert.ok(existsSync(join(out, 'checkpoint-2')));
  const again = await cli(quickTrainArgs(w, out));
  assert.equal(again.code, 2);
  assert.match(again.err, /already exists and is not empty.*--overwrite-output-dir.*--resume-from-checkpoint/s);
  const over = await cli(quickTrainArgs(w, out, ['--overwrite-output-dir']));
  assert.equal(over.code, 0, over.err);
  assert.match(over.err, /removed the previous run's checkpoint-2/);
  assert.ok(!existsSync(join(out, 'checkpoint-2')), "the old run's checkpoint is gone, so a later resume cannot pick it up");
});

test('#1 demo has its own default folder and never overwrites a folder it did not write', async () => {
  const help = await cli(['demo', '--help']);
  assert.match(help.out, /tokentune-demo/);
  const w = cliWork();
  writeFileSync(join(w.dir, 'empty', 'config.json'), '{}');
  const r = await cli(['demo', '--output-dir', join(w.dir, 'empty'), '--train-sentences', '8', '--epochs', '1']);
  assert.equal(r.code, 2);
  assert.match(r.err, /not written by the demo/);
});

test('#2 casing comes from the vocabulary (cased vocab: no lowercasing), --do-lower-case overrides', async () => {
  assert.equal(vocabIsUncased(['[PAD]', '[UNK]', '[CLS]', 'the', '##s', 'é']), true);
  assert.equal(vocabIsUncased(['[PAD]', 'the', 'The', '##s']), false);
  const w = cliWork();
  const cased = await cli(quickTrainArgs(w, join(w.dir, 'cased')));
  assert.equal(cased.code, 0, cased.err);
  assert.match(cased.out, /uppercase entries: keeping case \(cased\)/);
  const tc = JSON.parse(readFileSync(join(w.dir, 'cased', 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(tc.do_lower_case, false);
  // #11: a model trained from scratch saves a finite model_max_length (its position table).
  assert.equal(tc.model_max_length, 64);
  const lower = await cli(quickTrainArgs(w, join(w.dir, 'lower'), ['--do-lower-case']));
  assert.equal(lower.code, 0, lower.err);
  assert.equal(
    (JSON.parse(readFileSync(join(w.dir, 'lower', 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>).do_lower_case,
    true,
  );
});

test('#3 predict reads a CoNLL column file named .txt as columns and writes CoNLL to x.conll; predict + score = evaluate', async () => {
  assert.equal(sniffInputFormat('EU B-ORG\nrejects O\n\nPeter B-PER\n'), 'conll');
  assert.equal(sniffInputFormat('-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\n'), 'conll');
  assert.equal(sniffInputFormat('Peter lives in Paris.\nThe EU rejects it.\n'), 'txt');
  assert.equal(sniffInputFormat('{"text": "a"}\n'), 'jsonl');
  assert.equal(sniffInputFormat('Peter\nlives\n\nHe\nis\n'), 'conll');
  assert.equal(outputFormatFor('x.conll'), 'conll');
  assert.equal(outputFormatFor('x.jsonl'), 'jsonl');
  assert.equal(outputFormatFor(undefined), null);

  const w = cliWork();
  const model = join(w.dir, 'm');
  assert.equal((await cli(quickTrainArgs(w, model, ['--max-steps', '20']))).code, 0);
  const asTxt = join(w.dir, 'test.txt');
  writeFileSync(asTxt, readFileSync(w.test, 'utf8'));
  const outFile = join(w.dir, 'pred.conll');
  const p = await cli(['predict', '--model', model, '--file', asTxt, '--out', outFile]);
  assert.equal(p.code, 0, p.err);
  assert.match(p.err, /reading .* as CoNLL columns/);
  const lines = readFileSync(outFile, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  assert.equal(
    lines.length,
    w.data.test.sentences.reduce((n, s) => n + s.tokens.length, 0),
  );
  for (const l of lines) assert.equal(l.split(' ').length, 3, `word gold pred: ${l}`);
  assert.ok(!lines.some((l) => l.startsWith('B-') || l.startsWith('{')), 'no tags read as words, no JSON');

  const score = await cli(['score', outFile, '--json']);
  assert.equal(score.code, 0, score.err);
  const s = JSON.parse(score.out) as { precision: number; recall: number; f1: number; accuracy: number };
  const ev = await cli(['evaluate', '--model', model, '--data', w.test, '--json']);
  assert.equal(ev.code, 0, ev.err);
  const e = JSON.parse(ev.out) as Record<string, number>;
  for (const k of ['precision', 'recall', 'f1', 'accuracy'] as const) {
    assert.ok(Math.abs(s[k] - e[`eval_${k}`]!) < 1e-6, `score ${k} ${s[k]} vs evaluate ${e[`eval_${k}`]}`);
  }
});

for (const [signal, exit] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)
  test(`#4 / issue 22: ${signal} saves a checkpoint, prints where and how to resume; a resumed run says so`, async () => {
    const w = cliWork({ trainSentences: 64 });
    const out = join(w.dir, 'run');
    const args = quickTrainArgs(w, out, ['--max-steps', '100000']);
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    // Wait for a few steps to be logged, then interrupt once.
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (existsSync(join(out, 'log.jsonl')) && readFileSync(join(out, 'log.jsonl'), 'utf8').split('\n').length > 3) {
          clearInterval(t);
          child.kill(signal);
          resolve();
        }
      }, 50);
      child.on('exit', () => {
        clearInterval(t);
        reject(new Error(`child exited early:\n${stderr}`));
      });
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    assert.equal(code, exit, stderr);
    assert.match(stderr, /saving a checkpoint after this step/);
    const m = /interrupted: saved (\S+checkpoint-(\d+))/.exec(stdout);
    assert.ok(m, stdout);
    assert.ok(existsSync(join(m[1]!, 'model.safetensors')));
    assert.match(stdout, /resume with: tokentune train .*--resume-from-checkpoint \S+checkpoint-\d+/);
    const resumed = await cli([...quickTrainArgs(w, out, ['--max-steps', String(Number(m[2]) + 2)]), '--resume-from-checkpoint', m[1]!]);
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.out, /resuming from \S+checkpoint-\d+/);
    assert.doesNotMatch(resumed.out, /training from scratch/);
  });

test('#5 settings that would do nothing are errors; a label only in the evaluation data is named', async () => {
  const w = cliWork();
  const noVal = await cli(quickTrainArgs(w, join(w.dir, 'a'), ['--eval-strategy', 'steps']));
  assert.equal(noVal.code, 2);
  assert.match(noVal.err, /--eval-strategy steps needs validation data: give --validation-file/);
  const noTest = await cli(quickTrainArgs(w, join(w.dir, 'b'), ['--do-predict']));
  assert.equal(noTest.code, 2);
  assert.match(noTest.err, /--do-predict needs test data: give --test-file/);
  const extra = join(w.dir, 'test-extra.conll');
  writeFileSync(extra, readFileSync(w.test, 'utf8') + '\nAcme B-PRODUCT\nrocks O\n');
  const r = await cli(quickTrainArgs(w, join(w.dir, 'c'), ['--test-file', extra]));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /label "B-PRODUCT" occurs in \S*test-extra.conll but never in the training data/);
});

test('#6 paths: a folder as a file, a missing tokenizer, a missing predict file, a missing model: option, path and fix', async () => {
  const w = cliWork();
  const dirAsFile = await cli(quickTrainArgs(w, join(w.dir, 'a')).map((t) => (t === w.train ? w.dir : t)));
  assert.equal(dirAsFile.code, 2);
  assert.match(dirAsFile.err, /--train-file \S+ is a folder, not a file; give one of its files \(it holds /);
  const noTok = await cli(quickTrainArgs(w, join(w.dir, 'b')).map((t) => (t === w.vocab ? join(w.dir, 'nope.txt') : t)));
  assert.equal(noTok.code, 2);
  assert.match(noTok.err, /--tokenizer-name \S+nope.txt: no such file or folder/);
  const model = join(w.dir, 'm');
  assert.equal((await cli(quickTrainArgs(w, model))).code, 0);
  const noFile = await cli(['predict', '--model', model, '--file', join(w.dir, 'missing.txt')]);
  assert.equal(noFile.code, 2);
  assert.match(noFile.err, /--file \S+missing.txt: no such file/);
  const noModel = await cli(['predict', '--model', join(w.dir, 'nomodel'), '--text', 'hi']);
  assert.equal(noModel.code, 2);
  assert.match(noModel.err, /--model \S+nomodel: no such folder/);
  // The unknown-label hint names the CLI's option, not the API's.
  const bad = join(w.dir, 'bad.conll');
  writeFileSync(bad, 'Acme B-PRODUCT\n');
  const ev = await cli(['evaluate', '--model', model, '--data', bad]);
  assert.equal(ev.code, 2);
  assert.match(ev.err, /--on-unknown-label warn/);
  assert.doesNotMatch(ev.err, /onUnknownLabel/);
  const evWarn = await cli(['evaluate', '--model', model, '--data', bad, '--on-unknown-label', 'map-to-O']);
  assert.equal(evWarn.code, 0, evWarn.err);
});

test('#9 --config-name accepts a preset (tiny) besides a config file; unknown names list the presets', async () => {
  const w = cliWork();
  const r = await cli(quickTrainArgs(w, join(w.dir, 'tiny'), ['--max-steps', '1']).map((t) => (t === w.config ? 'tiny' : t)));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /training from scratch: preset 'tiny' \(2 layers, hidden 128\)/);
  const cfg = JSON.parse(readFileSync(join(w.dir, 'tiny', 'config.json'), 'utf8')) as Record<string, number>;
  assert.equal(cfg.hidden_size, 128);
  assert.equal(cfg.num_hidden_layers, 2);
  const bad = await cli(quickTrainArgs(w, join(w.dir, 'x')).map((t) => (t === w.config ? 'huge' : t)));
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--config-name huge: not a preset \(tiny, mini, small, medium, base\)/);
});

test('#11 --max-seq-length above max_position_embeddings is capped with a note (train and evaluate); evaluate has --stride', async () => {
  const w = cliWork();
  const model = join(w.dir, 'm');
  const r = await cli(quickTrainArgs(w, model).map((t, i, a) => (a[i - 1] === '--max-seq-length' ? '512' : t)));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /--max-seq-length 512 is more than the 64 tokens the model takes \(max_position_embeddings 64; /);
  const long = join(w.dir, 'long.conll');
  const words = Array.from({ length: 120 }, (_, i) => `word${i} O`).join('\n');
  writeFileSync(long, words + '\n');
  const ev = await cli(['evaluate', '--model', model, '--data', long, '--stride', '8', '--json']);
  assert.equal(ev.code, 0, ev.err);
  assert.equal(typeof (JSON.parse(ev.out) as Record<string, number>).eval_accuracy, 'number');
});

test('#12 --return-entity-level-metrics puts per-type precision/recall/F1 into the logs and results', async () => {
  const w = cliWork();
  const out = join(w.dir, 'm');
  const r = await cli(quickTrainArgs(w, out, ['--validation-file', w.validation, '--return-entity-level-metrics']));
  assert.equal(r.code, 0, r.err);
  const ev = JSON.parse(readFileSync(join(out, 'eval_results.json'), 'utf8')) as Record<string, number>;
  const types = [
    ...new Set(
      w.data.validation.sentences
        .flatMap((s) => s.tags)
        .filter((t) => t !== 'O')
        .map((t) => t.slice(2)),
    ),
  ];
  for (const t of types) {
    for (const m of ['precision', 'recall', 'f1', 'number']) assert.equal(typeof ev[`eval_${t}_${m}`], 'number', `eval_${t}_${m}`);
  }
  assert.equal(typeof ev.eval_overall_f1, 'number');
});

test('#14 local CSV data and JSON lines with integer tags (--label-names) train from the CLI', async () => {
  const w = cliWork();
  const labels = [...new Set(w.data.train.sentences.flatMap((s) => s.tags))].sort();
  const csv = join(w.dir, 'train.csv');
  const q = (a: readonly string[]) => `"[${a.map((x) => `'${x.replace(/'/g, "\\'")}'`).join(', ')}]"`;
  writeFileSync(csv, 'id,tokens,ner_tags\n' + w.data.train.sentences.map((s, i) => `${i},${q(s.tokens)},${q(s.tags)}`).join('\n') + '\n');
  const r = await cli(quickTrainArgs(w, join(w.dir, 'csv')).map((t) => (t === w.train ? csv : t)));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /train.csv: 32 sentences/);

  const jsonl = join(w.dir, 'train.jsonl');
  writeFileSync(
    jsonl,
    w.data.train.sentences.map((s) => JSON.stringify({ tokens: s.tokens, ner_tags: s.tags.map((t) => labels.indexOf(t)) })).join('\n') +
      '\n',
  );
  const names = join(w.dir, 'labels.txt');
  writeFileSync(names, labels.join('\n') + '\n');
  const noNames = await cli(quickTrainArgs(w, join(w.dir, 'j0')).map((t) => (t === w.train ? jsonl : t)));
  assert.equal(noNames.code, 2);
  // issue 22: the hint names the command-line option, not the reader's API option.
  assert.match(
    noNames.err,
    /train\.jsonl:1: tag 0 is the integer \d+ but no label names are known: give --label-names FILE \(one label name per line, in id order\)/,
  );
  assert.doesNotMatch(noNames.err, /labelNames/);
  const j = await cli([...quickTrainArgs(w, join(w.dir, 'j')).map((t) => (t === w.train ? jsonl : t)), '--label-names', names]);
  assert.equal(j.code, 0, j.err);
  const cfg = JSON.parse(readFileSync(join(w.dir, 'j', 'config.json'), 'utf8')) as { id2label: Record<string, string> };
  assert.deepEqual(Object.values(cfg.id2label), labels);
});

test("run_ner.py's output files: *_results.json, trainer_state.json, training_args.json, predictions.txt, README.md", async () => {
  const w = cliWork();
  const out = join(w.dir, 'm');
  const r = await cli(
    quickTrainArgs(w, out, ['--validation-file', w.validation, '--test-file', w.test, '--eval-strategy', 'steps', '--eval-steps', '2']),
  );
  assert.equal(r.code, 0, r.err);
  const files = readdirSync(out);
  for (const f of [
    'all_results.json',
    'train_results.json',
    'eval_results.json',
    'predict_results.json',
    'predictions.txt',
    'trainer_state.json',
    'training_args.json',
    'README.md',
  ]) {
    assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
  }
  const all = JSON.parse(readFileSync(join(out, 'all_results.json'), 'utf8')) as Record<string, number>;
  for (const k of ['train_loss', 'train_runtime', 'train_samples', 'eval_f1', 'eval_samples', 'predict_f1', 'predict_samples', 'epoch'])
    assert.ok(k in all, k);
  assert.equal(all.train_samples, 32);
  assert.equal(all.predict_samples, 8);
  // indent 4, sorted keys, as Trainer.save_metrics
  const text = readFileSync(join(out, 'train_results.json'), 'utf8');
  assert.match(text, /^\{\n {4}"epoch"/);
  const preds = readFileSync(join(out, 'predictions.txt'), 'utf8')
    .split('\n')
    .filter((l) => l);
  assert.equal(preds.length, 8);
  preds.forEach((l, i) => assert.equal(l.split(' ').length, w.data.test.sentences[i]!.tokens.length));
  const state = JSON.parse(readFileSync(join(out, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(state.global_step, 3);
  assert.equal(state.max_steps, 3);
  assert.ok(!('seed' in state) && !('early_stopping' in state), 'only TrainerState fields, so TrainerState.load_from_json accepts it');
  const card = readFileSync(join(out, 'README.md'), 'utf8');
  assert.match(card, /^---\nlibrary_name: transformers\ntags:\n- generated_from_trainer\n/);
  assert.match(
    card,
    /This model was trained from scratch on an unknown dataset\.\nIt achieves the following results on the evaluation set:\n- Loss: /,
  );
  assert.match(card, /- learning_rate: 0\.001\n- train_batch_size: 8\n/);
  assert.match(card, /\| Training Loss +\| Epoch +\| Step +\| Validation Loss +\| Precision +\| Recall +\| F1 +\| Accuracy +\|\n\|:-+:\|/);
  const ta = JSON.parse(readFileSync(join(out, 'training_args.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(ta.learning_rate, 1e-3);
});

test('a transformers 5 TrainingArguments(...).to_dict() dump is accepted as a config file (fixture made by transformers)', async () => {
  const { parseTrainingArgs } = await import('../src/cli/training-flags.js');
  const fixture = fileURLToPath(new URL('../../test/fixtures/hf-trainer/training_args_to_dict.json', import.meta.url));
  const r = parseTrainingArgs({ argv: ['--config', fixture] });
  assert.deepEqual(r.warnings, []);
  assert.equal(r.args.learningRate, 5e-5);
  // transformers 5: warmup_steps below 1 is a ratio
  const ratio = parseTrainingArgs({ argv: ['--warmup-steps', '0.1'] });
  assert.equal(ratio.args.warmupSteps, 0.1);
  const { resolveWarmup } = await import('../src/train/lr-schedule.js');
  assert.equal(resolveWarmup(ratio.args, 95), 10);
  // a setting that does not apply, at a non-default value: one warning, no abort
  const d = JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, unknown>;
  const dir = cliWork().dir;
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...d, report_to: ['wandb'], project: 'mine' }));
  const w = parseTrainingArgs({ argv: ['--config', join(dir, 'a.json')] });
  assert.equal(w.warnings.length, 2);
  mkdirSync(join(dir, 'unused'), { recursive: true });
});
