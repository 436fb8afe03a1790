/**
 * Training-step benchmark (issue: beat PyTorch on the same CPU). For the BERT-base, small and tiny
 * configs at batch 16 x 128 and the other architectures: our s/step, tokens/s and peak RSS beside
 * the reference's, measured in the same run. The reference is what Python users run: transformers'
 * own model of that type (../shared/bench/hf_step.py under TOKENTUNE_HF_PYTHON, capped to our ISA
 * by reference-env.ts). Without it, BERT rows fall back to a plain-PyTorch copy of the model
 * (../shared/bench/torch_bert.py on Debian's python3-torch).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { findHfPython } from '../tools/hf-python.mjs';
import { referenceEnv, referenceIsaNote } from './reference-env.js';

export interface TrainBenchConfig {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  inter: number;
  mode: 'train' | 'infer';
  steps: number;
  precision?: 'fp32' | 'bf16';
  /** Another architecture than BERT: the reference is transformers' own model (../shared/bench/hf_step.py). */
  modelType?: string;
}

export const TRAIN_CONFIGS: TrainBenchConfig[] = [
  { name: 'tiny', layers: 2, hidden: 128, heads: 2, inter: 512, mode: 'train', steps: 5 },
  { name: 'small', layers: 4, hidden: 256, heads: 4, inter: 1024, mode: 'train', steps: 3 },
  { name: 'BERT-base', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3 },
  { name: 'BERT-base infer', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'infer', steps: 3 },
  // Mixed precision: ours with bf16 matmuls (fp32 master weights and accumulation) vs torch's bf16 autocast.
  { name: 'tiny bf16', layers: 2, hidden: 128, heads: 2, inter: 512, mode: 'train', steps: 5, precision: 'bf16' },
  { name: 'small bf16', layers: 4, hidden: 256, heads: 4, inter: 1024, mode: 'train', steps: 3, precision: 'bf16' },
  { name: 'BERT-base bf16', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3, precision: 'bf16' },
  // hf_step.py's "base" size for each type (12 x 768 for DistilBERT too, where distilbert-base has 6 layers).
  { name: 'RoBERTa-base', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3, modelType: 'roberta' },
  { name: 'DistilBERT 12x768', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3, modelType: 'distilbert' },
  // DeBERTa-v3 settings (relative attention, 256 log buckets, shared keys, p2c + c2p) at deberta-v3-base's size.
  { name: 'deberta-v3-small', layers: 4, hidden: 256, heads: 4, inter: 1024, mode: 'train', steps: 3, modelType: 'deberta-v2' },
  { name: 'deberta-v3-base', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3, modelType: 'deberta-v2' },
  // ModernBertConfig's attention pattern (global every 3rd layer, window 128) at hf_step.py's base size
  // (ModernBERT-base itself has 22 layers and intermediate 1152).
  { name: 'ModernBERT-small', layers: 4, hidden: 256, heads: 4, inter: 1024, mode: 'train', steps: 3, modelType: 'modernbert' },
  { name: 'ModernBERT-base 12x768', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3, modelType: 'modernbert' },
];

/**
 * Batch shape and timed steps for every row, the same on both sides: batch 16 x 128 unless
 * BENCH_TRAIN_BATCH / BENCH_TRAIN_SEQ say otherwise; BENCH_TRAIN_STEPS replaces each row's steps.
 */
const envInt = (k: string): number | undefined => (Number(process.env[k]) > 0 ? Math.floor(Number(process.env[k])) : undefined);
const BATCH = String(envInt('BENCH_TRAIN_BATCH') ?? 16),
  SEQ = String(envInt('BENCH_TRAIN_SEQ') ?? 128);
const stepsOf = (c: TrainBenchConfig): string => String(envInt('BENCH_TRAIN_STEPS') ?? c.steps);

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '..', '..');
const torchScript = resolve(repoRoot, '..', 'shared', 'bench', 'torch_bert.py');

function torchAvailable(): string | null {
  if (!existsSync(torchScript)) return `${torchScript} not found`;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'PyTorch not installed (apt-get install python3-torch libopenblas0-openmp)';
  }
}

