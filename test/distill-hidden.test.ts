/**
 * Hidden-state matching (`tokentune distill --layer-map`): the forward's hidden states against
 * transformers' output_hidden_states (bert-tiny fixture); a tiny distill run whose loss falls and
 * whose folder holds exactly a BertForTokenClassification's tensors (names from the
 * transformers-made fixture) and no projection; resume from a checkpoint gives bit-identical final
 * weights and projections; a checkpoint without its projections refuses to resume, in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, backward, noGrad, ops, tidy } from '../src/engine/index.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { parseLayerMap } from '../src/train/distill-hidden.js';
import { readUnlabeled } from '../src/cli/distill.js';
import { cli, cliWork, quickTrainArgs } from './helpers/cli-run.js';
import { close, encoderFixture } from './helpers/encoder-parity.js';
import { fixturesDir } from './helpers/fixtures.js';

const w = cliWork({ trainSentences: 48 });
process.on('exit', () => rmSync(w.dir, { recursive: true, force: true }));
const teacherDir = join(w.dir, 'teacher');

test("ForwardOptions.hiddenStates: embeddings + each layer, equal to transformers' output_hidden_states, with their graph when training", () => {
  const fx = encoderFixture('bert-tiny');
  const model = fx.load();
  tidy(() =>
    noGrad(() => {
      const states: Tensor[] = [];
      model.forward(fx.batch, { training: false, hiddenStates: states });
      assert.equal(states.length, 3);
      states.forEach((h, l) => close(`hidden_states[${l}]`, h.f, fx.get(`hidden.${l}`).data, 1e-5));
    }),
  );
  // With a graph: a loss on hidden_states[1] reaches layer 0 and the embeddings, not layer 1 or the classifier.
  tidy(() => {
    const states: Tensor[] = [];
    model.forward(fx.batch, { training: false, hiddenStates: states });
    backward(ops.sum(ops.mul(states[1]!, states[1]!)));
  });
  const g = (n: string): number => Math.max(...[...(model.params.get(n)!.grad ?? [0])].map(Math.abs));
  assert.ok(g('bert.encoder.layer.0.output.dense.weight') > 0 && g('bert.embeddings.word_embeddings.weight') > 0);
  assert.equal(g('bert.encoder.layer.1.output.dense.weight'), 0);
  assert.equal(g('classifier.weight'), 0);
});

test('parseLayerMap: S:T pairs, uniform, and errors that name the flag and the bad part', () => {
  assert.deepEqual(parseLayerMap('1:2,2:4', 2, 4), [
    [1, 2],
    [2, 4],
  ]);
  assert.deepEqual(parseLayerMap('0:0, 2:3', 2, 4), [
    [0, 0],
    [2, 3],
  ]);
  assert.deepEqual(parseLayerMap('uniform', 2, 4), [
    [1, 2],
    [2, 4],
  ]);
  assert.deepEqual(parseLayerMap('uniform', 3, 12), [
    [1, 4],
    [2, 8],
    [3, 12],
  ]);
  assert.throws(() => parseLayerMap('1-2', 2, 4), /--layer-map 1-2: "1-2" is not S:T/);
  assert.throws(() => parseLayerMap('3:1', 2, 4), /student layer 3 does not exist \(the student has 2 layers/);
  assert.throws(() => parseLayerMap('1:5', 2, 4), /teacher layer 5 does not exist/);
  assert.throws(() => parseLayerMap('1:1,1:2', 2, 4), /student layer 1 is mapped twice/);
});

const losses = (dir: string): number[] =>
  readFileSync(join(dir, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { loss?: number })
    .filter((r) => r.loss !== undefined)
    .map((r) => r.loss!);

test('distill --layer-map: loss falls, the student folder is a plain BertForTokenClassification, resume is exact (projections included)', async () => {
  assert.equal((await cli(quickTrainArgs(w, teacherDir, ['--max-steps', '20']))).code, 0);
  const cache = join(w.dir, 'cache');
  const common = (out: string): string[] => [
    'distill',
    '--teacher',
    teacherDir,
    '--student-config',
    '2x32',
    '--train-file',
    w.train,
    '--output-dir',
    out,
    '--teacher-cache',
    cache,
    '--per-device-train-batch-size',
    '8',
    '--learning-rate',
    '5e-3',
    '--max-seq-length',
    '64',
    '--disable-tqdm',
    '--logging-steps',
    '1',
    '--temperature',
    '1',
    '--alpha',
    '0.5',
    '--layer-map',
    '0:0,2:1',
    '--hidden-weight',
    '2',
    '--max-steps',
    '12',
    '--save-steps',
    '6',
    '--seed',
    '7',
  ];
  const a = join(w.dir, 'a');
  const ra = await cli(common(a));
  assert.equal(ra.code, 0, ra.err);
  assert.match(ra.out, /hidden-state matching: layer map 0:0,2:1 \(student:teacher\), weight 2, projections 32 -> 16 \(1056 parameters/);
  const l = losses(a);
  assert.equal(l.length, 12);
  assert.ok(l.slice(-3).reduce((x, y) => x + y) < 0.8 * l.slice(0, 3).reduce((x, y) => x + y), `losses ${l.join(' ')}`);

  // The folder: config + weights exactly as transformers' BertForTokenClassification names them (the
  // fixture has 2 layers too); the projections only in the checkpoints.
  const names = (f: string): string[] => [...readSafetensors(f).tensors.keys()].sort();
  assert.deepEqual(names(join(a, 'model.safetensors')), names(join(fixturesDir, 'bert-tiny', 'model.safetensors')));
  assert.deepEqual(JSON.parse(readFileSync(join(a, 'config.json'), 'utf8')).architectures, ['BertForTokenClassification']);
  assert.ok(!readdirSync(a).some((f) => /projection/.test(f)));
  assert.ok(existsSync(join(a, 'checkpoint-6', 'distill_projection.safetensors')));
  assert.match(readFileSync(join(a, 'README.md'), 'utf8'), /hidden-state matching \(TinyBERT-style\): student layer:teacher layer 0:0,2:1/);
  assert.equal(JSON.parse(readFileSync(join(a, 'distillation.json'), 'utf8')).layer_map, '0:0,2:1');
  const pred = await cli(['predict', '--model', a, '--text', 'Peter Smith visited Paris .']);
  assert.equal(pred.code, 0, pred.err);

  // Resume from step 6 in another folder: the same final weights and projections, bit for bit.
  const b = join(w.dir, 'b');
  cpSync(join(a, 'checkpoint-6'), join(b, 'checkpoint-6'), { recursive: true });
  const rb = await cli([...common(b), '--resume-from-checkpoint', join(b, 'checkpoint-6')]);
  assert.equal(rb.code, 0, rb.err);
  assert.match(rb.out, /train: teacher outputs read from/);
  assert.ok(readFileSync(join(b, 'model.safetensors')).equals(readFileSync(join(a, 'model.safetensors'))), 'resumed final weights differ');
  assert.ok(
    readFileSync(join(b, 'checkpoint-12', 'distill_projection.safetensors')).equals(
      readFileSync(join(a, 'checkpoint-12', 'distill_projection.safetensors')),
    ),
  );

  // A checkpoint without its projections (or from another map) refuses to resume.
  const c = join(w.dir, 'c');
  cpSync(join(a, 'checkpoint-6'), join(c, 'checkpoint-6'), { recursive: true });
  rmSync(join(c, 'checkpoint-6', 'distill_projection.safetensors'));
  const rc = await cli([...common(c), '--resume-from-checkpoint', join(c, 'checkpoint-6')]);
  assert.equal(rc.code, 1);
  assert.match(rc.err, /distill_projection\.safetensors is missing: this checkpoint was not written by a run with --layer-map 0:0,2:1/);
  const rd = await cli([
    ...common(join(w.dir, 'd')).map((t) => (t === '0:0,2:1' ? '1:1,2:1' : t)),
    '--resume-from-checkpoint',
    join(a, 'checkpoint-6'),
  ]);
  assert.equal(rd.code, 1);
  assert.match(rd.err, /layer_map 0:0,2:1 differs from this run's --layer-map 1:1,2:1/);
});

test('distill --layer-map uniform with another tokenizer (word-level targets); --hidden-weight without --layer-map is an error', async () => {
  if (!existsSync(join(teacherDir, 'config.json'))) assert.equal((await cli(quickTrainArgs(w, teacherDir, ['--max-steps', '20']))).code, 0);
  const r = await cli([
    'distill',
    '--teacher',
    teacherDir,
    '--student-config',
    '2x32',
    '--tokenizer-name',
    join(fixturesDir, 'e2e', 'roberta'),
    '--train-file',
    w.train,
    '--output-dir',
    join(w.dir, 'bpe'),
    '--max-steps',
    '2',
    '--per-device-train-batch-size',
    '8',
    '--max-seq-length',
    '64',
    '--disable-tqdm',
    '--layer-map',
    'uniform',
  ]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /word level/);
  assert.match(r.out, /layer map 1:1,2:1/);
  const bad = await cli([
    'distill',
    '--teacher',
    teacherDir,
    '--student-config',
    '2x32',
    '--train-file',
    w.train,
    '--output-dir',
    join(w.dir, 'x'),
    '--hidden-weight',
    '1',
  ]);
  assert.equal(bad.code, 2); // a usage error
  assert.match(bad.err, /--hidden-weight needs --layer-map/);
});

test('--unlabeled-file: a CoNLL file of tokens alone (one column, labels stripped) is read as sentences', () => {
  const f = join(w.dir, 'tokens-only.conll');
  writeFileSync(f, '-DOCSTART-\n\nEU\nrejects\nGerman\ncall\n.\n\nPeter\nBlackburn\n');
  assert.deepEqual(readUnlabeled(f), [{ tokens: ['EU', 'rejects', 'German', 'call', '.'] }, { tokens: ['Peter', 'Blackburn'] }]);
  const two = join(w.dir, 'two.conll');
  writeFileSync(two, 'EU B-ORG\nrejects O\n');
  assert.deepEqual(readUnlabeled(two), [{ tokens: ['EU', 'rejects'] }]);
});
