// The evaluation loop, shared by Trainer.evaluate() / predictWords() and `tokentune evaluate`:
// the model over a split under noGrad, one tag per word, the gold cross-entropy (eval_loss) and
// seqeval's entity metrics, named as HF's Trainer names them.

import { Tensor, noGrad, ops, tidy, clearPool } from '../engine/index.js';
import type { Feature } from '../data/features.js';
import { DataLoader } from '../data/epoch-batches.js';
import { computeNerMetrics } from '../metrics/index.js';
import type { TokenClassifier } from '../models/index.js';
import { WordPredictions } from './word-predictions.js';

/** A split ready for the model: features (windows) plus the word-level sentences they came from. */
export interface EncodedSplit {
  features: Feature[];
  sentences: readonly { tokens: readonly string[]; tags?: readonly string[] }[];
}

export type LogRecord = Record<string, number | string>;

/** Extra metrics from word-level predictions (the Trainer's computeMetrics). */
export type ComputeMetrics = (p: { predictions: string[][]; references: string[][] }) => Record<string, number>;

export interface EvalLoopOptions {
  batchSize: number;
  padId: number;
  /** bf16 mixed-precision matmuls (--bf16), else float32. */
  bf16: boolean;
}

export interface WordPredictionResult {
  predictions: string[][];
  confidences: Float32Array[];
  /** Mean gold cross-entropy over the batches with labels (NaN when none has). */
  loss: number;
  batches: number;
}

/** Word-level tags for every sentence of a split, and the mean loss where gold labels exist. */
export function predictWords(model: TokenClassifier, data: EncodedSplit, opts: EvalLoopOptions): WordPredictionResult {
  const words = new WordPredictions(
    data.sentences.map((s) => s.tokens.length),
    model.config.labels,
  );
  const loader = new DataLoader(data.features, { batchSize: opts.batchSize, sampler: 'sequential', padId: opts.padId });
  let lossSum = 0,
    lossRows = 0,
    batches = 0;
  for (const batch of loader.batchesForEpoch(0)) {
    batches++;
    ops.withMatmulPrecision(opts.bf16 ? 'bf16' : 'fp32', () =>
      noGrad(() =>
        tidy(() => {
          const logits = model.forward(batch, { training: false, skipPadding: true });
          words.add(batch.features, logits.f, batch.seqLen);
          if (batch.labels.some((y) => y !== -100)) {
            const l = ops.crossEntropy(logits, Tensor.from(batch.labels, [batch.labels.length])).item();
            // HF averages per-batch mean losses weighted by the number of sequences.
            lossSum += l * batch.batchSize;
            lossRows += batch.batchSize;
          }
        }),
      ),
    );
  }
  clearPool();
  return { predictions: words.result(), confidences: words.confidences(), loss: lossRows ? lossSum / lossRows : NaN, batches };
}

/**
 * `<prefix>_loss`, the metrics (default: seqeval-exact precision, recall, f1, accuracy), runtime
 * and throughput since `started` (Date.now() before predictWords) for predictions of `data`.
 */
export function evalRecord(
  data: EncodedSplit,
  predicted: WordPredictionResult,
  started: number,
  opts: { prefix?: string; computeMetrics?: ComputeMetrics } = {},
): LogRecord {
  const prefix = opts.prefix ?? 'eval';
  const { predictions, loss, batches } = predicted;
  const references = data.sentences.map((s, i) => {
    if (!s.tags) throw new Error(`evaluate(): sentence ${i} has no gold tags`);
    return [...s.tags];
  });
  const m = opts.computeMetrics
    ? opts.computeMetrics({ predictions, references })
    : (() => {
        const r = computeNerMetrics(references, predictions);
        return { precision: r.precision, recall: r.recall, f1: r.f1, accuracy: r.accuracy };
      })();
  const runtime = (Date.now() - started) / 1000;
  const rec: LogRecord = { [`${prefix}_loss`]: round(loss) };
  for (const [k, v] of Object.entries(m)) rec[`${prefix}_${k}`] = round(v);
  Object.assign(rec, {
    [`${prefix}_runtime`]: round(runtime, 4),
    [`${prefix}_samples_per_second`]: round(data.features.length / Math.max(runtime, 1e-9), 3),
    [`${prefix}_steps_per_second`]: round(batches / Math.max(runtime, 1e-9), 3),
  });
  return rec;
}

/** Evaluates `model` on a labelled split: the eval_* record (as evalRecord) and the word-level tags. */
export function evaluateSplit(
  model: TokenClassifier,
  data: EncodedSplit,
  opts: EvalLoopOptions & { prefix?: string; computeMetrics?: ComputeMetrics },
): { record: LogRecord; predictions: string[][] } {
  const started = Date.now();
  const predicted = predictWords(model, data, opts);
  return { record: evalRecord(data, predicted, started, opts), predictions: predicted.predictions };
}

/** Rounds to `digits` decimals (HF's logs round this way); non-finite values pass through. */
export function round(v: number, digits = 6): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
