/**
 * Per-kernel time of one BERT training step (issue: profile first). Wraps every kernel of the active
 * backend with a timer keyed by kernel name and runs a few steps; prints a table sorted by time.
 * Usage: node dist/bench/profile-step.js LAYERS HIDDEN HEADS INTER [STEPS] [BATCH] [SEQ] [fp32|bf16] [MODEL_TYPE]
 * PROFILE_GEMM_SHAPES=1 splits GEMM time by shape.
 */
import { backward, ops, tidy } from '../src/engine/index.js';
import { LR, syntheticStep } from './synthetic-step.js';
import { timeKernels } from './kernel-timer.js';

const [
  layers = '4',
  hidden = '256',
  heads = '4',
  inter = '1024',
  steps = '3',
  batchArg = '16',
  seqArg = '128',
  precision = 'fp32',
  modelType = 'bert',
] = process.argv.slice(2);
ops.setMatmulPrecision(precision as ops.MatmulPrecision);
const B = Number(batchArg),
  T = Number(seqArg);
const timer = timeKernels((name, args) =>
  (name === 'gemm' || name === 'gemmBf16') && process.env.PROFILE_GEMM_SHAPES === '1'
    ? `${name} ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'} m${args[2]} n${args[3]} k${args[4]} b${args[16]} beta${args[12]}`
    : name,
);
const times = timer.times;
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
timer.print('step', total, n);
