/**
 * Model configuration as Hugging Face's `config.json` holds it. Known fields are typed and
 * validated; every other field is kept verbatim and written back, so a config survives a round
 * trip through tokentune unchanged. Reading and writing here take the model_type's config family
 * (config-family.ts) as an argument; config.ts looks it up in the registry. Model folders import
 * this module, never config.ts, so the registry importing them makes no cycle.
 */
import type { ConfigFamily, ConfigField } from './config-family.js';
import { excerpt } from '../io/errors.js';
import { describeJson, printable } from '../util/printable.js';

export interface ModelConfig {
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  hiddenAct: string;
  hiddenDropoutProb: number;
  attentionProbsDropoutProb: number;
  classifierDropout: number | null;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  initializerRange: number;
  padTokenId: number;
  /** Label names by id (from id2label); empty when the checkpoint has no token-classification head. */
  labels: string[];
  /** Every field of the original JSON, for writing back what we do not interpret. */
  raw: Record<string, unknown>;
}

/**
 * Upper bounds on size fields, far above any published model, so a hostile or mistyped
 * config.json (num_hidden_layers: 1e9) is refused by name before anything is allocated.
 */
export const SIZE_BOUNDS: Readonly<Partial<Record<string, number>>> = {
  vocab_size: 1 << 24,
  hidden_size: 1 << 16,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  intermediate_size: 1 << 18,
  max_position_embeddings: 1 << 20,
  type_vocab_size: 1 << 16,
  pad_token_id: 1 << 24,
};

/** Largest weight matrix the project indexes (int32 element offsets). */
const MAX_MATRIX_ELEMENTS = 2 ** 31 - 1;

/** Each weight matrix the size fields imply must be indexable; the error names both fields. */
function checkSizeProducts(cfg: ModelConfig, source: string, key: (k: ConfigField) => string): void {
  const pairs: [ConfigField, number][] = [
    ['vocab_size', cfg.vocabSize],
    ['max_position_embeddings', cfg.maxPositionEmbeddings],
    ['intermediate_size', cfg.intermediateSize],
    ['hidden_size', cfg.hiddenSize],
  ];
  for (const [k, v] of pairs) {
    if (v * cfg.hiddenSize > MAX_MATRIX_ELEMENTS) {
      throw new ConfigError(
        source,
        `${key(k)} ${v} x ${key('hidden_size')} ${cfg.hiddenSize} = ${v * cfg.hiddenSize} weights in one matrix exceeds ${MAX_MATRIX_ELEMENTS}`,
      );
    }
  }
  if (cfg.padTokenId >= cfg.vocabSize) {
    throw new ConfigError(source, `${key('pad_token_id')} ${cfg.padTokenId} must be below ${key('vocab_size')} ${cfg.vocabSize}`);
  }
}

/** A config value as an error quotes it: a hostile one may be megabytes long. */
/** A value for an error: escaped for the terminal, cut short, and a value nested too deep to stringify described by kind. */
const shown = (v: unknown): string => {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = describeJson(v);
  }
  return printable(excerpt(text, 80));
};

