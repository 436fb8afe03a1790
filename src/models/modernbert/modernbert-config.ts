/**
 * ModernBERT's own config.json fields (transformers' ModernBertConfig), read from cfg.raw with its
 * defaults; the fields it shares with BERT under other names are ModelConfig's (modernBertConfigFamily).
 * Both spellings of the attention pattern and rotary bases are accepted: the Hub's
 * original global_attn_every_n_layers / global_rope_theta / local_rope_theta, and the
 * layer_types / rope_parameters that transformers 5 writes.
 */
import { ConfigError, type ModelConfig } from '../model-config.js';
import { BERT_DEFAULTS, type ConfigFamily } from '../config-family.js';
import type { GeluKind } from '../../engine/ops/index.js';

/**
 * ModernBertConfig (transformers 5): hidden_activation, norm_eps and attention_dropout under its
 * own names; no token types and no hidden_dropout_prob (its dropouts are embedding_dropout,
 * mlp_dropout and classifier_dropout, read in modernBertOptions below with the other own fields).
 */
export const modernBertConfigFamily: ConfigFamily = {
  defaults: {
    ...BERT_DEFAULTS,
    model_type: 'modernbert',
    vocab_size: 50368,
    hidden_size: 768,
    num_hidden_layers: 22,
    num_attention_heads: 12,
    intermediate_size: 1152,
    hidden_act: 'gelu',
    attention_probs_dropout_prob: 0,
    classifier_dropout: 0,
    max_position_embeddings: 8192,
    layer_norm_eps: 1e-5,
    initializer_range: 0.02,
    pad_token_id: 50283,
  },
  aliases: { hidden_act: 'hidden_activation', layer_norm_eps: 'norm_eps', attention_probs_dropout_prob: 'attention_dropout' },
  fixed: { type_vocab_size: 0, hidden_dropout_prob: 0 },
  floatFields: [
    'initializer_range',
    'initializer_cutoff_factor',
    'norm_eps',
    'attention_dropout',
    'embedding_dropout',
    'mlp_dropout',
    'classifier_dropout',
    'global_rope_theta',
    'local_rope_theta',
  ],
};

export type LayerType = 'full_attention' | 'sliding_attention';

export interface ModernBertOptions {
  hiddenActivation: GeluKind;
  classifierActivation: GeluKind;
  normEps: number;
  normBias: boolean;
  attentionBias: boolean;
  mlpBias: boolean;
  classifierBias: boolean;
  embeddingDropout: number;
  attentionDropout: number;
  mlpDropout: number;
  classifierDropout: number;
  /** Full window (local_attention); a token sees keys within local_attention / 2 on each side. */
  localAttention: number;
  layerTypes: LayerType[];
  globalRopeTheta: number;
  localRopeTheta: number;
  initializerCutoffFactor: number;
}

const GELU: Record<string, GeluKind> = { gelu: 'erf', gelu_new: 'tanh', gelu_pytorch_tanh: 'tanh' };

export function modernBertOptions(cfg: ModelConfig, source = 'config.json'): ModernBertOptions {
  const raw = cfg.raw;
  const bad = (k: string, want: string): never => {
    throw new ConfigError(source, `${k} must be ${want}, got ${JSON.stringify(raw[k])}`);
  };
  const bool = (k: string, d: boolean): boolean =>
    raw[k] === undefined ? d : typeof raw[k] === 'boolean' ? (raw[k] as boolean) : bad(k, 'true or false');
  const num = (k: string, d: number, lo: number, hi: number): number => {
    const v = raw[k] ?? d;
    return typeof v === 'number' && v >= lo && v <= hi ? v : bad(k, `a number in [${lo}, ${hi}]`);
  };
  const act = (k: string): GeluKind => {
    const v = raw[k] ?? 'gelu';
    const kind = typeof v === 'string' ? GELU[v] : undefined;
    return kind ?? bad(k, `one of ${Object.keys(GELU).join(', ')}`);
  };
  const L = cfg.numHiddenLayers;
  let layerTypes: LayerType[];
  if (raw.layer_types !== undefined && raw.layer_types !== null) {
    const lt = raw.layer_types;
    if (!Array.isArray(lt) || lt.length !== L || lt.some((t) => t !== 'full_attention' && t !== 'sliding_attention')) {
      bad('layer_types', `a list of ${L} entries, each "full_attention" or "sliding_attention"`);
    }
    layerTypes = lt as LayerType[];
  } else {
    const n = raw.global_attn_every_n_layers ?? 3;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) bad('global_attn_every_n_layers', 'an integer >= 1');
    layerTypes = Array.from({ length: L }, (_, i) => (i % (n as number) ? 'sliding_attention' : 'full_attention'));
  }
  const theta = (type: LayerType, oldKey: string, d: number): number => {
    const rp = raw.rope_parameters as Record<string, Record<string, unknown> | null> | undefined | null;
    const p = rp && typeof rp === 'object' ? rp[type] : undefined;
    if (p && typeof p === 'object') {
      if (p.rope_type !== undefined && p.rope_type !== 'default') {
        throw new ConfigError(source, `rope_parameters.${type}.rope_type '${String(p.rope_type)}' is not supported (only "default")`);
      }
      if (p.rope_theta !== undefined) {
        if (typeof p.rope_theta !== 'number' || !(p.rope_theta > 1))
          throw new ConfigError(source, `rope_parameters.${type}.rope_theta must be a number > 1`);
        return p.rope_theta;
      }
    }
    if (raw.rope_scaling !== undefined && raw.rope_scaling !== null)
      throw new ConfigError(source, 'rope_scaling is not supported for modernbert');
    return num(oldKey, d, 1, Infinity);
  };
  const opts: ModernBertOptions = {
    // hidden_activation, norm_eps, attention_dropout and classifier_dropout are ModelConfig's fields
    // under ModernBERT's names (modernBertConfigFamily), checked by parseConfig.
    hiddenActivation: cfg.hiddenAct === 'gelu' ? 'erf' : 'tanh',
    classifierActivation: act('classifier_activation'),
    normEps: cfg.layerNormEps,
    normBias: bool('norm_bias', false),
    attentionBias: bool('attention_bias', false),
    mlpBias: bool('mlp_bias', false),
    classifierBias: bool('classifier_bias', false),
    embeddingDropout: num('embedding_dropout', 0, 0, 0.999),
    attentionDropout: cfg.attentionProbsDropoutProb,
    mlpDropout: num('mlp_dropout', 0, 0, 0.999),
    classifierDropout: cfg.classifierDropout ?? 0,
    localAttention: num('local_attention', 128, 0, Infinity),
    layerTypes,
    globalRopeTheta: theta('full_attention', 'global_rope_theta', 160000),
    localRopeTheta: theta('sliding_attention', 'local_rope_theta', 10000),
    initializerCutoffFactor: num('initializer_cutoff_factor', 2, 0, Infinity),
  };
  if (!Number.isInteger(opts.localAttention)) bad('local_attention', 'an integer');
  if ((cfg.hiddenSize / cfg.numAttentionHeads) % 2 !== 0) {
    throw new ConfigError(
      source,
      `rotary embeddings need an even head size; hidden_size / num_attention_heads = ${cfg.hiddenSize / cfg.numAttentionHeads}`,
    );
  }
  return opts;
}
