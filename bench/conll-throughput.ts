/**
 * Training throughput on real CoNLL-2003 train batches (issue 7): the batches `tokentune train
 * --group-by-length --max-seq-length 128` feeds (dynamic padding to each batch's longest, HF's
 * length grouping), built with the project's own data pipeline, through a random-init
 * BertForTokenClassification (small and BERT-base); the same number of batches in plain shuffled
 * order shows what grouping gains. Hugging Face transformers' own BertForTokenClassification
 * (bench/hf_varlen.py, run with TOKENTUNE_HF_PYTHON, e.g. the venv
 * ../shared/bench/hf-env.sh) runs the same batch shapes and masks as the reference. Like the Trainer,
 * ours runs the per-token layers on real tokens only (forward's skipPadding); transformers computes
 * the padding too, which is most of a shuffled batch.
 *
 * Usage: node dist/bench/conll-throughput.js [--config small|base|both] [--steps N] [--batch 16] [--bf16] [--no-torch]
 * (BENCH_CONLL_KEEP_PADDING=1: our side computes padding tokens too, as transformers does)
 * Each (config, order) is measured in a child process of its own (`--worker`), so its peak RSS is its own.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Tensor, backward, deriveSeed, kernels, ops, tidy } from '../src/engine/index.js';
import { BertForTokenClassification, makeConfig } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { DataLoader, type SamplerKind } from '../src/data/epoch-batches.js';
import type { Batch } from '../src/data/collate.js';
import { WordPieceCache } from '../src/data/align.js';
import { chooseLabels, encodeSplit, readTrainingData } from '../src/train/prepare.js';
import { parseTrainingArgs } from '../src/cli/training-flags.js';
import { AdamW } from '../src/train/optimizer.js';
import { findHfPython } from '../tools/hf-python.mjs';
import { referenceEnv, referenceIsaNote } from './reference-env.js';

interface ModelShape {
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  inter: number;
  defaultSteps: number;
}
const CONFIGS: Record<'small' | 'base', ModelShape> = {
  small: { name: 'small', layers: 4, hidden: 256, heads: 4, inter: 1024, defaultSteps: 40 },
  base: { name: 'BERT-base', layers: 12, hidden: 768, heads: 12, inter: 3072, defaultSteps: 8 },
};
type ConfigKey = keyof typeof CONFIGS;
/** 'grouped' is what --group-by-length feeds; 'shuffled' the Trainer's default random sampler. */
type Order = 'grouped' | 'shuffled';
const SAMPLER: Record<Order, SamplerKind> = { grouped: 'length-grouped', shuffled: 'random' };
const MAX_SEQ_LENGTH = 128;
const VOCAB = 28996;
const LR = 1.5e-5;

const here = fileURLToPath(new URL('.', import.meta.url));
const repoRoot = resolve(here, '..', '..');
const sharedDir = resolve(repoRoot, '..', 'shared');
const torchScript = resolve(repoRoot, 'bench', 'hf_varlen.py');
const sharedBenchDir = join(sharedDir, 'bench');
const hf = findHfPython();

/** [batch, seqLen, realTokens, realTokensPerRow]: what hf_varlen.py reads. */
type Shape = [number, number, number, number[]];

interface OursResult {
  config: string;
  order: Order;
  precision: string;
  kernels: string;
  steps: number;
  meanBatch: number;
  meanSeq: number;
  paddedTokens: number;
  realTokens: number;
  labelledTokens: number;
  stepSeconds: number[];
  totalS: number;
  medianStepS: number;
  meanStepS: number;
  /** Padding share over the timed batches, and over every batch of epoch 0 in this order. */
  padFraction: number;
  epochPadFraction: number;
  epochBatches: number;
  peakRssMib: number;
  /** CPUs kept busy by other processes during the timed steps (null: no /proc/stat). */
  otherLoadCpus: number | null;
  shapes: Shape[];
}

interface TorchResult {
  total_s: number;
  median_step_s: number;
  mean_step_s: number;
  padded_tokens_per_s: number;
  real_tokens_per_s: number;
  other_load_cpus: number | null;
  peak_rss_mib: number;
}

