/**
 * Inference throughput of the pipeline's forward path: tokens per second at batch 1 and batch 32
 * for a BERT-base-sized model (12 layers, hidden 768, 12 heads, intermediate 3072) with random
 * weights, on 128-token sequences, without autograd. Reports ours only (PyTorch numbers, where
 * wanted, come from /work/shared/bench's torch script on the same machine).
 *
 * Run: node dist/bench/infer.js [--quick]
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { noGrad, packForInference, tidy } from '../src/engine/index.js';
import { nativeInfo } from '../src/engine/native.js';
import { BertForTokenClassification, makeConfig, type TokenBatch } from '../src/models/index.js';

export interface InferBenchRow {
  batchSize: number;
  seqLen: number;
  /** Seconds per forward call (median of the timed runs). */
  secondsPerCall: number;
  tokensPerSecond: number;
}

export interface InferBenchResult {
  machine: string;
  kernels: string;
  threads: number;
  model: string;
  rows: InferBenchRow[];
}

function batchOf(B: number, T: number, vocab: number, seed: number): TokenBatch {
  const inputIds = new Int32Array(B * T);
  let s = seed >>> 0;
  for (let i = 0; i < inputIds.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    inputIds[i] = 1000 + (s % (vocab - 1000)); // ordinary word pieces, away from the special ids
  }
  for (let b = 0; b < B; b++) {
    inputIds[b * T] = 101; // [CLS]
    inputIds[b * T + T - 1] = 102; // [SEP]
  }
  return { inputIds, attentionMask: new Int32Array(B * T).fill(1), batchSize: B, seqLen: T };
}

export async function runInferBench(
  opts: { quick?: boolean; seqLen?: number; batchSizes?: number[]; reps?: number } = {},
): Promise<InferBenchResult> {
  const quick = opts.quick ?? false;
  const T = opts.seqLen ?? 128;
  const labels = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
  const config = makeConfig({
    vocab_size: 28996,
    hidden_size: 768,
    num_hidden_layers: quick ? 2 : 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    max_position_embeddings: 512,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  const model = BertForTokenClassification.create(config, 1);
  packForInference(model.params.values()); // as pipeline() loads a model
  const rows: InferBenchRow[] = [];
  for (const B of opts.batchSizes ?? [1, 32]) {
    const batch = batchOf(B, T, config.vocabSize, B);
    const forward = () => noGrad(() => tidy(() => model.forward(batch, { training: false }).f[0]));
    forward(); // warm-up: buffer pool, thread pool, caches
    const reps = opts.reps ?? (quick ? 2 : B === 1 ? 20 : 3);
    const times: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      forward();
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    times.sort((a, b) => a - b);
    const sec = times[Math.floor(times.length / 2)]!;
    rows.push({ batchSize: B, seqLen: T, secondsPerCall: sec, tokensPerSecond: (B * T) / sec });
  }
  const info = nativeInfo();
  return {
    machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
    kernels: info ? `native ${JSON.stringify(info)}` : 'TypeScript reference',
    threads: info?.threads ?? 1,
    model: `BertForTokenClassification ${config.numHiddenLayers}x${config.hiddenSize} (random weights), ${labels.length} labels`,
    rows,
  };
}

export function formatInferBench(r: InferBenchResult): string {
  const lines = [`inference: ${r.model}`, `machine: ${r.machine}; kernels: ${r.kernels}`, '', 'batch  seq  ms/call  tokens/s'];
  for (const row of r.rows) {
    lines.push(
      `${String(row.batchSize).padStart(5)}  ${String(row.seqLen).padStart(3)}  ${(row.secondsPerCall * 1000).toFixed(1).padStart(7)}  ${row.tokensPerSecond.toFixed(0).padStart(8)}`,
    );
  }
  return lines.join('\n') + '\n';
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runInferBench({ quick: process.argv.includes('--quick') });
  process.stdout.write(formatInferBench(r));
}
