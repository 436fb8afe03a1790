/**
 * Training-step benchmark (issue: beat PyTorch on the same CPU). For the BERT-base, small and tiny
 * configs at batch 16 x 128: our s/step, tokens/s and peak RSS, and, when Debian's python3-torch
 * and ../shared/bench/torch_bert.py are present, PyTorch's figures measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export interface TrainBenchConfig { name: string; layers: number; hidden: number; heads: number; inter: number; mode: 'train' | 'infer'; steps: number; precision?: 'fp32' | 'bf16';
  /** Not BERT: ours against transformers' own model of this type (../shared/bench/hf_step.py, --size hfSize). */
  modelType?: string; hfSize?: string }

export const TRAIN_CONFIGS: TrainBenchConfig[] = [
  { name: 'tiny', layers: 2, hidden: 128, heads: 2, inter: 512, mode: 'train', steps: 5 },
  { name: 'small', layers: 4, hidden: 256, heads: 4, inter: 1024, mode: 'train', steps: 3 },
  { name: 'BERT-base', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3 },
  { name: 'BERT-base infer', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'infer', steps: 3 },
  // Mixed precision: ours with bf16 matmuls (fp32 master weights and accumulation) vs torch's bf16 autocast.
  { name: 'tiny bf16', layers: 2, hidden: 128, heads: 2, inter: 512, mode: 'train', steps: 5, precision: 'bf16' },
  { name: 'small bf16', layers: 4, hidden: 256, heads: 4, inter: 1024, mode: 'train', steps: 3, precision: 'bf16' },
  { name: 'BERT-base bf16', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3, precision: 'bf16' },
  { name: 'deberta-v3-small', layers: 4, hidden: 256, heads: 4, inter: 1024, mode: 'train', steps: 3, modelType: 'deberta-v2', hfSize: 'small' },
  { name: 'deberta-v3-base', layers: 12, hidden: 768, heads: 12, inter: 3072, mode: 'train', steps: 3, modelType: 'deberta-v2', hfSize: 'base' },
];

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
  const out = execFileSync(process.execPath, [join(here, 'train-step.js'), String(c.layers), String(c.hidden), String(c.heads), String(c.inter), c.mode, String(c.steps), '16', '128', c.precision ?? 'fp32', c.modelType ?? 'bert'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** transformers' own model (hf_step.py) under the Python of TOKENTUNE_HF_PYTHON (default /tmp/hfenv/bin/python). */
const hfScript = resolve(repoRoot, '..', 'shared', 'bench', 'hf_step.py');
const hfPython = process.env.TOKENTUNE_HF_PYTHON ?? '/tmp/hfenv/bin/python';

function hfAvailable(): string | null {
  if (!existsSync(hfScript)) return `${hfScript} not found`;
  if (!existsSync(hfPython)) return `${hfPython} not found (set TOKENTUNE_HF_PYTHON to a Python with transformers 5 and torch)`;
  return null;
}

function runHf(c: TrainBenchConfig): Record<string, unknown> {
  const args = [hfScript, '--model-type', c.modelType!, '--size', c.hfSize!, '--threads', '2', '--steps', String(c.steps), '--batch', '16', '--seq', '128'];
  if (c.precision === 'bf16') args.push('--bf16');
  if (c.mode === 'infer') args.push('--infer');
  const out = execFileSync(hfPython, args, { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function runTorch(c: TrainBenchConfig): Record<string, unknown> {
  if (c.modelType) return runHf(c);
  const out = execFileSync('/usr/bin/python3', [torchScript, '--threads', '2', '--openblas', 'openmp', '--dtype', c.precision ?? 'fp32',
    '--layers', String(c.layers), '--hidden', String(c.hidden), '--heads', String(c.heads), '--intermediate', String(c.inter),
    '--vocab', '28996', '--labels', '9', '--batch', '16', '--seq', '128', '--steps', String(c.steps), '--mode', c.mode, '--quiet-wait', '5'],
  { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out);
}

/**
 * The table. `repeat` > 1 (BENCH_TRAIN_REPEAT) alternates ours and PyTorch that many times per
 * config and reports medians: on a shared machine a single pair can land in a slow moment for one
 * side only.
 */
export function runTrainBench(filter?: string, repeat = 1): void {
  const configs = TRAIN_CONFIGS.filter((c) => !filter || c.name.toLowerCase().includes(filter.toLowerCase()));
  const noTorch = configs.every((c) => c.modelType) ? null : torchAvailable();
  const noHf = configs.some((c) => c.modelType) ? hfAvailable() : null;
  if (noHf) console.log(`transformers reference skipped: ${noHf}`);
  if (noTorch) console.log(`PyTorch reference skipped: ${noTorch}`);
  if (repeat > 1) console.log(`each figure: the median of ${repeat} runs, ours and PyTorch alternating`);
  console.log('| config | ours s/step | ours tokens/s | ours peak RSS MiB | torch s/step | torch tokens/s | torch peak RSS MiB | speed ratio (ours/torch) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const c of configs) {
    const ours: Record<string, unknown>[] = [], torch: Record<string, unknown>[] = [];
    // Rows with a modelType compare against transformers (hf_step.py), the others against torch_bert.py.
    const skip = c.modelType ? noHf : noTorch;
    for (let r = 0; r < repeat; r++) {
      ours.push(runOurs(c));
      if (!skip) torch.push(runTorch(c));
    }
    const o = medianRun(ours), t = skip ? null : medianRun(torch);
    const ratio = t ? (Number(t.median_step_s) / Number(o.median_step_s)).toFixed(2) + 'x' : 'n/a';
    console.log(`| ${c.name} | ${o.median_step_s} | ${o.tokens_per_s} | ${o.peak_rss_mib} | ${t?.median_step_s ?? 'n/a'} | ${t?.tokens_per_s ?? 'n/a'} | ${t?.peak_rss_mib ?? 'n/a'} | ${ratio} |`);
    console.log(`    ours phases: ${JSON.stringify(o.phase_mean_s)}${t ? `; torch phases: ${JSON.stringify(t.phase_mean_s)}` : ''}`);
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
