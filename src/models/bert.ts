/**
 * BERT for token classification, with Hugging Face's parameter names and semantics
 * (modeling_bert.py, eager attention): embeddings -> N encoder layers -> dropout -> linear head.
 * Read top to bottom like the Python module tree; each function is one HF submodule.
 */
import { Tensor, ops, deriveSeed, isGradEnabled, tidy, adjacentView, storeAdjacent } from '../engine/index.js';
import type { ModelConfig } from './config.js';
import { initParameters, type ParamSpec } from './init.js';
import { bertLayerInt8, type BertInt8Layer } from './bert-int8.js';

/** A padded batch: row-major [batch, seqLen] arrays. */
export interface TokenBatch {
  inputIds: Int32Array;
  /** 1 = real token, 0 = padding. */
  attentionMask: Int32Array;
  tokenTypeIds?: Int32Array;
  batchSize: number;
  seqLen: number;
}

export interface ForwardOptions {
  /** Dropout on (training) or off (evaluation, prediction). */
  training: boolean;
  /** Base seed for this step's dropout masks (each dropout site derives its own). */
  dropoutSeed?: number;
}

/** torch.finfo(torch.float32).min: HF's additive mask value for padded keys. */
export const MASK_MIN = -3.4028234663852886e38;

/** Parameter names and shapes of BertForTokenClassification, in HF's module order. */
export function bertParamSpecs(cfg: ModelConfig, numLabels: number, prefix = 'bert'): ParamSpec[] {
  const h = cfg.hiddenSize, ff = cfg.intermediateSize;
  const specs: ParamSpec[] = [];
  const lin = (name: string, out: number, inF: number): void => {
    specs.push({ name: `${name}.weight`, shape: [out, inF], init: 'normal' });
    specs.push({ name: `${name}.bias`, shape: [out], init: 'zeros' });
  };
  const ln = (name: string): void => {
    specs.push({ name: `${name}.weight`, shape: [h], init: 'ones' });
    specs.push({ name: `${name}.bias`, shape: [h], init: 'zeros' });
  };
  const e = `${prefix}.embeddings`;
  specs.push({ name: `${e}.word_embeddings.weight`, shape: [cfg.vocabSize, h], init: 'normal', paddingIdx: cfg.padTokenId });
  specs.push({ name: `${e}.position_embeddings.weight`, shape: [cfg.maxPositionEmbeddings, h], init: 'normal' });
  specs.push({ name: `${e}.token_type_embeddings.weight`, shape: [cfg.typeVocabSize, h], init: 'normal' });
  ln(`${e}.LayerNorm`);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `${prefix}.encoder.layer.${l}`;
    lin(`${p}.attention.self.query`, h, h);
    lin(`${p}.attention.self.key`, h, h);
    lin(`${p}.attention.self.value`, h, h);
    lin(`${p}.attention.output.dense`, h, h);
    ln(`${p}.attention.output.LayerNorm`);
    lin(`${p}.intermediate.dense`, ff, h);
    lin(`${p}.output.dense`, h, ff);
    ln(`${p}.output.LayerNorm`);
  }
  lin('classifier', numLabels, h);
  return specs;
}

export class BertForTokenClassification {
  static readonly architecture = 'BertForTokenClassification';
  readonly architecture = BertForTokenClassification.architecture;
  readonly prefix = 'bert';
  /** int8 layers of a quantized folder (models/quantized.ts); used by forward passes without a graph. */
  int8Layers: BertInt8Layer[] | null = null;

