// TrainingArguments: Hugging Face Trainer's settings (same names and defaults, camelCase in TS)
// plus run_ner.py's model/data options and tokentune's extras. One table (TRAINING_OPTIONS) drives
// parsing from CLI flags and config files, validation, help text and formatting back to flags.
// Precedence: defaults < config object < config files (in order) < CLI flags.

import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { findJsonError, lineColumn } from '../util/json-text.js';
import { nearest } from '../cli/suggest.js';

export type IntervalStrategy = 'no' | 'steps' | 'epoch';
export type LrSchedulerType = 'linear' | 'cosine' | 'constant' | 'constant_with_warmup';
export type ClassWeights = null | number[] | 'balanced';
export type OptimizerName = 'adamw_torch' | 'adamw_hf' | 'adamw_torch_fused';

export interface TrainingArguments {
  // Output
  outputDir: string;
  overwriteOutputDir: boolean;
  doTrain: boolean;
  doEval: boolean;
  doPredict: boolean;
  // Training loop
  numTrainEpochs: number;
  maxSteps: number;
  perDeviceTrainBatchSize: number;
  perDeviceEvalBatchSize: number;
  gradientAccumulationSteps: number;
  seed: number;
  dataSeed: number | null;
  groupByLength: boolean;
  /** bf16 mixed precision: matmuls in bfloat16 with float32 accumulation and float32 master weights. */
  bf16: boolean;
  classWeights: ClassWeights;
  threads: number | null;
  // Optimizer
  optim: OptimizerName;
  learningRate: number;
  weightDecay: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  maxGradNorm: number;
  // Learning-rate schedule
  lrSchedulerType: LrSchedulerType;
  warmupSteps: number;
  warmupRatio: number;
  // Logging and evaluation
  evalStrategy: IntervalStrategy;
  /** Resolved: equals loggingSteps when not given (as HF). Values below 1 are ratios of max steps. */
  evalSteps: number;
  loggingStrategy: IntervalStrategy;
  loggingSteps: number;
  loggingFirstStep: boolean;
  /** Where logs go besides log.jsonl: 'tensorboard' / 'all' (event files) or 'none' (transformers 5's default). */
  reportTo: string;
  /** Folder of the TensorBoard event files; null: output_dir/runs/<date>_<host> (transformers' default_logdir). */
  loggingDir: string | null;
  disableTqdm: boolean;
  // Checkpoints
  saveStrategy: IntervalStrategy;
  saveSteps: number;
  saveTotalLimit: number | null;
  loadBestModelAtEnd: boolean;
  /** As given ('f1' or 'eval_f1'); 'loss' when loadBestModelAtEnd and not given. See metricKey(). */
  metricForBestModel: string | null;
  /** Resolved from metricForBestModel when not given: false for names ending in 'loss'. */
  greaterIsBetter: boolean | null;
  /** A checkpoint folder, or true for the latest checkpoint in outputDir. */
  resumeFromCheckpoint: string | true | null;
  earlyStoppingPatience: number | null;
  earlyStoppingThreshold: number;
  // Model (run_ner.py ModelArguments)
  modelNameOrPath: string | null;
  configName: string | null;
  tokenizerName: string | null;
  ignoreMismatchedSizes: boolean;
  /** null: decided from the vocabulary when training from scratch (a vocab with capitals is cased). */
  doLowerCase: boolean | null;
  // Data (run_ner.py DataTrainingArguments)
  taskName: string;
  datasetName: string | null;
  datasetConfigName: string | null;
  trainFile: string | null;
  validationFile: string | null;
  testFile: string | null;
  textColumnName: string | null;
  labelColumnName: string | null;
  maxSeqLength: number;
  stride: number;
  padToMaxLength: boolean;
  labelAllTokens: boolean;
  returnEntityLevelMetrics: boolean;
  maxTrainSamples: number | null;
  maxEvalSamples: number | null;
  maxPredictSamples: number | null;
  /** A file of label names, one per line (id order), for data with integer tags. */
  labelNames: string | null;
}

