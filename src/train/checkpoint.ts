/**
 * Checkpoints in Hugging Face's layout: outputDir/checkpoint-<step>/ holds the model as HF loads
 * it (config.json, model.safetensors, tokenizer files) plus what resuming needs: optimizer
 * moments (optimizer.safetensors), scheduler and RNG state, trainer_state.json, training_args.json.
 * The folder is written under a temporary name and renamed, so a kill mid-write never leaves a
 * checkpoint that looks complete but is not.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../io/safetensors.js';
import { savePretrained, type TokenClassifier } from '../models/index.js';
import type { Tokenizer } from '../tokenizers/index.js';
import type { AdamW } from './optimizer.js';
import { writeDirAtomicSync } from '../io/atomic.js';

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
  trainerState: Record<string, unknown>;
  trainingArgs: Record<string, unknown>;
}): void {
  writeDirAtomicSync(dir, (tmp) => {
    savePretrained(p.model, tmp, p.tokenizer);
    const names = p.optimizer.flat.params.map((t) => t.name ?? '');
    writeSafetensors(join(tmp, 'optimizer.safetensors'), new Map([
      ['exp_avg', { shape: [p.optimizer.m.length], data: p.optimizer.m }],
      ['exp_avg_sq', { shape: [p.optimizer.v.length], data: p.optimizer.v }],
    ]), { step: String(p.optimizer.step), layout: JSON.stringify(names) });
    writeFileSync(join(tmp, 'scheduler.json'), JSON.stringify({ last_epoch: p.optimizer.step }) + '\n');
    writeFileSync(join(tmp, 'trainer_state.json'), JSON.stringify(p.trainerState, null, 2) + '\n');
    writeFileSync(join(tmp, 'training_args.json'), JSON.stringify(p.trainingArgs, null, 2) + '\n');
  });
}

/** Restores weights and optimizer state into live objects; returns the trainer state to continue from. */
export function loadCheckpoint(dir: string, model: TokenClassifier, optimizer: AdamW): ResumeState {
  const need = ['model.safetensors', 'optimizer.safetensors', 'trainer_state.json'];
  for (const f of need) {
    if (!existsSync(join(dir, f))) throw new Error(`${dir}: not a resumable checkpoint (missing ${f})`);
  }
  const weights = readSafetensors(join(dir, 'model.safetensors')).tensors;
  for (const [name, t] of model.parameters()) {
    const rec = weights.get(name);
    if (!rec || rec.data.length !== t.size) throw new Error(`${dir}/model.safetensors: ${name} is missing or has the wrong size`);
    (t.f as Float32Array).set(rec.data as Float32Array);
  }
  const opt = readSafetensors(join(dir, 'optimizer.safetensors'));
  const layout = JSON.parse(opt.metadata.layout ?? '[]') as string[];
  const names = optimizer.flat.params.map((t) => t.name ?? '');
  if (layout.join('\n') !== names.join('\n')) throw new Error(`${dir}/optimizer.safetensors: parameter layout differs from the model's`);
  optimizer.loadState({
    step: Number(opt.metadata.step),
    m: opt.tensors.get('exp_avg')!.data as Float32Array,
    v: opt.tensors.get('exp_avg_sq')!.data as Float32Array,
  });
  const trainerState = JSON.parse(readFileSync(join(dir, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
  return { globalStep: Number(trainerState.global_step), epoch: Number(trainerState.epoch), trainerState };
}
