/**
 * Checkpoints in Hugging Face's layout: outputDir/checkpoint-<step>/ holds the model as HF loads
 * it (config.json, model.safetensors, tokenizer files) plus what resuming needs, in the files and
 * formats transformers' Trainer writes: optimizer.pt, scheduler.pt, rng_state.pth (torch.save
 * archives, see torch-checkpoint.ts), trainer_state.json, and our training_args.json. A checkpoint
 * resumes in either trainer. The folder is written under a temporary name and renamed, so a kill
 * mid-write never leaves a checkpoint that looks complete but is not.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readSafetensors } from '../io/safetensors.js';
import { weightsChanged } from '../engine/index.js';
import { savePretrained, type TokenClassifier } from '../models/index.js';
import type { Tokenizer } from '../tokenizers/index.js';
import type { AdamW } from './optimizer.js';
import { writeDirAtomicSync } from '../io/atomic.js';
import { TRAINER_STATE_NAME, TrainerStateError, readTrainerState, serializeTrainerState, type TrainerState } from './trainer-state.js';
import {
  OPTIMIZER_NAME,
  RNG_STATE_NAME,
  SCHEDULER_NAME,
  readOptimizerPt,
  readSchedulerStep,
  writeOptimizerPt,
  writeRngStatePth,
  writeSchedulerPt,
} from './torch-checkpoint.js';

/** Optimizer moments as tokentune 0.1 wrote them (read for old checkpoints only). */
const LEGACY_OPTIMIZER = 'optimizer.safetensors';

export interface ResumeState {
  globalStep: number;
  epoch: number;
  /** Serialised trainer_state.json object. */
  trainerState: Record<string, unknown>;
}

export function saveCheckpoint(
  dir: string,
  p: {
    model: TokenClassifier;
    tokenizer?: Tokenizer;
    optimizer: AdamW;
    /** The schedule's rate for the next step (the scheduler's last_lr) and its peak (base_lrs). */
    lr: number;
    baseLr: number;
    seed: number;
    trainerState: Record<string, unknown>;
    trainingArgs: Record<string, unknown>;
    /** Writes what else resuming needs (a training objective's own parameters) into the folder being built. */
    extra?: (dir: string) => void;
  },
): void {
  writeDirAtomicSync(dir, (tmp) => {
    savePretrained(p.model, tmp, p.tokenizer);
    writeOptimizerPt(join(tmp, OPTIMIZER_NAME), p.optimizer, p.lr, p.baseLr);
    writeSchedulerPt(join(tmp, SCHEDULER_NAME), p.optimizer.step, p.baseLr, p.lr);
    writeRngStatePth(join(tmp, RNG_STATE_NAME), p.seed);
    writeFileSync(join(tmp, 'trainer_state.json'), serializeTrainerState(p.trainerState as unknown as TrainerState));
    writeFileSync(join(tmp, 'training_args.json'), JSON.stringify(p.trainingArgs, null, 2) + '\n');
    p.extra?.(tmp);
  });
}

/**
 * Restores weights and optimizer state into live objects from a checkpoint that tokentune or
 * transformers' Trainer wrote; returns the trainer state to continue from.
 */
export function loadCheckpoint(dir: string, model: TokenClassifier, optimizer: AdamW, opts: { maxSteps?: number } = {}): ResumeState {
  const optimizerFile = [OPTIMIZER_NAME, LEGACY_OPTIMIZER].find((f) => existsSync(join(dir, f)));
  for (const f of ['model.safetensors', 'trainer_state.json']) {
    if (!existsSync(join(dir, f))) throw new Error(`${dir}: not a resumable checkpoint (missing ${f})`);
  }
  if (!optimizerFile) throw new Error(`${dir}: not a resumable checkpoint (missing ${OPTIMIZER_NAME})`);
  const weights = readSafetensors(join(dir, 'model.safetensors')).tensors;
  for (const [name, t] of model.parameters()) {
    const rec = weights.get(name);
    if (!rec || rec.data.length !== t.size) throw new Error(`${dir}/model.safetensors: ${name} is missing or has the wrong size`);
    (t.f as Float32Array).set(rec.data as Float32Array);
  }
  weightsChanged();
  if (optimizerFile === OPTIMIZER_NAME) readOptimizerPt(join(dir, OPTIMIZER_NAME), optimizer);
  else loadLegacyOptimizer(join(dir, LEGACY_OPTIMIZER), optimizer);
  const statePath = join(dir, TRAINER_STATE_NAME);
  const trainerState = readTrainerState(statePath, ['global_step']);
  const schedulerStep = readSchedulerStep(join(dir, SCHEDULER_NAME));
  checkResumeState(statePath, trainerState, { optimizerStep: optimizer.step, schedulerStep, maxSteps: opts.maxSteps });
  return {
    globalStep: trainerState.global_step,
    epoch: trainerState.epoch ?? 0,
    trainerState: trainerState as unknown as Record<string, unknown>,
  };
}

