import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, backward, ops } from '../src/engine/index.js';
import { distillationLoss } from '../src/train/distill-loss.js';
import { gradcheck, leaf64 } from './helpers/gradcheck.js';

interface Fixture {
  rows: number;
  classes: number;
  student: number[];
  teacher: number[];
  labels: number[];
  softMask: number[];
  cases: { temperature: number; alpha: number; loss: number; grad: number[] }[];
}
const fx = JSON.parse(readFileSync(new URL('../../test/fixtures/distill/kl-loss.json', import.meta.url), 'utf8')) as Fixture;

test('softTargetKl: finite-difference gradient (several temperatures, masked rows, a confident teacher)', () => {
  const mask = new Uint8Array([1, 0, 1, 1, 1, 0, 1]);
  for (const T of [1, 2.5, 7]) {
    const teacher = leaf64([7, 5], 31, 3);
    teacher.requiresGrad = false;
    teacher.f[7] = 30; // near-zero target probabilities in row 1 (masked) and a peaked row
    teacher.f[12] = 25;
    gradcheck(`softTargetKl T=${T}`, (s) => ops.softTargetKl(s, teacher, { temperature: T, rowMask: mask }), [leaf64([7, 5], 32, 3)], {
      tol: 1e-6,
    });
    gradcheck(`softTargetKl T=${T} unmasked`, (s) => ops.softTargetKl(s, teacher, { temperature: T }), [leaf64([7, 5], 33, 2)], {
      tol: 1e-6,
    });
  }
});

test('softTargetKl: zero for identical distributions, no rows counted gives 0, bad inputs are errors', () => {
  const s = leaf64([3, 4], 40);
  assert.ok(Math.abs(ops.softTargetKl(s, Tensor.from(Float64Array.from(s.f), [3, 4]), { temperature: 2 }).item()) < 1e-15);
  assert.equal(ops.softTargetKl(s, leaf64([3, 4], 41), { rowMask: new Uint8Array(3) }).item(), 0);
  assert.throws(() => ops.softTargetKl(s, leaf64([3, 5], 41)), /shape/);
  assert.throws(() => ops.softTargetKl(s, leaf64([3, 4], 41), { temperature: 0 }), /temperature/);
});

test('distillation loss and gradient match torch kl_div(log_target=False) * T^2 mixed with cross_entropy (float32, as training runs)', () => {
  assert.ok(fx.cases.length >= 4);
  for (const c of fx.cases) {
    const s = Tensor.from(Float32Array.from(fx.student), [fx.rows, fx.classes]);
    s.requiresGrad = true;
    const t = Tensor.from(Float32Array.from(fx.teacher), [fx.rows, fx.classes]);
    const loss = distillationLoss(s, t, Int32Array.from(fx.labels), {
      temperature: c.temperature,
      alpha: c.alpha,
      softMask: Uint8Array.from(fx.softMask),
    });
    const got = loss.item();
    assert.ok(
      Math.abs(got - c.loss) <= 1e-5 * Math.max(1, Math.abs(c.loss)),
      `T=${c.temperature} alpha=${c.alpha}: loss ${got} vs torch ${c.loss}`,
    );
    backward(loss);
    const g = s.grad!;
    for (let i = 0; i < g.length; i++) {
      assert.ok(
        Math.abs(g[i] - c.grad[i]) <= 1e-4 * Math.max(1, Math.abs(c.grad[i])),
        `T=${c.temperature} alpha=${c.alpha}: grad[${i}] ${g[i]} vs torch ${c.grad[i]}`,
      );
    }
  }
});

interface HiddenFixture extends Fixture {
  studentHidden: number;
  teacherHidden: number;
  pairs: number;
  studentHiddenStates: number[];
  teacherHiddenStates: number[];
  projectionWeight: number[];
  projectionBias: number[];
  cases: ({
    hiddenWeight: number;
    gradLogits: number[];
    gradHidden: number[];
    gradWeight: number[];
    gradBias: number[];
  } & Fixture['cases'][number])[];
}
const hx = JSON.parse(readFileSync(new URL('../../test/fixtures/distill/hidden-loss.json', import.meta.url), 'utf8')) as HiddenFixture;

