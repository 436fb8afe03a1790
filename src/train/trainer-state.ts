// trainer_state.json in Hugging Face's shape (TrainerState dataclass), checkpoint folders
// (`checkpoint-<step>`) and HF's checkpoint rotation.

import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseJsonText, stringifyJsonText } from '../util/json-text.js';
import { writeFileAtomic } from '../io/atomic.js';
import { ModelFileError, readModelText } from '../io/model-file.js';

export const TRAINER_STATE_NAME = 'trainer_state.json';
export const PREFIX_CHECKPOINT_DIR = 'checkpoint';

/** One entry of log_history: a training log, an evaluation, or the final train summary. */
export interface LogRecord {
  step: number;
  epoch?: number;
  [key: string]: number | string | boolean | null | undefined;
}

/** Field names and meanings as transformers.TrainerState (snake_case, because it is a file format). */
export interface TrainerState {
  epoch: number | null;
  global_step: number;
  max_steps: number;
  logging_steps: number;
  eval_steps: number;
  save_steps: number;
  train_batch_size: number | null;
  num_train_epochs: number;
  num_input_tokens_seen: number;
  total_flos: number;
  log_history: LogRecord[];
  best_metric: number | null;
  best_global_step: number | null;
  best_model_checkpoint: string | null;
  is_local_process_zero: boolean;
  is_world_process_zero: boolean;
  is_hyper_param_search: boolean;
  trial_name: string | null;
  trial_params: Record<string, string | number | boolean> | null;
  /** HF stores callback states here, e.g. {"TrainerControl": {"args": {...}, "attributes": {}}}. */
  stateful_callbacks: Record<string, unknown>;
}

/** A state with HF's dataclass defaults, overridden by `init`. */
export function newTrainerState(init: Partial<TrainerState> = {}): TrainerState {
  return {
    epoch: null,
    global_step: 0,
    max_steps: 0,
    logging_steps: 500,
    eval_steps: 500,
    save_steps: 500,
    train_batch_size: null,
    num_train_epochs: 0,
    num_input_tokens_seen: 0,
    total_flos: 0,
    log_history: [],
    best_metric: null,
    best_global_step: null,
    best_model_checkpoint: null,
    is_local_process_zero: true,
    is_world_process_zero: true,
    is_hyper_param_search: false,
    trial_name: null,
    trial_params: null,
    stateful_callbacks: {},
    ...init,
  };
}

export class TrainerStateError extends Error {
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
    this.name = 'TrainerStateError';
  }
}

/** As HF's save_to_json: indent 2, sorted keys, trailing newline; NaN/Infinity as Python writes them. */
export function serializeTrainerState(state: TrainerState): string {
  return stringifyJsonText(state, { indent: 2, sortKeys: true }) + '\n';
}

type Check = 'number' | 'int' | 'number|null' | 'int|null' | 'string|null' | 'boolean';
const FIELD_TYPES: Record<Exclude<keyof TrainerState, 'log_history' | 'trial_params' | 'stateful_callbacks'>, Check> = {
  epoch: 'number|null',
  global_step: 'int',
  max_steps: 'int',
  logging_steps: 'number',
  eval_steps: 'number',
  save_steps: 'number',
  train_batch_size: 'int|null',
  num_train_epochs: 'number',
  num_input_tokens_seen: 'number',
  total_flos: 'number',
  best_metric: 'number|null',
  best_global_step: 'int|null',
  best_model_checkpoint: 'string|null',
  is_local_process_zero: 'boolean',
  is_world_process_zero: 'boolean',
  is_hyper_param_search: 'boolean',
  trial_name: 'string|null',
};

function checkValue(v: unknown, c: Check): boolean {
  const nullable = c.endsWith('|null');
  if (v === null) return nullable;
  switch (c.replace('|null', '')) {
    case 'number':
      return typeof v === 'number';
    case 'int':
      return typeof v === 'number' && Number.isInteger(v);
    case 'string':
      return typeof v === 'string';
    default:
      return typeof v === 'boolean';
  }
}

/**
 * Parses trainer_state.json text. Fields missing in files from older HF versions get the
 * dataclass defaults; fields of the wrong type are errors naming the file and the field.
 */
