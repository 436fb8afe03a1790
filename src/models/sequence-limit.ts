/**
 * The longest input, [CLS]/<s> and [SEP]/</s> included, that a model can take: the one number
 * train, evaluate, predict, serve, the worker and ONNX export cap to. RoBERTa and XLM-R count
 * positions from pad_token_id + 1, so their table of max_position_embeddings rows holds
 * max_position_embeddings - pad_token_id - 1 tokens (roberta-base: 514 rows, 512 tokens, as
 * transformers' model_max_length); the model class says so through maxSequenceLength. Others
 * take max_position_embeddings.
 */
export interface SequenceLimited {
  readonly config: { readonly maxPositionEmbeddings: number };
  /** Set by architectures whose limit is not max_position_embeddings (RobertaForTokenClassification). */
  readonly maxSequenceLength?: number;
}

export function usableSequenceLength(model: SequenceLimited): number {
  return model.maxSequenceLength ?? model.config.maxPositionEmbeddings;
}

/** Why the limit is what it is, for messages: "max_position_embeddings 514 - pad_token_id 1 - 1". */
export function describeSequenceLimit(model: SequenceLimited & { readonly config: { readonly padTokenId?: number } }): string {
  const n = usableSequenceLength(model);
  const mpe = model.config.maxPositionEmbeddings;
  if (n === mpe) return `max_position_embeddings ${mpe}`;
  const pad = model.config.padTokenId;
  return pad !== undefined && n === mpe - pad - 1
    ? `max_position_embeddings ${mpe} - pad_token_id ${pad} - 1, positions counting from pad_token_id + 1`
    : `the model's limit (max_position_embeddings ${mpe})`;
}