/** Before resolution evalSteps may be unset. */
type RawTrainingArguments = Omit<TrainingArguments, 'evalSteps'> & { evalSteps: number | null };

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
  overwriteOutputDir: { type: BOOL, default: false, group: 'output', help: 'Allow writing into a non-empty output_dir (without resuming).' },
  doTrain: { type: BOOL, default: false, group: 'output', help: 'Run training.' },
  doEval: { type: BOOL, default: false, group: 'output', help: 'Evaluate on the validation set (set automatically when eval_strategy is not "no").' },
  doPredict: { type: BOOL, default: false, group: 'output', help: 'Predict on the test set.' },

  numTrainEpochs: { type: { kind: 'float', min: 0 }, default: 3, group: 'training', help: 'Number of training epochs (may be fractional).' },
  maxSteps: { type: { kind: 'int' }, default: -1, group: 'training', help: 'If > 0: total number of optimizer steps; overrides num_train_epochs.' },
  perDeviceTrainBatchSize: { type: POS_INT, default: 8, group: 'training', help: 'Training batch size.', aliases: ['per_gpu_train_batch_size', 'train_batch_size', 'batch_size'] },
  perDeviceEvalBatchSize: { type: POS_INT, default: 8, group: 'training', help: 'Evaluation batch size.', aliases: ['per_gpu_eval_batch_size', 'eval_batch_size'] },
  gradientAccumulationSteps: { type: POS_INT, default: 1, group: 'training', help: 'Batches whose gradients are summed before each optimizer step.' },
  seed: { type: { kind: 'int', min: 0 }, default: 42, group: 'training', help: 'Random seed for initialisation and data order.' },
  dataSeed: { type: { kind: 'int', min: 0, nullable: true }, default: null, group: 'training', help: 'Separate seed for data shuffling (default: seed).' },
  groupByLength: { type: BOOL, default: false, group: 'training', help: 'Batch sentences of similar length together to reduce padding.' },
  bf16: { type: BOOL, default: false, group: 'training', help: 'bf16 mixed precision: bfloat16 matmuls (AVX512_BF16 where the CPU has it) with float32 accumulation and master weights.' },
  classWeights: { type: { kind: 'classWeights' }, default: null, group: 'training', help: "Per-label loss weights: 'balanced' or a comma-separated list in label-id order." },
  threads: { type: COUNT_OR_NULL, default: null, group: 'training', help: 'CPU threads for the compute kernels (default: all available cores).' },

  optim: { type: { kind: 'enum', values: ['adamw_torch', 'adamw_hf', 'adamw_torch_fused'] }, default: 'adamw_torch', group: 'optimizer', help: 'Optimizer; all accepted names mean the same decoupled-weight-decay AdamW.' },
  learningRate: { type: { kind: 'float', min: 0 }, default: 5e-5, group: 'optimizer', help: 'Initial (peak) learning rate.', aliases: ['lr'] },
  weightDecay: { type: { kind: 'float', min: 0 }, default: 0, group: 'optimizer', help: 'Decoupled weight decay (not applied to biases and LayerNorm weights).' },
  adamBeta1: { type: { kind: 'float', min: 0, max: 1 }, default: 0.9, group: 'optimizer', help: 'AdamW beta1.' },
  adamBeta2: { type: { kind: 'float', min: 0, max: 1 }, default: 0.999, group: 'optimizer', help: 'AdamW beta2.' },
  adamEpsilon: { type: { kind: 'float', min: 0 }, default: 1e-8, group: 'optimizer', help: 'AdamW epsilon.' },
  maxGradNorm: { type: { kind: 'float', min: 0 }, default: 1.0, group: 'optimizer', help: 'Clip the global gradient norm to this value (0: no clipping).' },

  lrSchedulerType: { type: { kind: 'enum', values: ['linear', 'cosine', 'constant', 'constant_with_warmup'] }, default: 'linear', group: 'schedule', help: 'Learning-rate schedule.' },
  warmupSteps: { type: { kind: 'steps', allowZero: true }, default: 0, group: 'schedule', help: 'Linear warmup over this many steps (overrides warmup_ratio); below 1: a ratio of the total steps, as in transformers 5.' },
  warmupRatio: { type: { kind: 'float', min: 0, max: 1 }, default: 0, group: 'schedule', help: 'Linear warmup over this fraction of the total steps.' },

  evalStrategy: { type: STRATEGY, default: 'no', group: 'logging', help: 'When to evaluate during training.', aliases: ['evaluation_strategy'] },
  evalSteps: { type: { kind: 'steps', nullable: true }, default: null, group: 'logging', help: 'Evaluate every N steps (default: logging_steps; < 1: ratio of total steps).' },
  loggingStrategy: { type: STRATEGY, default: 'steps', group: 'logging', help: 'When to log the training loss.' },
  loggingSteps: { type: { kind: 'steps' }, default: 500, group: 'logging', help: 'Log every N steps (< 1: ratio of total steps).' },
  loggingFirstStep: { type: BOOL, default: false, group: 'logging', help: 'Also log after the first step.' },
  reportTo: { type: { kind: 'string' }, default: 'none', group: 'logging', help: "Where logs go besides log.jsonl and the console: tensorboard (event files in logging_dir; 'all' means the same), or none (transformers 5's default)." },
  loggingDir: { type: STR_OR_NULL, default: null, group: 'logging', help: 'Folder for the TensorBoard event files (default: output_dir/runs/<date>_<host>, as transformers; also $TENSORBOARD_LOGGING_DIR).' },
  disableTqdm: { type: BOOL, default: false, group: 'logging', help: 'Disable the progress bar.', aliases: ['disable_progress_bar', 'no_progress'] },

  saveStrategy: { type: STRATEGY, default: 'steps', group: 'checkpoints', help: 'When to save a checkpoint.' },
  saveSteps: { type: { kind: 'steps' }, default: 500, group: 'checkpoints', help: 'Save every N steps (< 1: ratio of total steps).' },
  saveTotalLimit: { type: { kind: 'int', min: 0, nullable: true }, default: null, group: 'checkpoints', help: 'Keep at most this many checkpoints (the best one is never deleted).' },
  loadBestModelAtEnd: { type: BOOL, default: false, group: 'checkpoints', help: 'Load the best checkpoint at the end of training (needs matching eval/save strategies).' },
  metricForBestModel: { type: STR_OR_NULL, default: null, group: 'checkpoints', help: "Metric that picks the best model, e.g. 'f1' or 'eval_f1' (default with load_best_model_at_end: loss)." },
  greaterIsBetter: { type: BOOL, default: null, group: 'checkpoints', help: 'Whether a larger metric is better (default: true unless the metric name ends in "loss").' },
  resumeFromCheckpoint: { type: { kind: 'resume' }, default: null, group: 'checkpoints', help: 'Resume from this checkpoint folder, or from the latest one in output_dir when given without a value / as true.' },
  earlyStoppingPatience: { type: COUNT_OR_NULL, default: null, group: 'checkpoints', help: 'Stop after this many evaluations without improvement (needs load_best_model_at_end).' },
  earlyStoppingThreshold: { type: { kind: 'float', min: 0 }, default: 0, group: 'checkpoints', help: 'Minimum improvement that resets early-stopping patience.' },

  modelNameOrPath: { type: STR_OR_NULL, default: null, group: 'model', help: 'Pretrained model folder or Hub id.', aliases: ['model'] },
  configName: { type: STR_OR_NULL, default: null, group: 'model', help: 'Model config, if not the one of model_name_or_path.' },
  tokenizerName: { type: STR_OR_NULL, default: null, group: 'model', help: 'Tokenizer, if not the one of model_name_or_path.' },
  ignoreMismatchedSizes: { type: BOOL, default: false, group: 'model', help: 'Re-initialise weights whose shape differs (e.g. a classifier with another label count).' },
  doLowerCase: { type: BOOL, default: null, group: 'model', help: 'Lowercase text in the tokenizer built from --tokenizer-name vocab.txt (default: from the vocabulary: cased when it has uppercase entries).' },

  taskName: { type: { kind: 'enum', values: ['ner', 'pos', 'chunk'] }, default: 'ner', group: 'data', help: 'Task: ner, pos or chunk.' },
  // Help of the three lines below: data/hub-dataset.ts (loading by name; columns chosen by name, never by position).
  datasetName: { type: STR_OR_NULL, default: null, group: 'data', help: 'Hugging Face hub dataset (e.g. wnut_17, eriktks/conll2003) or a local folder laid out like one; used when no data files are given.' },
  datasetConfigName: { type: STR_OR_NULL, default: null, group: 'data', help: 'Dataset configuration name.' },
  trainFile: { type: STR_OR_NULL, default: null, group: 'data', help: 'Training data file (CoNLL, JSON lines, Parquet).' },
  validationFile: { type: STR_OR_NULL, default: null, group: 'data', help: 'Validation data file.' },
  testFile: { type: STR_OR_NULL, default: null, group: 'data', help: 'Test data file.' },
  textColumnName: { type: STR_OR_NULL, default: null, group: 'data', help: "Column holding the words (default: 'tokens', else 'words')." },
  labelColumnName: { type: STR_OR_NULL, default: null, group: 'data', help: "Column holding the tags (default: '<task>_tags' for hub datasets, else the first of ner_tags, pos_tags, chunk_tags, tags, labels)." },
  maxSeqLength: { type: { kind: 'int', min: 3 }, default: 512, group: 'data', help: 'Maximum sequence length in subword tokens, including [CLS] and [SEP].' },
  stride: { type: { kind: 'int', min: 0 }, default: 0, group: 'data', help: 'Tokens of overlap between consecutive windows when a sentence is longer than max_seq_length.' },
  padToMaxLength: { type: BOOL, default: false, group: 'data', help: 'Pad every batch to max_seq_length instead of its longest sentence.' },
  labelAllTokens: { type: BOOL, default: false, group: 'data', help: 'Label every subword of a word (default: first subword only; others ignored by the loss).' },
  returnEntityLevelMetrics: { type: BOOL, default: false, group: 'data', help: 'Report precision/recall/F1 per entity type, not only overall.' },
  maxTrainSamples: { type: COUNT_OR_NULL, default: null, group: 'data', help: 'Use only the first N training examples.' },
  maxEvalSamples: { type: COUNT_OR_NULL, default: null, group: 'data', help: 'Use only the first N evaluation examples.' },
  maxPredictSamples: { type: COUNT_OR_NULL, default: null, group: 'data', help: 'Use only the first N test examples.' },
  labelNames: { type: STR_OR_NULL, default: null, group: 'data', help: 'File with one label name per line, in id order, for data whose tags are integers (default: the model config\'s id2label).' },
};
// greaterIsBetter is the one bool that may be unset (derived from the metric name).
const NULLABLE_BOOLS = new Set<keyof TrainingArguments>(['greaterIsBetter', 'doLowerCase']);

