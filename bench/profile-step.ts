/**
 * Per-kernel time of one BERT training step (issue: profile first). Wraps every kernel of the active
 * backend with a timer keyed by kernel name and runs a few steps; prints a table sorted by time.
 * Usage: node dist/bench/profile-step.js LAYERS HIDDEN HEADS INTER [STEPS] [BATCH] [SEQ] [fp32|bf16] [MODEL_TYPE]
 * PROFILE_GEMM_SHAPES=1 splits GEMM time by shape.
 */
import { backward, ops, tidy, kernels, setKernels, type Kernels } from '../src/engine/index.js';
import { LR, syntheticStep } from './synthetic-step.js';

const [layers = '4', hidden = '256', heads = '4', inter = '1024', steps = '3', batchArg = '16', seqArg = '128', precision = 'fp32', modelType = 'bert'] = process.argv.slice(2);
ops.setMatmulPrecision(precision as ops.MatmulPrecision);
const B = Number(batchArg), T = Number(seqArg);
const base = kernels();
const times = new Map<string, { ms: number; calls: number }>();
const wrapped: Record<string, unknown> = { name: base.name };
for (const [name, fn] of Object.entries(Object.getPrototypeOf(base) === Object.prototype ? base : { ...base })) {
  if (typeof fn !== 'function') continue;
  wrapped[name] = (...args: unknown[]) => {
    const t0 = performance.now();
    const r = (fn as (...a: unknown[]) => unknown).apply(base, args);
    const key = (name === 'gemm' || name === 'gemmBf16') && process.env.PROFILE_GEMM_SHAPES === '1'
      ? `${name} ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'} m${args[2]} n${args[3]} k${args[4]} b${args[16]} beta${args[12]}` : name;
    const e = times.get(key) ?? { ms: 0, calls: 0 };
    e.ms += performance.now() - t0; e.calls++;
    times.set(key, e);
    return r;
  };
}
setKernels(wrapped as unknown as Kernels);
const { model, opt, batch, labels } = syntheticStep(Number(layers), Number(hidden), Number(heads), Number(inter), B, T, true, modelType);
function step(seed: number): void {
  tidy(() => backward(ops.crossEntropy(model.forward(batch, { training: true, dropoutSeed: seed }), labels)));
  opt!.fusedStep(LR, 1);
}
step(0);
times.clear();
const n = Number(steps);
const t0 = performance.now();
for (let i = 0; i < n; i++) step(i + 1);
const total = (performance.now() - t0) / n;
let kern = 0;
const rows = [...times.entries()].sort((a, b) => b[1].ms - a[1].ms);
console.log(`step ${total.toFixed(1)} ms (${base.name})`);
for (const [name, e] of rows) { kern += e.ms / n; console.log(`${name.padEnd(40)} ${(e.ms / n).toFixed(2).padStart(9)} ms  ${(100 * e.ms / n / total).toFixed(1).padStart(5)}%  calls/step ${e.calls / n}`); }
console.log(`${'(outside kernels)'.padEnd(40)} ${(total - kern).toFixed(2).padStart(9)} ms  ${(100 * (total - kern) / total).toFixed(1).padStart(5)}%`);
