/**
 * From files and a model to what the Trainer eats: read the splits, settle the label list
 * (from the data, or from an already fine-tuned model's config), tokenize, align and window.
 */
import { loadSplits, type SplitName, type Splits } from '../data/splits.js';
import { buildLabelMap, labelsIn, makeLabelMap } from '../data/label-map.js';
import { buildFeatures, type FeatureStats } from '../data/features.js';
import { WordPieceCache, type WordTokenizer } from '../data/align.js';
import type { Dataset } from '../data/types.js';
import type { EncodedSplit } from './trainer.js';
import { loadHubDataset, type HubOptions } from '../data/hub-dataset.js';
import type { TrainingArguments } from './training-args.js';

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
  if (Object.keys(spec).length === 0)
    throw new Error('no data: give --train-file (and --validation-file / --test-file), or --dataset-name');
  return loadSplits(spec);
}

// --- datasets by name (issue "Datasets by name from the Hugging Face hub") -------------------

/** The data settings of a run, named as in TrainingArguments. */
export type DataArgs = Pick<
  TrainingArguments,
  'trainFile' | 'validationFile' | 'testFile' | 'datasetName' | 'datasetConfigName' | 'textColumnName' | 'labelColumnName' | 'taskName'
>;

export interface TrainingData {
  splits: Splits;
  /** The dataset's ClassLabel names of the tag column (hub datasets with integer tags), else null. */
  labelNames: string[] | null;
}

/**
 * The splits a run uses: the local files when any is given, else the dataset named by
 * dataset_name (a hub dataset, or a local folder laid out like one) with dataset_config_name.
 * Hub options (cache, endpoint, offline, token, progress) come from the HF_* environment.
 */
export async function readTrainingData(
  args: DataArgs,
  hub: HubOptions = {},
  labelNames: readonly string[] | null = null,
): Promise<TrainingData> {
  const columns = {
    ...(args.textColumnName ? { tokensField: args.textColumnName } : {}),
    ...(args.labelColumnName ? { tagsField: args.labelColumnName } : {}),
    // Names for integer tags in local JSON lines / CSV / parquet files (--label-names, or the model's id2label).
    ...(labelNames ? { labelNames } : {}),
  };
  if (args.trainFile || args.validationFile || args.testFile || !args.datasetName) {
    const spec: Partial<Record<SplitName, string>> = {};
    if (args.trainFile) spec.train = args.trainFile;
    if (args.validationFile) spec.validation = args.validationFile;
    if (args.testFile) spec.test = args.testFile;
    if (Object.keys(spec).length === 0)
      throw new Error('no data: give --dataset-name (a Hugging Face hub dataset), or --train-file (and --validation-file / --test-file)');
    const splits = await loadSplits(spec, columns);
    const first = splits.train ?? splits.validation ?? splits.test;
    if (args.datasetName && first) first.warnings.push(`dataset_name '${args.datasetName}' is ignored because data files are given`);
    return { splits, labelNames: labelNames ? [...labelNames] : null };
  }
  const ds = await loadHubDataset(args.datasetName, {
    ...hub,
    config: args.datasetConfigName,
    textColumn: args.textColumnName,
    labelColumn: args.labelColumnName,
    task: args.taskName,
  });
  return { splits: ds.splits, labelNames: ds.labelNames };
}

/**
 * The label list to train with: the model's own labels when they cover every tag in the data
 * (fine-tuning an already fine-tuned model keeps its head); else the dataset's declared label
 * names (ClassLabel order, as run_ner.py uses them) when they cover the data; else the union of
 * the data's tags.
 */
export function chooseLabels(splits: Splits, modelLabels: readonly string[], datasetLabels: readonly string[] | null = null): string[] {
  const present = [splits.train, splits.validation, splits.test].filter((s): s is Dataset => !!s);
  const covers = (labels: readonly string[]): boolean => {
    const known = new Set(labels);
    for (const t of labelsIn(present)) if (!known.has(t)) return false;
    return true;
  };
  if (modelLabels.length > 0 && !/^LABEL_\d+$/.test(modelLabels[0]) && covers(modelLabels)) return [...modelLabels];
  if (datasetLabels && datasetLabels.length > 0 && covers(datasetLabels)) return [...datasetLabels];
  return [...buildLabelMap(present).labels];
}

export interface EncodeOptions {
  maxSeqLength: number;
  stride?: number;
  labelAllTokens?: boolean;
  maxSamples?: number | null;
}

/** Tokenizes one split; every split of a run should share one `cache`. */
export function encodeSplit(
  data: Dataset,
  tokenizer: WordTokenizer,
  labels: readonly string[],
  opts: EncodeOptions,
  cache?: WordPieceCache,
): { split: EncodedSplit; stats: FeatureStats } {
  const sentences = opts.maxSamples ? data.sentences.slice(0, opts.maxSamples) : data.sentences;
  const { features, stats } = buildFeatures({ sentences, source: data.source }, tokenizer, makeLabelMap(labels), {
    maxSeqLength: opts.maxSeqLength,
    ...(opts.stride !== undefined ? { stride: opts.stride } : {}),
    labelAllTokens: opts.labelAllTokens ?? false,
    cache: cache ?? new WordPieceCache(tokenizer),
  });
  return { split: { features, sentences }, stats };
}
