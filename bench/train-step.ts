/**
 * One measured configuration of a BERT token-classification training step (or inference
 * forward), run in its own process so its peak RSS is its own. Prints one JSON line.
 * Usage: node dist/bench/train-step.js LAYERS HIDDEN HEADS INTER MODE(train|infer) STEPS [BATCH] [SEQ] [fp32|bf16] [MODEL_TYPE]
 * (bf16: matmuls in bf16 with float32 accumulation and master weights, ops.setMatmulPrecision).
 * BENCH_TRAIN_REAL=F pads the batch (every sequence but the first has a fraction F of real tokens,
 * synthetic-step.ts); BENCH_TRAIN_SKIP_PADDING=1 then skips the padding outside attention, as
 * `tokentune train` does (0: computes it, as transformers does).
 */
import { backward, noGrad, ops, tidy, kernels } from '../src/engine/index.js';
import { LR, syntheticStep } from './synthetic-step.js';

const [layers, hidden, heads, inter, mode = 'train', steps = '3', batchArg = '16', seqArg = '128', precision = 'fp32', modelType = 'bert'] =
  process.argv.slice(2);
ops.setMatmulPrecision(precision as ops.MatmulPrecision);
const B = Number(batchArg),
  T = Number(seqArg);
const {
  model,
  opt,
  batch,
  labels: labelTensor,
} = syntheticStep(
  Number(layers),
  Number(hidden),
  Number(heads),
  Number(inter),
  B,
  T,
  mode === 'train',
  modelType,
  Number(process.env.BENCH_TRAIN_REAL ?? 1),
);
const skipPadding = process.env.BENCH_TRAIN_SKIP_PADDING === '1';
const phases = { forward: 0, backward: 0, optimizer: 0 };

function step(seed: number): void {
  const t0 = performance.now();
  if (!opt) {
    noGrad(() =>
      tidy(() => {
        model.forward(batch, { training: false, skipPadding });
      }),
    );
    phases.forward += performance.now() - t0;
    return;
  }
  tidy(() => {
    const loss = ops.crossEntropy(model.forward(batch, { training: true, dropoutSeed: seed, skipPadding }), labelTensor);
    const t1 = performance.now();
    phases.forward += t1 - t0;
    backward(loss);
    phases.backward += performance.now() - t1;
  });
  const t2 = performance.now();
  opt.fusedStep(LR, 1); // clip at 1, update, zero the gradients (as the Trainer does)
  phases.optimizer += performance.now() - t2;
}

step(0); // warm-up: fills the buffer pool
phases.forward = phases.backward = phases.optimizer = 0;
const times: number[] = [];
const n = Number(steps);
for (let i = 0; i < n; i++) {
  const t = performance.now();
  step(i + 1);
  times.push((performance.now() - t) / 1000);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
process.stdout.write(
  JSON.stringify({
    mode,
    precision,
    model_type: modelType,
    layers: Number(layers),
    hidden: Number(hidden),
    batch: B,
    seq: T,
    kernels: kernels().name,
    step_seconds: times.map((t) => Number(t.toFixed(4))),
    median_step_s: Number(median.toFixed(4)),
    tokens_per_s: Number(((B * T) / median).toFixed(1)),
    phase_mean_s: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Number((v / n / 1000).toFixed(4))])),
    peak_rss_mib: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
  }) + '\n',
);
