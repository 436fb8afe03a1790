/**
 * Loading and saving models in Hugging Face's folder layout: config.json + model.safetensors
 * (or pytorch_model.bin) + tokenizer files, from a folder or from the hub by name.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, parameter } from '../engine/index.js';
import { loadStateDict } from '../io/state-dict.js';
import { writeSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { snapshotDownload, type SnapshotDownloadOptions } from '../io/hub.js';
import type { StateDict, TensorRecord } from '../io/tensor-record.js';
import { loadTokenizer, TOKENIZER_FILES, type Tokenizer } from '../tokenizers/index.js';
import { configJsonText, configToJson, readConfig, type ModelConfig } from './config.js';
import { initParameter } from './init.js';
import { architectureFor, type Architecture, type TokenClassifier } from './registry.js';
import { expectedElements, matchCheckpoint, modelNameMapper, type CheckpointMatch, type MatchTarget } from './checkpoint-match.js';
import { attachInt8, readQuantizationInfo, scalesIn, takeInt8Weights } from './quantized.js';

export interface LoadReport {
  /** Parameters the checkpoint did not provide and that were freshly initialised (the new head). */
  newlyInitialized: string[];
  /** Checkpoint tensors the model does not use (pooler, MLM head, ...). */
  unused: string[];
  /** Human-readable warnings, HF style. */
  warnings: string[];
}

export interface LoadOptions {
  /**
   * The label list to train with. When it differs from the checkpoint's id2label, the
   * classifier head is re-initialised (and reported), as fine-tuning a base model needs.
   */
  labels?: string[];
  /** Seed for freshly initialised parameters. */
  seed?: number;
  /** Hub options when `nameOrPath` is not a local folder. */
  hub?: Omit<SnapshotDownloadOptions, 'files' | 'optional' | 'repoType'>;
  /** Warnings go here (default: stderr). */
  onWarning?: (message: string) => void;
}

export interface Pretrained {
  model: TokenClassifier;
  tokenizer: Tokenizer;
  report: LoadReport;
  dir: string;
}

/** Tokenizer files of every kind (a repository has some of them: those it lacks are not requested). */
const TOKENIZER_FILE_SET = new Set(TOKENIZER_FILES);
/** What a token classifier needs from a hub repository (weights in safetensors when the repo has them). */
const isHubFile = (f: string): boolean => f === 'config.json' || TOKENIZER_FILE_SET.has(f);
const isSafetensors = (f: string): boolean => /^model(-\d+-of-\d+)?\.safetensors(\.index\.json)?$/.test(f);
const isTorchBin = (f: string): boolean => /^pytorch_model(-\d+-of-\d+)?\.bin(\.index\.json)?$/.test(f);

/** A local folder, or a hub repository id downloaded into the HF cache. */
export async function resolveModelDir(nameOrPath: string, hub: LoadOptions['hub'] = {}): Promise<string> {
  if (existsSync(nameOrPath)) {
    if (!statSync(nameOrPath).isDirectory())
      throw new Error(`${nameOrPath}: expected a model folder (config.json, model.safetensors, vocab.txt)`);
    return nameOrPath;
  }
  if (/^[.~/]/.test(nameOrPath) || nameOrPath.split('/').length > 2) {
    throw new Error(`${nameOrPath}: no such model folder`);
  }
  // A tokenizer file listed by the revision but gone (404) is skipped: the folder may hold another kind.
  const optional = (f: string) => TOKENIZER_FILE_SET.has(f);
  const dir = await snapshotDownload(nameOrPath, { ...hub, optional, files: (f) => isHubFile(f) || isSafetensors(f) });
  if (readdirSync(dir).some(isSafetensors)) return dir;
  // Older repositories only have torch.save weights.
  return snapshotDownload(nameOrPath, { ...hub, optional, files: (f) => isHubFile(f) || isTorchBin(f) });
}

export async function fromPretrained(nameOrPath: string, opts: LoadOptions = {}): Promise<Pretrained> {
  const dir = await resolveModelDir(nameOrPath, opts.hub);
  const { model, report } = loadModelFromDir(dir, opts);
  const tokenizer = loadTokenizer(dir);
  checkVocab(model, tokenizer, report);
  for (const w of report.warnings) (opts.onWarning ?? ((m: string) => process.stderr.write(`warning: ${m}\n`)))(w);
  return { model, tokenizer, report, dir };
}

/**
 * Builds the model from a folder's config and weights (no tokenizer). The checkpoint is listed
 * first and matched to the model, so only the tensors the model needs are read, a wrong shape
 * is refused before any data is, and at most the model's parameter count is materialised.
 */
export function loadModelFromDir(dir: string, opts: LoadOptions = {}): { model: TokenClassifier; report: LoadReport } {
  const config = readConfig(join(dir, 'config.json'));
  const target = resolveTarget(config, opts, join(dir, 'config.json'));
  // A `tokentune quantize` folder (quantized.ts) also holds each int8 layer's scales.
  const quant = readQuantizationInfo(dir, target.specs);
  let match: CheckpointMatch | undefined;
  const state = loadStateDict(dir, {
    select: (listing) => {
      match = matchCheckpoint(target, listing, dir);
      return quant ? [...match.keep, ...scalesIn(quant, listing)] : match.keep;
    },
    maxElements: expectedElements(target) + (quant?.scaleElements ?? 0),
  });
  const scales = new Set(quant?.scaleNames);
  const skipped = (match?.unused ?? []).filter((n) => !scales.has(n));
  if (!quant) return buildFromState(config, state, dir, opts, skipped);
  // int8 weights become float parameters, plus int8 layers for inference (not when fine-tuning
  // with new labels: training runs on the float weights).
  const int8 = takeInt8Weights(dir, quant, state);
  const built = buildFromState(config, state, dir, opts, skipped);
  if (opts.labels === undefined) attachInt8(built.model, int8, quant.file, quant.weightBits);
  return built;
}

