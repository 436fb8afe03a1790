/**
 * Trains one BERT config twice from the same initial weights on the same batches in the same
 * order: with tokentune's Trainer, and with PyTorch following HF Trainer's recipe
 * (scripts/parity/torch-train.py). Both F1 curves are computed by the same code (our word-level rule and
 * computeNerMetrics): PyTorch only returns logits. Dropout masks differ (each side has its own
 * RNG), so the curves are expected to agree statistically, not bit for bit; `--dropout 0` removes
 * that randomness and leaves only floating-point differences.
 *
 *   node dist/bench/compare-torch.js --data wnut17 --epochs 4 --lr 5e-4 --svg docs/wnut17-curves.svg
 *
 * Work dir layout (the contract with scripts/parity/torch-train.py, also in scripts/README.md):
 *   init/{config.json,model.safetensors}  hparams.json  batches/{split}.{json,i32}  torch/...
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Writable } from 'node:stream';
import { noGrad, tidy, clearPool, deriveSeed, type Tensor } from '../src/engine/index.js';
import type { Batch } from '../src/data/collate.js';
import { DataLoader } from '../src/data/epoch-batches.js';
import { loadSplits } from '../src/data/splits.js';
import { WordPieceCache } from '../src/data/align.js';
import { computeNerMetrics } from '../src/metrics/index.js';
import {
  BertForTokenClassification,
  makeConfig,
  savePretrained,
  type TokenClassifier,
  type TokenBatch,
  type ForwardOptions,
} from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { chooseLabels, encodeSplit } from '../src/train/prepare.js';
import { Trainer, type EncodedSplit, type LogRecord } from '../src/train/trainer.js';
import { parseTrainingArgs } from '../src/cli/training-flags.js';
import { planTrainingSteps, resolveStepInterval } from '../src/train/step-plan.js';
import { resolveWarmup } from '../src/train/lr-schedule.js';
import { WordPredictions } from '../src/train/word-predictions.js';
import { escapeXml, niceTicks } from '../src/train/plot.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = resolve(repoRoot, '..', 'shared');

const DATASETS: Record<string, { train: string; validation: string; test: string }> = {
  wnut17: {
    train: join(shared, 'data/wnut17/wnut17train.conll'),
    validation: join(shared, 'data/wnut17/emerging.dev.conll'),
    test: join(shared, 'data/wnut17/emerging.test.annotated'),
  },
  conll2003: {
    train: join(shared, 'data/conll2003/iob2_token_tag/train.txt'),
    validation: join(shared, 'data/conll2003/iob2_token_tag/valid.txt'),
    test: join(shared, 'data/conll2003/iob2_token_tag/test.txt'),
  },
};

/** The issue's model sizes (bert-base-cased vocabulary). */
const MODELS: Record<string, Record<string, number>> = {
  small: { num_hidden_layers: 4, hidden_size: 256, num_attention_heads: 4, intermediate_size: 1024 },
  tiny: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512 },
};

