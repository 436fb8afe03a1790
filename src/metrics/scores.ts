// seqeval's metrics API: classification_report, precision/recall/f1/accuracy scores, plus the
// trainer's eval numbers. Arithmetic follows seqeval.metrics.v1._precision_recall_fscore_support
// step by step (per-type division, zero_division substitution, numpy averaging order) so that
// every number equals seqeval's double, not just its rounded print.

import { checkConsistent, detectLevel, type Level } from './tags.js';
import { defaultModeCounts, strictModeCounts, tokenLevelCounts, type TypeCounts } from './counts.js';
import { autoDetectScheme, isSchemeName, SCHEMES, type SchemeName } from './schemes.js';
import { compareCodePoints } from './format-number.js';
import { numpyMean, numpyWeightedMean } from './numpy-sum.js';
import { MetricsInputError } from './errors.js';

export type ZeroDivision = 'warn' | 0 | 1;
export type Average = 'micro' | 'macro' | 'weighted';

export interface MetricsOptions {
  /** 'default': seqeval's conlleval-compatible chunks; 'strict': only well-formed chunks of `scheme`. */
  mode?: 'default' | 'strict';
  /** Scheme for strict mode; detected from the gold prefixes like seqeval's auto_detect when omitted. */
  scheme?: SchemeName;
  /** Tags carry the chunk letter at the end (`PER-B`). */
  suffix?: boolean;
  /** Value for a ratio whose denominator is 0; 'warn' acts as 0 (nothing is printed). */
  zeroDivision?: ZeroDivision;
  /**
   * 'entity': chunk metrics; 'token': each token is its own unit (flat label sets such as POS
   * tags); 'auto' (default): 'token' when no tag has a B-/I-/E-/S-/L-/U- prefix.
   */
  level?: 'auto' | Level;
  /** Label that is not a class at token level (default 'O'). */
  outsideLabel?: string;
}

export interface ScoreRow {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  level: Level;
  mode: 'default' | 'strict';
  /** Scheme used in strict mode, null otherwise. */
  scheme: SchemeName | null;
  /** Types (or labels at token level) in code-point order, as seqeval sorts them. */
  labels: string[];
  perType: Record<string, ScoreRow>;
  /** Raw counts behind each row: correct, predicted, gold. */
  counts: Record<string, TypeCounts>;
  'micro avg': ScoreRow;
  'macro avg': ScoreRow;
  'weighted avg': ScoreRow;
}

function zeroValue(z: ZeroDivision): number {
  return z === 1 ? 1 : 0;
}

function divide(numerator: number, denominator: number, z: ZeroDivision): number {
  return denominator === 0 ? zeroValue(z) : numerator / denominator;
}

/** F1 as seqeval computes F-beta with beta = 1: (1 + 1) * p * r / (1 * p + r), 0/0 -> 0. */
function f1Of(p: number, r: number): number {
  const denom = p + r;
  return (2 * p * r) / (denom === 0 ? 1 : denom);
}

interface ResolvedOptions {
  level: Level;
  mode: 'default' | 'strict';
  scheme: SchemeName | null;
  suffix: boolean;
  zeroDivision: ZeroDivision;
  outside: string;
}

function resolve(yTrue: ReadonlyArray<readonly string[]>, yPred: ReadonlyArray<readonly string[]>, opts: MetricsOptions): ResolvedOptions {
  const mode = opts.mode ?? 'default';
  if (mode !== 'default' && mode !== 'strict') {
    throw new MetricsInputError(`mode must be 'default' or 'strict', got '${String(mode)}'`);
  }
  if (opts.scheme !== undefined && !isSchemeName(opts.scheme)) {
    throw new MetricsInputError(`unknown scheme '${String(opts.scheme)}' (one of ${SCHEMES.join(', ')})`);
  }
  const z = opts.zeroDivision ?? 'warn';
  if (z !== 'warn' && z !== 0 && z !== 1) {
    throw new MetricsInputError(`zeroDivision must be 'warn', 0 or 1, got ${String(z)}`);
  }
  const suffix = opts.suffix ?? false;
  const outside = opts.outsideLabel ?? 'O';
  const requested = opts.level ?? 'auto';
  if (requested !== 'auto' && requested !== 'entity' && requested !== 'token') {
    throw new MetricsInputError(`level must be 'auto', 'entity' or 'token', got '${String(requested)}'`);
  }
  const level = requested === 'auto' ? detectLevel([yTrue, yPred], suffix, outside) : requested;
  let scheme: SchemeName | null = null;
  if (level === 'entity' && mode === 'strict') scheme = opts.scheme ?? autoDetectScheme(yTrue, suffix);
  return { level, mode, scheme, suffix, zeroDivision: z, outside };
}

function countsFor(
  yTrue: ReadonlyArray<readonly string[]>,
  yPred: ReadonlyArray<readonly string[]>,
  r: ResolvedOptions,
): Map<string, TypeCounts> {
  if (r.level === 'token') return tokenLevelCounts(yTrue, yPred, r.outside);
  if (r.scheme !== null) return strictModeCounts(yTrue, yPred, r.scheme, r.suffix);
  return defaultModeCounts(yTrue, yPred, r.suffix);
}

/**
 * Per-type and averaged scores from counts, exactly as seqeval derives them: micro from summed
 * counts, macro as numpy's mean of the per-type values, weighted by gold support (with
 * seqeval's special case when there is no gold unit at all). Macro is NaN when there are no
 * types, as numpy's mean of nothing is.
 */
