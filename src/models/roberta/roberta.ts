/**
 * RoBERTa and XLM-RoBERTa for token classification (modeling_roberta.py and
 * modeling_xlm_roberta.py, eager attention; the two are the same network under two class names).
 * BERT's module tree under the prefix `roberta`, with two differences in the embeddings:
 * position ids count from padding_idx + 1 over the non-pad tokens of each row
 * (create_position_ids_from_input_ids: pad tokens get padding_idx itself), and the position
 * table has padding_idx, so its pad row gets no gradient.
 */
import type { Tensor } from '../../engine/index.js';
import type { ModelConfig } from '../model-config.js';
import type { DropoutSites, TokenBatch } from '../forward.js';
import { initParameters, type ParamSpec } from '../init.js';
import { bertEmbeddingSpecs, sumEmbeddings } from '../bert/bert.js';
import { EncoderForTokenClassification, bertLayerNames, encoderLayerSpecs, type LayerNames } from '../encoder/encoder.js';

export function robertaParamSpecs(cfg: ModelConfig, numLabels: number): ParamSpec[] {
  const specs: ParamSpec[] = [];
  bertEmbeddingSpecs(specs, cfg, 'roberta', cfg.padTokenId);
  return encoderLayerSpecs(specs, cfg, numLabels, (l) => bertLayerNames('roberta', l));
}

/**
 * RoBERTa's position ids for a [B, T] batch: padding_idx + (running count of non-pad tokens) at
 * non-pad tokens, padding_idx at pad tokens. Padding is recognised by the token id, not by the
 * attention mask, exactly as transformers does it.
 */
export function robertaPositionIds(inputIds: Int32Array, B: number, T: number, paddingIdx: number): Int32Array {
  const pos = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    let count = 0;
    for (let t = 0; t < T; t++) {
      const i = b * T + t;
      pos[i] = inputIds[i] === paddingIdx ? paddingIdx : paddingIdx + ++count;
    }
  }
  return pos;
}

export class RobertaForTokenClassification extends EncoderForTokenClassification {
  static readonly architecture: string = 'RobertaForTokenClassification';
  readonly architecture: string = RobertaForTokenClassification.architecture;

  constructor(config: ModelConfig, params: Map<string, Tensor>, className = 'RobertaForTokenClassification') {
    super(config, params, robertaParamSpecs(config, config.labels.length), className, 'roberta');
  }

  /** A randomly initialised model, as HF's _init_weights does it (pad rows of both tables zeroed). */
  static create(config: ModelConfig, seed = 42): RobertaForTokenClassification {
    return new RobertaForTokenClassification(
      config,
      initParameters(robertaParamSpecs(config, config.labels.length), config.initializerRange, seed),
    );
  }

  layerNames(l: number): LayerNames {
    return bertLayerNames(this.prefix, l);
  }

  /** Positions run up to padding_idx + T, which must be a row of the table (roberta-base: 514 rows, 512 tokens). */
  override get maxSequenceLength(): number {
    return this.config.maxPositionEmbeddings - this.config.padTokenId - 1;
  }

  protected override checkLength(T: number): void {
    const cfg = this.config;
    if (T > this.maxSequenceLength) {
      throw new Error(
        `forward: sequence length ${T} exceeds what max_position_embeddings ${cfg.maxPositionEmbeddings} allows with positions counted from pad_token_id + 1 = ${cfg.padTokenId + 1} (at most ${this.maxSequenceLength})`,
      );
    }
  }

  protected embeddings(batch: TokenBatch, drop: DropoutSites): Tensor {
    const pad = this.config.padTokenId;
    const pos = robertaPositionIds(batch.inputIds, batch.batchSize, batch.seqLen, pad);
    return sumEmbeddings(this.params, this.config, `${this.prefix}.embeddings`, batch, pos, drop, pad);
  }
}

/** XLMRobertaForTokenClassification: RoBERTa's network (same parameter names) under its own class name. */
export class XLMRobertaForTokenClassification extends RobertaForTokenClassification {
  static override readonly architecture: string = 'XLMRobertaForTokenClassification';
  override readonly architecture: string = XLMRobertaForTokenClassification.architecture;

  constructor(config: ModelConfig, params: Map<string, Tensor>) {
    super(config, params, 'XLMRobertaForTokenClassification');
  }

  static override create(config: ModelConfig, seed = 42): XLMRobertaForTokenClassification {
    return new XLMRobertaForTokenClassification(
      config,
      initParameters(robertaParamSpecs(config, config.labels.length), config.initializerRange, seed),
    );
  }
}
