/** How RoBERTa's and XLM-RoBERTa's config.json name, default and fix ModelConfig's fields (config-family.ts). */
import { BERT_DEFAULTS, type ConfigFamily } from '../config-family.js';

/** RobertaConfig / XLMRobertaConfig (transformers 5): BERT's fields, other token ids. */
const robertaFamily = (modelType: string, vocabSize: number): ConfigFamily => ({
  defaults: { ...BERT_DEFAULTS, model_type: modelType, vocab_size: vocabSize, pad_token_id: 1 },
  aliases: {},
  fixed: {},
});

export const robertaConfigFamily = robertaFamily('roberta', 50265);
export const xlmRobertaConfigFamily = robertaFamily('xlm-roberta', 30522);