// --- data: the same calls `tokentune train` makes (src/cli/train.ts, src/train/trainer.ts) ------

/** The CoNLL-2003 train file named by SOURCE.md's "Derived files (FOLDER/)" section (IOB2 tags). */
export function conllTrainFile(conllDir: string): string {
  const sourceMd = join(conllDir, 'SOURCE.md');
  const text = readFileSync(sourceMd, 'utf8');
  const section = /^##\s*Derived files \(([^)\s]+?)\/?\)[^\n]*\n([\s\S]*?)(?=^##\s|(?![\s\S]))/m.exec(text);
  if (!section) throw new Error(`${sourceMd}: no "## Derived files (FOLDER/)" section naming the IOB2 files`);
  const folder = section[1]!;
  const train = /`(train\.[\w.]+)`\s*\(from eng\.train\)/.exec(section[2]!);
  if (!train) throw new Error(`${sourceMd}: the "Derived files (${folder}/)" section names no \`train.*\` file made from eng.train`);
  const file = join(conllDir, folder, train[1]!);
  if (!existsSync(file)) throw new Error(`${sourceMd} names ${folder}/${train[1]}, but ${file} does not exist`);
  return file;
}

interface PreparedData {
  loaderFor(order: Order): DataLoader;
  labels: string[];
  trainFile: string;
  sentences: number;
}

async function prepareData(batchSize: number): Promise<PreparedData> {
  const trainFile = conllTrainFile(join(sharedDir, 'data', 'conll2003'));
  // The run's settings as the CLI parses them, so defaults (seed, stride, label_all_tokens) match.
  const { args } = parseTrainingArgs({
    argv: [
      '--train-file',
      trainFile,
      '--max-seq-length',
      String(MAX_SEQ_LENGTH),
      '--per-device-train-batch-size',
      String(batchSize),
      '--group-by-length',
    ],
  });
  const { splits, labelNames } = await readTrainingData(args);
  const train = splits.train;
  if (!train) throw new Error(`${trainFile}: no training split was read`);
  const labels = chooseLabels(splits, [], labelNames);
  // bert-base-cased: do_lower_case false (its tokenizer_config.json; SOURCE.md of the vocab says "Cased").
  const tokenizer = WordPieceTokenizer.fromVocabFile(join(sharedDir, 'models', 'bert-base-cased-vocab', 'vocab.txt'), {
    doLowerCase: false,
  });
  const { split } = encodeSplit(
    train,
    tokenizer,
    labels,
    { maxSeqLength: args.maxSeqLength, stride: args.stride, labelAllTokens: args.labelAllTokens, maxSamples: args.maxTrainSamples },
    new WordPieceCache(tokenizer),
  );
  // Trainer.loader(): same options, with the sampler the order asks for.
  const loaderFor = (order: Order): DataLoader =>
    new DataLoader(split.features, {
      batchSize: args.perDeviceTrainBatchSize,
      sampler: SAMPLER[order],
      seed: args.dataSeed ?? args.seed,
      padId: tokenizer.padId,
    });
  return { loaderFor, labels, trainFile, sentences: train.sentences.length };
}

function epochPadFraction(loader: DataLoader): { fraction: number; batches: number } {
  const lengths = loader.features.map((f) => f.inputIds.length);
  let padded = 0,
    real = 0;
  const batches = loader.batchIndices(0);
  for (const idx of batches) {
    let max = 0;
    for (const j of idx) {
      max = Math.max(max, lengths[j]!);
      real += lengths[j]!;
    }
    padded += max * idx.length;
  }
  return { fraction: 1 - real / padded, batches: batches.length };
}

// --- one (config, order) measurement, in its own process -------------------------------------