export function reportFromCounts(
  counts: ReadonlyMap<string, TypeCounts>,
  info: { level: Level; mode: 'default' | 'strict'; scheme: SchemeName | null; zeroDivision?: ZeroDivision },
): ClassificationReport {
  const z = info.zeroDivision ?? 'warn';
  const labels = [...counts.keys()].sort(compareCodePoints);
  const ps: number[] = [];
  const rs: number[] = [];
  const fs: number[] = [];
  const supports: number[] = [];
  let correct = 0;
  let predicted = 0;
  let gold = 0;
  const rows: Array<[string, ScoreRow]> = [];
  const countRows: Array<[string, TypeCounts]> = [];
  for (const label of labels) {
    const c = counts.get(label)!;
    const p = divide(c.correct, c.predicted, z);
    const r = divide(c.correct, c.gold, z);
    const f = f1Of(p, r);
    ps.push(p);
    rs.push(r);
    fs.push(f);
    supports.push(c.gold);
    correct += c.correct;
    predicted += c.predicted;
    gold += c.gold;
    rows.push([label, { precision: p, recall: r, f1: f, support: c.gold }]);
    countRows.push([label, { correct: c.correct, predicted: c.predicted, gold: c.gold }]);
  }
  const microP = divide(correct, predicted, z);
  const microR = divide(correct, gold, z);
  let weighted: ScoreRow;
  if (gold === 0) {
    // seqeval: no gold units, so the support weights sum to 0 and numpy cannot average.
    const zv = zeroValue(z);
    weighted = {
      precision: predicted === 0 ? zv : 0,
      recall: zv,
      f1: predicted === 0 ? zv : 0,
      support: 0,
    };
  } else {
    weighted = {
      precision: numpyWeightedMean(ps, supports),
      recall: numpyWeightedMean(rs, supports),
      f1: numpyWeightedMean(fs, supports),
      support: gold,
    };
  }
  return {
    level: info.level,
    mode: info.mode,
    scheme: info.scheme,
    labels,
    // fromEntries defines own properties, so a type named "__proto__" stays an ordinary key.
    perType: Object.fromEntries(rows),
    counts: Object.fromEntries(countRows),
    'micro avg': { precision: microP, recall: microR, f1: f1Of(microP, microR), support: gold },
    'macro avg': { precision: numpyMean(ps), recall: numpyMean(rs), f1: numpyMean(fs), support: gold },
    'weighted avg': weighted,
  };
}

/** seqeval's classification_report(y_true, y_pred, mode=..., scheme=..., output_dict=True), as numbers. */
export function classificationReport(
  yTrue: ReadonlyArray<readonly string[]>,
  yPred: ReadonlyArray<readonly string[]>,
  opts: MetricsOptions = {},
): ClassificationReport {
  checkConsistent(yTrue, yPred);
  const r = resolve(yTrue, yPred, opts);
  return reportFromCounts(countsFor(yTrue, yPred, r), r);
}

function averaged(report: ClassificationReport, average: Average | undefined): ScoreRow {
  const a = average ?? 'micro';
  if (a !== 'micro' && a !== 'macro' && a !== 'weighted') {
    throw new MetricsInputError(`average must be 'micro', 'macro' or 'weighted', got '${String(a)}'`);
  }
  return report[`${a} avg`];
}

export type ScoreOptions = MetricsOptions & { average?: Average };

/** seqeval's precision_score (micro average unless `average` says otherwise). */
export function precisionScore(
  yTrue: ReadonlyArray<readonly string[]>,
  yPred: ReadonlyArray<readonly string[]>,
  opts: ScoreOptions = {},
): number {
  return averaged(classificationReport(yTrue, yPred, opts), opts.average).precision;
}

/** seqeval's recall_score. */
export function recallScore(
  yTrue: ReadonlyArray<readonly string[]>,
  yPred: ReadonlyArray<readonly string[]>,
  opts: ScoreOptions = {},
): number {
  return averaged(classificationReport(yTrue, yPred, opts), opts.average).recall;
}

/** seqeval's f1_score. */
export function f1Score(yTrue: ReadonlyArray<readonly string[]>, yPred: ReadonlyArray<readonly string[]>, opts: ScoreOptions = {}): number {
  return averaged(classificationReport(yTrue, yPred, opts), opts.average).f1;
}

/** seqeval's accuracy_score: share of tokens whose tag string is exactly right (NaN for no tokens). */
export function accuracyScore(yTrue: ReadonlyArray<readonly string[]>, yPred: ReadonlyArray<readonly string[]>): number {
  checkConsistent(yTrue, yPred);
  let correct = 0;
  let total = 0;
  for (let s = 0; s < yTrue.length; s++) {
    const gold = yTrue[s]!;
    const pred = yPred[s]!;
    for (let i = 0; i < gold.length; i++) if (gold[i] === pred[i]) correct++;
    total += gold.length;
  }
  return correct / total;
}

export interface NerMetrics {
  /** Micro-averaged, as run_ner.py's overall_precision / overall_recall / overall_f1. */
  precision: number;
  recall: number;
  f1: number;
  /** Token accuracy, as overall_accuracy. */
  accuracy: number;
  perType: Record<string, ScoreRow>;
}

/** The evaluation numbers the trainer logs (eval_precision, eval_recall, eval_f1, eval_accuracy). */
export function computeNerMetrics(
  yTrue: ReadonlyArray<readonly string[]>,
  yPred: ReadonlyArray<readonly string[]>,
  opts: MetricsOptions = {},
): NerMetrics {
  const report = classificationReport(yTrue, yPred, opts);
  const micro = report['micro avg'];
  return {
    precision: micro.precision,
    recall: micro.recall,
    f1: micro.f1,
    accuracy: accuracyScore(yTrue, yPred),
    perType: report.perType,
  };
}