function resolveTarget(
  config: ModelConfig,
  opts: LoadOptions,
  configSource?: string,
): MatchTarget & { arch: Architecture; labels: string[] } {
  const labels = opts.labels ?? config.labels;
  const newHead = opts.labels !== undefined && !sameLabels(opts.labels, config.labels);
  const cfg: ModelConfig = { ...config, labels };
  const arch = architectureFor(cfg, configSource);
  return { cfg, arch, labels, newHead, prefix: arch.prefix, specs: arch.paramSpecs(cfg, labels.length) };
}

/**
 * Matches checkpoint tensors to the architecture's parameters by HF name. `skipped` names
 * checkpoint tensors left unread because the model does not use them (for the report).
 */
export function buildFromState(
  config: ModelConfig,
  state: StateDict,
  source: string,
  opts: LoadOptions = {},
  skipped: readonly string[] = [],
): { model: TokenClassifier; report: LoadReport } {
  const report: LoadReport = { newlyInitialized: [], unused: [], warnings: [] };
  const { cfg, arch, newHead, specs } = resolveTarget(config, opts);
  const toModel = modelNameMapper(state.keys(), arch.prefix, specs);
  const byName = new Map<string, TensorRecord>();
  for (const [k, v] of state) byName.set(toModel(k), v);
  const params = new Map<string, Tensor>();
  const missing: string[] = [];
  const nonFinite: string[] = [];
  const seed = opts.seed ?? 42;
  for (const spec of specs) {
    // The head: everything outside the base model. Only the classifier's shape depends on the labels.
    const isHead = !spec.name.startsWith(`${arch.prefix}.`);
    const rec = byName.get(spec.name);
    byName.delete(spec.name);
    if (isHead && (!rec || (newHead && spec.name.startsWith('classifier.')))) {
      params.set(spec.name, initParameter(spec, cfg.initializerRange, seed));
      report.newlyInitialized.push(spec.name);
      continue;
    }
    if (!rec) {
      missing.push(spec.name);
      continue;
    }
    if (rec.shape.length !== spec.shape.length || rec.shape.some((d, i) => d !== spec.shape[i])) {
      throw new Error(
        `${source}: ${spec.name} has shape [${rec.shape.join(', ')}] in the checkpoint but the config gives [${spec.shape.join(', ')}]`,
      );
    }
    if (!(rec.data instanceof Float32Array)) throw new Error(`${source}: ${spec.name} is ${rec.dtype}, expected a float tensor`);
    const bad = countNonFinite(rec.data);
    if (bad > 0) nonFinite.push(`${spec.name} (${bad} of ${rec.data.length})`);
    params.set(spec.name, parameter(rec.data, spec.shape, spec.name));
  }
  // NaN weights once gave "(no entities)" without a word.
  if (nonFinite.length)
    report.warnings.push(
      `${source}: weights hold NaN or infinite values, so every prediction is meaningless: ${nonFinite.slice(0, 6).join(', ')}${nonFinite.length > 6 ? ` and ${nonFinite.length - 6} more tensors` : ''}`,
    );
  if (missing.length) {
    throw new Error(
      `${source}: checkpoint lacks ${missing.length} weight(s) the model needs: ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', ...' : ''}`,
    );
  }
  report.unused = [...byName.keys(), ...skipped];
  if (report.newlyInitialized.length) {
    report.warnings.push(
      `Some weights of ${arch.name} were not initialized from the checkpoint at ${source} and are newly initialized: ${report.newlyInitialized.join(', ')}. You should train this model on a down-stream task.`,
    );
  }
  if (report.unused.length) {
    report.warnings.push(
      `Some weights of the checkpoint at ${source} were not used: ${report.unused.slice(0, 6).join(', ')}${report.unused.length > 6 ? ` and ${report.unused.length - 6} more` : ''}.`,
    );
  }
  return { model: arch.build(cfg, params), report };
}

function sameLabels(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A vocabulary larger than the embedding table would crash on the extra ids: say so up front. */
function checkVocab(model: TokenClassifier, tok: Tokenizer, report: LoadReport): void {
  const rows = model.config.vocabSize;
  if (tok.vocabSize > rows) {
    const extra = tok.convertIdsToTokens(Array.from({ length: Math.min(5, tok.vocabSize - rows) }, (_, i) => rows + i));
    report.warnings.push(
      `the tokenizer vocabulary has ${tok.vocabSize} entries but word_embeddings has ${rows} rows: token ids ${rows}..${tok.vocabSize - 1} (${extra.join(' ')}${tok.vocabSize - rows > 5 ? ' ...' : ''}) cannot be embedded and will raise an error if they occur`,
    );
  }
}

/**
 * Writes config.json, model.safetensors and the tokenizer files into `dir`. Every file is written
 * under a temporary name and renamed, so a crash never leaves a half-written checkpoint.
 */
export function savePretrained(model: TokenClassifier, dir: string, tokenizer?: Tokenizer): void {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, t] of model.parameters()) tensors.set(name, { shape: t.shape, data: t.f as Float32Array });
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileAtomic(join(dir, 'config.json'), configJsonText(configToJson(model.config, model.architecture)));
  tokenizer?.saveVocab(dir);
}

function countNonFinite(a: Float32Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) n++;
  return n;
}
