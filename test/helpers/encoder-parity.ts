/**
 * The parity checks every architecture's fixture (scripts/fixtures/make-encoder-fixtures.py, made by
 * transformers) must pass: logits and loss within 1e-5, every parameter gradient within 1e-4 of
 * its magnitude, three AdamW steps within 1e-5, with padding in the batch; plus a save / reload
 * round trip through our savePretrained.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor, backward, noGrad, ops, tidy } from '../../src/engine/index.js';
import { loadModelFromDir, savePretrained, type TokenBatch, type TokenClassifier } from '../../src/models/index.js';
import { AdamW } from '../../src/train/optimizer.js';
import { fixturesDir, maxRelDiff, readFixture } from './fixtures.js';
import type { TensorRecord } from '../../src/io/tensor-record.js';

export interface EncoderFixture {
  dir: string;
  io: Map<string, TensorRecord>;
  get(k: string): TensorRecord;
  batch: TokenBatch;
  labels: Tensor;
  load(): TokenClassifier;
}

export function encoderFixture(name: string): EncoderFixture {
  const dir = join(fixturesDir, name);
  const io = readFixture(`${name}/io.safetensors`);
  const get = (k: string): TensorRecord => {
    const r = io.get(k);
    if (!r) throw new Error(`${name}/io.safetensors lacks ${k}`);
    return r;
  };
  const [B, T] = get('input_ids').shape as [number, number];
  const batch: TokenBatch = {
    inputIds: get('input_ids').data as Int32Array,
    attentionMask: get('attention_mask').data as Int32Array,
    ...(io.has('token_type_ids') ? { tokenTypeIds: get('token_type_ids').data as Int32Array } : {}),
    batchSize: B,
    seqLen: T,
  };
  return { dir, io, get, batch, labels: Tensor.from(get('labels').data as Int32Array, [B * T]), load: () => loadModelFromDir(dir).model };
}

/**
 * The fixtures' optimizer run: `steps` AdamW updates (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight
 * decay 0.01 on the Trainer's decay group) on one batch without dropout; the loss before each.
 */
export function adamwSteps(model: TokenClassifier, batch: TokenBatch, labels: Tensor, steps = 3): number[] {
  const opt = new AdamW(model.parameters(), { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    tidy(() => {
      const loss = ops.crossEntropy(model.forward(batch, { training: false }), labels);
      losses.push(loss.item());
      backward(loss);
    });
    opt.update(1e-3);
  }
  return losses;
}

export function close(name: string, ours: ArrayLike<number>, ref: ArrayLike<number>, tol: number, floor = 1): void {
  const { diff, at } = maxRelDiff(ours, ref, floor);
  assert.ok(
    diff <= tol,
    `${name}: max relative difference ${diff.toExponential(2)} at ${at} (ours ${ours[at]}, transformers ${ref[at]}) > ${tol}`,
  );
}

/** 1e-4 of the tensor's largest magnitude, floored at 1e-3 (key biases' true gradient is 0: torch's values are rounding noise). */
function gradFloor(ref: ArrayLike<number>): number {
  let m = 1e-3;
  for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i]!));
  return m;
}

/**
 * forward's skipPadding on the fixture's padded batch: the real tokens' logits are exactly those
 * of the padded pass (so transformers' within 1e-5), padding rows are zeros, and the loss and every
 * parameter gradient match transformers (1e-4 of each tensor's magnitude).
 */
export function skipPaddingTest(fx: EncoderFixture, name: string): void {
  test(`${name}: skipPadding keeps transformers' logits on real tokens, its loss and its gradients`, () => {
    const mask = fx.batch.attentionMask;
    assert.ok(mask.includes(0) && mask.includes(1), 'the fixture batch has padding');
    const padded = fx.load(),
      model = fx.load();
    const full = tidy(() => noGrad(() => Float32Array.from(padded.forward(fx.batch, { training: false }).f)));
    tidy(() => {
      const logits = model.forward(fx.batch, { training: false, skipPadding: true });
      const C = logits.shape[1]!,
        ours = logits.f;
      const realOnly = (a: ArrayLike<number>): number[] => Array.from(a, (v, i) => (mask[Math.floor(i / C)] ? v : 0));
      assert.deepEqual(Array.from(ours), realOnly(full), 'real rows as the padded pass, padding rows 0');
      close('logits (real tokens)', ours, realOnly(fx.get('logits').data), 1e-5);
      const loss = ops.crossEntropy(logits, fx.labels);
      close('loss', [loss.item()], fx.get('loss').data, 1e-5);
      backward(loss);
    });
    for (const [n, p] of model.parameters()) {
      const ref = fx.get(`grad.${n}`).data;
      close(`grad ${n}`, p.grad!, ref, 1e-4, gradFloor(ref));
    }
  });
}