/**
 * What resume reads from trainer_state.json, checked against the checkpoint's own optimizer and
 * scheduler: a global_step of -1e6 once resumed with a learning rate of -50, a huge one trained 0
 * steps and exited 0. parseTrainerState has checked the types; here go ranges and agreement.
 */
export function checkResumeState(
  file: string,
  s: TrainerState,
  o: { optimizerStep: number; schedulerStep: number | null; maxSteps?: number },
): void {
  const bad = (field: string, problem: string): never => {
    throw new TrainerStateError(`${file}: ${field}: ${problem}`, file);
  };
  if (!Number.isSafeInteger(s.global_step) || s.global_step < 0)
    bad('global_step', `expected a non-negative integer, got ${s.global_step}`);
  if (o.maxSteps !== undefined && s.global_step > o.maxSteps)
    bad(
      'global_step',
      `${s.global_step} is past this run's ${o.maxSteps} training steps (raise num_train_epochs or max_steps to continue)`,
    );
  if (s.global_step !== o.optimizerStep)
    bad(
      'global_step',
      `${s.global_step} but ${OPTIMIZER_NAME} has stepped ${o.optimizerStep} times: the files are from different checkpoints`,
    );
  if (o.schedulerStep !== null && o.schedulerStep !== s.global_step)
    bad('global_step', `${s.global_step} but ${SCHEDULER_NAME} is at step ${o.schedulerStep}`);
  if (s.epoch !== null && (!Number.isFinite(s.epoch) || s.epoch < 0)) bad('epoch', `expected a non-negative number, got ${s.epoch}`);
  if (s.best_metric !== null && !Number.isFinite(s.best_metric))
    bad('best_metric', `expected a finite number or null, got ${s.best_metric}`);
  if (s.best_model_checkpoint !== null && !/^checkpoint-\d+$/.test(basename(s.best_model_checkpoint)))
    bad('best_model_checkpoint', `${JSON.stringify(s.best_model_checkpoint.slice(0, 200))} is not a checkpoint-<step> folder`);
  s.log_history.forEach((r, i) => {
    if (r.step < 0 || r.step > s.global_step) bad(`log_history[${i}].step`, `${r.step} is outside [0, global_step ${s.global_step}]`);
  });
  const es = (s.stateful_callbacks['EarlyStoppingCallback'] as { attributes?: Record<string, unknown> } | undefined)?.attributes;
  if (es !== undefined) {
    const c = es['early_stopping_patience_counter'],
      m = es['best_metric'];
    if (c !== undefined && (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0))
      bad(
        'stateful_callbacks.EarlyStoppingCallback.attributes.early_stopping_patience_counter',
        `expected a non-negative integer, got ${JSON.stringify(c)}`,
      );
    if (m !== undefined && m !== null && (typeof m !== 'number' || !Number.isFinite(m)))
      bad('stateful_callbacks.EarlyStoppingCallback.attributes.best_metric', `expected a finite number or null, got ${JSON.stringify(m)}`);
  }
}

function loadLegacyOptimizer(path: string, optimizer: AdamW): void {
  const opt = readSafetensors(path);
  const layout = JSON.parse(opt.metadata.layout ?? '[]') as string[];
  const names = optimizer.flat.params.map((t) => t.name ?? '');
  if (layout.join('\n') !== names.join('\n')) throw new Error(`${path}: parameter layout differs from the model's`);
  optimizer.loadState({
    step: Number(opt.metadata.step),
    m: opt.tensors.get('exp_avg')!.data as Float32Array,
    v: opt.tensors.get('exp_avg_sq')!.data as Float32Array,
  });
}
