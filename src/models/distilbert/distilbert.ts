/**
 * DistilBERT for token classification (modeling_distilbert.py, eager attention) under the prefix
 * `distilbert`: word + position embeddings (no token types), LayerNorm eps 1e-12, layers named
 * attention.{q,k,v,out}_lin / sa_layer_norm / ffn.lin1, lin2 / output_layer_norm. Unlike BERT,
 * the attention block has no dropout after out_lin; the FFN's dropout (config `dropout`) sits
 * after lin2, and the head's dropout is `dropout` too.
 */
import type { Tensor } from '../../engine/index.js';
import type { ModelConfig } from '../model-config.js';
import type { DropoutSites, TokenBatch } from '../forward.js';
import { initParameters, type ParamSpec } from '../init.js';
import { sequentialPositions, sumEmbeddings } from '../bert/bert.js';
import { EncoderForTokenClassification, encoderLayerSpecs, specBuilder, type LayerNames } from '../encoder/encoder.js';

function distilbertLayerNames(prefix: string, l: number): LayerNames {
  const p = `${prefix}.transformer.layer.${l}`;
  return {
    query: `${p}.attention.q_lin`,
    key: `${p}.attention.k_lin`,
    value: `${p}.attention.v_lin`,
    attnOut: `${p}.attention.out_lin`,
    attnNorm: `${p}.sa_layer_norm`,
    ffIn: `${p}.ffn.lin1`,
    ffOut: `${p}.ffn.lin2`,
    ffNorm: `${p}.output_layer_norm`,
  };
}

export function distilbertParamSpecs(cfg: ModelConfig, numLabels: number): ParamSpec[] {
  const h = cfg.hiddenSize,
    e = 'distilbert.embeddings';
  const sinusoidal = cfg.raw['sinusoidal_pos_embds'] === true;
  const specs: ParamSpec[] = [
    { name: `${e}.word_embeddings.weight`, shape: [cfg.vocabSize, h], init: 'normal', paddingIdx: cfg.padTokenId },
    { name: `${e}.position_embeddings.weight`, shape: [cfg.maxPositionEmbeddings, h], init: sinusoidal ? 'sinusoidal' : 'normal' },
  ];
  specBuilder(specs).layerNorm(`${e}.LayerNorm`, h);
  return encoderLayerSpecs(specs, cfg, numLabels, (l) => distilbertLayerNames('distilbert', l));
}

export class DistilBertForTokenClassification extends EncoderForTokenClassification {
  static readonly architecture = 'DistilBertForTokenClassification';
  readonly architecture = DistilBertForTokenClassification.architecture;
  protected override readonly attentionOutputDropout = false;

  constructor(config: ModelConfig, params: Map<string, Tensor>) {
    super(config, params, distilbertParamSpecs(config, config.labels.length), 'DistilBertForTokenClassification', 'distilbert');
  }

  /** A randomly initialised model, as HF's _init_weights does it (sinusoidal positions when the config asks). */
  static create(config: ModelConfig, seed = 42): DistilBertForTokenClassification {
    return new DistilBertForTokenClassification(
      config,
      initParameters(distilbertParamSpecs(config, config.labels.length), config.initializerRange, seed),
    );
  }

  layerNames(l: number): LayerNames {
    return distilbertLayerNames(this.prefix, l);
  }

  /** word[ids] + position[0..T-1], LayerNorm, dropout. */
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
