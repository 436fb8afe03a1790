/**
 * Per-kernel time of one inference forward pass (the batch-1 gap: profile first), fp32 or int8,
 * on the BERT-base-sized random model of `npm run bench -- int8`. Prints a table sorted by time;
 * "(outside kernels)" is JavaScript, allocation and op bookkeeping.
 * Usage: node dist/bench/profile-infer.js [fp32|int8|int8/7] [BATCH] [SEQ] [RUNS] (int8/7: 7-bit weights)
 * PROFILE_GEMM_SHAPES=1 splits GEMM and int8 linear time by shape.
 */
import { noGrad, packForInference, tidy } from '../src/engine/index.js';
import { BertForTokenClassification, makeConfig, type TokenBatch } from '../src/models/index.js';
import { quantizeInMemory } from '../src/models/quantized.js';
import { timeKernels } from './kernel-timer.js';

const [mode = 'fp32', batchArg = '1', seqArg = '128', runsArg = '10'] = process.argv.slice(2);
const B = Number(batchArg),
  T = Number(seqArg),
  runs = Number(runsArg);
const config = makeConfig({
  vocab_size: 28996,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  id2label: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [String(i), `L${i}`])),
});
const model = BertForTokenClassification.create(config, 0);
if (mode === 'int8' || mode === 'int8/7') quantizeInMemory(model, mode === 'int8/7' ? 7 : 8);
if (process.env.PROFILE_PACK !== '0') packForInference(model.params.values());
const batch: TokenBatch = {
  inputIds: Int32Array.from({ length: B * T }, (_, i) => 1000 + ((i * 7919) % 20000)),
  attentionMask: new Int32Array(B * T).fill(1),
  batchSize: B,
  seqLen: T,
};
const timer = timeKernels((name, args) => {
  if (process.env.PROFILE_GEMM_SHAPES !== '1') return name;
  if (name === 'gemm') return `gemm ${args[0] ? 'T' : 'N'}${args[1] ? 'T' : 'N'} m${args[2]} n${args[3]} k${args[4]} b${args[16]}`;
  if (name === 'linearInt8') return `linearInt8 m${args[0]} n${args[1]} k${args[2]}`;
  return name;
});
const forward = (): void =>
  noGrad(() =>
    tidy(() => {
      model.forward(batch, { training: false });
    }),
  );
forward();
forward();
timer.times.clear();
const t0 = performance.now();
for (let i = 0; i < runs; i++) forward();
timer.print(`${mode} forward, batch ${B} x ${T}:`, (performance.now() - t0) / runs, runs);