/**
 * Registers the parity tests for one fixture; `architecture` is the HF class the model must report.
 * `keyBias` names the parameters whose true gradient is 0 (a per-query-row constant the softmax
 * ignores); any parameter whose reference gradient is below 1e-8 everywhere counts as one too.
 */
export function parityTests(name: string, architecture: string, keyBias: RegExp = /(?!)/): void {
  const fx = encoderFixture(name);

  test(`${name}: loads as ${architecture}; logits and loss match transformers within 1e-5`, () => {
    const model = fx.load();
    assert.equal(model.architecture, architecture);
    tidy(() =>
      noGrad(() => {
        const logits = model.forward(fx.batch, { training: false });
        close('logits', logits.f, fx.get('logits').data, 1e-5);
        close('loss', [ops.crossEntropy(logits, fx.labels).item()], fx.get('loss').data, 1e-5);
      }),
    );
  });

  test(`${name}: every parameter gradient matches transformers within 1e-4 of its magnitude`, () => {
    const model = fx.load();
    tidy(() => backward(ops.crossEntropy(model.forward(fx.batch, { training: false }), fx.labels)));
    const names = [...fx.io.keys()].filter((k) => k.startsWith('grad.')).map((k) => k.slice(5));
    assert.deepEqual(
      model
        .parameters()
        .map(([n]) => n)
        .sort(),
      names.sort(),
      'same parameter names as transformers',
    );
    for (const [n, p] of model.parameters()) {
      const ref = fx.get(`grad.${n}`).data;
      close(`grad ${n}`, p.grad!, ref, 1e-4, gradFloor(ref));
    }
  });

  skipPaddingTest(fx, name);

  test(`${name}: three AdamW steps (the Trainer's two groups) match torch.optim.AdamW within 1e-5`, () => {
    const model = fx.load();
    const losses = adamwSteps(model, fx.batch, fx.labels);
    close('adamw losses', losses, fx.get('adamw.losses').data, 1e-5);
    for (const [n, p] of model.parameters()) {
      // Torch's gradient there is rounding noise of ~1e-9; Adam normalises it into steps of up to
      // lr (see bert-tiny/README.md), so after three steps these are determined only to 3 * lr.
      const zero = keyBias.test(n) || Math.max(...Array.from(fx.get(`grad.${n}`).data, Math.abs)) < 1e-8;
      close(`adamw3 ${n}`, p.f, fx.get(`adamw3.${n}`).data, zero ? 3e-3 : 1e-5);
    }
  });

  test(`${name}: a folder we save reloads with the same logits and keeps the config's own field names`, () => {
    const model = fx.load();
    const out = mkdtempSync(join(tmpdir(), `tt-${name}-`));
    try {
      savePretrained(model, out);
      const theirs = JSON.parse(readFileSync(join(fx.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
      const ours = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(ours.architectures, [architecture]);
      for (const [k, v] of Object.entries(theirs)) assert.deepEqual(ours[k], v, `config field ${k}`);
      // Only what every HF config may carry (a config saved alone has no architectures nor dtype).
      const added = Object.keys(ours).filter((k) => !(k in theirs) && !['architectures', 'torch_dtype'].includes(k));
      assert.deepEqual(added, [], 'no fields the config class does not have');
      const again = loadModelFromDir(out).model;
      const a = tidy(() => noGrad(() => Array.from(model.forward(fx.batch, { training: false }).f)));
      const b = tidy(() => noGrad(() => Array.from(again.forward(fx.batch, { training: false }).f)));
      assert.deepEqual(b, a);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