export class ConfigError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** `json` read with `fam`, the field names, defaults and fixed values of its model_type; errors name the field as config.json spells it. */
export function parseConfigWith(json: unknown, fam: ConfigFamily, source = 'config.json'): ModelConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(source, 'expected a JSON object');
  const raw = json as Record<string, unknown>;
  const key = (k: ConfigField): string => fam.aliases[k] ?? k;
  const get = (k: ConfigField): unknown => (k in fam.fixed ? fam.fixed[k] : key(k) in raw ? raw[key(k)] : fam.defaults[k]);
  const int = (k: ConfigField, min = 1): number => {
    const v = get(k);
    if (k in fam.fixed) return v as number;
    const max = SIZE_BOUNDS[k] ?? Number.MAX_SAFE_INTEGER;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(source, `${key(k)} must be an integer in [${min}, ${max}], got ${shown(v)}`);
    }
    return v;
  };
  const num = (k: ConfigField, lo: number, hi: number): number => {
    const v = get(k);
    if (typeof v !== 'number' || !(v >= lo && v <= hi))
      throw new ConfigError(source, `${key(k)} must be a number in [${lo}, ${hi}], got ${shown(v)}`);
    return v;
  };
  const cfg: ModelConfig = {
    modelType: String(get('model_type')),
    vocabSize: int('vocab_size'),
    hiddenSize: int('hidden_size'),
    numHiddenLayers: int('num_hidden_layers', 0),
    numAttentionHeads: int('num_attention_heads'),
    intermediateSize: int('intermediate_size'),
    hiddenAct: String(get('hidden_act')),
    hiddenDropoutProb: num('hidden_dropout_prob', 0, 0.999),
    attentionProbsDropoutProb: num('attention_probs_dropout_prob', 0, 0.999),
    classifierDropout: get('classifier_dropout') === null ? null : num('classifier_dropout', 0, 0.999),
    maxPositionEmbeddings: int('max_position_embeddings'),
    typeVocabSize: int('type_vocab_size', 0), // DeBERTa-v3 has none
    layerNormEps: num('layer_norm_eps', 0, 1),
    initializerRange: num('initializer_range', 0, 10),
    padTokenId: int('pad_token_id', 0),
    labels: parseLabels(raw, source),
    raw,
  };
  checkSizeProducts(cfg, source, key);
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ConfigError(
      source,
      `${key('hidden_size')} ${cfg.hiddenSize} is not a multiple of ${key('num_attention_heads')} ${cfg.numAttentionHeads}`,
    );
  }
  if (!['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'].includes(cfg.hiddenAct)) {
    throw new ConfigError(
      source,
      `${key('hidden_act')} '${cfg.hiddenAct}' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh)`,
    );
  }
  return cfg;
}

/** id2label keys are strings in JSON ("0", "1", ...); they must cover 0..n-1 exactly. */
function parseLabels(raw: Record<string, unknown>, source: string): string[] {
  const m = raw.id2label;
  if (m === undefined || m === null) return [];
  if (typeof m !== 'object' || Array.isArray(m)) throw new ConfigError(source, 'id2label must be an object of id -> label');
  const entries = Object.entries(m as Record<string, unknown>);
  const labels: string[] = new Array(entries.length);
  for (const [k, v] of entries) {
    const id = Number(k);
    if (!Number.isInteger(id) || id < 0 || id >= entries.length || typeof v !== 'string') {
      throw new ConfigError(source, `id2label entry ${shown(k)}: ${shown(v)} is not a label for an id in [0, ${entries.length})`);
    }
    // A label is printed by predict and served by the server: control characters (an ESC sequence
    // can clear or retitle a terminal) have no place in a tag name.
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f-\x9f]/.test(v))
      throw new ConfigError(source, `id2label entry ${shown(k)}: ${shown(v)} contains control characters`);
    labels[id] = v;
  }
  // HF's default for a fresh config is LABEL_0, LABEL_1: that means "no real head".
  return labels;
}

/** The config as HF writes it: original fields, our values (under `fam`'s names), architectures and the label maps. */
export function configToJsonWith(cfg: ModelConfig, architecture: string, fam: ConfigFamily): Record<string, unknown> {
  const out: Record<string, unknown> = { ...cfg.raw };
  const values: Record<ConfigField, unknown> = {
    model_type: cfg.modelType,
    vocab_size: cfg.vocabSize,
    hidden_size: cfg.hiddenSize,
    num_hidden_layers: cfg.numHiddenLayers,
    num_attention_heads: cfg.numAttentionHeads,
    intermediate_size: cfg.intermediateSize,
    hidden_act: cfg.hiddenAct,
    hidden_dropout_prob: cfg.hiddenDropoutProb,
    attention_probs_dropout_prob: cfg.attentionProbsDropoutProb,
    classifier_dropout: cfg.classifierDropout,
    max_position_embeddings: cfg.maxPositionEmbeddings,
    type_vocab_size: cfg.typeVocabSize,
    layer_norm_eps: cfg.layerNormEps,
    initializer_range: cfg.initializerRange,
    pad_token_id: cfg.padTokenId,
  };
  // Under the names this model_type's config class reads; fields its code fixes are not written.
  out.architectures = [architecture];
  for (const [k, v] of Object.entries(values) as [ConfigField, unknown][]) {
    if (!(k in fam.fixed)) out[fam.aliases[k] ?? k] = v;
  }
  out.id2label = Object.fromEntries(cfg.labels.map((l, i) => [String(i), l]));
  out.label2id = Object.fromEntries(cfg.labels.map((l, i) => [l, i]));
  if (!('torch_dtype' in out) && !('dtype' in out)) out.torch_dtype = 'float32';
  return out;
}
