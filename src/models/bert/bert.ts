/**
 * BERT for token classification, with Hugging Face's parameter names and semantics
 * (modeling_bert.py, eager attention): embeddings -> N encoder layers -> dropout -> linear head.
 * The encoder layers and the head are shared with RoBERTa and DistilBERT (encoder.ts); this file
 * has BERT's parameter list and embeddings.
 */
import { Tensor, ops } from '../../engine/index.js';
import type { ModelConfig } from '../model-config.js';
import type { DropoutSites, TokenBatch } from '../forward.js';
import { initParameters, type ParamSpec } from '../init.js';
import { EncoderForTokenClassification, bertLayerNames, encoderLayerSpecs, specBuilder, type LayerNames } from '../encoder/encoder.js';

/**
 * word, position and token-type tables plus their LayerNorm, as BertEmbeddings and
 * RobertaEmbeddings name them (RoBERTa's word and position tables have padding_idx).
 */
export function bertEmbeddingSpecs(specs: ParamSpec[], cfg: ModelConfig, prefix: string, positionPaddingIdx?: number): void {
  const h = cfg.hiddenSize,
    e = `${prefix}.embeddings`;
  specs.push({ name: `${e}.word_embeddings.weight`, shape: [cfg.vocabSize, h], init: 'normal', paddingIdx: cfg.padTokenId });
  specs.push({
    name: `${e}.position_embeddings.weight`,
    shape: [cfg.maxPositionEmbeddings, h],
    init: 'normal',
    paddingIdx: positionPaddingIdx,
  });
  specs.push({ name: `${e}.token_type_embeddings.weight`, shape: [cfg.typeVocabSize, h], init: 'normal' });
  specBuilder(specs).layerNorm(`${e}.LayerNorm`, h);
}

/** Parameter names and shapes of BertForTokenClassification, in HF's module order. */
export function bertParamSpecs(cfg: ModelConfig, numLabels: number, prefix = 'bert'): ParamSpec[] {
  const specs: ParamSpec[] = [];
  bertEmbeddingSpecs(specs, cfg, prefix);
  return encoderLayerSpecs(specs, cfg, numLabels, (l) => bertLayerNames(prefix, l));
}

export class BertForTokenClassification extends EncoderForTokenClassification {
  static readonly architecture = 'BertForTokenClassification';
  readonly architecture = BertForTokenClassification.architecture;

  /** `params` must hold every name of bertParamSpecs(config, config.labels.length). */
  constructor(config: ModelConfig, params: Map<string, Tensor>) {
    super(config, params, bertParamSpecs(config, config.labels.length), 'BertForTokenClassification', 'bert');
  }

  /** A randomly initialised model, as HF's _init_weights does it. */
  static create(config: ModelConfig, seed = 42): BertForTokenClassification {
    return new BertForTokenClassification(
      config,
      initParameters(bertParamSpecs(config, config.labels.length), config.initializerRange, seed),
    );
  }

  layerNames(l: number): LayerNames {
    return bertLayerNames(this.prefix, l);
  }

  /** word + position + token-type embeddings, LayerNorm, dropout -> [B*T, hidden]. */
  protected embeddings(batch: TokenBatch, drop: DropoutSites): Tensor {
    return sumEmbeddings(
      this.params,
      this.config,
      `${this.prefix}.embeddings`,
      batch,
      sequentialPositions(batch.batchSize, batch.seqLen),
      drop,
    );
  }
}

/** Position ids 0..T-1 in every row (BERT's and DistilBERT's position_ids buffer). */
export function sequentialPositions(B: number, T: number): Int32Array {
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t;
  return pos;
}

/**
 * word[ids] + position[pos] (+ token_type[types] when the model has them), LayerNorm, dropout:
 * the embedding block of BERT, RoBERTa and DistilBERT (names as BertEmbeddings has them).
 */
export function sumEmbeddings(
  params: Map<string, Tensor>,
  cfg: ModelConfig,
  e: string,
  batch: TokenBatch,
  pos: Int32Array,
  drop: DropoutSites,
  positionPaddingIdx?: number,
): Tensor {
  const n = batch.batchSize * batch.seqLen;
  const p = (name: string): Tensor => params.get(`${e}.${name}`)!;
  // HF's order of the sums: (inputs_embeds + token_type_embeddings) + position_embeddings.
  let x = ops.embedding(p('word_embeddings.weight'), Tensor.from(batch.inputIds, [n]), cfg.padTokenId);
  if (cfg.typeVocabSize > 0) {
    x = ops.add(x, ops.embedding(p('token_type_embeddings.weight'), Tensor.from(batch.tokenTypeIds ?? new Int32Array(n), [n])));
  }
  x = ops.add(x, ops.embedding(p('position_embeddings.weight'), Tensor.from(pos, [n]), positionPaddingIdx));
  x = ops.layerNorm(x, p('LayerNorm.weight'), p('LayerNorm.bias'), cfg.layerNormEps);
  return drop.apply(x, cfg.hiddenDropoutProb);
}
