/**
 * Per-model_type config conventions. ModelConfig uses BERT's field names; other architectures
 * spell some fields differently in config.json (DistilBERT: dim, n_layers, ...), have other
 * defaults (RoBERTa: pad_token_id 1) or fix a field in code (DistilBERT: LayerNorm eps 1e-12, no
 * token types). Reading maps their names onto ours; writing maps them back, so a config.json
 * keeps the names its transformers config class expects.
 */

/** The config.json fields that ModelConfig interprets, by their BERT names. */
export const BERT_DEFAULTS = {
  model_type: 'bert', vocab_size: 30522, hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12,
  intermediate_size: 3072, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
  classifier_dropout: null, max_position_embeddings: 512, type_vocab_size: 2, layer_norm_eps: 1e-12,
  initializer_range: 0.02, pad_token_id: 0,
} as const;

export type ConfigField = keyof typeof BERT_DEFAULTS;

export interface ConfigFamily {
  /** Defaults of the transformers config class, by BERT field name. */
  defaults: Record<ConfigField, unknown>;
  /** BERT field name -> the name this model_type's config.json uses. */
  aliases: Partial<Record<ConfigField, string>>;
  /** Fields the modeling code fixes instead of reading them (never read from or written to JSON). */
  fixed: Partial<Record<ConfigField, unknown>>;
  /**
   * config.json fields the config class types as float: Python's json writes 2.0 where JavaScript
   * writes 2, and transformers 5 rejects an int there (initializer_cutoff_factor: float).
   */
  floatFields?: readonly string[];
}

const bert: ConfigFamily = { defaults: BERT_DEFAULTS, aliases: {}, fixed: {} };

/** RobertaConfig / XLMRobertaConfig (transformers 5): BERT's fields, other token ids. */
const roberta = (modelType: string, vocabSize: number): ConfigFamily => ({
  defaults: { ...BERT_DEFAULTS, model_type: modelType, vocab_size: vocabSize, pad_token_id: 1 },
  aliases: {},
  fixed: {},
});

/**
 * DistilBertConfig: its own names (attribute_map maps hidden_size, num_attention_heads and
 * num_hidden_layers onto them); LayerNorms have eps 1e-12 in modeling_distilbert.py, there are
 * no token types, and DistilBertForTokenClassification's head dropout is `dropout`.
 */
const distilbert: ConfigFamily = {
  defaults: {
    ...BERT_DEFAULTS, model_type: 'distilbert', hidden_size: 768, num_hidden_layers: 6, num_attention_heads: 12,
    intermediate_size: 3072, hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1,
  },
  aliases: {
    hidden_size: 'dim', num_hidden_layers: 'n_layers', num_attention_heads: 'n_heads', intermediate_size: 'hidden_dim',
    hidden_act: 'activation', hidden_dropout_prob: 'dropout', attention_probs_dropout_prob: 'attention_dropout',
  },
  fixed: { layer_norm_eps: 1e-12, type_vocab_size: 0, classifier_dropout: null },
};

/**
 * DebertaV2Config: BERT's names, its own defaults; DebertaV2ForTokenClassification's head dropout
 * is hidden_dropout_prob (the config class has no classifier_dropout).
 */
const debertaV2: ConfigFamily = {
  defaults: {
    ...BERT_DEFAULTS, model_type: 'deberta-v2', vocab_size: 128100, hidden_size: 1536, num_hidden_layers: 24,
    num_attention_heads: 24, intermediate_size: 6144, type_vocab_size: 0, layer_norm_eps: 1e-7,
  },
  aliases: {},
  fixed: { classifier_dropout: null },
};

/**
 * ModernBertConfig (transformers 5): hidden_activation, norm_eps and attention_dropout under its
 * own names; no token types and no hidden_dropout_prob (its dropouts are embedding_dropout,
 * mlp_dropout and classifier_dropout, read in modernbert-config.ts with the other own fields).
 */
const modernbert: ConfigFamily = {
  defaults: {
    ...BERT_DEFAULTS, model_type: 'modernbert', vocab_size: 50368, hidden_size: 768, num_hidden_layers: 22, num_attention_heads: 12,
    intermediate_size: 1152, hidden_act: 'gelu', attention_probs_dropout_prob: 0, classifier_dropout: 0, max_position_embeddings: 8192,
    layer_norm_eps: 1e-5, initializer_range: 0.02, pad_token_id: 50283,
  },
  aliases: { hidden_act: 'hidden_activation', layer_norm_eps: 'norm_eps', attention_probs_dropout_prob: 'attention_dropout' },
  fixed: { type_vocab_size: 0, hidden_dropout_prob: 0 },
  floatFields: ['initializer_range', 'initializer_cutoff_factor', 'norm_eps', 'attention_dropout', 'embedding_dropout', 'mlp_dropout',
    'classifier_dropout', 'global_rope_theta', 'local_rope_theta'],
};

const families: Record<string, ConfigFamily> = {
  bert,
  roberta: roberta('roberta', 50265),
  'xlm-roberta': roberta('xlm-roberta', 30522),
  distilbert,
  'deberta-v2': debertaV2,
  modernbert,
};

/** The family of a model_type; BERT's conventions for types without an entry. */
export function configFamily(modelType: unknown): ConfigFamily {
  return (typeof modelType === 'string' && Object.hasOwn(families, modelType) && families[modelType]) || bert;
}