const { values: opt } = parseArgs({
  options: {
    data: { type: 'string', default: 'wnut17' },
    train: { type: 'string' },
    validation: { type: 'string' },
    test: { type: 'string' },
    vocab: { type: 'string', default: join(shared, 'models/bert-base-cased-vocab/vocab.txt') },
    model: { type: 'string', default: 'small' },
    lr: { type: 'string', default: '5e-4' },
    epochs: { type: 'string', default: '3' },
    'max-steps': { type: 'string', default: '-1' },
    'batch-size': { type: 'string', default: '16' },
    'eval-batch-size': { type: 'string', default: '32' },
    'eval-steps': { type: 'string', default: '100' },
    'warmup-ratio': { type: 'string', default: '0.1' },
    'weight-decay': { type: 'string', default: '0.01' },
    'max-grad-norm': { type: 'string', default: '1' },
    dropout: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '42' },
    'dropout-seed': { type: 'string' },
    'max-seq-length': { type: 'string', default: '512' },
    'max-train-samples': { type: 'string' },
    'max-eval-samples': { type: 'string' },
    'work-dir': { type: 'string' },
    svg: { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'torch-threads': { type: 'string', default: String(cpus().length) },
    'shared-masks': { type: 'boolean', default: false },
    summarize: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log(
    'usage: node dist/bench/compare-torch.js --data wnut17|conll2003 [--model small|tiny] [--lr 5e-4] [--epochs 3] [--eval-steps 100]\n' +
      '  [--warmup-ratio 0.1] [--weight-decay 0.01] [--dropout 0.1] [--seed 42] [--dropout-seed S] [--batch-size 16] [--max-train-samples N]\n' +
      '  [--work-dir DIR] [--svg FILE] [--python /usr/bin/python3] [--torch-threads N] [--shared-masks]\n' +
      '   or: node dist/bench/compare-torch.js --summarize WORK_DIR,WORK_DIR,... [--svg FILE]   (runs that differ only in --dropout-seed)',
  );
  process.exit(0);
}

function num(name: keyof typeof opt): number {
  const v = Number(opt[name]);
  if (!Number.isFinite(v)) throw new Error(`--${name}: expected a number, got '${String(opt[name])}'`);
  return v;
}
const optionalInt = (name: keyof typeof opt): number | null => (opt[name] === undefined ? null : num(name));

// --------------------------------------------------------------------------------------------
// Dumps for PyTorch

/** FNV-1a over a batch's ids, mask and labels: proves the Trainer saw exactly the dumped batches. */
function batchChecksum(b: { inputIds: Int32Array; attentionMask: Int32Array; labels?: Int32Array }): number {
  let h = 0x811c9dc5;
  for (const arr of [b.inputIds, b.attentionMask, b.labels ?? new Int32Array(0)]) {
    for (let i = 0; i < arr.length; i++) h = Math.imul(h ^ (arr[i]! & 0xffffffff), 0x01000193) >>> 0;
  }
  return h;
}

interface DumpIndex {
  batches: { offset: number; batch: number; seq: number; checksum: number }[];
}

/** Writes batches as back-to-back int32 arrays (ids, mask, types, labels) + a JSON index. */
function dumpBatches(dir: string, split: string, batches: Iterable<Batch>): DumpIndex {
  const fd = openSync(join(dir, `${split}.i32`), 'w');
  const index: DumpIndex = { batches: [] };
  let offset = 0;
  try {
    for (const b of batches) {
      for (const arr of [b.inputIds, b.attentionMask, b.tokenTypeIds, b.labels]) {
        writeSync(fd, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength)); // little-endian host (x86/arm)
      }
      index.batches.push({ offset, batch: b.batchSize, seq: b.seqLen, checksum: batchChecksum(b) });
      offset += 4 * b.batchSize * b.seqLen;
    }
  } finally {
    closeSync(fd);
  }
  writeFileSync(join(dir, `${split}.json`), JSON.stringify(index) + '\n');
  return index;
}

/**
 * Forwards only; records the checksum of every training batch the Trainer feeds the model, and
 * the dropout seed it passes (for --shared-masks).
 */
class RecordingModel implements TokenClassifier {
  readonly seen: number[] = [];
  readonly dropoutSeeds: number[] = [];
  constructor(private readonly inner: TokenClassifier) {}
  get config() {
    return this.inner.config;
  }
  get architecture() {
    return this.inner.architecture;
  }
  get params() {
    return this.inner.params;
  }
  get numLabels() {
    return this.inner.numLabels;
  }
  parameters(): [string, Tensor][] {
    return this.inner.parameters();
  }
  forward(batch: TokenBatch, o: ForwardOptions): Tensor {
    if (o.training) {
      this.seen.push(batchChecksum(batch as Batch));
      this.dropoutSeeds.push(o.dropoutSeed ?? 0);
    }
    return this.inner.forward(batch, o);
  }
}

// --------------------------------------------------------------------------------------------
// Scoring logits with our metric code

interface EvalMetrics {
  loss: number;
  precision: number;
  recall: number;
  f1: number;
  accuracy: number;
}

/** Word-level tags via WordPredictions and seqeval-exact metrics, exactly as Trainer.evaluate. */
function scoreLogits(
  split: EncodedSplit,
  batches: readonly Batch[],
  logits: Float32Array,
  labels: readonly string[],
  source: string,
): EvalMetrics {
  const L = labels.length;
  const expected = batches.reduce((a, b) => a + b.batchSize * b.seqLen * L, 0);
  if (logits.length !== expected)
    throw new Error(`${source}: ${logits.length} logits, expected ${expected} (${batches.length} batches x ${L} labels)`);
  const words = new WordPredictions(
    split.sentences.map((s) => s.tokens.length),
    labels,
  );
  let off = 0,
    lossSum = 0,
    rows = 0;
  for (const b of batches) {
    const n = b.batchSize * b.seqLen * L;
    const view = logits.subarray(off, off + n);
    off += n;
    words.add(b.features, view, b.seqLen);
    // Mean cross-entropy over labelled tokens, averaged over batches weighted by sequences (HF).
    let ce = 0,
      count = 0;
    for (let r = 0; r < b.batchSize * b.seqLen; r++) {
      const y = b.labels[r]!;
      if (y === -100) continue;
      let mx = -Infinity;
      for (let c = 0; c < L; c++) mx = Math.max(mx, view[r * L + c]!);
      let s = 0;
      for (let c = 0; c < L; c++) s += Math.exp(view[r * L + c]! - mx);
      ce += Math.log(s) + mx - view[r * L + y]!;
      count++;
    }
    if (count) {
      lossSum += (ce / count) * b.batchSize;
      rows += b.batchSize;
    }
  }
  const refs = split.sentences.map((s, i) => {
    if (!s.tags) throw new Error(`${source}: sentence ${i} has no gold tags`);
    return [...s.tags];
  });
  const m = computeNerMetrics(refs, words.result());
  return { loss: rows ? lossSum / rows : NaN, precision: m.precision, recall: m.recall, f1: m.f1, accuracy: m.accuracy };
}

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  if (buf.byteLength % 4 !== 0) throw new Error(`${path}: ${buf.byteLength} bytes is not a whole number of float32 values`);
  const out = new Float32Array(buf.byteLength / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Our eval-mode logits over `batches`, concatenated like torch-train.py writes them. */
function ourLogits(model: TokenClassifier, batches: readonly Batch[]): Float32Array {
  const parts: Float32Array[] = [];
  for (const b of batches)
    noGrad(() =>
      tidy(() => {
        parts.push(Float32Array.from(model.forward(b, { training: false }).f));
      }),
    );
  clearPool();
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// --------------------------------------------------------------------------------------------
// Plot: both runs, training loss on top, validation F1 below

interface Line {
  name: string;
  color: string;
  dashed: boolean;
  points: [number, number][];
}

function renderComparison(title: string, loss: Line[], f1: Line[], width = 860, height = 620): string {
  // F1 is drawn from 0 so that small differences are not magnified into apparent gaps.
  const left = 80,
    right = 24,
    top = 70,
    gap = 70,
    bottom = 56;
  const ph = (height - top - gap - bottom) / 2,
    pw = width - left - right;
  const steps = [...loss, ...f1].flatMap((l) => l.points.map((p) => p[0]));
  const x = niceTicks(0, Math.max(1, ...steps), 8, 1);
  const r = (v: number): string => String(Math.round(v * 100) / 100);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12" fill="#222">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  const panel = (y0: number, lines: Line[], label: string, xLabel: boolean, floor?: number): void => {
    const vals = lines.flatMap((l) => l.points.map((p) => p[1]));
    const y = niceTicks(Math.min(floor ?? Infinity, ...vals), Math.max(...vals, floor ?? -Infinity), 5);
    const sx = (v: number): number => left + ((v - x.min) / (x.max - x.min)) * pw;
    const sy = (v: number): number => y0 + ph - ((v - y.min) / (y.max - y.min)) * ph;
    out.push(`<rect x="${left}" y="${r(y0)}" width="${r(pw)}" height="${r(ph)}" fill="#fcfcfc" stroke="#888"/>`);
    for (const t of y.ticks) {
      out.push(`<line x1="${left}" x2="${r(left + pw)}" y1="${r(sy(t))}" y2="${r(sy(t))}" stroke="#e4e4e4"/>`);
      out.push(`<text x="${left - 8}" y="${r(sy(t))}" dy="0.35em" text-anchor="end">${escapeXml(String(Number(t.toPrecision(6))))}</text>`);
    }
    for (const t of x.ticks) {
      out.push(`<line x1="${r(sx(t))}" x2="${r(sx(t))}" y1="${r(y0)}" y2="${r(y0 + ph)}" stroke="#eeeeee"/>`);
      out.push(`<text x="${r(sx(t))}" y="${r(y0 + ph + 18)}" text-anchor="middle">${t}</text>`);
    }
    out.push(
      `<text transform="rotate(-90 ${left - 55} ${r(y0 + ph / 2)})" x="${left - 55}" y="${r(y0 + ph / 2)}" text-anchor="middle" font-size="13">${escapeXml(label)}</text>`,
    );
    if (xLabel) out.push(`<text x="${r(left + pw / 2)}" y="${r(y0 + ph + 40)}" text-anchor="middle" font-size="13">step</text>`);
    let lx = left + pw - lines.reduce((a, l) => a + 34 + l.name.length * 7, 0);
    for (const l of lines) {
      const dash = l.dashed ? ' stroke-dasharray="7 4"' : '';
      out.push(
        `<polyline fill="none" stroke="${l.color}" stroke-width="2"${dash} points="${l.points.map(([a, b]) => `${r(sx(a))},${r(sy(b))}`).join(' ')}"/>`,
      );
      if (l.points.length < 60)
        for (const [a, b] of l.points) out.push(`<circle cx="${r(sx(a))}" cy="${r(sy(b))}" r="2.5" fill="${l.color}"/>`);
      out.push(
        `<line x1="${r(lx)}" x2="${r(lx + 22)}" y1="${r(y0 - 12)}" y2="${r(y0 - 12)}" stroke="${l.color}" stroke-width="2"${dash}/>`,
      );
      out.push(`<text x="${r(lx + 27)}" y="${r(y0 - 12)}" dy="0.35em">${escapeXml(l.name)}</text>`);
      lx += 34 + l.name.length * 7;
    }
  };
  panel(top, loss, 'training loss', false);
  panel(top + ph + gap, f1, 'validation F1', true, 0);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// --------------------------------------------------------------------------------------------

const fmt = (v: number | undefined, d = 4): string => (v === undefined || !Number.isFinite(v) ? '' : v.toFixed(d));

async function main(): Promise<void> {
  const files = opt.train ? { train: opt.train, validation: opt.validation!, test: opt.test! } : DATASETS[opt.data!];
  if (!files || !files.validation || !files.test)
    throw new Error(`--data must be one of ${Object.keys(DATASETS).join(', ')}, or give --train, --validation and --test`);
  for (const f of Object.values(files))
    if (!existsSync(f)) throw new Error(`${f}: not found (the shared data lives in ../shared relative to the repo root)`);
  const size = MODELS[opt.model!];
  if (!size) throw new Error(`--model must be one of ${Object.keys(MODELS).join(', ')}`);
  const work = resolve(opt['work-dir'] ?? `/tmp/tokentune-compare-${opt.data}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'batches'), { recursive: true });

  const splits = await loadSplits(files);
  const labels = chooseLabels(splits, []);
  const tokenizer = WordPieceTokenizer.fromVocabFile(opt.vocab!);
  const seed = num('seed');
  // Init and data order come from --seed; dropout masks (the Trainer's seed, torch.manual_seed) from
  // --dropout-seed, so several dropout draws can be compared on otherwise identical runs.
  const dropoutSeed = opt['dropout-seed'] === undefined ? seed : num('dropout-seed');
  const dropout = num('dropout');
  const config = makeConfig({
    ...size,
    vocab_size: 28996,
    max_position_embeddings: 512,
    hidden_dropout_prob: dropout,
    attention_probs_dropout_prob: dropout,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  if (tokenizer.vocabSize > config.vocabSize)
    throw new Error(`${opt.vocab} has ${tokenizer.vocabSize} tokens, more than vocab_size ${config.vocabSize}`);
  // The same initialisation as `tokentune train --config-name` (initParameters over the HF specs).
  const model = BertForTokenClassification.create(config, seed);
  savePretrained(model, join(work, 'init'));

  const maxSeqLength = num('max-seq-length');
  const cache = new WordPieceCache(tokenizer);
  const enc = (name: 'train' | 'validation' | 'test', max: number | null): EncodedSplit => {
    const { split, stats } = encodeSplit(splits[name]!, tokenizer, labels, { maxSeqLength, maxSamples: max }, cache);
    console.log(`${name}: ${stats.sentences} sentences, ${stats.features} sequences, ${stats.labelledTokens} labelled tokens`);
    return split;
  };
  const train = enc('train', optionalInt('max-train-samples'));
  const validation = enc('validation', optionalInt('max-eval-samples'));
  const test = enc('test', optionalInt('max-eval-samples'));

  const args = parseTrainingArgs({
    config: {
      output_dir: join(work, 'ours'),
      overwrite_output_dir: true,
      learning_rate: num('lr'),
      per_device_train_batch_size: num('batch-size'),
      per_device_eval_batch_size: num('eval-batch-size'),
      num_train_epochs: num('epochs'),
      max_steps: num('max-steps'),
      warmup_ratio: num('warmup-ratio'),
      weight_decay: num('weight-decay'),
      max_grad_norm: num('max-grad-norm'),
      seed: dropoutSeed,
      data_seed: seed,
      eval_strategy: 'steps',
      eval_steps: num('eval-steps'),
      logging_steps: num('eval-steps'),
      save_strategy: 'no',
      disable_tqdm: true,
      max_seq_length: maxSeqLength,
    },
  }).args;

  // The batches the Trainer will draw: its loader options, epoch by epoch, cut at max steps.
  const padId = tokenizer.padId;
  const loader = new DataLoader(train.features, {
    batchSize: args.perDeviceTrainBatchSize,
    sampler: 'random',
    seed: args.dataSeed ?? args.seed,
    padId,
  });
  const plan = planTrainingSteps({
    numBatchesPerEpoch: loader.batchesPerEpoch,
    gradientAccumulationSteps: 1,
    numTrainEpochs: args.numTrainEpochs,
    maxSteps: args.maxSteps,
  });
  const total = plan.maxSteps;
  function* trainBatches(): Generator<Batch> {
    let n = 0;
    for (let e = 0; e < plan.numTrainEpochs; e++)
      for (const b of loader.batchesForEpoch(e)) {
        if (n++ >= total) return;
        yield b;
      }
  }
  const trainIndex = dumpBatches(join(work, 'batches'), 'train', trainBatches());
  const evalLoader = (s: EncodedSplit): Batch[] => [
    ...new DataLoader(s.features, { batchSize: args.perDeviceEvalBatchSize, sampler: 'sequential', padId }).batchesForEpoch(0),
  ];
  const valBatches = evalLoader(validation),
    testBatches = evalLoader(test);
  dumpBatches(join(work, 'batches'), 'validation', valBatches);
  dumpBatches(join(work, 'batches'), 'test', testBatches);
  const evalEvery = resolveStepInterval(args.evalSteps, total);
  const evalSteps: number[] = [];
  for (let s = evalEvery; s <= total; s += evalEvery) evalSteps.push(s);
  if (evalSteps[evalSteps.length - 1] !== total) evalSteps.push(total);
  const hparams = {
    seed: dropoutSeed,
    init_and_data_seed: seed,
    learning_rate: args.learningRate,
    lr_scheduler_type: args.lrSchedulerType,
    warmup_steps: resolveWarmup(args, total),
    total_steps: total,
    adam_beta1: args.adamBeta1,
    adam_beta2: args.adamBeta2,
    adam_epsilon: args.adamEpsilon,
    weight_decay: args.weightDecay,
    max_grad_norm: args.maxGradNorm,
    dropout,
    logging_steps: resolveStepInterval(args.loggingSteps, total),
    eval_steps: evalSteps,
    batch_size: args.perDeviceTrainBatchSize,
    eval_batch_size: args.perDeviceEvalBatchSize,
    labels,
  };
  writeFileSync(join(work, 'hparams.json'), JSON.stringify(hparams, null, 2) + '\n');
  console.log(
    `config ${opt.model} (${config.numHiddenLayers} layers, hidden ${config.hiddenSize}), ${labels.length} labels, ${total} steps ` +
      `(${plan.numTrainEpochs} epochs x ${plan.updateStepsPerEpoch}), warmup ${hparams.warmup_steps}, lr ${args.learningRate}, eval every ${evalEvery}; work dir ${work}`,
  );

  const step0Ours = ourLogits(model, valBatches);

  // ---- ours
  const recording = new RecordingModel(model);
  const ours = new Map<number, LogRecord>();
  const oursLoss = new Map<number, number>();
  let oursEvalSeconds = 0;
  const trainer = new Trainer({
    model: recording,
    args,
    tokenizer,
    trainDataset: train,
    evalDataset: validation,
    // The Trainer's own progress display would interleave with torch's output: print one line per record instead.
    progressStream: new Writable({ write: (_c, _e, cb) => cb() }),
    onLog: (rec) => {
      const step = Number(rec.step);
      if (typeof rec.loss === 'number') {
        oursLoss.set(step, rec.loss);
        console.log(
          `[ours] step ${step}: loss ${fmt(rec.loss)} grad_norm ${fmt(Number(rec.grad_norm))} lr ${Number(rec.learning_rate).toExponential(3)}`,
        );
      }
      if (typeof rec.eval_f1 === 'number') {
        ours.set(step, rec);
        oursEvalSeconds += Number(rec.eval_runtime);
        console.log(`[ours] step ${step}: eval_loss ${fmt(Number(rec.eval_loss))} eval_f1 ${fmt(Number(rec.eval_f1))}`);
      }
    },
  });
  const t0 = performance.now();
  const out = await trainer.train();
  if (!ours.has(total)) trainer.evaluate(); // the last step was not an eval step: evaluate as the CLI does
  const oursTrainSeconds = (performance.now() - t0) / 1000 - oursEvalSeconds;
  const oursTest = trainer.evaluate(test, undefined, 'test');
  const mismatch = trainIndex.batches.findIndex((b, i) => b.checksum !== recording.seen[i]);
  if (recording.seen.length !== trainIndex.batches.length || mismatch >= 0) {
    throw new Error(
      `the Trainer trained on ${recording.seen.length} batches, the dump has ${trainIndex.batches.length}; first differing step ${mismatch + 1}`,
    );
  }
  console.log(`ours: ${out.globalStep} steps; all ${recording.seen.length} training batches identical to the dump (checksums)`);
  // The seed of every dropout site of every training forward, in call order. This mirrors
  // DropoutSites in src/models/bert.ts: site n of a forward uses deriveSeed(stepSeed, 'dropout', n),
  // sites are embeddings, then per layer attention probs, attention output, FFN output, then the
  // classifier input (2 + 3 x layers, all with p > 0 here). torch-train.py --masks-from rebuilds
  // the keep masks from these with dropoutHash, so both sides drop exactly the same units.
  const sites = 2 + 3 * config.numHiddenLayers;
  writeFileSync(
    join(work, 'dropout-seeds.json'),
    JSON.stringify({
      p_hidden: config.hiddenDropoutProb,
      p_attention: config.attentionProbsDropoutProb,
      sites_per_forward: sites,
      seeds: recording.dropoutSeeds.map((st) => Array.from({ length: sites }, (_, n) => deriveSeed(st, 'dropout', n))),
    }) + '\n',
  );

  // ---- torch
  // Debian's torch links libblas.so.3; when the alternative is OpenBLAS-pthread, its threads fight
  // torch's OpenMP threads (3-7x slower steps here). The OpenMP build shares torch's pool.
  const env = { ...process.env };
  const ompBlas = '/usr/lib/x86_64-linux-gnu/openblas-openmp';
  if (env.LD_LIBRARY_PATH === undefined && existsSync(join(ompBlas, 'libblas.so.3'))) env.LD_LIBRARY_PATH = ompBlas;
  console.log(
    `torch: ${opt.python} scripts/parity/torch-train.py${env.LD_LIBRARY_PATH ? ` (LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH})` : ''}`,
  );
  const pyArgs = [join(repoRoot, 'scripts', 'parity', 'torch-train.py'), work, '--threads', String(num('torch-threads'))];
  if (opt['shared-masks']) pyArgs.push('--masks-from', join(work, 'dropout-seeds.json'));
  const py = spawnSync(opt.python!, pyArgs, { stdio: 'inherit', env });
  if (py.status !== 0) throw new Error(`torch-train.py failed (exit ${py.status ?? py.signal})`);
  const torchLog = readFileSync(join(work, 'torch', 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>);
  const torchSummary = torchLog.find((r) => r.train_runtime !== undefined)!;
  const torchLoss = new Map(torchLog.filter((r) => typeof r.loss === 'number').map((r) => [Number(r.step), Number(r.loss)]));
  const logits = (name: string): Float32Array => readF32(join(work, 'torch', 'logits', name));
  const step0Torch = logits('validation-step0.f32');
  if (step0Torch.length !== step0Ours.length) throw new Error(`step-0 logits: torch wrote ${step0Torch.length}, ours ${step0Ours.length}`);
  let step0Diff = 0;
  for (let i = 0; i < step0Ours.length; i++) step0Diff = Math.max(step0Diff, Math.abs(step0Ours[i]! - step0Torch[i]!));
  const torchEval = new Map<number, EvalMetrics>();
  for (const s of evalSteps)
    torchEval.set(s, scoreLogits(validation, valBatches, logits(`validation-step${s}.f32`), labels, `torch validation step ${s}`));
  const torchTest = scoreLogits(test, testBatches, logits('test-final.f32'), labels, 'torch test');

  // ---- report
  const rows = evalSteps.map((s) => {
    const o = ours.get(s)!,
      t = torchEval.get(s)!;
    return `| ${s} | ${fmt(oursLoss.get(s))} | ${fmt(torchLoss.get(s))} | ${fmt(Number(o.eval_loss))} | ${fmt(t.loss)} | ${fmt(Number(o.eval_f1))} | ${fmt(t.f1)} | ${fmt(Number(o.eval_f1) - t.f1)} |`;
  });
  const oursFinal = Number(ours.get(total)!.eval_f1),
    torchFinal = torchEval.get(total)!.f1;
  const torchTrainSeconds = Number(torchSummary.train_runtime) - Number(torchSummary.eval_runtime_total);
  const report = [
    `step-0 validation logits, ours vs torch (same initial weights, eval mode): max |diff| = ${step0Diff.toExponential(2)}`,
    '',
    '| step | ours train loss | torch train loss | ours val loss | torch val loss | ours val F1 | torch val F1 | F1 diff |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    '| final | precision | recall | F1 | accuracy | loss |',
    '|---|---:|---:|---:|---:|---:|',
    `| ours validation | ${fmt(Number(ours.get(total)!.eval_precision))} | ${fmt(Number(ours.get(total)!.eval_recall))} | ${fmt(oursFinal)} | ${fmt(Number(ours.get(total)!.eval_accuracy))} | ${fmt(Number(ours.get(total)!.eval_loss))} |`,
    `| torch validation | ${fmt(torchEval.get(total)!.precision)} | ${fmt(torchEval.get(total)!.recall)} | ${fmt(torchFinal)} | ${fmt(torchEval.get(total)!.accuracy)} | ${fmt(torchEval.get(total)!.loss)} |`,
    `| ours test | ${fmt(Number(oursTest.test_precision))} | ${fmt(Number(oursTest.test_recall))} | ${fmt(Number(oursTest.test_f1))} | ${fmt(Number(oursTest.test_accuracy))} | ${fmt(Number(oursTest.test_loss))} |`,
    `| torch test | ${fmt(torchTest.precision)} | ${fmt(torchTest.recall)} | ${fmt(torchTest.f1)} | ${fmt(torchTest.accuracy)} | ${fmt(torchTest.loss)} |`,
    '',
    `final validation F1: ours ${(100 * oursFinal).toFixed(2)}, torch ${(100 * torchFinal).toFixed(2)}, diff ${(100 * (oursFinal - torchFinal)).toFixed(2)} points`,
    `final test F1: ours ${(100 * Number(oursTest.test_f1)).toFixed(2)}, torch ${(100 * torchTest.f1).toFixed(2)}, diff ${(100 * (Number(oursTest.test_f1) - torchTest.f1)).toFixed(2)} points`,
    `training time without evaluation: ours ${oursTrainSeconds.toFixed(1)} s (${(total / oursTrainSeconds).toFixed(2)} steps/s), ` +
      `torch ${torchTrainSeconds.toFixed(1)} s (${(total / torchTrainSeconds).toFixed(2)} steps/s, torch ${torchSummary.torch_version}, ${torchSummary.threads} threads)`,
  ];
  console.log('\n' + report.join('\n'));
  writeFileSync(join(work, 'report.md'), report.join('\n') + '\n');
  writeFileSync(
    join(work, 'results.json'),
    JSON.stringify(
      {
        hparams,
        model: opt.model,
        data: files,
        sharedMasks: opt['shared-masks'],
        step0MaxAbsDiff: step0Diff,
        ours: { loss: Object.fromEntries(oursLoss), eval: Object.fromEntries(ours), test: oursTest, trainSeconds: oursTrainSeconds },
        torch: {
          loss: Object.fromEntries(torchLoss),
          eval: Object.fromEntries(torchEval),
          test: torchTest,
          trainSeconds: torchTrainSeconds,
          summary: torchSummary,
        },
      },
      null,
      2,
    ) + '\n',
  );

  const svgPath = resolve(opt.svg ?? join(work, 'curves.svg'));
  mkdirSync(dirname(svgPath), { recursive: true });
  const title = `${opt.data} from scratch, ${opt.model} BERT, dropout ${dropout}${opt['shared-masks'] && dropout > 0 ? ' (same masks)' : ''}: test F1 ours ${(100 * Number(oursTest.test_f1)).toFixed(1)} vs PyTorch ${(100 * torchTest.f1).toFixed(1)}`;
  writeFileSync(
    svgPath,
    renderComparison(
      title,
      [
        { name: 'tokentune', color: '#1f77b4', dashed: false, points: [...oursLoss].sort((a, b) => a[0] - b[0]) },
        { name: 'PyTorch', color: '#d62728', dashed: true, points: [...torchLoss].sort((a, b) => a[0] - b[0]) },
      ],
      [
        { name: 'tokentune', color: '#1f77b4', dashed: false, points: evalSteps.map((s) => [s, Number(ours.get(s)!.eval_f1)]) },
        { name: 'PyTorch', color: '#d62728', dashed: true, points: evalSteps.map((s) => [s, torchEval.get(s)!.f1]) },
      ],
    ),
  );
  console.log(`plot: ${svgPath}; tables: ${join(work, 'report.md')}; raw: ${join(work, 'results.json')}`);
  if (statSync(svgPath).size === 0) throw new Error(`${svgPath}: empty plot`);
}

interface SavedRun {
  hparams: { seed: number; total_steps: number; eval_steps: number[] };
  ours: { loss: Record<string, number>; eval: Record<string, LogRecord>; test: LogRecord };
  torch: { loss: Record<string, number>; eval: Record<string, EvalMetrics>; test: EvalMetrics };
}

/** Several saved runs (results.json) side by side: per-seed finals, mean and spread, one plot. */
function summarize(dirs: string[]): void {
  const runs = dirs.map((d) => ({ dir: d, r: JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) as SavedRun }));
  const rows = runs.map(({ r }) => {
    const last = String(r.hparams.total_steps);
    return {
      seed: r.hparams.seed,
      oursVal: Number(r.ours.eval[last]!.eval_f1),
      torchVal: r.torch.eval[last]!.f1,
      oursTest: Number(r.ours.test.test_f1),
      torchTest: r.torch.test.f1,
    };
  });
  const stats = (xs: number[]): string => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : NaN;
    return `${(100 * m).toFixed(2)} ± ${(100 * sd).toFixed(2)}`;
  };
  const pct = (v: number): string => (100 * v).toFixed(2);
  const col = (k: keyof (typeof rows)[number]): number[] => rows.map((x) => x[k]);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(
    [
      '| dropout seed | ours val F1 | torch val F1 | ours test F1 | torch test F1 | test diff |',
      '|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (x) =>
          `| ${x.seed} | ${pct(x.oursVal)} | ${pct(x.torchVal)} | ${pct(x.oursTest)} | ${pct(x.torchTest)} | ${pct(x.oursTest - x.torchTest)} |`,
      ),
      `| mean ± sd | ${stats(col('oursVal'))} | ${stats(col('torchVal'))} | ${stats(col('oursTest'))} | ${stats(col('torchTest'))} | ${pct(mean(col('oursTest')) - mean(col('torchTest')))} |`,
      '',
      `difference of the means (ours - torch): validation ${pct(mean(col('oursVal')) - mean(col('torchVal')))} points, test ${pct(mean(col('oursTest')) - mean(col('torchTest')))} points`,
    ].join('\n'),
  );
  if (opt.svg) {
    const blues = ['#1f77b4', '#5fa2d6', '#0b3f66'],
      reds = ['#d62728', '#f07f80', '#7a1010'];
    const pts = (m: Record<string, number>): [number, number][] =>
      Object.entries(m)
        .map(([k, v]) => [Number(k), v] as [number, number])
        .sort((a, b) => a[0] - b[0]);
    const loss: Line[] = [],
      f1: Line[] = [];
    runs.forEach(({ r }, i) => {
      const s = r.hparams.seed;
      loss.push({ name: `tokentune ${s}`, color: blues[i % 3]!, dashed: false, points: pts(r.ours.loss) });
      loss.push({ name: `PyTorch ${s}`, color: reds[i % 3]!, dashed: true, points: pts(r.torch.loss) });
      f1.push({
        name: `tokentune ${s}`,
        color: blues[i % 3]!,
        dashed: false,
        points: r.hparams.eval_steps.map((st) => [st, Number(r.ours.eval[String(st)]!.eval_f1)]),
      });
      f1.push({
        name: `PyTorch ${s}`,
        color: reds[i % 3]!,
        dashed: true,
        points: r.hparams.eval_steps.map((st) => [st, r.torch.eval[String(st)]!.f1]),
      });
    });
    const title =
      `${runs.length} dropout seeds, mean final F1: validation ours ${pct(mean(col('oursVal')))} vs PyTorch ${pct(mean(col('torchVal')))}, ` +
      `test ours ${pct(mean(col('oursTest')))} vs PyTorch ${pct(mean(col('torchTest')))}`;
    writeFileSync(resolve(opt.svg), renderComparison(title, loss, f1, 960, 640));
    console.log(`plot: ${resolve(opt.svg)}`);
  }
}

(opt.summarize ? Promise.resolve().then(() => summarize(opt.summarize!.split(',').filter(Boolean))) : main()).catch((e: unknown) => {
  console.error(`compare-torch: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
