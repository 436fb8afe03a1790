/**
 * Dynamically quantized folders (`tokentune quantize`) of the architectures on the shared encoder
 * (encoder.ts: BERT, RoBERTa, XLM-RoBERTa, DistilBERT; DeBERTa-v2 and others are refused): the
 * linear layers of the encoder stored as int8 weights per output channel, everything else float32,
 * in Hugging Face's folder layout plus one file, `quantization.json`, that marks the folder and
 * lists the quantized layers:
 *
 *   config.json, vocab.txt, ...        unchanged
 *   model.safetensors                  float32 tensors as usual, except for each listed layer
 *                                      `<layer>.weight` I8 [out, in] and `<layer>.weight_scale` F32 [out]
 *                                      (weight ~ weight_I8 * weight_scale[row])
 *   quantization.json                  {"format": "tokentune-dynamic-int8", "version": 1, "weight_bits": 8, "layers": [...]}
 *
 * weight_bits 8: weights in [-127, 127] (scale max|w| / 127); 7: in [-63, 63] (scale max|w| / 63),
 * which plain AVX2 multiplies exactly with vpmaddubsw, about twice as fast as its exact 8-bit form.
 * Folders written before weight_bits existed are 8-bit.
 *
 * Loading (pretrained.ts) dequantizes the listed weights into the float parameters, so every
 * consumer sees an ordinary model, and attaches the int8 layers that inference forward passes use.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { quantizeWeightPerChannel, int8Linear, type Int8Linear, type WeightBits } from '../engine/ops/int8.js';
import { writeSafetensors } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { StateDict, TensorInfo } from '../io/tensor-record.js';
import type { Tokenizer } from '../tokenizers/index.js';
import { configToJson } from './config.js';
import { EncoderForTokenClassification } from './encoder/encoder.js';
import type { Int8EncoderLayer } from './encoder/encoder-int8.js';
import type { ParamSpec } from './init.js';
import { architectureFor, type TokenClassifier } from './registry.js';
import { ModelFileError, readModelJson } from '../io/model-file.js';

export const QUANTIZATION_FILE = 'quantization.json';
export const QUANTIZATION_FORMAT = 'tokentune-dynamic-int8';
/** `tokentune quantize`'s weight precision when --weight-bits is not given. */
export const DEFAULT_WEIGHT_BITS: WeightBits = 8;

export interface QuantizationInfo {
  format: typeof QUANTIZATION_FORMAT;
  version: 1;
  /** What runs in int8 and how. */
  activations: string;
  weights: string;
  /** 7 or 8 (absent in folders written before it existed: 8). */
  weight_bits: WeightBits;
  /** Linear layers stored as int8 (HF names without `.weight`). */
  layers: string[];
}

/** The encoder's linear layers, in HF order (the classifier, embeddings and LayerNorms stay float). */
export function quantizableLayers(model: TokenClassifier): string[] {
  const enc = asEncoder(model);
  const out: string[] = [];
  for (let l = 0; l < enc.config.numHiddenLayers; l++) {
    const n = enc.layerNames(l);
    out.push(n.query, n.key, n.value, n.attnOut, n.ffIn, n.ffOut);
  }
  return out;
}

/** Writes `model` quantized into `dir` (config, weights, quantization.json, vocabulary). */
export function saveQuantized(
  model: TokenClassifier,
  dir: string,
  tokenizer?: Tokenizer,
  weightBits: WeightBits = DEFAULT_WEIGHT_BITS,
): QuantizationInfo {
  const layers = quantizableLayers(model);
  const quantized = new Set(layers.map((l) => `${l}.weight`));
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array | Int8Array }>();
  for (const [name, t] of model.parameters()) {
    if (!quantized.has(name)) {
      tensors.set(name, { shape: t.shape, data: t.f as Float32Array });
      continue;
    }
    const [n, k] = t.shape;
    const { q, scale } = quantizeWeightPerChannel(t.f as Float32Array, n, k, weightBits);
    tensors.set(name, { shape: t.shape, data: q });
    tensors.set(`${name}_scale`, { shape: [n], data: scale });
  }
  const info: QuantizationInfo = {
    format: QUANTIZATION_FORMAT,
    version: 1,
    activations: 'u8, asymmetric, one scale and zero point per row, computed at run time',
    weights: `s8 in [-${weightBits === 7 ? 63 : 127}, ${weightBits === 7 ? 63 : 127}], symmetric, one scale per output channel (weight_scale)`,
    weight_bits: weightBits,
    layers,
  };
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt', quantization: QUANTIZATION_FORMAT });
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(configToJson(model.config, model.architecture), null, 2) + '\n');
  writeFileAtomic(join(dir, QUANTIZATION_FILE), JSON.stringify(info, null, 2) + '\n');
  tokenizer?.saveVocab(dir);
  return info;
}

