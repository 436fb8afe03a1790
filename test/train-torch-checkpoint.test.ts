/**
 * The training hand-off with transformers' Trainer, against files the Trainer itself wrote
 * (scripts/fixtures/make-handoff-fixtures.py: a tiny BERT trained 3 steps by transformers 5 on torch 2.x):
 * tokentune resumes the Trainer's checkpoint-3 and its step 4 equals the Trainer's step 4; the
 * optimizer.pt, scheduler.pt, rng_state.pth and trainer_state.json we write have the structure
 * of the Trainer's own. (scripts/parity/handoff-check.py runs both directions for 200 steps.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, backward, ops, tidy } from '../src/engine/index.js';
import { loadModelFromDir, type TokenBatch } from '../src/models/index.js';
import { AdamW, decays } from '../src/train/optimizer.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { isLoadedTensor, torchLoad } from '../src/io/torch-save.js';
import { PyDict, PyTuple } from '../src/io/torch-pickle.js';
import { UnsafePickleError } from '../src/io/errors.js';
import {
  mtInitByArray,
  mtInitGenrand,
  readOptimizerPt,
  torchCpuRngState,
  writeOptimizerPt,
  writeRngStatePth,
  writeSchedulerPt,
} from '../src/train/torch-checkpoint.js';
import { fixturesDir, maxRelDiff, readFixture } from './helpers/fixtures.js';

const root = join(fixturesDir, 'hf-trainer-checkpoint');
const ckpt = join(root, 'checkpoint-3');
const expected = JSON.parse(readFileSync(join(root, 'expected.json'), 'utf8')) as {
  decay_order: string[];
  step4_lr: number;
  scheduler_last_epoch: number;
  rng: Record<string, { python: [number, number[], null]; numpy_key: number[]; numpy_pos: number; torch_cpu_hex: string }>;
};
const io = readFixture('hf-trainer-checkpoint/expected.safetensors');
const tensor = (k: string) => {
  const r = io.get(k);
  if (!r) throw new Error(`fixture lacks ${k}`);
  return r;
};
// The Trainer's settings in the fixture script.
const adamw = { lr: 5e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

function fresh(): { model: ReturnType<typeof loadModelFromDir>['model']; opt: AdamW } {
  const { model } = loadModelFromDir(ckpt);
  return { model, opt: new AdamW(model.parameters(), adamw) };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'tokentune-handoff-'));
}

test("parameter groups: our decay rule and flat order are the Trainer's (get_decay_parameter_names)", () => {
  const { opt } = fresh();
  assert.deepEqual(
    opt.flat.params.map((t) => t.name),
    expected.decay_order,
  );
  // transformers 5's name patterns, for the norms other architectures name differently.
  for (const n of [
    'model.layers.0.attn_norm.weight',
    'model.final_norm.weight',
    'head.norm.weight',
    'distilbert.transformer.layer.0.sa_layer_norm.weight',
    'x.rmsnorm.weight',
  ]) {
    assert.equal(decays(n), false, n);
  }
  for (const n of ['model.layers.0.attn.Wqkv.weight', 'deberta.encoder.rel_embeddings.weight', 'classifier.weight'])
    assert.equal(decays(n), true, n);
});

test("a checkpoint transformers' Trainer wrote resumes in tokentune, and step 4 equals the Trainer's step 4", () => {
  const { model, opt } = fresh();
  const st = loadCheckpoint(ckpt, model, opt);
  assert.equal(st.globalStep, 3);
  assert.equal(opt.step, 3);
  assert.deepEqual(opt.m, tensor('exp_avg').data);
  assert.deepEqual(opt.v, tensor('exp_avg_sq').data);
  const [B, T] = tensor('input_ids').shape;
  const batch: TokenBatch = {
    inputIds: tensor('input_ids').data as Int32Array,
    attentionMask: tensor('attention_mask').data as Int32Array,
    tokenTypeIds: tensor('token_type_ids').data as Int32Array,
    batchSize: B!,
    seqLen: T!,
  };
  tidy(() => {
    const logits = model.forward(batch, { training: true, dropoutSeed: 1 }); // the fixture's dropout is 0
    backward(ops.crossEntropy(logits, Tensor.from(tensor('labels').data as Int32Array, [B! * T!])));
  });
  opt.fusedStep(expected.step4_lr, 1.0);
  for (const [name, t] of model.parameters()) {
    const ref = tensor(`after_step4.${name}`).data;
    const { diff, at } = maxRelDiff(t.f as Float32Array, ref, 1e-2);
    assert.ok(diff < 1e-4, `${name}: relative difference ${diff.toExponential(2)} at ${at} after step 4`);
  }
});

/** Structure of a loaded pickle tree: keys, types, tensor dtypes and shapes; numbers' types only. */
function shape(v: unknown): unknown {
  if (isLoadedTensor(v)) return `tensor ${v.dtype} [${v.shape}]`;
  if (v instanceof PyDict) return Object.fromEntries([...v.map].map(([k, x]) => [String(k), shape(x)]));
  if (v instanceof PyTuple) return { tuple: v.items.map(shape) };
  if (Array.isArray(v)) return v.map(shape);
  return v === null ? null : typeof v;
}