async function measure(key: ConfigKey, order: Order, steps: number, batchSize: number, bf16: boolean): Promise<OursResult> {
  const data = await prepareData(batchSize);
  const loader = data.loaderFor(order);
  // `steps` batches evenly spaced through epoch 0: the first ones are not typical (grouped order
  // starts with the longest sequences), so this estimates the whole epoch's throughput.
  const all = [...loader.batchesForEpoch(0)];
  const n = Math.min(steps, all.length);
  const batches: Batch[] = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!);
  const c = CONFIGS[key];
  ops.setMatmulPrecision(bf16 ? 'bf16' : 'fp32');
  const config = makeConfig({
    vocab_size: VOCAB,
    hidden_size: c.hidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.inter,
    max_position_embeddings: 512,
    id2label: Object.fromEntries(data.labels.map((l, i) => [String(i), l])),
  });
  const model = BertForTokenClassification.create(config, 42);
  const opt = new AdamW(model.parameters(), { lr: LR, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });

  // As the Trainer with one micro-batch: the loss over the batch's real labels, padding skipped
  // (BENCH_CONLL_KEEP_PADDING=1 computes the padding too, as transformers does, for comparison).
  const skipPadding = process.env.BENCH_CONLL_KEEP_PADDING !== '1';
  const step = (batch: Batch, i: number): void => {
    tidy(() => {
      const logits = model.forward(batch, { training: true, dropoutSeed: deriveSeed(42, 'step', i, 0), skipPadding });
      backward(ops.crossEntropy(logits, Tensor.from(batch.labels, [batch.labels.length])));
    });
    opt.fusedStep(LR, 1);
  };

  // Warm-up (untimed) on the longest sampled batch: fills the buffer pool for every later shape.
  step(
    batches.reduce((a, b) => (b.seqLen > a.seqLen ? b : a)),
    -1,
  );
  const times: number[] = [];
  const busy0 = machineBusySeconds(),
    cpu0 = process.cpuUsage(),
    wall0 = performance.now();
  batches.forEach((b, i) => {
    const t = performance.now();
    step(b, i);
    times.push((performance.now() - t) / 1000);
  });
  const busy1 = machineBusySeconds(),
    cpu = process.cpuUsage(cpu0),
    wall = (performance.now() - wall0) / 1000;
  const otherLoadCpus = busy0 === null || busy1 === null ? null : Math.max(0, (busy1 - busy0 - (cpu.user + cpu.system) / 1e6) / wall);

  let padded = 0,
    real = 0,
    labelled = 0;
  const shapes: Shape[] = batches.map((b) => {
    const rows: number[] = [];
    for (let r = 0; r < b.batchSize; r++) {
      let n = 0;
      for (let t = 0; t < b.seqLen; t++) n += b.attentionMask[r * b.seqLen + t]!;
      rows.push(n);
    }
    const n = rows.reduce((a, x) => a + x, 0);
    padded += b.batchSize * b.seqLen;
    real += n;
    for (const y of b.labels) if (y !== -100) labelled++;
    return [b.batchSize, b.seqLen, n, rows];
  });
  const totalS = times.reduce((a, x) => a + x, 0);
  const epoch = epochPadFraction(loader);
  return {
    config: c.name,
    order,
    precision: bf16 ? 'bf16' : 'fp32',
    kernels: kernels().name,
    steps: batches.length,
    meanBatch: batches.reduce((a, b) => a + b.batchSize, 0) / batches.length,
    meanSeq: batches.reduce((a, b) => a + b.seqLen, 0) / batches.length,
    paddedTokens: padded,
    realTokens: real,
    labelledTokens: labelled,
    stepSeconds: times.map((t) => Number(t.toFixed(4))),
    totalS,
    medianStepS: median(times),
    meanStepS: totalS / times.length,
    padFraction: 1 - real / padded,
    epochPadFraction: epoch.fraction,
    epochBatches: epoch.batches,
    peakRssMib: process.resourceUsage().maxRSS / 1024,
    otherLoadCpus,
    shapes,
  };
}