/** A quantized folder's quantization.json, checked, with the extra tensors its weights file holds. */
export interface QuantizedFolder {
  file: string;
  layers: string[];
  /** Per-channel scale tensors (`<layer>.weight_scale`) to read besides the model's parameters. */
  scaleNames: string[];
  /** Their element count (the load's element budget grows by it). */
  scaleElements: number;
  weightBits: WeightBits;
}

/**
 * For a folder with quantization.json: reads and checks it against the parameter specs of the
 * model the config builds (each listed layer must be one of its 2-D weights). Null for an
 * ordinary folder.
 */
export function readQuantizationInfo(dir: string, specs: readonly ParamSpec[]): QuantizedFolder | null {
  const file = join(dir, QUANTIZATION_FILE);
  if (!existsSync(file)) return null;
  let info: Partial<QuantizationInfo>;
  try {
    info = readModelJson(file) as Partial<QuantizationInfo>;
  } catch (e) {
    throw new Error(`${file}: ${e instanceof ModelFileError ? e.problem : String(e)}; re-run tokentune quantize`);
  }
  if (info.format !== QUANTIZATION_FORMAT || info.version !== 1) {
    throw new Error(
      `${file}: format ${JSON.stringify(info.format)} version ${JSON.stringify(info.version)} is not ${QUANTIZATION_FORMAT} version 1; re-run tokentune quantize with this tokentune`,
    );
  }
  const bits = info.weight_bits === undefined ? 8 : info.weight_bits; // absent: written before it existed
  if (bits !== 7 && bits !== 8)
    throw new Error(`${file}: "weight_bits" must be 7 or 8, got ${JSON.stringify(bits)}; re-run tokentune quantize`);
  const layers = info.layers;
  if (!Array.isArray(layers) || layers.length === 0 || !layers.every((l) => typeof l === 'string')) {
    throw new Error(`${file}: "layers" must be a non-empty list of layer names; re-run tokentune quantize`);
  }
  const shapes = new Map(specs.map((s) => [s.name, s.shape]));
  let scaleElements = 0;
  for (const layer of layers) {
    const shape = shapes.get(`${layer}.weight`);
    if (!shape || shape.length !== 2)
      throw new Error(
        `${file}: "layers" lists ${JSON.stringify(layer)}, which is not a linear layer of this config's model; re-run tokentune quantize`,
      );
    scaleElements += shape[0];
  }
  return { file, layers, scaleNames: layers.map((l) => `${l}.weight_scale`), scaleElements, weightBits: bits };
}

/**
 * The scale tensors present in a weights file's listing (the load reads them too); refuses an I8
 * tensor that quantization.json does not list (it would otherwise be taken as a float weight).
 */
export function scalesIn(q: QuantizedFolder, listing: readonly TensorInfo[]): string[] {
  const wanted = new Set(q.scaleNames),
    listed = new Set(q.layers.map((l) => `${l}.weight`));
  const stray = listing.find((i) => i.dtype === 'I8' && !listed.has(i.name));
  if (stray)
    throw new Error(
      `${q.file}: "layers" does not list ${stray.name.replace(/\.weight$/, '')}, whose weight the weights file stores as I8; re-run tokentune quantize`,
    );
  return listing.filter((i) => wanted.has(i.name)).map((i) => i.name);
}

/** int8 weights read from a quantized folder, by layer name. */
export type Int8Weights = Map<string, { q: Int8Array; scale: Float32Array }>;

/**
 * Takes the listed layers' I8 weights and scales out of `state` and puts their dequantized
 * float32 weights in their place (so the model builds as usual); returns the int8 weights.
 */
export function takeInt8Weights(dir: string, q: QuantizedFolder, state: StateDict): Int8Weights {
  const out: Int8Weights = new Map();
  for (const layer of q.layers) {
    const wName = `${layer}.weight`,
      sName = `${layer}.weight_scale`;
    const w = state.get(wName),
      s = state.get(sName);
    if (!w || !s) throw new Error(`${dir}: quantized layer ${layer} lacks ${!w ? wName : sName} in the weights file`);
    if (w.dtype !== 'I8' || w.shape.length !== 2)
      throw new Error(`${dir}: ${wName} must be I8 [out, in], got ${w.dtype} [${w.shape.join(', ')}]`);
    const [n, k] = w.shape;
    if (s.dtype !== 'F32' || s.shape.length !== 1 || s.shape[0] !== n)
      throw new Error(`${dir}: ${sName} must be F32 [${n}], got ${s.dtype} [${s.shape.join(', ')}]`);
    const scale = s.data as Float32Array;
    const qw = Int8Array.from(w.data as Int32Array);
    const deq = new Float32Array(n * k);
    for (let j = 0; j < n; j++) {
      if (!(Number.isFinite(scale[j]) && scale[j] >= 0))
        throw new Error(`${dir}: ${sName}[${j}] = ${scale[j]} is not a finite non-negative scale`);
      for (let p = 0; p < k; p++) deq[j * k + p] = qw[j * k + p] * scale[j];
    }
    state.set(wName, { dtype: 'F32', shape: [n, k], data: deq });
    state.delete(sName);
    out.set(layer, { q: qw, scale });
  }
  return out;
}