test("optimizer.pt we write has the Trainer's structure and reads back into the same moments", () => {
  const { model, opt } = fresh();
  loadCheckpoint(ckpt, model, opt);
  const dir = tmp();
  try {
    const path = join(dir, 'optimizer.pt');
    writeOptimizerPt(path, opt, 0.005, 5e-3);
    const ours = torchLoad(path) as PyDict,
      theirs = torchLoad(join(ckpt, 'optimizer.pt')) as PyDict;
    const s = (d: PyDict) => shape(d) as { state: unknown; param_groups: Record<string, unknown>[] };
    assert.deepEqual(s(ours).state, s(theirs).state);
    // Group hyper-parameters: the same keys and types, except `fused` (the Trainer's default optimizer is the fused kernel; ours says None).
    const groups = (d: PyDict) => s(d).param_groups.map((g) => ({ ...g, fused: 'any' }));
    assert.deepEqual(groups(ours), groups(theirs));
    const theirsGroups = (theirs.map.get('param_groups') as PyDict[]).map((g) => g.map.get('params'));
    assert.deepEqual(
      (ours.map.get('param_groups') as PyDict[]).map((g) => g.map.get('params')),
      theirsGroups,
    );
    const back = fresh();
    readOptimizerPt(path, back.opt);
    assert.equal(back.opt.step, 3);
    assert.deepEqual(back.opt.m, opt.m);
    assert.deepEqual(back.opt.v, opt.v);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an optimizer.pt of another model is refused with the group sizes named', () => {
  const { model } = fresh();
  const opt = new AdamW(
    model.parameters().filter(([n]) => !n.startsWith('classifier')),
    adamw,
  );
  assert.throws(() => readOptimizerPt(join(ckpt, 'optimizer.pt'), opt), /optimizer groups hold \[\d+, \d+\] parameters but this model has/);
});

test("scheduler.pt we write equals the Trainer's LambdaLR state", () => {
  const dir = tmp();
  try {
    writeSchedulerPt(join(dir, 'scheduler.pt'), 3, 5e-3, expected.step4_lr);
    const ours = torchLoad(join(dir, 'scheduler.pt')) as PyDict,
      theirs = torchLoad(join(ckpt, 'scheduler.pt')) as PyDict;
    assert.deepEqual(shape(ours), shape(theirs));
    for (const k of ['base_lrs', 'last_epoch', '_step_count', '_is_initial', '_get_lr_called_within_step'])
      assert.deepEqual(ours.map.get(k), theirs.map.get(k), k);
    const lastLr = theirs.map.get('_last_lr') as number[];
    (ours.map.get('_last_lr') as number[]).forEach((x, i) => assert.ok(Math.abs(x - lastLr[i]!) < 1e-12, '_last_lr'));
    assert.equal(expected.scheduler_last_epoch, 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("RNG states equal what set_seed leaves in Python's random, NumPy and torch", () => {
  for (const [seedText, ref] of Object.entries(expected.rng)) {
    const seed = Number(seedText);
    assert.equal(Buffer.from(torchCpuRngState(seed)).toString('hex'), ref.torch_cpu_hex, `torch.manual_seed(${seed})`);
    assert.deepEqual([...mtInitGenrand(seed)], ref.numpy_key, `np.random.seed(${seed})`);
    assert.equal(ref.numpy_pos, 624);
    const words = seed > 0xffffffff ? [] : [seed];
    assert.deepEqual([...mtInitByArray(words), 624], ref.python[1], `random.seed(${seed})`);
  }
  const dir = tmp();
  try {
    writeRngStatePth(join(dir, 'rng_state.pth'), 42);
    const st = torchLoad(join(dir, 'rng_state.pth')) as PyDict;
    assert.deepEqual(shape(st.map.get('cpu')), 'tensor U8 [5056]');
    assert.equal(((st.map.get('python') as PyTuple).items[1] as PyTuple).items.length, 625);
    // The Trainer's own file pickles NumPy arrays, which our restricted reader refuses: we never read it.
    assert.throws(() => torchLoad(join(ckpt, 'rng_state.pth')), UnsafePickleError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("trainer_state.json has exactly the fields of transformers' TrainerState", async () => {
  const { Trainer } = await import('../src/train/trainer.js');
  const { defaultTrainingArgs } = await import('../src/train/training-args.js');
  const { model } = fresh();
  const t = new Trainer({ model, args: { ...defaultTrainingArgs(), outputDir: tmp(), earlyStoppingPatience: 3 } });
  const ours = t.trainerState();
  const theirs = JSON.parse(readFileSync(join(ckpt, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(ours).sort(), Object.keys(theirs).sort());
  const control = (s: Record<string, unknown>) => (s.stateful_callbacks as Record<string, { args: object }>).TrainerControl!.args;
  assert.deepEqual(Object.keys(control(ours)).sort(), Object.keys(control(theirs)).sort());
  assert.deepEqual(Object.keys(ours.stateful_callbacks as object).sort(), ['EarlyStoppingCallback', 'TrainerControl']);
});

test('pickle writer: any tree of state-dict values reads back through the restricted reader unchanged (property)', async () => {
  const fc = (await import('fast-check')).default;
  const { writePickle, PickleTuple: Tup } = await import('../src/io/pickle-writer.js');
  const { parseTorchPickle } = await import('../src/io/torch-pickle.js');
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.string({ unit: 'grapheme' }),
    fc.integer({ min: -(2 ** 31) - 5, max: 2 ** 31 + 5 }),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    fc.double({ noNaN: true }).filter((x) => !Number.isInteger(x)),
  );
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small' }, leaf, tie('list'), tie('tuple'), tie('dict')),
    list: fc.array(tie('tree'), { maxLength: 5 }),
    tuple: fc.array(tie('tree'), { maxLength: 5 }).map((xs) => new Tup(xs as never[])),
    dict: fc.array(fc.tuple(fc.oneof(fc.string(), fc.nat()), tie('tree')), { maxLength: 5 }).map((kv) => new Map(kv as [string, never][])),
  }));
  // What the reader gives back: ints in the safe range as numbers, larger ones as bigints.
  const expect = (v: unknown): unknown => {
    if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    if (v instanceof Tup) return { tuple: v.items.map(expect) };
    if (v instanceof Map) return { dict: [...v].map(([k, x]) => [k, expect(x)]) };
    if (Array.isArray(v)) return v.map(expect);
    return v;
  };
  const read = (v: unknown): unknown => {
    if (v instanceof PyTuple) return { tuple: v.items.map(read) };
    if (v instanceof PyDict) return { dict: [...v.map].map(([k, x]) => [k, read(x)]) };
    if (Array.isArray(v)) return v.map(read);
    return v;
  };
  fc.assert(
    fc.property(tree, (t) => {
      assert.deepEqual(read(parseTorchPickle(writePickle(t as never))), expect(t));
    }),
    { numRuns: 300 },
  );
});