/** Busy CPU-seconds of the whole machine from /proc/stat (as ../shared/bench/benchutil.py reads it). */
function machineBusySeconds(): number | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return null;
    // user nice system idle iowait irq softirq steal; USER_HZ is 100 on Linux.
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
  } catch {
    return null;
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// --- the parent: children per measurement, torch on the same shapes, the table ---------------

export interface ConllBenchOptions {
  config?: ConfigKey | 'both';
  /** Timed steps per (config, order); default 40 for small, 8 for BERT-base. */
  steps?: number;
  batch?: number;
  bf16?: boolean;
  torch?: boolean;
  /** Print the machine line (bench/run.ts prints its own). */
  printMachine?: boolean;
}

function torchUnavailable(): string | null {
  if (!existsSync(join(sharedBenchDir, 'benchutil.py'))) return `${join(sharedBenchDir, 'benchutil.py')} not found`;
  if (hf.missing !== undefined) return hf.missing;
  try {
    execFileSync(hf.python, ['-c', 'import torch, transformers'], { stdio: 'ignore' });
    return null;
  } catch {
    return `no transformers / torch for TOKENTUNE_HF_PYTHON=${hf.python}`;
  }
}

function runWorker(key: ConfigKey, order: Order, steps: number, batch: number, bf16: boolean): OursResult {
  const argv = [
    fileURLToPath(import.meta.url),
    '--worker',
    '--config',
    key,
    '--order',
    order,
    '--steps',
    String(steps),
    '--batch',
    String(batch),
  ];
  if (bf16) argv.push('--bf16');
  const out = execFileSync(process.execPath, argv, { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as OursResult;
}

/** transformers on the same shapes, 2 threads, capped to our ISA (reference-env.ts). */
function runTorch(key: ConfigKey, shapes: Shape[], bf16: boolean, labels: number): TorchResult | string {
  const c = CONFIGS[key];
  const dir = mkdtempSync(join(tmpdir(), 'conll-bench-'));
  try {
    const file = join(dir, 'shapes.json');
    writeFileSync(file, JSON.stringify(shapes));
    const out = execFileSync(
      hf.python!,
      [
        torchScript,
        file,
        '--shared-bench-dir',
        sharedBenchDir,
        '--threads',
        '2',
        '--dtype',
        bf16 ? 'bf16' : 'fp32',
        '--layers',
        String(c.layers),
        '--hidden',
        String(c.hidden),
        '--heads',
        String(c.heads),
        '--intermediate',
        String(c.inter),
        '--vocab',
        String(VOCAB),
        '--labels',
        String(labels),
        '--max-grad-norm',
        '1',
        '--lr',
        String(LR),
      ],
      { encoding: 'utf8', maxBuffer: 1 << 22, stdio: ['ignore', 'pipe', 'pipe'], env: referenceEnv() },
    );
    return JSON.parse(out) as TorchResult;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return `hf_varlen.py failed: ${err.stderr?.trim().split('\n').pop() ?? err.message}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number, d = 1): string => x.toFixed(d);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

export async function runConllBench(opts: ConllBenchOptions = {}): Promise<void> {
  const conllDir = join(sharedDir, 'data', 'conll2003');
  if (!existsSync(join(conllDir, 'SOURCE.md'))) {
    console.log(`skipped: CoNLL-2003 not found (${conllDir}/SOURCE.md); this benchmark needs ../shared next to the repository`);
    return;
  }
  const vocab = join(sharedDir, 'models', 'bert-base-cased-vocab', 'vocab.txt');
  if (!existsSync(vocab)) {
    console.log(`skipped: bert-base-cased vocabulary not found (${vocab})`);
    return;
  }
  const keys: ConfigKey[] = !opts.config || opts.config === 'both' ? ['small', 'base'] : [opts.config];
  const batch = opts.batch ?? 16;
  const bf16 = opts.bf16 ?? false;
  if (opts.printMachine)
    console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical CPUs, node ${process.version}`);
  const noTorch = opts.torch === false ? 'disabled (--no-torch)' : torchUnavailable();
  const data = await prepareData(batch);
  console.log(
    `data: ${data.trainFile} (${data.sentences} sentences, ${data.labels.length} labels), bert-base-cased WordPiece (cased), ` +
      `max_seq_length ${MAX_SEQ_LENGTH}, batch ${batch}, epoch 0 of the Trainer's samplers (seed 42); ${bf16 ? 'bf16 matmuls' : 'fp32'}`,
  );
  if (noTorch) console.log(`PyTorch reference skipped: ${noTorch}`);
  else if (referenceIsaNote()) console.log(referenceIsaNote());

  const rows: string[] = [];
  const notes: string[] = [];
  for (const key of keys) {
    const steps = opts.steps ?? CONFIGS[key].defaultSteps;
    const real: Partial<Record<Order, number>> = {};
    for (const order of ['grouped', 'shuffled'] as const) {
      const o = runWorker(key, order, steps, batch, bf16);
      const t = noTorch ? null : runTorch(key, o.shapes, bf16, data.labels.length);
      if (typeof t === 'string') notes.push(`${o.config} ${order}: ${t}`);
      const tr = t && typeof t !== 'string' ? t : null;
      if (tr && tr.other_load_cpus !== null && tr.other_load_cpus > 0.1)
        notes.push(`${o.config} ${order}: other processes kept ${tr.other_load_cpus} CPUs busy during torch's steps (contended)`);
      if (o.otherLoadCpus !== null && o.otherLoadCpus > 0.1)
        notes.push(`${o.config} ${order}: other processes kept ${fmt(o.otherLoadCpus, 2)} CPUs busy during our steps (contended)`);
      real[order] = o.realTokens / o.totalS;
      rows.push(
        `| ${o.config} | ${order} | ${o.steps} | ${fmt(o.meanBatch, 1)} x ${fmt(o.meanSeq, 1)} | ${fmt(o.medianStepS, 3)} | ${fmt(o.meanStepS, 3)} | ` +
          `${int(o.paddedTokens / o.totalS)} | ${int(o.realTokens / o.totalS)} | ${int(o.labelledTokens / o.totalS)} | ` +
          `${fmt(100 * o.padFraction)}% (epoch ${fmt(100 * o.epochPadFraction)}%) | ${fmt(o.peakRssMib, 0)} | ` +
          `${tr ? fmt(tr.median_step_s, 3) : 'n/a'} | ${tr ? int(tr.real_tokens_per_s) : 'n/a'} | ${tr ? fmt(tr.peak_rss_mib, 0) : 'n/a'} | ` +
          `${tr ? fmt(tr.total_s / o.totalS, 2) + 'x' : 'n/a'} |`,
      );
    }
    if (real.grouped && real.shuffled)
      notes.push(
        `${CONFIGS[key].name}: length grouping gives ${fmt(real.grouped / real.shuffled, 2)}x the real tokens/s of shuffled order`,
      );
  }
  console.log('');
  console.log(
    '| config | order | steps | mean batch (B x T) | ours s/step median | ours s/step mean | ours padded tok/s | ours real tok/s | ours labelled words/s | padding (sampled batches; whole epoch) | ours peak RSS MiB | torch s/step median | torch real tok/s | torch peak RSS MiB | speed ours/torch |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log('');
  console.log(
    'tokens/s = tokens of the timed batches / their total step time; padded = B*T, real = attention-mask ones ([CLS]/[SEP] included), ' +
      'labelled words = positions with a label (first sub-token of each word). speed ours/torch = torch total time / ours on the same shapes and masks (>1: ours faster).',
  );
  for (const n of notes) console.log(`- ${n}`);
}

// --- command line ----------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', default: 'both' },
      steps: { type: 'string' },
      batch: { type: 'string', default: '16' },
      bf16: { type: 'boolean', default: false },
      'no-torch': { type: 'boolean', default: false },
      worker: { type: 'boolean', default: false },
      order: { type: 'string', default: 'grouped' },
    },
  });
  const config = values.config;
  if (config !== 'small' && config !== 'base' && config !== 'both')
    throw new Error(`--config must be small, base or both, got '${config}'`);
  const positive = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${v}'`);
    return n;
  };
  const steps = positive('steps', values.steps);
  const batch = positive('batch', values.batch)!;
  if (values.worker) {
    const order = values.order;
    if (config === 'both' || (order !== 'grouped' && order !== 'shuffled'))
      throw new Error('--worker needs --config small|base and --order grouped|shuffled');
    const r = await measure(config, order, steps ?? CONFIGS[config].defaultSteps, batch, values.bf16!);
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  await runConllBench({ config, batch, bf16: values.bf16!, torch: !values['no-torch'], printMachine: true, ...(steps ? { steps } : {}) });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
