/** How DistilBERT's config.json names, defaults and fixes ModelConfig's fields (config-family.ts). */
import { BERT_DEFAULTS, type ConfigFamily } from '../config-family.js';

/**
 * DistilBertConfig: its own names (attribute_map maps hidden_size, num_attention_heads and
 * num_hidden_layers onto them); LayerNorms have eps 1e-12 in modeling_distilbert.py, there are
 * no token types, and DistilBertForTokenClassification's head dropout is `dropout`.
 */
export const distilbertConfigFamily: ConfigFamily = {
  defaults: {
    ...BERT_DEFAULTS,
    model_type: 'distilbert',
    hidden_size: 768,
    num_hidden_layers: 6,
    num_attention_heads: 12,
    intermediate_size: 3072,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
  },
  aliases: {
    hidden_size: 'dim',
    num_hidden_layers: 'n_layers',
    num_attention_heads: 'n_heads',
    intermediate_size: 'hidden_dim',
    hidden_act: 'activation',
    hidden_dropout_prob: 'dropout',
    attention_probs_dropout_prob: 'attention_dropout',
  },
  fixed: { layer_norm_eps: 1e-12, type_vocab_size: 0, classifier_dropout: null },
};
