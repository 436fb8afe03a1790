/**
 * Dynamically quantized folders (`tokentune quantize`): the linear layers of the encoder stored as
 * int8 weights per output channel, everything else float32, in Hugging Face's folder layout plus
 * one file, `quantization.json`, that marks the folder and lists the quantized layers:
 *
 *   config.json, vocab.txt, ...        unchanged
 *   model.safetensors                  float32 tensors as usual, except for each listed layer
 *                                      `<layer>.weight` I8 [out, in] and `<layer>.weight_scale` F32 [out]
 *                                      (weight ~ weight_I8 * weight_scale[row])
 *   quantization.json                  {"format": "tokentune-dynamic-int8", "version": 1, "layers": [...]}
 *
 * Loading (pretrained.ts) dequantizes the listed weights into the float parameters, so every
 * consumer sees an ordinary model, and attaches the int8 layers that inference forward passes use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { quantizeWeightPerChannel, int8Linear, type Int8Linear } from '../engine/ops/int8.js';
import { writeSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { StateDict } from '../io/tensor-record.js';
import type { WordPieceTokenizer } from '../tokenizers/index.js';
import { BertForTokenClassification } from './bert.js';
import type { BertInt8Layer } from './bert-int8.js';
import { configToJson, type ModelConfig } from './config.js';
import type { TokenClassifier } from './registry.js';

export const QUANTIZATION_FILE = 'quantization.json';
export const QUANTIZATION_FORMAT = 'tokentune-dynamic-int8';

export interface QuantizationInfo {
  format: typeof QUANTIZATION_FORMAT;
  version: 1;
  /** What runs in int8 and how. */
  activations: string;
  weights: string;
  /** Linear layers stored as int8 (HF names without `.weight`). */
  layers: string[];
}

/** The encoder's linear layers (the classifier, embeddings and LayerNorms stay float). */
export function quantizableLayers(cfg: ModelConfig, prefix = 'bert'): string[] {
  const out: string[] = [];
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `${prefix}.encoder.layer.${l}`;
    out.push(`${p}.attention.self.query`, `${p}.attention.self.key`, `${p}.attention.self.value`,
      `${p}.attention.output.dense`, `${p}.intermediate.dense`, `${p}.output.dense`);
  }
  return out;
}

/** Writes `model` quantized into `dir` (config, weights, quantization.json, vocabulary). */
export function saveQuantized(model: TokenClassifier, dir: string, tokenizer?: WordPieceTokenizer): QuantizationInfo {
  const bert = asBert(model);
  const layers = quantizableLayers(bert.config, bert.prefix);
  const quantized = new Set(layers.map((l) => `${l}.weight`));
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array | Int8Array }>();
  for (const [name, t] of bert.parameters()) {
    if (!quantized.has(name)) { tensors.set(name, { shape: t.shape, data: t.f as Float32Array }); continue; }
    const [n, k] = t.shape;
    const { q, scale } = quantizeWeightPerChannel(t.f as Float32Array, n, k);
    tensors.set(name, { shape: t.shape, data: q });
    tensors.set(`${name}_scale`, { shape: [n], data: scale });
  }
  const info: QuantizationInfo = {
    format: QUANTIZATION_FORMAT, version: 1,
    activations: 'u8, asymmetric, one scale and zero point per row, computed at run time',
    weights: 's8, symmetric, one scale per output channel (weight_scale)',
    layers,
  };
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', quantization: QUANTIZATION_FORMAT });
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(configToJson(bert.config, bert.architecture), null, 2) + '\n');
  writeFileAtomic(join(dir, QUANTIZATION_FILE), JSON.stringify(info, null, 2) + '\n');
  tokenizer?.saveVocab(dir);
  return info;
}

/** int8 weights read from a quantized folder, by layer name. */
export type Int8Weights = Map<string, { q: Int8Array; scale: Float32Array }>;

/**
 * For a folder with quantization.json: checks it, takes the listed layers' I8 weights and scales
 * out of `state` and puts their dequantized float32 weights in their place (so the model builds as
 * usual). Returns null for an ordinary folder.
 */
