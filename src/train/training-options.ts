// TRAINING_OPTIONS: one row per TrainingArguments field (snake_case name, aliases, type, default,
// help group). It drives defaults and training_args.json here, and in src/cli/ the parsing of
// flags and config files, the help text and formatting back to flags.

import { toSnakeCase } from '../util/option-names.js';
import type { RawTrainingArguments, TrainingArguments } from './training-args-types.js';

export type OptionType =
  | { kind: 'bool' }
  | { kind: 'int'; min?: number; nullable?: boolean }
  | { kind: 'float'; min?: number; max?: number; minExclusive?: boolean; nullable?: boolean }
  | { kind: 'string'; nullable?: boolean }
  | { kind: 'enum'; values: readonly string[] }
  /** A positive integer, or a ratio in (0, 1) of the total number of training steps (HF). */
  | { kind: 'steps'; nullable?: boolean; allowZero?: boolean }
  /** null, true (latest checkpoint) or a folder path. */
  | { kind: 'resume' }
  /** null, 'balanced' or a list of non-negative numbers. */
  | { kind: 'classWeights' };

export type OptionGroup = 'output' | 'training' | 'optimizer' | 'schedule' | 'logging' | 'checkpoints' | 'model' | 'data';

export const OPTION_GROUP_TITLES: Readonly<Record<OptionGroup, string>> = {
  output: 'Output and what to run',
  training: 'Training loop',
  optimizer: 'Optimizer (AdamW)',
  schedule: 'Learning-rate schedule',
  logging: 'Logging and evaluation',
  checkpoints: 'Checkpoints, best model and early stopping',
  model: 'Model',
  data: 'Data',
};

export interface OptionSpec {
  /** Field of TrainingArguments. */
  key: keyof TrainingArguments;
  /** Hugging Face's snake_case name, used in messages and saved files. */
  name: string;
  /** Other snake_case names accepted for this option (older HF names, our shorthands). */
  aliases: readonly string[];
  type: OptionType;
  default: unknown;
  group: OptionGroup;
  help: string;
}

interface SpecFields<T> {
  type: OptionType;
  default: T;
  group: OptionGroup;
  help: string;
  aliases?: readonly string[];
}

const BOOL: OptionType = { kind: 'bool' };
const STR_OR_NULL: OptionType = { kind: 'string', nullable: true };
const POS_INT: OptionType = { kind: 'int', min: 1 };
const COUNT_OR_NULL: OptionType = { kind: 'int', min: 1, nullable: true };
const STRATEGY: OptionType = { kind: 'enum', values: ['no', 'steps', 'epoch'] };