/** camelCase / kebab-case / snake_case -> snake_case (`adamBeta1` -> `adam_beta1`). */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/-/g, '_')
    .toLowerCase();
}

/** snake_case -> kebab-case, the preferred flag spelling. */
export function toKebabCase(name: string): string {
  return toSnakeCase(name).replace(/_/g, '-');
}

export const TRAINING_OPTIONS: readonly OptionSpec[] = Object.entries(SPECS).map(([key, s]) => ({
  key: key as keyof TrainingArguments,
  name: toSnakeCase(key),
  aliases: s.aliases ?? [],
  type: s.type,
  default: s.default,
  group: s.group,
  help: s.help,
}));

// ---------------------------------------------------------------------------------------------
// Known Trainer / run_ner.py settings that tokentune does not implement. 'error': setting it would
// silently change what the user asked for (precision, parallelism, another optimizer); 'warn': it
// only affects logging, hardware placement or the Python data pipeline, so ignoring it is safe.
// A value in `harmless` (or null/false/0/''/'none'/empty) means "not in use" and passes silently.

export interface UnsupportedSpec {
  name: string;
  action: 'warn' | 'error';
  /** false for boolean flags (`--fp16`), true for flags that take a value. */
  takesValue: boolean;
  reason: string;
  harmless?: readonly (string | number | boolean)[];
}

const U = (
  names: string,
  action: 'warn' | 'error',
  takesValue: boolean,
  reason: string,
  harmless?: readonly (string | number | boolean)[],
): UnsupportedSpec[] => names.split(/\s+/).map((name) => ({ name, action, takesValue, reason, ...(harmless ? { harmless } : {}) }));

// transformers 5's AcceleratorConfig() as to_dict() writes it (compared as JSON text).
const ACCELERATOR_DEFAULT = JSON.stringify({ split_batches: false, dispatch_batches: null, even_batches: true, use_seedable_sampler: true, non_blocking: false, gradient_accumulation_kwargs: null });

