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
