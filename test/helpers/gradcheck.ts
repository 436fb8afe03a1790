/**
 * Finite-difference gradient checks in float64: the op's recorded backward must match central
 * differences of the forward. Float64 tensors run on the reference kernels, so this checks the
 * autograd wiring and the reference backward maths; native kernels are then checked against the
 * reference separately.
 */
import assert from 'node:assert/strict';
import { Rng, Tensor, backward, noGrad, tidy, ops } from '../../src/engine/index.js';

/** Seeded uniform [-1, 1) numbers from the engine's RNG, so failures are reproducible. */
export function randoms(n: number, seed: number): Float64Array {
  const r = Rng.fromSeed(seed);
  return Float64Array.from({ length: n }, () => r.nextFloat() * 2 - 1);
}

export function leaf64(shape: number[], seed: number, scale = 1): Tensor {
  const data = randoms(
    shape.reduce((a, b) => a * b, 1),
    seed,
  ).map((v) => v * scale);
  const t = Tensor.from(data, shape);
  t.requiresGrad = true;
  return t;
}

/**
 * Checks d(sum(f(inputs) * R))/d(input) for every input against central differences,
 * R a fixed random projection (so every output element matters with a different weight).
 */
export function gradcheck(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], { eps = 1e-6, tol = 1e-6 } = {}): void {
  for (const x of inputs) x.grad = null;
  const proj = tidy(() => noGrad(() => f(...inputs)).shape).slice();
  const R = Tensor.from(
    randoms(
      proj.reduce((a, b) => a * b, 1),
      999,
    ),
    proj,
  );
  const objective = (): number => noGrad(() => tidy(() => ops.sum(ops.mul(f(...inputs), R)).item()));
  tidy(() => backward(ops.sum(ops.mul(f(...inputs), R))));
  for (const [k, x] of inputs.entries()) {
    if (!x.requiresGrad) continue;
    const analytic = x.grad ?? new Float64Array(x.size);
    const data = x.f;
    for (let i = 0; i < x.size; i++) {
      const orig = data[i];
      data[i] = orig + eps;
      const up = objective();
      data[i] = orig - eps;
      const down = objective();
      data[i] = orig;
      const numeric = (up - down) / (2 * eps);
      const err = Math.abs(numeric - analytic[i]);
      const bound = tol * Math.max(1, Math.abs(numeric));
      assert.ok(err <= bound, `${name}: input ${k} element ${i}: analytic ${analytic[i]} vs numeric ${numeric} (err ${err})`);
    }
  }
}