export const UNSUPPORTED_OPTIONS: readonly UnsupportedSpec[] = [
  ...U('fp16 fp16_full_eval bf16_full_eval tf32', 'error', false, 'tokentune trains in float32, or with --bf16 in bf16 mixed precision (float32 weights); float16 and pure-bf16 evaluation are not supported'),
  ...U('deepspeed fsdp fsdp_config', 'error', true, 'distributed / sharded training is not supported; tokentune runs in one process'),
  ...U('torch_compile', 'error', false, 'there is no torch.compile in tokentune'),
  ...U('torchdynamo', 'error', true, 'there is no torch.compile in tokentune'),
  ...U('gradient_checkpointing', 'error', false, 'activation checkpointing is not implemented'),
  ...U('adafactor', 'error', false, 'only AdamW is implemented'),
  ...U('optim_args lr_scheduler_kwargs', 'error', true, 'extra optimizer / scheduler arguments are not supported'),
  ...U('label_smoothing_factor neftune_noise_alpha eval_delay', 'error', true, 'not implemented'),
  ...U('auto_find_batch_size use_liger_kernel jit_mode_eval use_ipex prediction_loss_only eval_on_start dataloader_drop_last', 'error', false, 'not implemented'),
  ...U('push_to_hub', 'error', false, 'uploading to the Hugging Face Hub is not supported; upload the output folder yourself'),
  ...U('fp16_opt_level', 'warn', true, 'no float16 mixed precision; ignored', ['O1']),
  ...U('half_precision_backend fp16_backend', 'warn', true, 'there is one backend (the native bf16 GEMM with --bf16); ignored', ['auto']),
  ...U('torch_compile_backend torch_compile_mode', 'warn', true, 'no torch.compile; ignored'),
  ...U('run_name', 'warn', true, 'runs are not named; ignored'),
  ...U('dataloader_num_workers dataloader_prefetch_factor preprocessing_num_workers', 'warn', true, 'data is prepared in-process; ignored'),
  ...U('dataloader_pin_memory dataloader_persistent_workers', 'warn', false, 'no GPU data loading; ignored', [true]),
  ...U('use_cpu no_cuda use_mps_device', 'warn', false, 'tokentune always runs on the CPU; ignored', [true]),
  ...U('local_rank', 'warn', true, 'single process only; ignored', [-1]),
  ...U('ddp_backend ddp_find_unused_parameters ddp_bucket_cap_mb ddp_broadcast_buffers', 'warn', true, 'single process only; ignored'),
  ...U('ddp_timeout', 'warn', true, 'single process only; ignored', [1800]),
  ...U('log_level log_level_replica', 'warn', true, 'ignored', ['passive', 'warning', 'info']),
  ...U('log_on_each_node logging_nan_inf_filter save_on_each_node skip_memory_metrics remove_unused_columns eval_do_concat_batches save_safetensors', 'warn', false, 'ignored', [true]),
  ...U('hub_model_id hub_strategy hub_private_repo hub_always_push', 'warn', true, 'no Hub upload; ignored', ['every_save']),
  ...U('overwrite_cache cache_dir model_revision token use_auth_token trust_remote_code', 'warn', true, 'no download cache options; ignored', ['main']),
  ...U('include_inputs_for_metrics include_for_metrics include_num_input_tokens_seen ignore_data_skip full_determinism save_only_model restore_callback_states_from_checkpoint batch_eval_metrics', 'warn', false, 'ignored'),
  ...U('average_tokens_across_devices', 'warn', false, 'single process only; ignored', [true]),
  ...U('eval_accumulation_steps torch_empty_cache_steps past_index length_column_name', 'warn', true, 'ignored', [-1, 'length']),
  ...U('tpu_num_cores tpu_metrics_debug debug ray_scope mp_parameters', 'warn', true, 'ignored', ['last']),
  // transformers 5 fields that a full TrainingArguments(...).to_dict() dump carries at their defaults.
  ...U('accelerator_config', 'warn', true, 'single process only; ignored', [ACCELERATOR_DEFAULT]),
  ...U('parallelism_config optim_target_modules gradient_checkpointing_kwargs liger_kernel_config hub_revision trackio_space_id trackio_bucket_id trackio_static_space_id dataloader_multiprocessing_context ddp_static_graph', 'warn', true, 'ignored'),
  ...U('use_cache eval_use_gather_object enable_jit_checkpoint', 'warn', false, 'ignored'),
  ...U('project', 'warn', true, 'experiment trackers are not supported; ignored', ['huggingface']),
  ...U('hub_token', 'warn', true, 'no Hub upload; ignored', ['<HUB_TOKEN>']),
  ...U('dataloader_in_order', 'warn', false, 'batches are always taken in sampler order; ignored', [true]),
  ...U('train_sampling_strategy', 'warn', true, 'tokentune samples randomly (or by length with group_by_length); ignored', ['random']),
];

// ---------------------------------------------------------------------------------------------

export class TrainingArgsError extends Error {
  constructor(
    message: string,
    readonly key?: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'TrainingArgsError';
  }
}

const BY_NAME = new Map<string, OptionSpec>();
for (const o of TRAINING_OPTIONS) {
  for (const n of [o.name, ...o.aliases]) {
    if (BY_NAME.has(n)) throw new Error(`training options: name '${n}' is defined twice`);
    BY_NAME.set(n, o);
  }
}
const UNSUPPORTED_BY_NAME = new Map(UNSUPPORTED_OPTIONS.map((u) => [u.name, u]));
for (const u of UNSUPPORTED_OPTIONS) if (BY_NAME.has(u.name)) throw new Error(`training options: '${u.name}' is both supported and unsupported`);

/** The option for any spelling of its name or aliases (`learningRate`, `--learning-rate`, `learning_rate`). */
export function findOption(name: string): OptionSpec | undefined {
  return BY_NAME.get(toSnakeCase(name.replace(/^-+/, '')));
}

/** HF's prefixing rule for metric_for_best_model: 'f1' -> 'eval_f1'; 'eval_f1' stays. */
export function metricKey(metric: string): string {
  return metric.startsWith('eval_') ? metric : `eval_${metric}`;
}

type Style = 'snake' | 'kebab' | 'camel';
function styleOf(name: string): Style {
  if (name.includes('-')) return 'kebab';
  if (/[A-Z]/.test(name)) return 'camel';
  return 'snake';
}
function inStyle(snake: string, style: Style): string {
  if (style === 'kebab') return snake.replace(/_/g, '-');
  if (style === 'camel') return snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return snake;
}

function suggestionFor(rawName: string): string | null {
  const snake = toSnakeCase(rawName);
  const guess = nearest(snake, [...BY_NAME.keys(), ...UNSUPPORTED_BY_NAME.keys()]);
  return guess === null ? null : inStyle(guess, styleOf(rawName));
}

/** Where a value came from, for error messages: a config file and line, or nothing (a flag). */
export interface ValueOrigin {
  file?: string;
  line?: number;
}
type Origin = ValueOrigin;

function where(o: Origin): string {
  if (o.file !== undefined) return o.line !== undefined ? `${o.file}:${o.line}: ` : `${o.file}: `;
  return '';
}

function shown(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function isNullWord(v: unknown): boolean {
  return v === null || (typeof v === 'string' && /^(none|null)$/i.test(v.trim()));
}

function coerceNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) return Number(v);
  return null;
}

function coerceBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') {
    const w = v.trim().toLowerCase();
    // HF's string_to_bool vocabulary.
    if (['yes', 'true', 't', 'y', '1'].includes(w)) return true;
    if (['no', 'false', 'f', 'n', '0'].includes(w)) return false;
  }
  return null;
}

/** Coerces one raw value (from a flag string or a parsed config file) to the option's type. */
export function coerceOption(spec: OptionSpec, value: unknown, origin?: ValueOrigin): unknown {
  const fail = (expected: string): never => {
    throw new TrainingArgsError(`${origin ? where(origin) : ''}${spec.name}: expected ${expected}, got ${shown(value)}`, spec.name, origin?.file, origin?.line);
  };
  const t = spec.type;
  const nullable = ('nullable' in t && t.nullable === true) || NULLABLE_BOOLS.has(spec.key);
  if (nullable && isNullWord(value)) return null;
  switch (t.kind) {
    case 'bool': {
      const b = coerceBool(value);
      return b === null ? fail('true or false') : b;
    }
    case 'int': {
      const n = coerceNumber(value);
      if (n === null) return fail(nullable ? 'an integer or none' : 'an integer');
      if (!Number.isSafeInteger(n)) return fail('an integer');
      if (t.min !== undefined && n < t.min) return fail(`an integer >= ${t.min}`);
      return n;
    }
    case 'float': {
      const n = coerceNumber(value);
      if (n === null) return fail('a number');
      const lo = t.min;
      if (lo !== undefined && (t.minExclusive ? n <= lo : n < lo)) return fail(`a number ${t.minExclusive ? '>' : '>='} ${lo}`);
      if (t.max !== undefined && n > t.max) return fail(`a number <= ${t.max}`);
      return n;
    }
    case 'string': {
      if (typeof value === 'string') return value;
      // HF's own label_names is a list of input keys (['labels']); tokentune's is a file of tag names.
      if (spec.key === 'labelNames' && Array.isArray(value)) return null;
      // HF's training_args.json holds report_to as a list (["tensorboard"], [] for none).
      if (spec.key === 'reportTo' && Array.isArray(value) && value.every((x) => typeof x === 'string')) return value.length ? value.join(',') : 'none';
      // YAML turns `dataset_name: 2024` into a number; a name is still meant.
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      return fail('a string');
    }
    case 'enum': {
      if (typeof value === 'string' && t.values.includes(value)) return value;
      if (typeof value === 'string' && t.values.includes(value.toLowerCase())) return value.toLowerCase();
      return fail(`one of ${t.values.map((x) => `'${x}'`).join(', ')}`);
    }
    case 'steps': {
      const n = coerceNumber(value);
      if (n === null) return fail('a number of steps');
      if (n === 0 && t.allowZero) return 0;
      if (!(n > 0)) return fail(`a number of steps ${t.allowZero ? '>= 0' : '> 0'} (or a ratio in (0, 1))`);
      if (n >= 1 && !Number.isSafeInteger(n)) return fail('an integer number of steps (or a ratio in (0, 1))');
      return n;
    }
    case 'resume': {
      if (value === null || value === undefined) return null;
      const b = value === true || value === false ? value : typeof value === 'string' ? coerceBool(value) : null;
      if (b !== null) return b ? true : null;
      if (isNullWord(value)) return null;
      if (typeof value === 'string' && value.length > 0) return value;
      return fail('a checkpoint folder, true or none');
    }
    case 'classWeights': {
      if (isNullWord(value)) return null;
      if (value === 'balanced') return 'balanced';
      let list: unknown = value;
      if (typeof value === 'string') {
        const s = value.trim();
        list = s.startsWith('[') ? (() => {
          try {
            return JSON.parse(s) as unknown;
          } catch {
            return fail("'balanced' or a list of numbers");
          }
        })() : s.split(',');
      }
      if (!Array.isArray(list) || list.length === 0) return fail("'balanced' or a list of numbers");
      const out = list.map((x) => coerceNumber(typeof x === 'string' ? x.trim() : x));
      if (out.some((x) => x === null || x < 0)) return fail("'balanced' or a list of numbers >= 0");
      return out as number[];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Config files

/** A parsed config file: its top-level mapping and the line of each key (for error messages). */
export class ConfigFile {
  constructor(
    readonly path: string,
    readonly values: Readonly<Record<string, unknown>>,
    private readonly keyLines: ReadonlyMap<string, number> = new Map(),
  ) {}
  lineOf(key: string): number | undefined {
    return this.keyLines.get(key);
  }
}

const CONFIG_EXTENSIONS = ['.json', '.yaml', '.yml'];

export function isConfigFilePath(p: string): boolean {
  return CONFIG_EXTENSIONS.includes(extname(p).toLowerCase());
}

/** Reads a flat JSON or YAML mapping (chosen by extension). Errors name the file and the line. */
export function loadConfigFile(path: string): ConfigFile {
  const ext = extname(path).toLowerCase();
  if (!CONFIG_EXTENSIONS.includes(ext)) {
    throw new TrainingArgsError(`${path}: config files must end in .json, .yaml or .yml`, undefined, path);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TrainingArgsError(`${path}: cannot read config file (${code ?? (e as Error).message})`, undefined, path);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  let data: unknown;
  if (ext === '.json') {
    const err = findJsonError(text);
    if (err) {
      const { line, column } = lineColumn(text, err.offset);
      throw new TrainingArgsError(`${path}:${line}:${column}: invalid JSON: ${err.message}`, undefined, path, line);
    }
    data = JSON.parse(text);
  }
  // YAML parses JSON too; for JSON files it is used only to find the line of each key.
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (ext !== '.json') {
    const err = doc.errors[0];
    if (err) {
      const { line, column } = lineColumn(text, err.pos[0]);
      throw new TrainingArgsError(`${path}:${line}:${column}: invalid YAML: ${err.message.split('\n')[0]}`, undefined, path, line);
    }
    data = doc.toJS() as unknown;
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new TrainingArgsError(`${path}:1: the config file must hold a mapping of option names to values, got ${Array.isArray(data) ? 'a list' : typeof data}`, undefined, path, 1);
  }
  const lines = new Map<string, number>();
  if (doc.errors.length === 0 && isMap(doc.contents)) {
    for (const pair of doc.contents.items) {
      if (isScalar(pair.key) && pair.key.range) lines.set(String(pair.key.value), lineColumn(text, pair.key.range[0]).line);
    }
  }
  return new ConfigFile(path, data as Record<string, unknown>, lines);
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface ParseTrainingArgsOptions {
  /** Flags after the command name, e.g. ['--learning-rate', '3e-5', 'config.yaml']. */
  argv?: readonly string[];
  /** Settings from code or an already loaded config file; flags override them. */
  config?: Readonly<Record<string, unknown>> | ConfigFile;
}

export interface ParsedTrainingArgs {
  args: TrainingArguments;
  /** Ignored settings and other non-fatal notes, one sentence each. */
  warnings: string[];
  /** `--help` / `-h` was given: nothing else on the line was parsed; args holds defaults (+ opts.config). */
  help: boolean;
  /** Config files read from argv (`--config FILE` or a positional .json/.yaml/.yml). */
  configFiles: string[];
  /**
   * --do-train, --do-eval or --do-predict was set (by a flag or a config file; do_eval implied by
   * eval_strategy does not count): the run does exactly what they say, as run_ner.py.
   */
  doFlagsGiven?: boolean;
}

interface RawEntry {
  value: unknown;
  origin: Origin;
}

/** Merges one flat mapping into `raw`, resolving names; unknown names are errors. */
function mergeMapping(
  source: Readonly<Record<string, unknown>>,
  raw: Map<keyof TrainingArguments, RawEntry>,
  warnings: string[],
  file?: ConfigFile,
): void {
  const seen = new Map<keyof TrainingArguments, string>();
  for (const [k, value] of Object.entries(source)) {
    const origin: Origin = file ? { file: file.path } : {};
    const line = file?.lineOf(k);
    if (line !== undefined) origin.line = line;
    const spec = findOption(k);
    if (spec) {
      const prev = seen.get(spec.key);
      if (prev !== undefined) {
        throw new TrainingArgsError(`${where(origin)}${spec.name} is given twice (as '${prev}' and '${k}')`, spec.name, origin.file, origin.line);
      }
      seen.set(spec.key, k);
      raw.set(spec.key, { value, origin });
      continue;
    }
    handleUnsupportedOrUnknown(k, value, origin, warnings);
  }
}

function isHarmless(u: UnsupportedSpec, value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0 || (value.length === 1 && isHarmless(u, value[0]));
  if (typeof value === 'object') return Object.keys(value as object).length === 0 || (u.harmless?.includes(JSON.stringify(value)) ?? false);
  if (typeof value === 'string') {
    const w = value.trim().toLowerCase();
    if (['none', 'null', 'no', 'false', 'f', 'n', '0', ''].includes(w)) return true;
    if (u.harmless?.some((h) => String(h).toLowerCase() === w)) return true;
    return false;
  }
  return u.harmless?.includes(value as string | number | boolean) ?? false;
}

function handleUnsupportedOrUnknown(name: string, value: unknown, origin: Origin, warnings: string[]): void {
  const snake = toSnakeCase(name.replace(/^-+/, ''));
  const u = UNSUPPORTED_BY_NAME.get(snake);
  if (u) {
    if (isHarmless(u, value)) return;
    const msg = `${where(origin)}${u.name} is not supported: ${u.reason}`;
    if (u.action === 'error') throw new TrainingArgsError(msg, u.name, origin.file, origin.line);
    warnings.push(msg);
    return;
  }
  const guess = suggestionFor(name.replace(/^-+/, ''));
  const dashes = name.match(/^-+/)?.[0] ?? '';
  const kind = dashes ? 'option' : 'key';
  throw new TrainingArgsError(
    `${where(origin)}unknown ${kind} '${name}'${guess ? `; did you mean '${dashes}${guess}'?` : ''}`,
    name,
    origin.file,
    origin.line,
  );
}

function takesValue(spec: OptionSpec): 'no' | 'optional' | 'required' {
  if (spec.type.kind === 'bool') return 'no';
  if (spec.type.kind === 'resume') return 'optional';
  return 'required';
}

const BOOL_WORD = /^(true|false|yes|no|t|f|y|n|1|0)$/i;

export function parseTrainingArgs(opts: ParseTrainingArgsOptions = {}): ParsedTrainingArgs {
  const warnings: string[] = [];
  const configFiles: string[] = [];
  const raw = new Map<keyof TrainingArguments, RawEntry>();
  if (opts.config instanceof ConfigFile) mergeMapping(opts.config.values, raw, warnings, opts.config);
  else if (opts.config) mergeMapping(opts.config, raw, warnings);

  const argv = opts.argv ?? [];
  // --help wins over everything else on the line, even over flags that would be errors.
  if (argv.some((t) => t === '-h' || t === '--help')) {
    const values: Record<string, unknown> = {};
    for (const spec of TRAINING_OPTIONS) {
      const entry = raw.get(spec.key);
      values[spec.key] = entry === undefined ? cloneDefault(spec.default) : coerceOption(spec, entry.value, entry.origin);
    }
    return { args: resolveArgs(values as unknown as RawTrainingArguments, [], false), warnings, help: true, configFiles };
  }

  // Lex argv first: config files named in argv apply before any flag, wherever they appear.
  const flags: RawEntry[] = [];
  const flagKeys: (keyof TrainingArguments)[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--')) {
      if (isConfigFilePath(token)) {
        configFiles.push(token);
        continue;
      }
      throw new TrainingArgsError(`unexpected argument '${token}' (flags start with --; a config file must end in .json, .yaml or .yml)`);
    }
    const eq = token.indexOf('=');
    const name = eq < 0 ? token.slice(2) : token.slice(2, eq);
    const inline = eq < 0 ? undefined : token.slice(eq + 1);
    const origin: Origin = {};
    const nextValue = (): string => {
      if (i + 1 >= argv.length) {
        throw new TrainingArgsError(`--${name}: expected a value`, toSnakeCase(name));
      }
      return argv[++i]!;
    };

    if (toSnakeCase(name) === 'config' || toSnakeCase(name) === 'config_file') {
      configFiles.push(inline ?? nextValue());
      continue;
    }
    let spec = findOption(name);
    let negated = false;
    if (!spec) {
      const snake = toSnakeCase(name);
      const positive = snake.startsWith('no_') ? findOption(snake.slice(3)) : undefined;
      if (positive && positive.type.kind === 'bool') {
        spec = positive;
        negated = true;
      }
    }
    if (!spec) {
      const u = UNSUPPORTED_BY_NAME.get(toSnakeCase(name));
      let value: unknown = inline;
      if (value === undefined) {
        if (u?.takesValue) value = nextValue();
        else if (u && i + 1 < argv.length && BOOL_WORD.test(argv[i + 1]!)) value = argv[++i];
        else value = true;
      }
      handleUnsupportedOrUnknown(`--${name}`, value, origin, warnings);
      continue;
    }
    let value: unknown;
    const mode = takesValue(spec);
    if (inline !== undefined) {
      value = inline;
    } else if (mode === 'no') {
      // `--do_train true` is how HF's argparse spells it; a bare flag means true.
      value = i + 1 < argv.length && BOOL_WORD.test(argv[i + 1]!) ? argv[++i] : true;
    } else if (mode === 'optional') {
      value = i + 1 < argv.length && !argv[i + 1]!.startsWith('--') && !isConfigFilePath(argv[i + 1]!) ? argv[++i] : true;
    } else {
      value = nextValue();
    }
    if (negated) {
      const b = coerceOption(spec, value, origin) as boolean | null;
      value = b === null ? null : !b;
    }
    flags.push({ value, origin });
    flagKeys.push(spec.key);
  }

  for (const file of configFiles) {
    const cf = loadConfigFile(file);
    mergeMapping(cf.values, raw, warnings, cf);
  }
  flags.forEach((entry, j) => raw.set(flagKeys[j]!, entry));

  const values: Record<string, unknown> = {};
  for (const spec of TRAINING_OPTIONS) {
    const entry = raw.get(spec.key);
    values[spec.key] = entry === undefined ? cloneDefault(spec.default) : coerceOption(spec, entry.value, entry.origin);
  }
  // Before resolveArgs sets do_eval from eval_strategy: run_ner.py's modes are what the user named.
  const doFlagsGiven = Boolean(values.doTrain || values.doEval || values.doPredict);
  return { args: resolveArgs(values as unknown as RawTrainingArguments, warnings, true), warnings, help: false, configFiles, doFlagsGiven };
}

function cloneDefault(v: unknown): unknown {
  return Array.isArray(v) ? [...v] : v;
}

/** HF's __post_init__ derivations and cross-field checks. */
function resolveArgs(a: RawTrainingArguments, warnings: string[], validate: boolean): TrainingArguments {
  const args: TrainingArguments = { ...a, evalSteps: a.evalSteps ?? a.loggingSteps };
  if (args.loadBestModelAtEnd && args.metricForBestModel === null) args.metricForBestModel = 'loss';
  if (args.greaterIsBetter === null && args.metricForBestModel !== null) {
    args.greaterIsBetter = !args.metricForBestModel.endsWith('loss');
  }
  if (args.evalStrategy !== 'no') args.doEval = true;
  if (!validate) return args;

  const bad = (msg: string, key: string): never => {
    throw new TrainingArgsError(msg, key);
  };
  if (args.loadBestModelAtEnd) {
    if (args.evalStrategy === 'no') bad("load_best_model_at_end requires eval_strategy 'steps' or 'epoch', got 'no'", 'load_best_model_at_end');
    if (args.evalStrategy !== args.saveStrategy) {
      bad(`load_best_model_at_end requires the save and eval strategy to match, got eval_strategy='${args.evalStrategy}' and save_strategy='${args.saveStrategy}'`, 'load_best_model_at_end');
    }
    if (args.evalStrategy === 'steps') {
      const e = args.evalSteps;
      const s = args.saveSteps;
      if (e < 1 || s < 1) {
        if (!(e < 1 && s < 1)) {
          bad(`load_best_model_at_end requires save_steps to be a multiple of eval_steps, which cannot be guaranteed when mixing ratios and absolute steps (eval_steps=${e}, save_steps=${s})`, 'save_steps');
        }
        const q = s / e;
        if (Math.abs(q - Math.round(q)) > 1e-9) bad(`load_best_model_at_end requires save_steps (${s}) to be a round multiple of eval_steps (${e})`, 'save_steps');
      } else if (s % e !== 0) {
        bad(`load_best_model_at_end requires save_steps (${s}) to be a round multiple of eval_steps (${e})`, 'save_steps');
      }
    }
  }
  if (args.earlyStoppingPatience !== null) {
    if (!args.loadBestModelAtEnd) bad('early_stopping_patience requires load_best_model_at_end (as HF EarlyStoppingCallback)', 'early_stopping_patience');
  }
  const reporters = args.reportTo.split(/[\s,]+/).filter((r) => r !== '');
  const unsupported = reporters.filter((r) => !['tensorboard', 'all', 'none'].includes(r));
  if (unsupported.length) warnings.push(`report_to ${unsupported.join(', ')} is not supported: only tensorboard event files (and log.jsonl) are written; ignored`);
  if (args.warmupSteps > 0 && args.warmupRatio > 0) {
    warnings.push('both warmup_steps and warmup_ratio are given; warmup_steps overrides warmup_ratio');
  }
  if (args.stride >= args.maxSeqLength - 2) {
    bad(`stride (${args.stride}) must be smaller than max_seq_length - 2 (${args.maxSeqLength - 2})`, 'stride');
  }
  if (Array.isArray(args.classWeights) && args.classWeights.every((w) => w === 0)) bad('class_weights: all weights are 0', 'class_weights');
  return args;
}

/** Defaults, resolved (evalSteps = loggingSteps, ...). */
export function defaultTrainingArgs(): TrainingArguments {
  return parseTrainingArgs({}).args;
}

// ---------------------------------------------------------------------------------------------
// Formatting

function formatValue(v: unknown): string {
  if (v === null) return 'none';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}

/**
 * Flags that reproduce `args` through parseTrainingArgs (only values that differ from the
 * defaults, unless `all`). Always `--name=value` so values starting with '-' stay values.
 */
export function formatTrainingArgs(args: TrainingArguments, opts: { all?: boolean } = {}): string[] {
  const defaults = defaultTrainingArgs();
  const out: string[] = [];
  for (const spec of TRAINING_OPTIONS) {
    const v = args[spec.key];
    if (!opts.all && sameValue(v, defaults[spec.key])) continue;
    const flag = `--${toKebabCase(spec.name)}`;
    if (spec.type.kind === 'bool' && v !== null) out.push(v ? flag : `--no-${toKebabCase(spec.name)}`);
    else out.push(`${flag}=${formatValue(v)}`);
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}

/** snake_case record of every setting, as HF's TrainingArguments.to_dict (for training_args.json). */
export function trainingArgsToDict(args: TrainingArguments): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const spec of TRAINING_OPTIONS) {
    const v = args[spec.key];
    out[spec.name] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

function typeLabel(t: OptionType): string {
  switch (t.kind) {
    case 'bool':
      return '';
    case 'int':
      return ' <INT>';
    case 'float':
      return ' <FLOAT>';
    case 'string':
      return ' <STR>';
    case 'enum':
      return ` <${t.values.join('|')}>`;
    case 'steps':
      return ' <N|RATIO>';
    case 'resume':
      return ' [PATH]';
    case 'classWeights':
      return ' <balanced|W,W,...>';
  }
}

/** Greedy word wrap of one paragraph to `width` columns. */
function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of text.split(/\s+/).filter((x) => x.length > 0)) {
    if (cur.length > 0 && cur.length + 1 + w.length > width) {
      lines.push(cur);
      cur = w;
    } else {
      cur = cur.length ? `${cur} ${w}` : w;
    }
  }
  if (cur.length) lines.push(cur);
  return lines;
}

/** `tokentune train --help`: options grouped as in HF's docs, each with its default. */
export function formatHelp(opts: { usage?: string; width?: number } = {}): string {
  const width = Math.max(60, opts.width ?? 100);
  const usage = opts.usage ?? 'tokentune train [CONFIG.yaml|CONFIG.json] [--config FILE] [options]';
  const col = 38;
  const lines: string[] = [
    `Usage: ${usage}`,
    '',
    ...wrapWords('Flags accept kebab-case (--learning-rate), snake_case (--learning_rate) and camelCase; booleans take --flag, --flag=false or --no-flag. Flags override config files, which override defaults. Step counts below 1 are ratios of the total number of training steps.', width),
  ];
  for (const group of Object.keys(OPTION_GROUP_TITLES) as OptionGroup[]) {
    lines.push('', `${OPTION_GROUP_TITLES[group]}:`);
    for (const spec of TRAINING_OPTIONS.filter((o) => o.group === group)) {
      const left = `  --${toKebabCase(spec.name)}${typeLabel(spec.type)}`;
      const d = spec.default;
      const dflt = d === null || d === false ? '' : ` (default: ${formatValue(d)})`;
      const alias = spec.aliases.length ? ` [alias: ${spec.aliases.map((a) => `--${toKebabCase(a)}`).join(', ')}]` : '';
      const right = wrapWords(`${spec.help}${dflt}${alias}`, width - col);
      const pad = ' '.repeat(col);
      if (left.length >= col - 1) lines.push(left, ...right.map((r) => pad + r));
      else lines.push(left.padEnd(col) + (right[0] ?? ''), ...right.slice(1).map((r) => pad + r));
    }
  }
  const errs = UNSUPPORTED_OPTIONS.filter((u) => u.action === 'error').map((u) => u.name);
  const warns = UNSUPPORTED_OPTIONS.filter((u) => u.action === 'warn').map((u) => u.name);
  lines.push('', ...wrapWords(`Hugging Face settings that are rejected: ${errs.join(', ')}.`, width));
  lines.push('', ...wrapWords(`Hugging Face settings that are ignored with a warning: ${warns.join(', ')}.`, width));
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Derived step counts (HF Trainer.set_initial_training_values and the *_steps ratio rule)

export interface StepPlan {
  /** Optimizer steps per epoch: ceil(batches / gradient_accumulation_steps), at least 1. */
  updateStepsPerEpoch: number;
  /** Total optimizer steps. */
  maxSteps: number;
  /** Whole epochs the loop will start (the last one may be cut short by maxSteps). */
  numTrainEpochs: number;
}

export function planTrainingSteps(p: {
  numBatchesPerEpoch: number;
  gradientAccumulationSteps: number;
  numTrainEpochs: number;
  maxSteps: number;
}): StepPlan {
  const ga = p.gradientAccumulationSteps;
  if (!Number.isInteger(p.numBatchesPerEpoch) || p.numBatchesPerEpoch < 0) throw new RangeError(`numBatchesPerEpoch must be a non-negative integer, got ${p.numBatchesPerEpoch}`);
  if (!Number.isInteger(ga) || ga < 1) throw new RangeError(`gradient_accumulation_steps must be a positive integer, got ${ga}`);
  const perEpoch = Math.max(Math.floor(p.numBatchesPerEpoch / ga) + (p.numBatchesPerEpoch % ga > 0 ? 1 : 0), 1);
  if (p.maxSteps > 0) {
    return { updateStepsPerEpoch: perEpoch, maxSteps: p.maxSteps, numTrainEpochs: Math.floor(p.maxSteps / perEpoch) + (p.maxSteps % perEpoch > 0 ? 1 : 0) };
  }
  return { updateStepsPerEpoch: perEpoch, maxSteps: Math.ceil(p.numTrainEpochs * perEpoch), numTrainEpochs: Math.ceil(p.numTrainEpochs) };
}

/** logging/eval/save steps below 1 are ratios of the total: ceil(maxSteps * ratio), as HF. */
export function resolveStepInterval(value: number, maxSteps: number): number {
  return value < 1 ? Math.ceil(maxSteps * value) : value;
}