function runOurs(c: TrainBenchConfig): Record<string, unknown> {
  const out = execFileSync(
    process.execPath,
    [
      join(here, 'train-step.js'),
      String(c.layers),
      String(c.hidden),
      String(c.heads),
      String(c.inter),
      c.mode,
      stepsOf(c),
      BATCH,
      SEQ,
      c.precision ?? 'fp32',
      c.modelType ?? 'bert',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** transformers 5 + torch 2.x (TOKENTUNE_HF_PYTHON) running hf_step.py. */
const hf = findHfPython();
const hfScript = resolve(repoRoot, '..', 'shared', 'bench', 'hf_step.py');

function hfAvailable(): string | null {
  if (!existsSync(hfScript)) return `${hfScript} not found`;
  if (hf.missing !== undefined) return hf.missing;
  return null;
}

function runTransformers(c: TrainBenchConfig): Record<string, unknown> {
  const size = Object.entries(HF_SIZES).find(([, s]) => s.join() === [c.layers, c.hidden, c.heads, c.inter].join())?.[0];
  if (!size) throw new Error(`${c.name}: hf_step.py has no size ${c.layers}x${c.hidden}x${c.heads}x${c.inter}`);
  const out = execFileSync(
    hf.python!,
    [
      hfScript,
      '--model-type',
      c.modelType ?? 'bert',
      '--size',
      size,
      '--threads',
      '2',
      '--steps',
      stepsOf(c),
      '--batch',
      BATCH,
      '--seq',
      SEQ,
      ...(c.precision === 'bf16' ? ['--bf16'] : []),
      ...(c.mode === 'infer' ? ['--infer'] : []),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'ignore'], env: referenceEnv() },
  );
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** hf_step.py's SIZES: layers, hidden, heads, intermediate. */
const HF_SIZES: Record<string, number[]> = { base: [12, 768, 12, 3072], small: [4, 256, 4, 1024], tiny: [2, 128, 2, 512] };

const isBert = (c: TrainBenchConfig): boolean => !c.modelType || c.modelType === 'bert';

/** The fallback reference for BERT rows: torch_bert.py on Debian's torch. */
function runTorchBert(c: TrainBenchConfig): Record<string, unknown> {
  const out = execFileSync(
    '/usr/bin/python3',
    [
      torchScript,
      '--threads',
      '2',
      '--openblas',
      'openmp',
      '--dtype',
      c.precision ?? 'fp32',
      '--layers',
      String(c.layers),
      '--hidden',
      String(c.hidden),
      '--heads',
      String(c.heads),
      '--intermediate',
      String(c.inter),
      '--vocab',
      '28996',
      '--labels',
      '9',
      '--batch',
      BATCH,
      '--seq',
      SEQ,
      '--steps',
      stepsOf(c),
      '--mode',
      c.mode,
      '--quiet-wait',
      '5',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'ignore'], env: referenceEnv() },
  );
  return JSON.parse(out);
}

/**
 * The table. `repeat` > 1 (BENCH_TRAIN_REPEAT) alternates ours and PyTorch that many times per
 * config and reports medians: on a shared machine a single pair can land in a slow moment for one
 * side only.
 */
export function runTrainBench(filter?: string, repeat = 1): void {
  // Comma-separated parts: a config runs when its name contains any of them, or, for a part that
  // starts with '=', is exactly it ('=bert-base' without 'BERT-base bf16' or 'RoBERTa-base').
  const parts = (filter ?? '')
    .toLowerCase()
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const configs = TRAIN_CONFIGS.filter(
    (c) => !parts.length || parts.some((f) => (f.startsWith('=') ? c.name.toLowerCase() === f.slice(1) : c.name.toLowerCase().includes(f))),
  );
  const noHf = hfAvailable(),
    noBertTorch = noHf ? torchAvailable() : null;
  if (noHf) console.log(`transformers reference unavailable: ${noHf}`);
  if (noBertTorch && configs.some(isBert)) console.log(`PyTorch reference skipped: ${noBertTorch}`);
  else if (noHf && configs.some(isBert)) console.log('BERT rows: reference is torch_bert.py (a plain-PyTorch copy) on Debian torch');
  if (referenceIsaNote()) console.log(referenceIsaNote());
  if (repeat > 1) console.log(`each figure: the median of ${repeat} runs, ours and PyTorch alternating`);
  console.log(
    '| config | ours s/step | ours tokens/s | ours peak RSS MiB | torch s/step | torch tokens/s | torch peak RSS MiB | speed ratio (ours/torch) | loadavg 1 min before |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const c of configs) {
    const noTorch = noHf && isBert(c) ? noBertTorch : noHf;
    const ours: Record<string, unknown>[] = [],
      torch: Record<string, unknown>[] = [];
    const load = loadavg()[0]!.toFixed(2);
    for (let r = 0; r < repeat; r++) {
      ours.push(runOurs(c));
      if (!noTorch) torch.push(noHf ? runTorchBert(c) : runTransformers(c));
    }
    const o = medianRun(ours),
      t = noTorch ? null : medianRun(torch);
    const ratio = t ? (Number(t.median_step_s) / Number(o.median_step_s)).toFixed(2) + 'x' : 'n/a';
    console.log(
      `| ${c.name} | ${o.median_step_s} | ${o.tokens_per_s} | ${o.peak_rss_mib} | ${t?.median_step_s ?? 'n/a'} | ${t?.tokens_per_s ?? 'n/a'} | ${t?.peak_rss_mib ?? 'n/a'} | ${ratio} | ${load} |`,
    );
    console.log(
      `    ours phases: ${JSON.stringify(o.phase_mean_s)}${t?.phase_mean_s ? `; torch phases: ${JSON.stringify(t.phase_mean_s)}` : ''}`,
    );
    if (repeat > 1) {
      const list = (rs: Record<string, unknown>[]) => rs.map((x) => x.median_step_s).join(', ');
      console.log(`    runs, s/step: ours ${list(ours)}${t ? `; torch ${list(torch)}` : ''}`);
    }
  }
}

/** The run with the median step time (lower median for an even count). */
function medianRun(runs: Record<string, unknown>[]): Record<string, unknown> {
  const sorted = [...runs].sort((a, b) => Number(a.median_step_s) - Number(b.median_step_s));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}
