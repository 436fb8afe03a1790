// TrainingArguments: defaults, HF's __post_init__ derivations and cross-field validation (what
// the Trainer relies on), and the snake_case record saved as training_args.json. The option table
// is training-options.ts; reading flags and config files into it is src/cli/training-flags.ts.

import { TRAINING_OPTIONS } from './training-options.js';
import type { RawTrainingArguments, TrainingArguments } from './training-args-types.js';

export type {
  ClassWeights,
  IntervalStrategy,
  LrSchedulerType,
  OptimizerName,
  RawTrainingArguments,
  TrainingArguments,
} from './training-args-types.js';

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

/** HF's prefixing rule for metric_for_best_model: 'f1' -> 'eval_f1'; 'eval_f1' stays. */
export function metricKey(metric: string): string {
  return metric.startsWith('eval_') ? metric : `eval_${metric}`;
}

export function cloneDefault(v: unknown): unknown {
  return Array.isArray(v) ? [...v] : v;
}

/** HF's __post_init__ derivations and cross-field checks. */
export function resolveTrainingArgs(a: RawTrainingArguments, warnings: string[], validate: boolean): TrainingArguments {
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
    if (args.evalStrategy === 'no')
      bad("load_best_model_at_end requires eval_strategy 'steps' or 'epoch', got 'no'", 'load_best_model_at_end');
    if (args.evalStrategy !== args.saveStrategy) {
      bad(
        `load_best_model_at_end requires the save and eval strategy to match, got eval_strategy='${args.evalStrategy}' and save_strategy='${args.saveStrategy}'`,
        'load_best_model_at_end',
      );
    }
    if (args.evalStrategy === 'steps') {
      const e = args.evalSteps;
      const s = args.saveSteps;
      if (e < 1 || s < 1) {
        if (!(e < 1 && s < 1)) {
          bad(
            `load_best_model_at_end requires save_steps to be a multiple of eval_steps, which cannot be guaranteed when mixing ratios and absolute steps (eval_steps=${e}, save_steps=${s})`,
            'save_steps',
          );
        }
        const q = s / e;
        if (Math.abs(q - Math.round(q)) > 1e-9)
          bad(`load_best_model_at_end requires save_steps (${s}) to be a round multiple of eval_steps (${e})`, 'save_steps');
      } else if (s % e !== 0) {
        bad(`load_best_model_at_end requires save_steps (${s}) to be a round multiple of eval_steps (${e})`, 'save_steps');
      }
    }
  }
  if (args.earlyStoppingPatience !== null) {
    if (!args.loadBestModelAtEnd)
      bad('early_stopping_patience requires load_best_model_at_end (as HF EarlyStoppingCallback)', 'early_stopping_patience');
  }
  const reporters = args.reportTo.split(/[\s,]+/).filter((r) => r !== '');
  const unsupported = reporters.filter((r) => !['tensorboard', 'all', 'none'].includes(r));
  if (unsupported.length)
    warnings.push(
      `report_to ${unsupported.join(', ')} is not supported: only tensorboard event files (and log.jsonl) are written; ignored`,
    );
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
  const values: Record<string, unknown> = {};
  for (const spec of TRAINING_OPTIONS) values[spec.key] = cloneDefault(spec.default);
  return resolveTrainingArgs(values as unknown as RawTrainingArguments, [], true);
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