// The mapped type makes the compiler check that every field has exactly one spec with a default
// of the field's type. Object key order is the order of help output.
const SPECS: { [K in keyof RawTrainingArguments]: SpecFields<RawTrainingArguments[K]> } = {
  outputDir: { type: { kind: 'string' }, default: './results', group: 'output', help: 'Folder for checkpoints, logs and the final model.' },
  overwriteOutputDir: {
    type: BOOL,
    default: false,
    group: 'output',
    help: 'Allow writing into a non-empty output_dir (without resuming).',
  },
  doTrain: { type: BOOL, default: false, group: 'output', help: 'Run training.' },
  doEval: {
    type: BOOL,
    default: false,
    group: 'output',
    help: 'Evaluate on the validation set (set automatically when eval_strategy is not "no").',
  },
  doPredict: { type: BOOL, default: false, group: 'output', help: 'Predict on the test set.' },

  numTrainEpochs: {
    type: { kind: 'float', min: 0 },
    default: 3,
    group: 'training',
    help: 'Number of training epochs (may be fractional).',
  },
  maxSteps: {
    type: { kind: 'int' },
    default: -1,
    group: 'training',
    help: 'If > 0: total number of optimizer steps; overrides num_train_epochs.',
  },
  perDeviceTrainBatchSize: {
    type: POS_INT,
    default: 8,
    group: 'training',
    help: 'Training batch size.',
    aliases: ['per_gpu_train_batch_size', 'train_batch_size', 'batch_size'],
  },
  perDeviceEvalBatchSize: {
    type: POS_INT,
    default: 8,
    group: 'training',
    help: 'Evaluation batch size.',
    aliases: ['per_gpu_eval_batch_size', 'eval_batch_size'],
  },
  gradientAccumulationSteps: {
    type: POS_INT,
    default: 1,
    group: 'training',
    help: 'Batches whose gradients are summed before each optimizer step.',
  },
  seed: { type: { kind: 'int', min: 0 }, default: 42, group: 'training', help: 'Random seed for initialisation and data order.' },
  dataSeed: {
    type: { kind: 'int', min: 0, nullable: true },
    default: null,
    group: 'training',
    help: 'Separate seed for data shuffling (default: seed).',
  },
  groupByLength: { type: BOOL, default: false, group: 'training', help: 'Batch sentences of similar length together to reduce padding.' },
  bf16: {
    type: BOOL,
    default: false,
    group: 'training',
    help: 'bf16 mixed precision: bfloat16 matmuls (AVX512_BF16 where the CPU has it) with float32 accumulation and master weights.',
  },
  classWeights: {
    type: { kind: 'classWeights' },
    default: null,
    group: 'training',
    help: "Per-label loss weights: 'balanced' or a comma-separated list in label-id order.",
  },
  threads: {
    type: COUNT_OR_NULL,
    default: null,
    group: 'training',
    help: 'CPU threads for the compute kernels (default: all available cores).',
  },

  optim: {
    type: { kind: 'enum', values: ['adamw_torch', 'adamw_hf', 'adamw_torch_fused'] },
    default: 'adamw_torch',
    group: 'optimizer',
    help: 'Optimizer; all accepted names mean the same decoupled-weight-decay AdamW.',
  },
  learningRate: {
    type: { kind: 'float', min: 0 },
    default: 5e-5,
    group: 'optimizer',
    help: 'Initial (peak) learning rate.',
    aliases: ['lr'],
  },
  weightDecay: {
    type: { kind: 'float', min: 0 },
    default: 0,
    group: 'optimizer',
    help: 'Decoupled weight decay (not applied to biases and LayerNorm weights).',
  },
  adamBeta1: { type: { kind: 'float', min: 0, max: 1 }, default: 0.9, group: 'optimizer', help: 'AdamW beta1.' },
  adamBeta2: { type: { kind: 'float', min: 0, max: 1 }, default: 0.999, group: 'optimizer', help: 'AdamW beta2.' },
  adamEpsilon: { type: { kind: 'float', min: 0 }, default: 1e-8, group: 'optimizer', help: 'AdamW epsilon.' },
  maxGradNorm: {
    type: { kind: 'float', min: 0 },
    default: 1.0,
    group: 'optimizer',
    help: 'Clip the global gradient norm to this value (0: no clipping).',
  },

  lrSchedulerType: {
    type: { kind: 'enum', values: ['linear', 'cosine', 'constant', 'constant_with_warmup'] },
    default: 'linear',
    group: 'schedule',
    help: 'Learning-rate schedule.',
  },
  warmupSteps: {
    type: { kind: 'steps', allowZero: true },
    default: 0,
    group: 'schedule',
    help: 'Linear warmup over this many steps (overrides warmup_ratio); below 1: a ratio of the total steps, as in transformers 5.',
  },
  warmupRatio: {
    type: { kind: 'float', min: 0, max: 1 },
    default: 0,
    group: 'schedule',
    help: 'Linear warmup over this fraction of the total steps.',
  },

  evalStrategy: {
    type: STRATEGY,
    default: 'no',
    group: 'logging',
    help: 'When to evaluate during training.',
    aliases: ['evaluation_strategy'],
  },
  evalSteps: {
    type: { kind: 'steps', nullable: true },
    default: null,
    group: 'logging',
    help: 'Evaluate every N steps (default: logging_steps; < 1: ratio of total steps).',
  },
  loggingStrategy: { type: STRATEGY, default: 'steps', group: 'logging', help: 'When to log the training loss.' },
  loggingSteps: { type: { kind: 'steps' }, default: 500, group: 'logging', help: 'Log every N steps (< 1: ratio of total steps).' },
  loggingFirstStep: { type: BOOL, default: false, group: 'logging', help: 'Also log after the first step.' },
  reportTo: {
    type: { kind: 'string' },
    default: 'none',
    group: 'logging',
    help: "Where logs go besides log.jsonl and the console: tensorboard (event files in logging_dir; 'all' means the same), or none (transformers 5's default).",
  },
  loggingDir: {
    type: STR_OR_NULL,
    default: null,
    group: 'logging',
    help: 'Folder for the TensorBoard event files (default: output_dir/runs/<date>_<host>, as transformers; also $TENSORBOARD_LOGGING_DIR).',
  },
  disableTqdm: {
    type: BOOL,
    default: false,
    group: 'logging',
    help: 'Disable the progress bar.',
    aliases: ['disable_progress_bar', 'no_progress'],
  },

  saveStrategy: { type: STRATEGY, default: 'steps', group: 'checkpoints', help: 'When to save a checkpoint.' },
  saveSteps: { type: { kind: 'steps' }, default: 500, group: 'checkpoints', help: 'Save every N steps (< 1: ratio of total steps).' },
  saveTotalLimit: {
    type: { kind: 'int', min: 0, nullable: true },
    default: null,
    group: 'checkpoints',
    help: 'Keep at most this many checkpoints (the best one is never deleted).',
  },
  loadBestModelAtEnd: {
    type: BOOL,
    default: false,
    group: 'checkpoints',
    help: 'Load the best checkpoint at the end of training (needs matching eval/save strategies).',
  },
  metricForBestModel: {
    type: STR_OR_NULL,
    default: null,
    group: 'checkpoints',
    help: "Metric that picks the best model, e.g. 'f1' or 'eval_f1' (default with load_best_model_at_end: loss).",
  },
  greaterIsBetter: {
    type: BOOL,
    default: null,
    group: 'checkpoints',
    help: 'Whether a larger metric is better (default: true unless the metric name ends in "loss").',
  },
  resumeFromCheckpoint: {
    type: { kind: 'resume' },
    default: null,
    group: 'checkpoints',
    help: 'Resume from this checkpoint folder, or from the latest one in output_dir when given without a value / as true.',
  },
  earlyStoppingPatience: {
    type: COUNT_OR_NULL,
    default: null,
    group: 'checkpoints',
    help: 'Stop after this many evaluations without improvement (needs load_best_model_at_end).',
  },
  earlyStoppingThreshold: {
    type: { kind: 'float', min: 0 },
    default: 0,
    group: 'checkpoints',
    help: 'Minimum improvement that resets early-stopping patience.',
  },

  modelNameOrPath: { type: STR_OR_NULL, default: null, group: 'model', help: 'Pretrained model folder or Hub id.', aliases: ['model'] },
  configName: { type: STR_OR_NULL, default: null, group: 'model', help: 'Model config, if not the one of model_name_or_path.' },
  tokenizerName: { type: STR_OR_NULL, default: null, group: 'model', help: 'Tokenizer, if not the one of model_name_or_path.' },
  ignoreMismatchedSizes: {
    type: BOOL,
    default: false,
    group: 'model',
    help: 'Re-initialise weights whose shape differs (e.g. a classifier with another label count).',
  },
  doLowerCase: {
    type: BOOL,
    default: null,
    group: 'model',
    help: 'Lowercase text in the tokenizer built from --tokenizer-name vocab.txt (default: from the vocabulary: cased when it has uppercase entries).',
  },

  taskName: { type: { kind: 'enum', values: ['ner', 'pos', 'chunk'] }, default: 'ner', group: 'data', help: 'Task: ner, pos or chunk.' },
  // Help of the three lines below: data/hub-dataset.ts (loading by name; columns chosen by name, never by position).
  datasetName: {
    type: STR_OR_NULL,
    default: null,
    group: 'data',
    help: 'Hugging Face hub dataset (e.g. wnut_17, eriktks/conll2003) or a local folder laid out like one; used when no data files are given.',
  },
  datasetConfigName: { type: STR_OR_NULL, default: null, group: 'data', help: 'Dataset configuration name.' },
  trainFile: { type: STR_OR_NULL, default: null, group: 'data', help: 'Training data file (CoNLL, JSON lines, Parquet).' },
  validationFile: { type: STR_OR_NULL, default: null, group: 'data', help: 'Validation data file.' },
  testFile: { type: STR_OR_NULL, default: null, group: 'data', help: 'Test data file.' },
  textColumnName: { type: STR_OR_NULL, default: null, group: 'data', help: "Column holding the words (default: 'tokens', else 'words')." },
  labelColumnName: {
    type: STR_OR_NULL,
    default: null,
    group: 'data',
    help: "Column holding the tags (default: '<task>_tags' for hub datasets, else the first of ner_tags, pos_tags, chunk_tags, tags, labels).",
  },
  maxSeqLength: {
    type: { kind: 'int', min: 3 },
    default: 512,
    group: 'data',
    help: 'Maximum sequence length in subword tokens, including [CLS] and [SEP].',
  },
  stride: {
    type: { kind: 'int', min: 0 },
    default: 0,
    group: 'data',
    help: 'Tokens of overlap between consecutive windows when a sentence is longer than max_seq_length.',
  },
  padToMaxLength: { type: BOOL, default: false, group: 'data', help: 'Pad every batch to max_seq_length instead of its longest sentence.' },
  labelAllTokens: {
    type: BOOL,
    default: false,
    group: 'data',
    help: 'Label every subword of a word (default: first subword only; others ignored by the loss).',
  },
  returnEntityLevelMetrics: {
    type: BOOL,
    default: false,
    group: 'data',
    help: 'Report precision/recall/F1 per entity type, not only overall.',
  },
  maxTrainSamples: { type: COUNT_OR_NULL, default: null, group: 'data', help: 'Use only the first N training examples.' },
  maxEvalSamples: { type: COUNT_OR_NULL, default: null, group: 'data', help: 'Use only the first N evaluation examples.' },
  maxPredictSamples: { type: COUNT_OR_NULL, default: null, group: 'data', help: 'Use only the first N test examples.' },
  labelNames: {
    type: STR_OR_NULL,
    default: null,
    group: 'data',
    help: "File with one label name per line, in id order, for data whose tags are integers (default: the model config's id2label).",
  },
};
// greaterIsBetter is the one bool that may be unset (derived from the metric name).
export const NULLABLE_BOOLS = new Set<keyof TrainingArguments>(['greaterIsBetter', 'doLowerCase']);

export const TRAINING_OPTIONS: readonly OptionSpec[] = Object.entries(SPECS).map(([key, s]) => ({
  key: key as keyof TrainingArguments,
  name: toSnakeCase(key),
  aliases: s.aliases ?? [],
  type: s.type,
  default: s.default,
  group: s.group,
  help: s.help,
}));

const BY_NAME = new Map<string, OptionSpec>();
for (const o of TRAINING_OPTIONS) {
  for (const n of [o.name, ...o.aliases]) {
    if (BY_NAME.has(n)) throw new Error(`training options: name '${n}' is defined twice`);
    BY_NAME.set(n, o);
  }
}

/** The option for any spelling of its name or aliases (`learningRate`, `--learning-rate`, `learning_rate`). */
export function findOption(name: string): OptionSpec | undefined {
  return BY_NAME.get(toSnakeCase(name.replace(/^-+/, '')));
}

/** Every snake_case name and alias of the options (for did-you-mean suggestions). */
export function trainingOptionNames(): string[] {
  return [...BY_NAME.keys()];
}
