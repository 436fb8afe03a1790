/**
 * Per-model_type config conventions. ModelConfig uses BERT's field names; other architectures
 * spell some fields differently in config.json (DistilBERT: dim, n_layers, ...), have other
 * defaults (RoBERTa: pad_token_id 1) or fix a field in code (DistilBERT: LayerNorm eps 1e-12, no
 * token types). Reading maps their names onto ours; writing maps them back, so a config.json
 * keeps the names its transformers config class expects. Each model folder holds its family
 * (`<type>/<type>-config.ts`); the registry row names it (`Architecture.config`).
 */

/** The config.json fields that ModelConfig interprets, by their BERT names. */
export const BERT_DEFAULTS = {
  model_type: 'bert',
  vocab_size: 30522,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  classifier_dropout: null,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  layer_norm_eps: 1e-12,
  initializer_range: 0.02,
  pad_token_id: 0,
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

/** BertConfig: ModelConfig's own names and defaults, and the conventions of a model_type without a family. */
export const bertConfigFamily: ConfigFamily = { defaults: BERT_DEFAULTS, aliases: {}, fixed: {} };
