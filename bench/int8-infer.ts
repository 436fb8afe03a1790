/**
 * `npm run bench -- int8`: int8 inference against fp32 and onnxruntime, in one run, on a
 * BERT-base-sized token classifier (random weights: 12 layers, hidden 768, FFN 3072, 9 labels),
 * sequence 128, batch 1, 4 and 32: tokens/s and p50/p99 latency of
 *   ours fp32     the float forward pass, weights packed once as `pipeline()` loads them
 *   ours int8/8b  the same model quantized in memory with 8-bit weights (`tokentune quantize --weight-bits 8`)
 *   ours int8/7b  ... with 7-bit weights (`--weight-bits 7`: plain AVX2 multiplies them with vpmaddubsw)
 *   ort fp32    onnxruntime-node on our ONNX export
 *   ort int8    onnxruntime-node on that export quantized by onnxruntime's own Python quantizer
 *               (quantize_dynamic, scripts/parity/ort-quantize-dynamic.py, run with
 *               TOKENTUNE_HF_PYTHON; skipped with a message when unset)
 * and every ratio against the issue's targets. TOKENTUNE_THREADS=N gives onnxruntime the same N
 * intra-op threads (a comparison a loaded machine distorts less than two pools fighting for cores). Runs alternate between the four, so a change in
 * machine load hits all of them, with BENCH_INT8_GAP_MS (default 100) of idle time before each, so
 * one engine's spinning threads do not slow the next; the load average is printed beside the figures. p99 of n runs
 * is the slowest run when n < 100 (stated as such).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, packForInference } from '../src/engine/index.js';
import { nativeInt8Info, nativeKernels } from '../src/engine/native.js';
import { BertForTokenClassification, makeConfig, type TokenBatch } from '../src/models/index.js';
import { quantizeInMemory } from '../src/models/quantized.js';
import { exportOnnx, loadOnnxRuntime, maxAbsDiff, onnxLogits, ourLogits } from '../src/infer/onnx/index.js';
import { findHfPython } from '../tools/hf-python.mjs';

const PLAN = [
  { batch: 1, runs: Number(process.env.BENCH_INT8_RUNS_1 ?? 20) },
  { batch: 4, runs: Number(process.env.BENCH_INT8_RUNS_4 ?? 8) },
  { batch: 32, runs: Number(process.env.BENCH_INT8_RUNS_32 ?? 3) },
];
const SEQ = 128;
// A pause before each timed run: onnxruntime's pool threads keep spinning for a while after a call
// (its default), which took a core from the run that followed (ours fp32 at batch 1: 173 ms p50
// without the pause, 150 ms with it, onnxruntime unchanged; Zen 4, 2026-12-07).
const GAP_MS = Number(process.env.BENCH_INT8_GAP_MS ?? 100);
const repoRoot = join(import.meta.dirname, '..', '..');

type Runner = { name: string; run: (b: TokenBatch) => Promise<Float32Array> | Float32Array };

const ortThreads = Number(process.env.TOKENTUNE_THREADS) > 0 ? { intraOpNumThreads: Number(process.env.TOKENTUNE_THREADS) } : {};
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** onnxruntime's quantize_dynamic on model.onnx, or why it could not run. */
function ortQuantize(src: string, dst: string): string | null {
  const { python, missing } = findHfPython();
  if (missing !== undefined) return `no Python with onnxruntime: ${missing}`;
  const r = spawnSync(python, [join(repoRoot, 'scripts', 'parity', 'ort-quantize-dynamic.py'), src, dst], { encoding: 'utf8' });
  return r.status === 0 ? null : `quantize_dynamic failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
}

export async function runInt8Bench(): Promise<void> {
  const ort = await loadOnnxRuntime();
  const labels = Array.from({ length: 9 }, (_, i) => `L${i}`);
  const config = makeConfig({
    vocab_size: 28996,
    hidden_size: 768,
    num_hidden_layers: 12,
    num_attention_heads: 12,
    intermediate_size: 3072,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  const fp32 = BertForTokenClassification.create(config, 0);
  packForInference(fp32.params.values());
  const int8 = new BertForTokenClassification(config, fp32.params);
  quantizeInMemory(int8, 8);
  const int7 = new BertForTokenClassification(config, fp32.params);
  quantizeInMemory(int7, 7);
  const runners: Runner[] = [
    { name: 'ours fp32', run: (b) => ourLogits(fp32, b) },
    { name: 'ours int8/8b', run: (b) => ourLogits(int8, b) },
    { name: 'ours int8/7b', run: (b) => ourLogits(int7, b) },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'tt-int8-bench-'));
  const sessions: { release(): Promise<void> }[] = [];
  try {
    if (!ort) console.log('onnxruntime-node is not installed: onnxruntime columns skipped');
    else {
      const res = exportOnnx(fp32, null, dir);
      const s32 = await ort.InferenceSession.create(res.modelPath, { graphOptimizationLevel: 'all', ...ortThreads });
      sessions.push(s32);
      runners.push({ name: 'ort fp32', run: (b) => onnxLogits(ort, s32, b) });
      const q = join(dir, 'onnx', 'model_ort_quantized.onnx');
      const why = ortQuantize(res.modelPath, q);
      if (why) console.log(`ort int8 skipped: ${why}`);
      else {
        const s8 = await ort.InferenceSession.create(q, { graphOptimizationLevel: 'all', ...ortThreads });
        sessions.push(s8);
        runners.push({ name: 'ort int8', run: (b) => onnxLogits(ort, s8, b) });
      }
    }
    console.log(
      `${cpus()[0]?.model ?? 'CPU'}; BERT-base-sized, seq ${SEQ}; int8 path ${nativeInt8Info()?.path ?? 'none'} (onnxruntime picks its own, VNNI where the CPU has it, whatever TOKENTUNE_KERNEL says); threads: ours ${nativeKernels.threads}, onnxruntime ${ortThreads.intraOpNumThreads ?? `default (${cpus().length} logical CPUs)`}; loadavg at start ${load()}`,
    );
    const rng = Rng.fromSeed(7);
    const tps = new Map<string, number>();
    for (const { batch: B, runs } of PLAN) {
      const batch: TokenBatch = {
        inputIds: Int32Array.from({ length: B * SEQ }, () => 1 + rng.nextInt(config.vocabSize - 1)),
        attentionMask: new Int32Array(B * SEQ).fill(1),
        tokenTypeIds: new Int32Array(B * SEQ),
        batchSize: B,
        seqLen: SEQ,
      };
      // Warm-up and a logits check against ours fp32.
      const ref = await runners[0]!.run(batch);
      const diffs = new Map<string, number>();
      for (const r of runners.slice(1)) diffs.set(r.name, maxAbsDiff(ref, await r.run(batch)));
      const times = new Map<string, number[]>(runners.map((r) => [r.name, []]));
      for (let i = 0; i < runs; i++) {
        for (const r of runners) {
          if (GAP_MS > 0) await new Promise((res) => setTimeout(res, GAP_MS));
          const t0 = performance.now();
          await r.run(batch);
          times.get(r.name)!.push(performance.now() - t0);
        }
      }
      console.log(`\nbatch ${B} x ${SEQ} (${runs} runs each, alternating; loadavg now ${load()}):`);
      for (const r of runners) {
        const t = times.get(r.name)!.sort((a, b) => a - b);
        const p50 = quantile(t, 0.5),
          p99 = quantile(t, 0.99);
        tps.set(`${r.name}@${B}`, (B * SEQ) / (p50 / 1000));
        const d = diffs.get(r.name);
        console.log(
          `  ${r.name.padEnd(12)} ${Math.round((B * SEQ) / (p50 / 1000))
            .toLocaleString('en-US')
            .padStart(
              7,
            )} tokens/s  p50 ${p50.toFixed(1).padStart(7)} ms  p99 ${p99.toFixed(1).padStart(7)} ms${runs < 100 ? ' (max)' : ''}` +
            (d === undefined ? '' : `  max |logit - ours fp32| ${d.toExponential(1)}`),
        );
      }
      const ratio = (a: string, b: string): string => {
        const x = tps.get(`${a}@${B}`),
          y = tps.get(`${b}@${B}`);
        return x && y ? (x / y).toFixed(2) + 'x' : 'n/a';
      };
      const target = (label: string, a: string, b: string, min: number): string => {
        const x = tps.get(`${a}@${B}`),
          y = tps.get(`${b}@${B}`);
        return `  ${label}: ${ratio(a, b)} (target >= ${min.toFixed(1)}x: ${x && y ? (x / y >= min ? 'met' : 'NOT met') : 'not measured'})`;
      };
      console.log(target('ours int8/7b / ort int8', 'ours int8/7b', 'ort int8', 1.0));
      console.log(target('ours int8/7b / ours fp32', 'ours int8/7b', 'ours fp32', 1.8));
      console.log(target('ours int8/8b / ours fp32', 'ours int8/8b', 'ours fp32', 1.8));
      console.log(
        B === 1
          ? target('ours fp32 / ort fp32', 'ours fp32', 'ort fp32', 1.2)
          : `  ours fp32 / ort fp32: ${ratio('ours fp32', 'ort fp32')}`,
      );
      console.log(`  ort int8 / ort fp32: ${ratio('ort int8', 'ort fp32')}`);
    }
  } finally {
    for (const s of sessions) await s.release();
    rmSync(dir, { recursive: true, force: true });
  }
}
