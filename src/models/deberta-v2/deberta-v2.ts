/**
 * DeBERTa-v2 (and DeBERTa-v3, which uses it) for token classification, with Hugging Face's module
 * tree, parameter names and semantics (modeling_deberta_v2.py in transformers 5):
 * embeddings (word [+ absolute positions] [+ token types] [-> embed_proj], LayerNorm, times the
 * attention mask) -> N layers of disentangled attention and feed-forward -> dropout -> classifier.
 * The relative embeddings (optionally layer-normed once per forward) are shared by every layer.
 * transformers 5 uses plain nn.Dropout everywhere (StableDropout is gone); so do we.
 */
import { Tensor, ops, isGradEnabled, tidy } from '../../engine/index.js';
import { DropoutSites, MASK_MIN, tokenRows, type ForwardOptions, type TokenBatch, type TokenRows } from '../forward.js';
import type { ModelConfig } from '../model-config.js';
import { CheckedParams } from '../checked-params.js';
import { debertaV2Options, relativeIndex, type DebertaV2Options } from './deberta-v2-config.js';
import { initParameters, type ParamSpec } from '../init.js';

/** Parameter names and shapes of DebertaV2ForTokenClassification, in HF's module order. */
export function debertaV2ParamSpecs(cfg: ModelConfig, numLabels: number, prefix = 'deberta'): ParamSpec[] {
  const o = debertaV2Options(cfg);
  const h = cfg.hiddenSize,
    ff = cfg.intermediateSize,
    e = o.embeddingSize;
  const specs: ParamSpec[] = [];
  const lin = (name: string, out: number, inF: number, bias = true): void => {
    specs.push({ name: `${name}.weight`, shape: [out, inF], init: 'normal' });
    if (bias) specs.push({ name: `${name}.bias`, shape: [out], init: 'zeros' });
  };
  const ln = (name: string): void => {
    specs.push({ name: `${name}.weight`, shape: [h], init: 'ones' });
    specs.push({ name: `${name}.bias`, shape: [h], init: 'zeros' });
  };
  const emb = `${prefix}.embeddings`;
  specs.push({ name: `${emb}.word_embeddings.weight`, shape: [cfg.vocabSize, e], init: 'normal', paddingIdx: cfg.padTokenId });
  if (o.positionBiasedInput)
    specs.push({ name: `${emb}.position_embeddings.weight`, shape: [cfg.maxPositionEmbeddings, e], init: 'normal' });
  if (cfg.typeVocabSize > 0) specs.push({ name: `${emb}.token_type_embeddings.weight`, shape: [cfg.typeVocabSize, e], init: 'normal' });
  if (e !== h) lin(`${emb}.embed_proj`, h, e, false);
  ln(`${emb}.LayerNorm`);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `${prefix}.encoder.layer.${l}`;
    lin(`${p}.attention.self.query_proj`, h, h);
    lin(`${p}.attention.self.key_proj`, h, h);
    lin(`${p}.attention.self.value_proj`, h, h);
    if (o.relativeAttention && !o.shareAttKey) {
      if (o.c2p) lin(`${p}.attention.self.pos_key_proj`, h, h);
      if (o.p2c) lin(`${p}.attention.self.pos_query_proj`, h, h);
    }
    lin(`${p}.attention.output.dense`, h, h);
    ln(`${p}.attention.output.LayerNorm`);
    lin(`${p}.intermediate.dense`, ff, h);
    lin(`${p}.output.dense`, h, ff);
    ln(`${p}.output.LayerNorm`);
  }
  if (o.relativeAttention) specs.push({ name: `${prefix}.encoder.rel_embeddings.weight`, shape: [2 * o.span, h], init: 'normal' });
  if (o.normRelEmbeddings) ln(`${prefix}.encoder.LayerNorm`);
  lin('classifier', numLabels, h);
  return specs;
}

export class DebertaV2ForTokenClassification extends CheckedParams {
  static readonly architecture = 'DebertaV2ForTokenClassification';
  readonly architecture = DebertaV2ForTokenClassification.architecture;
  readonly prefix = 'deberta';
  readonly options: DebertaV2Options;
  private readonly relIndexCache = new Map<number, Int32Array>();