test('hidden-state matching: loss and gradients (logits, student hidden states, projection weight and bias) match torch mse_loss of a linear projection on soft-target rows, added to KL + CE', () => {
  const { rows: N, classes: C, studentHidden: HS, teacherHidden: HT, pairs: P } = hx;
  const close = (what: string, got: ArrayLike<number>, want: number[]): void => {
    assert.equal(got.length, want.length, what);
    for (let i = 0; i < want.length; i++)
      assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-4 * Math.max(1, Math.abs(want[i]!)), `${what}[${i}] ${got[i]} vs torch ${want[i]}`);
  };
  for (const c of hx.cases) {
    const leaf = (data: number[], shape: number[]): Tensor => {
      const t = Tensor.from(Float32Array.from(data), shape);
      t.requiresGrad = true;
      return t;
    };
    const s = leaf(hx.student, [N, C]);
    const hs = Array.from({ length: P }, (_, l) => leaf(hx.studentHiddenStates.slice(l * N * HS, (l + 1) * N * HS), [N, HS]));
    const W = Array.from({ length: P }, (_, l) => leaf(hx.projectionWeight.slice(l * HT * HS, (l + 1) * HT * HS), [HT, HS]));
    const b = Array.from({ length: P }, (_, l) => leaf(hx.projectionBias.slice(l * HT, (l + 1) * HT), [HT]));
    const pairs = hs.map((h, l) => ({
      student: h,
      teacher: Tensor.from(Float32Array.from(hx.teacherHiddenStates.slice(l * N * HT, (l + 1) * N * HT)), [N, HT]),
      projection: { weight: W[l]!, bias: b[l]! },
    }));
    const loss = distillationLoss(s, Tensor.from(Float32Array.from(hx.teacher), [N, C]), Int32Array.from(hx.labels), {
      temperature: c.temperature,
      alpha: c.alpha,
      softMask: Uint8Array.from(hx.softMask),
      hidden: { weight: c.hiddenWeight, pairs },
    });
    const tag = `T=${c.temperature} alpha=${c.alpha} w=${c.hiddenWeight}`;
    assert.ok(Math.abs(loss.item() - c.loss) <= 1e-5 * Math.max(1, Math.abs(c.loss)), `${tag}: loss ${loss.item()} vs torch ${c.loss}`);
    backward(loss);
    close(`${tag} d/dlogits`, s.grad!, c.gradLogits);
    close(
      `${tag} d/dhidden`,
      hs.flatMap((h) => [...h.grad!]),
      c.gradHidden,
    );
    close(
      `${tag} d/dW`,
      W.flatMap((t) => [...t.grad!]),
      c.gradWeight,
    );
    close(
      `${tag} d/db`,
      b.flatMap((t) => [...t.grad!]),
      c.gradBias,
    );
  }
});

test('maskedMse: finite-difference gradient; no counted row gives 0; shapes are checked', () => {
  const mask = new Uint8Array([1, 0, 1, 1, 0]);
  const target = leaf64([5, 3], 51, 2);
  target.requiresGrad = false;
  gradcheck('maskedMse', (p) => ops.maskedMse(p, target, mask), [leaf64([5, 3], 52, 2)], { tol: 1e-6 });
  assert.equal(ops.maskedMse(leaf64([5, 3], 53), target, new Uint8Array(5)).item(), 0);
  assert.throws(() => ops.maskedMse(leaf64([5, 4], 53), target, mask), /shape/);
  assert.throws(() => ops.maskedMse(leaf64([5, 3], 53), target, new Uint8Array(4)), /rowMask/);
});
