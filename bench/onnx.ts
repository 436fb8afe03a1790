/**
 * Inference throughput of a BERT-base-sized token classifier (random weights: 12 layers,
 * hidden 768, 12 heads, FFN 3072, vocab 28996, 9 labels): tokentune's forward pass vs
 * onnxruntime-node running our ONNX export of the same model, in the same process, at batch 1
 * and batch 32 (sequence 128, no padding). Reports tokens/s (batch x sequence / seconds, median
 * of the timed runs) and ours/onnxruntime. Both use every core: our addon's pool (TOKENTUNE_THREADS)
 * and onnxruntime's default intra-op pool. Skips with a message when onnxruntime-node is absent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, packForInference } from '../src/engine/index.js';
import { nativeKernels } from '../src/engine/native.js';
import { BertForTokenClassification, makeConfig, type TokenBatch } from '../src/models/index.js';
import { exportOnnx, loadOnnxRuntime, maxAbsDiff, onnxLogits, ourLogits } from '../src/infer/onnx/index.js';

interface Row {
  batch: number;
  seq: number;
  oursTokensPerS: number;
  ortTokensPerS: number;
  ratio: number;
  maxAbsDiff: number;
}

/**
 * Timed runs per batch size, after the logits check that doubles as warm-up (buffer pools,
 * onnxruntime's first-run allocations): few, so the bench takes ~1-2 min on 2 cores.
 */
const PLAN = [
  { batch: 1, seq: 128, runs: 5 },
  { batch: 32, seq: 128, runs: 1 },
];

async function median(runs: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

export async function runOnnxBench(): Promise<Row[]> {
  const ort = await loadOnnxRuntime();
  if (!ort) {
    console.log('onnx bench skipped: onnxruntime-node is not installed (npm test installs it: node scripts/test-deps.mjs)');
    return [];
  }
  const labels = Array.from({ length: 9 }, (_, i) => `L${i}`);
  const config = makeConfig({
    vocab_size: 28996,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  let t0 = performance.now();
  const model = BertForTokenClassification.create(config, 0);
  packForInference(model.params.values()); // as pipeline() loads a model
  const dir = mkdtempSync(join(tmpdir(), 'tt-onnx-bench-'));
  try {
    const res = exportOnnx(model, null, dir);
    console.log(
      `BERT-base-sized model: created and exported in ${((performance.now() - t0) / 1000).toFixed(1)} s, onnx/model.onnx ${(res.modelBytes / 1e6).toFixed(0)} MB`,
    );
    t0 = performance.now();
    const session = await ort.InferenceSession.create(res.modelPath, { graphOptimizationLevel: 'all' });
    console.log(`onnxruntime session (graph optimization 'all') ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    console.log(
      `threads: tokentune ${nativeKernels.available ? nativeKernels.threads : '1 (no native addon)'}, onnxruntime default (${cpus().length} logical CPUs)`,
    );
    const rows: Row[] = [];
    const rng = Rng.fromSeed(7);
    for (const { batch: B, seq: T, runs } of PLAN) {
      const batch: TokenBatch = {
        inputIds: Int32Array.from({ length: B * T }, () => 1 + rng.nextInt(config.vocabSize - 1)),
        attentionMask: new Int32Array(B * T).fill(1),
        tokenTypeIds: new Int32Array(B * T),
        batchSize: B,
        seqLen: T,
      };
      const diff = maxAbsDiff(ourLogits(model, batch), await onnxLogits(ort, session, batch));
      const ours = await median(runs, () => ourLogits(model, batch));
      const theirs = await median(runs, () => onnxLogits(ort, session, batch));
      const row = {
        batch: B,
        seq: T,
        oursTokensPerS: (B * T) / ours,
        ortTokensPerS: (B * T) / theirs,
        ratio: theirs / ours,
        maxAbsDiff: diff,
      };
      rows.push(row);
      console.log(
        `batch ${String(B).padStart(2)} x seq ${T}: tokentune ${Math.round(row.oursTokensPerS).toLocaleString('en-US')} tokens/s ` +
          `(${ours.toFixed(3)} s), onnxruntime ${Math.round(row.ortTokensPerS).toLocaleString('en-US')} tokens/s (${theirs.toFixed(3)} s), ` +
          `ours/onnxruntime = ${row.ratio.toFixed(2)}, max |logit diff| ${diff.toExponential(1)} (median of ${runs} after a warm-up)`,
      );
    }
    await session.release();
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