  /** `params` must hold every name of debertaV2ParamSpecs(config, config.labels.length). */
  constructor(config: ModelConfig, params: Map<string, Tensor>) {
    super(config, params, debertaV2ParamSpecs(config, config.labels.length, 'deberta'), DebertaV2ForTokenClassification.architecture);
    this.options = debertaV2Options(config);
  }

  /** A randomly initialised model, as HF's _init_weights does it. */
  static create(config: ModelConfig, seed = 42): DebertaV2ForTokenClassification {
    return new DebertaV2ForTokenClassification(
      config,
      initParameters(debertaV2ParamSpecs(config, config.labels.length), config.initializerRange, seed),
    );
  }

  /** Logits [batch * seqLen, numLabels]. */
  forward(batch: TokenBatch, opts: ForwardOptions): Tensor {
    const { batchSize: B, seqLen: T } = batch;
    const cfg = this.config,
      o = this.options;
    if (batch.inputIds.length !== B * T || batch.attentionMask.length !== B * T) {
      throw new Error(
        `forward: input_ids has ${batch.inputIds.length} and attention_mask ${batch.attentionMask.length} elements; expected batch ${B} x seq ${T}`,
      );
    }
    if (o.positionBiasedInput && T > cfg.maxPositionEmbeddings) {
      throw new Error(`forward: sequence length ${T} exceeds max_position_embeddings ${cfg.maxPositionEmbeddings}`);
    }
    const drop = new DropoutSites(opts);
    const maskData = new Float32Array(B * T);
    for (let i = 0; i < B * T; i++) maskData[i] = batch.attentionMask[i] ? 0 : MASK_MIN;
    const mask = Tensor.from(maskData, [B, T]);

    // Under skipPadding the layers run on the real tokens; only attention sees the padded layout.
    const rows = tokenRows(batch, opts);
    let x = rows.gather(this.embeddings(batch, drop));
    opts.hiddenStates?.push(x);
    const rel = this.relEmbeddings();
    const relIdx = o.relativeAttention ? this.relIndex(T) : null;
    const padded = { rows, mask, B, T };
    for (let l = 0; l < cfg.numHiddenLayers; l++) {
      // Without a graph, free each layer's intermediates as soon as the next layer has its input.
      x = isGradEnabled() ? this.layer(l, x, padded, rel, relIdx, drop) : tidy(() => this.layer(l, x, padded, rel, relIdx, drop));
      opts.hiddenStates?.push(x);
    }
    const h = drop.apply(x, cfg.hiddenDropoutProb);
    return rows.scatter(ops.linear(h, this.p('classifier.weight'), this.p('classifier.bias')));
  }

  private relIndex(T: number): Int32Array {
    let idx = this.relIndexCache.get(T);
    if (!idx) this.relIndexCache.set(T, (idx = relativeIndex(T, this.options)));
    return idx;
  }

  /** DebertaV2Embeddings: the sum of embeddings, embed_proj, LayerNorm, times the mask, dropout. */
  private embeddings(batch: TokenBatch, drop: DropoutSites): Tensor {
    const { batchSize: B, seqLen: T } = batch;
    const cfg = this.config,
      o = this.options,
      e = `${this.prefix}.embeddings`;
    let x = ops.embedding(this.p(`${e}.word_embeddings.weight`), Tensor.from(batch.inputIds, [B * T]), cfg.padTokenId);
    if (o.positionBiasedInput) {
      const pos = new Int32Array(B * T);
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t;
      x = ops.add(x, ops.embedding(this.p(`${e}.position_embeddings.weight`), Tensor.from(pos, [B * T])));
    }
    if (cfg.typeVocabSize > 0) {
      x = ops.add(
        x,
        ops.embedding(this.p(`${e}.token_type_embeddings.weight`), Tensor.from(batch.tokenTypeIds ?? new Int32Array(B * T), [B * T])),
      );
    }
    if (o.embeddingSize !== cfg.hiddenSize) x = ops.linear(x, this.p(`${e}.embed_proj.weight`), null);
    x = ops.layerNorm(x, this.p(`${e}.LayerNorm.weight`), this.p(`${e}.LayerNorm.bias`), cfg.layerNormEps);
    // transformers zeroes the padding positions' embeddings (embeddings * mask).
    const H = cfg.hiddenSize,
      keep = new Float32Array(B * T * H);
    for (let i = 0; i < B * T; i++) if (batch.attentionMask[i]) keep.fill(1, i * H, (i + 1) * H);
    x = ops.mul(x, Tensor.from(x.dtype === 'float64' ? Float64Array.from(keep) : keep, x.shape));
    return drop.apply(x, cfg.hiddenDropoutProb);
  }