/**
 * Builds the int8 layers of a loaded model from its folder's int8 weights, which must cover
 * exactly the model's quantizable layers (`source` names the folder in the error).
 */
export function attachInt8(model: TokenClassifier, weights: Int8Weights, source = 'int8 weights', weightBits: WeightBits = 8): void {
  const enc = asEncoder(model);
  const expected = quantizableLayers(enc);
  const listed = [...weights.keys()];
  if (listed.length !== expected.length || listed.some((l, i) => l !== expected[i])) {
    throw new Error(
      `${source}: the quantized layers must be the ${expected.length} encoder linear layers of this config (${expected[0]}, ...), in order; got ${listed.length} (${listed[0]}, ...); re-run tokentune quantize`,
    );
  }
  const p = (name: string) => enc.params.get(name)!;
  const lin = (layer: string): Int8Linear => {
    const w = weights.get(layer)!;
    const [n, k] = p(`${layer}.weight`).shape;
    return int8Linear(w.q, w.scale, n, k, p(`${layer}.bias`).f as Float32Array);
  };
  const layers: Int8EncoderLayer[] = [];
  for (let l = 0; l < enc.config.numHiddenLayers; l++) {
    const names = enc.layerNames(l);
    const parts = [names.query, names.key, names.value];
    const [n, k] = p(`${parts[0]}.weight`).shape;
    const cat = <T extends Int8Array | Float32Array>(make: (len: number) => T, get: (layer: string) => T): T => {
      const pieces = parts.map(get),
        outArr = make(pieces.reduce((s, a) => s + a.length, 0));
      let o = 0;
      for (const a of pieces) {
        outArr.set(a, o);
        o += a.length;
      }
      return outArr;
    };
    const qkv = int8Linear(
      cat(
        (len) => new Int8Array(len),
        (x) => weights.get(x)!.q,
      ),
      cat(
        (len) => new Float32Array(len),
        (x) => weights.get(x)!.scale,
      ),
      3 * n,
      k,
      cat(
        (len) => new Float32Array(len),
        (x) => p(`${x}.bias`).f as Float32Array,
      ),
    );
    layers.push({
      qkv,
      attentionOutput: lin(names.attnOut),
      intermediate: lin(names.ffIn),
      output: lin(names.ffOut),
      ln1: [p(`${names.attnNorm}.weight`), p(`${names.attnNorm}.bias`)],
      ln2: [p(`${names.ffNorm}.weight`), p(`${names.ffNorm}.bias`)],
    });
  }
  enc.int8Layers = layers;
  enc.int8WeightBits = weightBits;
}

/** Quantizes a loaded float model in memory (what saving and reloading would give). */
export function quantizeInMemory(model: TokenClassifier, weightBits: WeightBits = DEFAULT_WEIGHT_BITS): void {
  const weights: Int8Weights = new Map();
  for (const layer of quantizableLayers(model)) {
    const t = model.params.get(`${layer}.weight`)!;
    weights.set(layer, quantizeWeightPerChannel(t.f as Float32Array, t.shape[0], t.shape[1], weightBits));
  }
  attachInt8(model, weights, 'int8 weights', weightBits);
}

/** The weight precision of the model's int8 layers, or the default for a float model (what int8Variant gives). */
export function int8WeightBits(model: TokenClassifier): WeightBits {
  const enc = asEncoder(model);
  return enc.int8Layers ? enc.int8WeightBits : DEFAULT_WEIGHT_BITS;
}

/** The architectures int8 quantization covers: those on the shared encoder (encoder.ts). */
function asEncoder(model: TokenClassifier): EncoderForTokenClassification {
  if (!(model instanceof EncoderForTokenClassification)) {
    throw new Error(
      `int8 quantization supports BERT, RoBERTa, XLM-RoBERTa and DistilBERT (the shared encoder layer), not ${model.architecture} (model_type '${model.config.modelType}')`,
    );
  }
  return model;
}

/** The same weights as a new model of the same architecture, without int8 layers. */
function rebuild(model: EncoderForTokenClassification): EncoderForTokenClassification {
  return architectureFor(model.config).build(model.config, model.params) as EncoderForTokenClassification;
}

/** The same weights without int8 layers: the float model (e.g. to check an fp32 export of a quantized folder). */
export function floatVariant(model: TokenClassifier): TokenClassifier {
  const enc = asEncoder(model);
  return enc.int8Layers ? rebuild(enc) : enc;
}

/** The same weights with int8 layers (the model itself when it has them). */
export function int8Variant(model: TokenClassifier): TokenClassifier {
  const enc = asEncoder(model);
  if (enc.int8Layers) return enc;
  const copy = rebuild(enc);
  quantizeInMemory(copy);
  return copy;
}