  /** `params` must hold every name of bertParamSpecs(config, config.labels.length). */
  constructor(readonly config: ModelConfig, readonly params: Map<string, Tensor>) {
    for (const s of bertParamSpecs(config, config.labels.length, this.prefix)) {
      const t = params.get(s.name);
      if (!t) throw new Error(`BertForTokenClassification: missing parameter ${s.name}`);
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new Error(`BertForTokenClassification: ${s.name} has shape [${t.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      }
    }
    // Query, key and value weights (and biases) back to back, so that each layer projects with one
    // [3H, H] GEMM (see layer()); AdamW's flat buffer keeps them adjacent (same group, HF order).
    for (let l = 0; l < config.numHiddenLayers; l++) {
      for (const kind of ['weight', 'bias']) storeAdjacent(this.qkvParams(l, kind));
    }
  }

  private qkvParams(l: number, kind: string): Tensor[] {
    return ['query', 'key', 'value'].map((n) => this.p(`${this.prefix}.encoder.layer.${l}.attention.self.${n}.${kind}`));
  }

  /** A randomly initialised model, as HF's _init_weights does it. */
  static create(config: ModelConfig, seed = 42): BertForTokenClassification {
    return new BertForTokenClassification(config, initParameters(bertParamSpecs(config, config.labels.length), config.initializerRange, seed));
  }

  get numLabels(): number {
    return this.config.labels.length;
  }

  /** Parameters in HF order. */
  parameters(): [string, Tensor][] {
    return [...this.params.entries()];
  }

  private p(name: string): Tensor {
    return this.params.get(name)!;
  }

  /** Logits [batch * seqLen, numLabels]. */
  forward(batch: TokenBatch, opts: ForwardOptions): Tensor {
    const { batchSize: B, seqLen: T } = batch;
    const cfg = this.config;
    if (batch.inputIds.length !== B * T || batch.attentionMask.length !== B * T) {
      throw new Error(`forward: input_ids has ${batch.inputIds.length} and attention_mask ${batch.attentionMask.length} elements; expected batch ${B} x seq ${T}`);
    }
    if (T > cfg.maxPositionEmbeddings) {
      throw new Error(`forward: sequence length ${T} exceeds max_position_embeddings ${cfg.maxPositionEmbeddings}`);
    }
    const drop = new DropoutSites(opts);
    // Additive key mask [B, T]: 0 to attend, float32 min for padding (HF's extended mask).
    const maskData = new Float32Array(B * T);
    for (let i = 0; i < B * T; i++) maskData[i] = batch.attentionMask[i] ? 0 : MASK_MIN;
    const mask = Tensor.from(maskData, [B, T]);

    let x = this.embeddings(batch, drop);
    for (let l = 0; l < cfg.numHiddenLayers; l++) {
      // Without a graph nothing needs a layer's intermediates afterwards: free them layer by layer
      // (inference peak memory is then one layer's activations, not all of them).
      x = isGradEnabled() ? this.layer(l, x, mask, B, drop) : tidy(() => this.layer(l, x, mask, B, drop));
    }
    const h = drop.apply(x, cfg.classifierDropout ?? cfg.hiddenDropoutProb);
    return ops.linear(h, this.p('classifier.weight'), this.p('classifier.bias'));
  }

  /** word + position + token-type embeddings, LayerNorm, dropout -> [B*T, hidden]. */
  private embeddings(batch: TokenBatch, drop: DropoutSites): Tensor {
    const { batchSize: B, seqLen: T } = batch;
    const e = `${this.prefix}.embeddings`;
    const ids = Tensor.from(batch.inputIds, [B * T]);
    const pos = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) pos[b * T + t] = t;
    const types = Tensor.from(batch.tokenTypeIds ?? new Int32Array(B * T), [B * T]);
    let x = ops.embedding(this.p(`${e}.word_embeddings.weight`), ids, this.config.padTokenId);
    x = ops.add(x, ops.embedding(this.p(`${e}.position_embeddings.weight`), Tensor.from(pos, [B * T])));
    x = ops.add(x, ops.embedding(this.p(`${e}.token_type_embeddings.weight`), types));
    x = ops.layerNorm(x, this.p(`${e}.LayerNorm.weight`), this.p(`${e}.LayerNorm.bias`), this.config.layerNormEps);
    return drop.apply(x, this.config.hiddenDropoutProb);
  }

  /** One BertLayer: self-attention block then feed-forward block, each with residual + LayerNorm. */
  private layer(l: number, x: Tensor, mask: Tensor, B: number, drop: DropoutSites): Tensor {
    const cfg = this.config;
    if (this.int8Layers && !isGradEnabled() && !drop.active) return bertLayerInt8(this.int8Layers[l], x, mask, B, cfg);
    const p = `${this.prefix}.encoder.layer.${l}`;
    const nh = cfg.numAttentionHeads, hd = cfg.hiddenSize / nh;
    // Heads are read in place from the projections (HF's view + permute, without copies).
    const pDrop = drop.next(cfg.attentionProbsDropoutProb);
    const attn = { heads: nh, scale: 1 / Math.sqrt(hd), dropoutP: pDrop === null ? 0 : cfg.attentionProbsDropoutProb, dropoutSeed: pDrop ?? 0 };
    // One [B*T, 3H] projection when the three weights lie back to back (the constructor arranges
    // it), else three linears.
    const w = adjacentView(this.qkvParams(l, 'weight')), b = adjacentView(this.qkvParams(l, 'bias'));
    let ctx: Tensor;
    if (w && b) {
      ctx = ops.selfAttentionQkv(ops.linear(x, w, b), mask, B, attn);
    } else {
      const proj = (name: string): Tensor =>
        ops.linear(x, this.p(`${p}.attention.self.${name}.weight`), this.p(`${p}.attention.self.${name}.bias`));
      ctx = ops.selfAttention(proj('query'), proj('key'), proj('value'), mask, B, attn);
    }
    // dense -> dropout -> + residual, in one buffer (ops.linearDropoutAdd); then LayerNorm.
    const residual = (h: Tensor, name: string, res: Tensor): Tensor => {
      const seed = drop.next(cfg.hiddenDropoutProb);
      return ops.linearDropoutAdd(h, this.p(`${name}.weight`), this.p(`${name}.bias`), res, seed === null ? 0 : cfg.hiddenDropoutProb, seed ?? 0);
    };
    const x1 = ops.layerNorm(residual(ctx, `${p}.attention.output.dense`, x), this.p(`${p}.attention.output.LayerNorm.weight`), this.p(`${p}.attention.output.LayerNorm.bias`), cfg.layerNormEps);
    const inter = ops.linearGelu(x1, this.p(`${p}.intermediate.dense.weight`), this.p(`${p}.intermediate.dense.bias`), cfg.hiddenAct === 'gelu' ? 'erf' : 'tanh');
    return ops.layerNorm(residual(inter, `${p}.output.dense`, x1), this.p(`${p}.output.LayerNorm.weight`), this.p(`${p}.output.LayerNorm.bias`), cfg.layerNormEps);
  }
}

/** Gives each dropout call of a forward pass its own seed, derived from the step's seed. */
class DropoutSites {
  private n = 0;
  constructor(private readonly opts: ForwardOptions) {}
  /** Whether any site drops (training). */
  get active(): boolean { return this.opts.training; }
  apply(x: Tensor, p: number): Tensor {
    const seed = this.next(p);
    return seed === null ? x : ops.dropout(x, p, seed, true);
  }
  /** The next site's seed, or null when this site drops nothing (evaluation or p = 0). */
  next(p: number): number | null {
    if (!this.opts.training || p === 0) return null;
    return deriveSeed(this.opts.dropoutSeed ?? 0, 'dropout', this.n++);
  }
}