  /** DebertaV2Encoder.get_rel_embedding: the relative embeddings, layer-normed when configured. */
  private relEmbeddings(): Tensor | null {
    const o = this.options,
      e = `${this.prefix}.encoder`;
    if (!o.relativeAttention) return null;
    const w = this.p(`${e}.rel_embeddings.weight`);
    return o.normRelEmbeddings
      ? ops.layerNorm(w, this.p(`${e}.LayerNorm.weight`), this.p(`${e}.LayerNorm.bias`), this.config.layerNormEps)
      : w;
  }

  /** One DebertaV2Layer: disentangled attention + output block, then intermediate + output block. */
  private layer(
    l: number,
    x: Tensor,
    padded: { rows: TokenRows; mask: Tensor; B: number; T: number },
    rel: Tensor | null,
    relIdx: Int32Array | null,
    drop: DropoutSites,
  ): Tensor {
    const { rows, mask, B, T } = padded;
    const cfg = this.config,
      o = this.options;
    const p = `${this.prefix}.encoder.layer.${l}`,
      a = `${p}.attention.self`;
    const nh = cfg.numAttentionHeads,
      hd = cfg.hiddenSize / nh;
    const proj = (name: string, input: Tensor): Tensor => ops.linear(input, this.p(`${a}.${name}.weight`), this.p(`${a}.${name}.bias`));
    const [q, k, v] = ['query_proj', 'key_proj', 'value_proj'].map((name) => rows.scatter(proj(name, x)));
    let posKey: Tensor | null = null,
      posQuery: Tensor | null = null;
    if (rel && relIdx) {
      const r = drop.apply(rel, cfg.hiddenDropoutProb); // pos_dropout
      if (o.c2p) posKey = proj(o.shareAttKey ? 'key_proj' : 'pos_key_proj', r);
      if (o.p2c) posQuery = proj(o.shareAttKey ? 'query_proj' : 'pos_query_proj', r);
    }
    // The scale counts c2p and p2c from pos_att_type even without relative attention (as HF).
    const factor = 1 + (o.c2p ? 1 : 0) + (o.p2c ? 1 : 0);
    const pDrop = drop.next(cfg.attentionProbsDropoutProb);
    const ctx = rows.gather(
      ops.disentangledAttention(q, k, v, posKey, posQuery, mask, B, {
        heads: nh,
        scale: 1 / Math.sqrt(hd * factor),
        relIndex: relIdx ?? new Int32Array(T * T),
        dropoutP: pDrop === null ? 0 : cfg.attentionProbsDropoutProb,
        dropoutSeed: pDrop ?? 0,
      }),
    );
    const residual = (h: Tensor, name: string, res: Tensor): Tensor => {
      const seed = drop.next(cfg.hiddenDropoutProb);
      return ops.linearDropoutAdd(
        h,
        this.p(`${name}.weight`),
        this.p(`${name}.bias`),
        res,
        seed === null ? 0 : cfg.hiddenDropoutProb,
        seed ?? 0,
      );
    };
    const x1 = ops.layerNorm(
      residual(ctx, `${p}.attention.output.dense`, x),
      this.p(`${p}.attention.output.LayerNorm.weight`),
      this.p(`${p}.attention.output.LayerNorm.bias`),
      cfg.layerNormEps,
    );
    const inter = ops.linearGelu(
      x1,
      this.p(`${p}.intermediate.dense.weight`),
      this.p(`${p}.intermediate.dense.bias`),
      cfg.hiddenAct === 'gelu' ? 'erf' : 'tanh',
    );
    return ops.layerNorm(
      residual(inter, `${p}.output.dense`, x1),
      this.p(`${p}.output.LayerNorm.weight`),
      this.p(`${p}.output.LayerNorm.bias`),
      cfg.layerNormEps,
    );
  }
}
