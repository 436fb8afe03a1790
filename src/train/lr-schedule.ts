// Learning-rate schedules with the exact formulas of transformers.optimization
// (get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup with num_cycles = 0.5,
// get_constant_schedule, get_constant_schedule_with_warmup).
//
// `step` is what PyTorch's LambdaLR passes to the lambda: the optimizer step about to be taken,
// counted from 0. The first optimizer step therefore runs at lrAt(0), which is 0 under warmup
// (a known HF quirk, kept on purpose). transformers 5's Trainer logs the rate read before
// scheduler.step(), i.e. the one the step used: the value logged at global_step g is lrAt(g - 1).

import type { LrSchedulerType } from './training-args.js';

export interface ScheduleParams {
  type: LrSchedulerType;
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Cosine only: number of cosine waves over the decay phase; HF's default 0.5 is a half wave. */
  numCycles?: number;
}

/** The multiplier LambdaLR applies to the base learning rate. */
export function lrLambda(step: number, p: Omit<ScheduleParams, 'baseLr'>): number {
  const { type, warmupSteps: w, totalSteps: t } = p;
  if (type === 'constant') return 1;
  if (step < w) return step / Math.max(1, w);
  switch (type) {
    case 'constant_with_warmup':
      return 1;
    case 'linear':
      return Math.max(0, (t - step) / Math.max(1, t - w));
    case 'cosine': {
      const progress = (step - w) / Math.max(1, t - w);
      const cycles = p.numCycles ?? 0.5;
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress)));
    }
    default: {
      const never: never = type;
      throw new Error(`unknown lr_scheduler_type '${String(never)}'`);
    }
  }
}

/** Learning rate for the optimizer step `step` (0-based, as LambdaLR counts). */
export function lrAt(step: number, p: ScheduleParams): number {
  return p.baseLr * lrLambda(step, p);
}

/**
 * HF TrainingArguments.get_warmup_steps: warmup_steps if >= 1; a warmup_steps below 1 is a ratio
 * (transformers 5, which removed warmup_ratio): ceil(ratio * total); else ceil(warmup_ratio * total).
 */
export function resolveWarmup(args: { warmupSteps: number; warmupRatio: number }, totalSteps: number): number {
  if (args.warmupSteps >= 1) return args.warmupSteps;
  return Math.ceil(totalSteps * (args.warmupSteps > 0 ? args.warmupSteps : args.warmupRatio));
}
