/**
 * DeBERTa-v2's own config fields (DebertaV2Config and the getattr defaults of
 * modeling_deberta_v2.py), read from config.json's raw fields. DeBERTa-v3 checkpoints use this
 * architecture with relative_attention, position_buckets 256, share_att_key, pos_att_type
 * ["p2c", "c2p"], norm_rel_ebd "layer_norm" and no absolute positions or token types. The
 * fields it shares with BERT are ModelConfig's (debertaV2ConfigFamily).
 */
import { ConfigError, type ModelConfig } from '../model-config.js';
import { BERT_DEFAULTS, type ConfigFamily } from '../config-family.js';

/**
 * DebertaV2Config: BERT's names, its own defaults; DebertaV2ForTokenClassification's head dropout
 * is hidden_dropout_prob (the config class has no classifier_dropout).
 */
export const debertaV2ConfigFamily: ConfigFamily = {
  defaults: {
    ...BERT_DEFAULTS,
    model_type: 'deberta-v2',
    vocab_size: 128100,
    hidden_size: 1536,
    num_hidden_layers: 24,
    num_attention_heads: 24,
    intermediate_size: 6144,
    type_vocab_size: 0,
    layer_norm_eps: 1e-7,
  },
  aliases: {},
  fixed: { classifier_dropout: null },
};

export interface DebertaV2Options {
  relativeAttention: boolean;
  /** max_relative_positions, with values < 1 replaced by max_position_embeddings (as the modules do). */
  maxRelativePositions: number;
  /** position_buckets (log buckets when > 0). */
  positionBuckets: number;
  /** Rows of rel_embeddings are 2 * span: position_buckets when > 0, else max_relative_positions. */
  span: number;
  shareAttKey: boolean;
  c2p: boolean;
  p2c: boolean;
  positionBiasedInput: boolean;
  /** LayerNorm on the relative embeddings (norm_rel_ebd contains "layer_norm"). */
  normRelEmbeddings: boolean;
  embeddingSize: number;
}

export function debertaV2Options(cfg: ModelConfig, source = 'config.json'): DebertaV2Options {
  const raw = cfg.raw;
  const bool = (k: string, dflt: boolean): boolean => {
    const v = raw[k] ?? dflt;
    if (typeof v !== 'boolean') throw new ConfigError(source, `${k} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const int = (k: string, dflt: number): number => {
    const v = raw[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(source, `${k} must be an integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const conv = int('conv_kernel_size', 0);
  if (conv > 0) {
    throw new ConfigError(
      source,
      `conv_kernel_size ${conv} asks for DeBERTa-v2's convolution layer after the first encoder layer, which tokentune does not implement (DeBERTa-v3 checkpoints do not use it); remove the field or set it to 0 only if the checkpoint has no deberta.encoder.conv weights`,
    );
  }
  if (raw.attention_head_size !== undefined && raw.attention_head_size !== cfg.hiddenSize / cfg.numAttentionHeads) {
    throw new ConfigError(
      source,
      `attention_head_size ${JSON.stringify(raw.attention_head_size)} differs from hidden_size / num_attention_heads (${cfg.hiddenSize / cfg.numAttentionHeads}); tokentune supports only the default`,
    );
  }
  let types: unknown = raw.pos_att_type ?? [];
  if (typeof types === 'string')
    types = types
      .toLowerCase()
      .split('|')
      .map((s) => s.trim());
  if (!Array.isArray(types) || types.some((t) => typeof t !== 'string')) {
    throw new ConfigError(
      source,
      `pos_att_type must be a list such as ["p2c", "c2p"] or a string "p2c|c2p", got ${JSON.stringify(raw.pos_att_type)}`,
    );
  }
  const relativeAttention = bool('relative_attention', false);
  let maxRelativePositions = int('max_relative_positions', -1);
  if (maxRelativePositions < 1) maxRelativePositions = cfg.maxPositionEmbeddings;
  const positionBuckets = int('position_buckets', -1);
  const norm = raw.norm_rel_ebd ?? 'none';
  if (typeof norm !== 'string')
    throw new ConfigError(source, `norm_rel_ebd must be a string such as "layer_norm" or "none", got ${JSON.stringify(norm)}`);
  const embeddingSize = int('embedding_size', cfg.hiddenSize);
  if (embeddingSize < 1) throw new ConfigError(source, `embedding_size must be >= 1, got ${embeddingSize}`);
  return {
    relativeAttention,
    maxRelativePositions,
    positionBuckets,
    span: positionBuckets > 0 ? positionBuckets : maxRelativePositions,
    shareAttKey: bool('share_att_key', false),
    c2p: (types as string[]).includes('c2p'),
    p2c: (types as string[]).includes('p2c'),
    positionBiasedInput: bool('position_biased_input', true),
    normRelEmbeddings: norm
      .toLowerCase()
      .split('|')
      .map((s) => s.trim())
      .includes('layer_norm'),
    embeddingSize,
  };
}

/**
 * transformers' make_log_bucket_position for one relative position, in float32 arithmetic as
 * torch computes it (each step rounded to float32, so the ceil sees the same values).
 */
export function logBucketPosition(rel: number, bucketSize: number, maxPosition: number): number {
  const mid = Math.floor(bucketSize / 2);
  const abs = rel < mid && rel > -mid ? mid - 1 : Math.abs(rel);
  if (abs <= mid) return rel;
  const f = Math.fround;
  const ratio = f(f(Math.log(f(abs / mid))) / f(Math.log(f((maxPosition - 1) / mid))));
  return Math.sign(rel) * (Math.ceil(f(ratio * (mid - 1))) + mid);
}

/**
 * Row index of rel_embeddings for query i and key j, [T * T]: clamp(r(i - j) + span, 0, 2 span - 1)
 * with r the bucketed relative position (transformers' c2p_pos; p2c_pos transposed is the same).
 */
export function relativeIndex(T: number, o: DebertaV2Options): Int32Array {
  const byDiff = new Int32Array(2 * T - 1);
  for (let diff = -(T - 1); diff <= T - 1; diff++) {
    const r = o.positionBuckets > 0 ? logBucketPosition(diff, o.positionBuckets, o.maxRelativePositions) : diff;
    byDiff[diff + T - 1] = Math.min(Math.max(r + o.span, 0), 2 * o.span - 1);
  }
  const idx = new Int32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) idx[i * T + j] = byDiff[i - j + T - 1];
  return idx;
}
