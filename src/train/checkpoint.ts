/**
 * Checkpoints in Hugging Face's layout: outputDir/checkpoint-<step>/ holds the model as HF loads
 * it (config.json, model.safetensors, tokenizer files) plus what resuming needs, in the files and
 * formats transformers' Trainer writes: optimizer.pt, scheduler.pt, rng_state.pth (torch.save
 * archives, see torch-checkpoint.ts), trainer_state.json, and our training_args.json. A checkpoint
 * resumes in either trainer. The folder is written under a temporary name and renamed, so a kill
 * mid-write never leaves a checkpoint that looks complete but is not.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../io/safetensors.js';
import { savePretrained, type TokenClassifier } from '../models/index.js';
import type { Tokenizer } from '../tokenizers/index.js';
import type { AdamW } from './optimizer.js';
import { writeDirAtomicSync } from '../io/atomic.js';
import { serializeTrainerState, type TrainerState } from './trainer-state.js';
import { OPTIMIZER_NAME, RNG_STATE_NAME, SCHEDULER_NAME, readOptimizerPt, readSchedulerStep, writeOptimizerPt, writeRngStatePth, writeSchedulerPt } from './torch-checkpoint.js';

/** Optimizer moments as tokentune 0.1 wrote them (read for old checkpoints only). */
const LEGACY_OPTIMIZER = 'optimizer.safetensors';

export interface ResumeState {
  globalStep: number;
  epoch: number;
  /** Serialised trainer_state.json object. */
  trainerState: Record<string, unknown>;
}

export function saveCheckpoint(dir: string, p: {
  model: TokenClassifier;
  tokenizer?: Tokenizer;
  optimizer: AdamW;
  /** The schedule's rate for the next step (the scheduler's last_lr) and its peak (base_lrs). */
  lr: number;
  baseLr: number;
  seed: number;
  trainerState: Record<string, unknown>;
  trainingArgs: Record<string, unknown>;
}): void {
  writeDirAtomicSync(dir, (tmp) => {
    savePretrained(p.model, tmp, p.tokenizer);
    writeOptimizerPt(join(tmp, OPTIMIZER_NAME), p.optimizer, p.lr, p.baseLr);
    writeSchedulerPt(join(tmp, SCHEDULER_NAME), p.optimizer.step, p.baseLr, p.lr);
    writeRngStatePth(join(tmp, RNG_STATE_NAME), p.seed);
    writeFileSync(join(tmp, 'trainer_state.json'), serializeTrainerState(p.trainerState as unknown as TrainerState));
    writeFileSync(join(tmp, 'training_args.json'), JSON.stringify(p.trainingArgs, null, 2) + '\n');
  });
}

/**
 * Restores weights and optimizer state into live objects from a checkpoint that tokentune or
 * transformers' Trainer wrote; returns the trainer state to continue from.
 */
export function loadCheckpoint(dir: string, model: TokenClassifier, optimizer: AdamW): ResumeState {
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
  if (optimizerFile === OPTIMIZER_NAME) readOptimizerPt(join(dir, OPTIMIZER_NAME), optimizer);
  else loadLegacyOptimizer(join(dir, LEGACY_OPTIMIZER), optimizer);
  const trainerState = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
  const globalStep = Number(trainerState.global_step);
  const schedulerStep = readSchedulerStep(join(dir, SCHEDULER_NAME));
  if (schedulerStep !== null && schedulerStep !== globalStep) {
    throw new Error(`${dir}: ${SCHEDULER_NAME} is at step ${schedulerStep} but trainer_state.json at ${globalStep}`);
  }
  return { globalStep, epoch: Number(trainerState.epoch), trainerState };
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