export function readInt8Weights(dir: string, cfg: ModelConfig, state: StateDict): Int8Weights | null {
  const file = join(dir, QUANTIZATION_FILE);
  if (!existsSync(file)) return null;
  let info: Partial<QuantizationInfo>;
  try { info = JSON.parse(readFileSync(file, 'utf8')) as Partial<QuantizationInfo>; } catch (e) {
    throw new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : e}); re-run tokentune quantize`);
  }
  if (info.format !== QUANTIZATION_FORMAT || info.version !== 1) {
    throw new Error(`${file}: format ${JSON.stringify(info.format)} version ${JSON.stringify(info.version)} is not ${QUANTIZATION_FORMAT} version 1; re-run tokentune quantize with this tokentune`);
  }
  const expected = quantizableLayers(cfg);
  const layers = info.layers;
  if (!Array.isArray(layers) || layers.length !== expected.length || layers.some((l, i) => l !== expected[i])) {
    throw new Error(`${file}: "layers" must list the ${expected.length} encoder linear layers of this config (${expected[0]}, ...); re-run tokentune quantize`);
  }
  const out: Int8Weights = new Map();
  for (const layer of layers) {
    const wName = `${layer}.weight`, sName = `${layer}.weight_scale`;
    const w = state.get(wName), s = state.get(sName);
    if (!w || !s) throw new Error(`${dir}: quantized layer ${layer} lacks ${!w ? wName : sName} in the weights file`);
    if (w.dtype !== 'I8' || w.shape.length !== 2) throw new Error(`${dir}: ${wName} must be I8 [out, in], got ${w.dtype} [${w.shape.join(', ')}]`);
    const [n, k] = w.shape;
    if (s.dtype !== 'F32' || s.shape.length !== 1 || s.shape[0] !== n) throw new Error(`${dir}: ${sName} must be F32 [${n}], got ${s.dtype} [${s.shape.join(', ')}]`);
    const scale = s.data as Float32Array;
    const q = Int8Array.from(w.data as Int32Array);
    const deq = new Float32Array(n * k);
    for (let j = 0; j < n; j++) {
      if (!(Number.isFinite(scale[j]) && scale[j] >= 0)) throw new Error(`${dir}: ${sName}[${j}] = ${scale[j]} is not a finite non-negative scale`);
      for (let p = 0; p < k; p++) deq[j * k + p] = q[j * k + p] * scale[j];
    }
    state.set(wName, { dtype: 'F32', shape: [n, k], data: deq });
    state.delete(sName);
    out.set(layer, { q, scale });
  }
  return out;
}

/** Builds the int8 layers of a loaded model from its folder's int8 weights. */
export function attachInt8(model: TokenClassifier, weights: Int8Weights): void {
  const bert = asBert(model);
  const p = (name: string) => bert.params.get(name)!;
  const lin = (layer: string): Int8Linear => {
    const w = weights.get(layer)!;
    const [n, k] = p(`${layer}.weight`).shape;
    return int8Linear(w.q, w.scale, n, k, p(`${layer}.bias`).f as Float32Array);
  };
  const layers: BertInt8Layer[] = [];
  for (let l = 0; l < bert.config.numHiddenLayers; l++) {
    const pre = `${bert.prefix}.encoder.layer.${l}`;
    const parts = ['query', 'key', 'value'].map((n) => `${pre}.attention.self.${n}`);
    const [n, k] = p(`${parts[0]}.weight`).shape;
    const cat = <T extends Int8Array | Float32Array>(make: (len: number) => T, get: (layer: string) => T): T => {
      const pieces = parts.map(get), outArr = make(pieces.reduce((s, a) => s + a.length, 0));
      let o = 0;
      for (const a of pieces) { outArr.set(a, o); o += a.length; }
      return outArr;
    };
    const qkv = int8Linear(
      cat((len) => new Int8Array(len), (x) => weights.get(x)!.q), cat((len) => new Float32Array(len), (x) => weights.get(x)!.scale),
      3 * n, k, cat((len) => new Float32Array(len), (x) => p(`${x}.bias`).f as Float32Array));
    layers.push({
      qkv, attentionOutput: lin(`${pre}.attention.output.dense`), intermediate: lin(`${pre}.intermediate.dense`), output: lin(`${pre}.output.dense`),
      ln1: [p(`${pre}.attention.output.LayerNorm.weight`), p(`${pre}.attention.output.LayerNorm.bias`)],
      ln2: [p(`${pre}.output.LayerNorm.weight`), p(`${pre}.output.LayerNorm.bias`)],
    });
  }
  bert.int8Layers = layers;
}

/** Quantizes a loaded float model in memory (what saving and reloading would give). */
export function quantizeInMemory(model: TokenClassifier): void {
  const bert = asBert(model);
  const weights: Int8Weights = new Map();
  for (const layer of quantizableLayers(bert.config, bert.prefix)) {
    const t = bert.params.get(`${layer}.weight`)!;
    weights.set(layer, quantizeWeightPerChannel(t.f as Float32Array, t.shape[0], t.shape[1]));
  }
  attachInt8(model, weights);
}

function asBert(model: TokenClassifier): BertForTokenClassification {
  if (!(model instanceof BertForTokenClassification)) throw new Error(`int8 quantization supports BertForTokenClassification, not ${model.architecture}`);
  return model;
}

/** The same weights without int8 layers: the float model (e.g. to check an fp32 export of a quantized folder). */
export function floatVariant(model: TokenClassifier): TokenClassifier {
  const bert = asBert(model);
  return bert.int8Layers ? new BertForTokenClassification(bert.config, bert.params) : bert;
}

/** The same weights with int8 layers (the model itself when it has them). */
export function int8Variant(model: TokenClassifier): TokenClassifier {
  const bert = asBert(model);
  if (bert.int8Layers) return bert;
  const copy = new BertForTokenClassification(bert.config, bert.params);
  quantizeInMemory(copy);
  return copy;
}
