/**
 * Model configuration as Hugging Face's `config.json` holds it. Known fields are typed and
 * validated; every other field is kept verbatim and written back, so a config survives a round
 * trip through tokentune unchanged.
 */
import { readFileSync } from 'node:fs';

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

const BERT_DEFAULTS = {
  model_type: 'bert', vocab_size: 30522, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12,
  intermediate_size: 3072, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
  classifier_dropout: null, max_position_embeddings: 512, type_vocab_size: 2, layer_norm_eps: 1e-12,
  initializer_range: 0.02, pad_token_id: 0,
} as const;

export class ConfigError extends Error {
  constructor(source: string, message: string) {
    super(`${source}: ${message}`);
    this.name = 'ConfigError';
  }
}

export function readConfig(path: string): ModelConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(path, `cannot read config: ${(e as Error).message}`);
  }
  return parseConfig(json, path);
}

export function parseConfig(json: unknown, source = 'config.json'): ModelConfig {
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(source, 'expected a JSON object');
  const raw = json as Record<string, unknown>;
  const get = <K extends keyof typeof BERT_DEFAULTS>(k: K): unknown => (k in raw ? raw[k] : BERT_DEFAULTS[k]);
  const int = (k: keyof typeof BERT_DEFAULTS, min = 1): number => {
    const v = get(k);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new ConfigError(source, `${k} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (k: keyof typeof BERT_DEFAULTS, lo: number, hi: number): number => {
    const v = get(k);
    if (typeof v !== 'number' || !(v >= lo && v <= hi)) throw new ConfigError(source, `${k} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
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
  if (cfg.hiddenSize % cfg.numAttentionHeads !== 0) {
    throw new ConfigError(source, `hidden_size ${cfg.hiddenSize} is not a multiple of num_attention_heads ${cfg.numAttentionHeads}`);
  }
  if (!['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'].includes(cfg.hiddenAct)) {
    throw new ConfigError(source, `hidden_act '${cfg.hiddenAct}' is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh)`);
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
      throw new ConfigError(source, `id2label entry ${JSON.stringify(k)}: ${JSON.stringify(v)} is not a label for an id in [0, ${entries.length})`);
    }
    labels[id] = v;
  }
  // HF's default for a fresh config is LABEL_0, LABEL_1: that means "no real head".
  return labels;
}

/** The config as HF writes it: original fields, our values, architectures and the label maps. */
export function configToJson(cfg: ModelConfig, architecture: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ...cfg.raw };
  Object.assign(out, {
    architectures: [architecture],
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
    id2label: Object.fromEntries(cfg.labels.map((l, i) => [String(i), l])),
    label2id: Object.fromEntries(cfg.labels.map((l, i) => [l, i])),
  });
  if (!('torch_dtype' in out) && !('dtype' in out)) out.torch_dtype = 'float32';
  return out;
}

/** A config for a model made from scratch (the demo, tests). */
export function makeConfig(fields: Partial<Record<keyof typeof BERT_DEFAULTS, unknown>> & { id2label?: Record<string, string> }): ModelConfig {
  return parseConfig({ ...BERT_DEFAULTS, ...fields }, 'config');
}
