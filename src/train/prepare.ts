/**
 * From files and a model to what the Trainer eats: read the splits, settle the label list
 * (from the data, or from an already fine-tuned model's config), tokenize, align and window.
 */
import { loadSplits, type SplitName, type Splits } from '../data/load.js';
import { buildLabelMap, labelsIn, makeLabelMap } from '../data/label-map.js';
import { buildFeatures, type FeatureStats } from '../data/features.js';
import { WordPieceCache, type WordTokenizer } from '../data/align.js';
import type { Dataset } from '../data/types.js';
import type { EncodedSplit } from './trainer.js';

export interface DataFiles {
  train?: string | null;
  validation?: string | null;
  test?: string | null;
}

export async function readDataFiles(files: DataFiles): Promise<Splits> {
  const spec: Partial<Record<SplitName, string>> = {};
  if (files.train) spec.train = files.train;
  if (files.validation) spec.validation = files.validation;
  if (files.test) spec.test = files.test;
  if (Object.keys(spec).length === 0) throw new Error('no data: give --train-file (and --validation-file / --test-file), or --dataset-name');
  return loadSplits(spec);
}

/**
 * The label list to train with: the model's own labels when they cover every tag in the data
 * (fine-tuning an already fine-tuned model keeps its head), else the union of the data's tags.
 */
export function chooseLabels(splits: Splits, modelLabels: readonly string[]): string[] {
  const present = [splits.train, splits.validation, splits.test].filter((s): s is Dataset => !!s);
  if (modelLabels.length > 0 && !/^LABEL_\d+$/.test(modelLabels[0])) {
    const known = new Set(modelLabels);
    let covered = true;
    for (const t of labelsIn(present)) if (!known.has(t)) { covered = false; break; }
    if (covered) return [...modelLabels];
  }
  return [...buildLabelMap(present).labels];
}

export interface EncodeOptions {
  maxSeqLength: number;
  stride?: number;
  labelAllTokens?: boolean;
  maxSamples?: number | null;
}

/** Tokenizes one split; every split of a run should share one `cache`. */
export function encodeSplit(data: Dataset, tokenizer: WordTokenizer, labels: readonly string[], opts: EncodeOptions,
  cache?: WordPieceCache): { split: EncodedSplit; stats: FeatureStats } {
  const sentences = opts.maxSamples ? data.sentences.slice(0, opts.maxSamples) : data.sentences;
  const { features, stats } = buildFeatures({ sentences, source: data.source }, tokenizer, makeLabelMap(labels), {
    maxSeqLength: opts.maxSeqLength,
    ...(opts.stride !== undefined ? { stride: opts.stride } : {}),
    labelAllTokens: opts.labelAllTokens ?? false,
    cache: cache ?? new WordPieceCache(tokenizer),
  });
  return { split: { features, sentences }, stats };
}