export function parseTrainerState(text: string, file = TRAINER_STATE_NAME, required: readonly (keyof TrainerState)[] = []): TrainerState {
  const data = parseJsonText(text, file);
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    throw new TrainerStateError(`${file}: expected a JSON object`, file);
  const o = data as Record<string, unknown>;
  for (const key of required) if (!(key in o)) throw new TrainerStateError(`${file}: ${key}: missing`, file);
  const state = newTrainerState();
  const target = state as unknown as Record<string, unknown>;
  for (const [key, check] of Object.entries(FIELD_TYPES)) {
    if (!(key in o)) continue;
    if (!checkValue(o[key], check))
      throw new TrainerStateError(`${file}: ${key}: expected ${check.replace('|', ' or ')}, got ${JSON.stringify(o[key])}`, file);
    target[key] = o[key];
  }
  if ('log_history' in o && o.log_history !== null) {
    if (!Array.isArray(o.log_history)) throw new TrainerStateError(`${file}: log_history: expected a list`, file);
    state.log_history = o.log_history.map((rec, i) => {
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec))
        throw new TrainerStateError(`${file}: log_history[${i}]: expected an object`, file);
      const r = rec as Record<string, unknown>;
      if (typeof r.step !== 'number' || !Number.isInteger(r.step))
        throw new TrainerStateError(`${file}: log_history[${i}].step: expected an integer, got ${JSON.stringify(r.step)}`, file);
      for (const [k, v] of Object.entries(r)) {
        if (v !== null && typeof v === 'object')
          throw new TrainerStateError(`${file}: log_history[${i}].${k}: expected a number or string, got ${JSON.stringify(v)}`, file);
      }
      return r as LogRecord;
    });
  }
  if ('trial_params' in o && o.trial_params !== null) {
    if (typeof o.trial_params !== 'object' || Array.isArray(o.trial_params))
      throw new TrainerStateError(`${file}: trial_params: expected an object or null`, file);
    state.trial_params = o.trial_params as Record<string, string | number | boolean>;
  }
  if ('stateful_callbacks' in o && o.stateful_callbacks !== null) {
    if (typeof o.stateful_callbacks !== 'object' || Array.isArray(o.stateful_callbacks))
      throw new TrainerStateError(`${file}: stateful_callbacks: expected an object`, file);
    state.stateful_callbacks = o.stateful_callbacks as Record<string, unknown>;
  }
  return state;
}

export function readTrainerState(path: string, required: readonly (keyof TrainerState)[] = []): TrainerState {
  let text: string;
  try {
    text = readModelText(path);
  } catch (e) {
    throw new TrainerStateError(
      `${path}: cannot read trainer state (${e instanceof ModelFileError ? (e.code === 'ENOENT' ? 'ENOENT' : e.problem) : (e as Error).message})`,
      path,
    );
  }
  return parseTrainerState(text, path, required);
}

/** Writes trainer_state.json atomically (temp file + rename). */
export function writeTrainerState(path: string, state: TrainerState): void {
  writeFileAtomic(path, serializeTrainerState(state));
}

// ---------------------------------------------------------------------------------------------
// Checkpoint folders

export interface CheckpointInfo {
  step: number;
  /** outputDir joined with the folder name. */
  path: string;
}

export function checkpointDirName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`checkpoint step must be a non-negative integer, got ${step}`);
  return `${PREFIX_CHECKPOINT_DIR}-${step}`;
}

// Anchored (as HF's get_last_checkpoint) so that `checkpoint-500.tmp-123` is never taken for step 500.
const CHECKPOINT_RE = /^checkpoint-(\d+)$/;

/** The step of a checkpoint folder name, or null if `name` is not one. */
export function parseCheckpointDirName(name: string): number | null {
  const m = CHECKPOINT_RE.exec(name);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

/** The checkpoint folders in outputDir, sorted by step (oldest first). Missing outputDir: []. */
export function listCheckpoints(outputDir: string): CheckpointInfo[] {
  if (!existsSync(outputDir)) return [];
  const out: CheckpointInfo[] = [];
  for (const name of readdirSync(outputDir)) {
    const step = parseCheckpointDirName(name);
    if (step === null) continue;
    const path = join(outputDir, name);
    try {
      if (!statSync(path).isDirectory()) continue;
    } catch {
      continue;
    }
    out.push({ step, path });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** HF get_last_checkpoint: the checkpoint with the highest step, or null. */
export function latestCheckpoint(outputDir: string): string | null {
  const all = listCheckpoints(outputDir);
  return all.length ? all[all.length - 1]!.path : null;
}

function samePath(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

/**
 * HF Trainer._sorted_checkpoints: oldest first, except that the best checkpoint is moved to the
 * second-to-last place so that rotation (which deletes from the front) keeps it.
 */
export function sortedCheckpointsForRotation(outputDir: string, bestCheckpoint: string | null): string[] {
  const sorted = listCheckpoints(outputDir).map((c) => c.path);
  if (bestCheckpoint !== null) {
    const idx = sorted.findIndex((p) => samePath(p, bestCheckpoint));
    if (idx >= 0) {
      for (let i = idx; i < sorted.length - 2; i++) {
        [sorted[i], sorted[i + 1]] = [sorted[i + 1]!, sorted[i]!];
      }
    }
  }
  return sorted;
}

/**
 * HF Trainer._rotate_checkpoints: keep at most `saveTotalLimit` checkpoints, deleting the oldest,
 * never the best one. With a limit of 1 and a best checkpoint that is not the newest, 2 are kept,
 * so that the newest stays available for resuming. Returns the deleted folders.
 */
export function rotateCheckpoints(outputDir: string, saveTotalLimit: number | null, bestCheckpoint: string | null): string[] {
  if (saveTotalLimit === null || saveTotalLimit <= 0) return [];
  const sorted = sortedCheckpointsForRotation(outputDir, bestCheckpoint);
  if (sorted.length <= saveTotalLimit) return [];
  let limit = saveTotalLimit;
  if (bestCheckpoint !== null && saveTotalLimit === 1 && !samePath(sorted[sorted.length - 1]!, bestCheckpoint)) limit = 2;
  const toDelete = sorted.slice(0, Math.max(0, sorted.length - limit));
  for (const dir of toDelete) rmSync(dir, { recursive: true, force: true });
  return toDelete;
}

/** Step of a checkpoint path (`.../checkpoint-500` -> 500), or null. */
export function checkpointStep(path: string): number | null {
  return parseCheckpointDirName(basename(resolve(path)));
}
