/**
 * What BERT, RoBERTa, XLM-RoBERTa and DistilBERT share: a post-LayerNorm transformer encoder
 * (self-attention, residual, LayerNorm; feed-forward, residual, LayerNorm) under a dropout and a
 * linear token-classification head. Each architecture file supplies its embeddings and the
 * Hugging Face names of its layer's submodules; the fused ops, the QKV adjacency and the dropout
 * sites live here once.
 */
import { Tensor, ops, isGradEnabled, tidy, adjacentView, storeAdjacent } from '../../engine/index.js';
import type { ModelConfig } from '../model-config.js';
import { DropoutSites, MASK_MIN, tokenRows, type ForwardOptions, type TokenBatch } from '../forward.js';
import type { ParamSpec } from '../init.js';
import { CheckedParams } from '../checked-params.js';
import { encoderLayerInt8, type Attend, type Int8EncoderLayer } from './encoder-int8.js';

/** HF names (without `.weight`/`.bias`) of one encoder layer's submodules. */
export interface LayerNames {
  query: string;
  key: string;
  value: string;
  attnOut: string;
  attnNorm: string;
  ffIn: string;
  ffOut: string;
  ffNorm: string;
}

/** BertLayer's names (RoBERTa and XLM-RoBERTa use them too). */
export function bertLayerNames(prefix: string, l: number): LayerNames {
  const p = `${prefix}.encoder.layer.${l}`;
  return {
    query: `${p}.attention.self.query`,
    key: `${p}.attention.self.key`,
    value: `${p}.attention.self.value`,
    attnOut: `${p}.attention.output.dense`,
    attnNorm: `${p}.attention.output.LayerNorm`,
    ffIn: `${p}.intermediate.dense`,
    ffOut: `${p}.output.dense`,
    ffNorm: `${p}.output.LayerNorm`,
  };
}

/** Spec builders for Linear and LayerNorm modules, as HF's _init_weights initialises them. */
export function specBuilder(specs: ParamSpec[]) {
  return {
    linear(name: string, out: number, inF: number): void {
      specs.push({ name: `${name}.weight`, shape: [out, inF], init: 'normal' });
      specs.push({ name: `${name}.bias`, shape: [out], init: 'zeros' });
    },
    layerNorm(name: string, h: number): void {
      specs.push({ name: `${name}.weight`, shape: [h], init: 'ones' });
      specs.push({ name: `${name}.bias`, shape: [h], init: 'zeros' });
    },
  };
}

/** The encoder layers' and the classifier's specs, in HF's module order (after the embeddings). */
export function encoderLayerSpecs(specs: ParamSpec[], cfg: ModelConfig, numLabels: number, names: (l: number) => LayerNames): ParamSpec[] {
  const h = cfg.hiddenSize,
    ff = cfg.intermediateSize;
  const b = specBuilder(specs);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const n = names(l);
    b.linear(n.query, h, h);
    b.linear(n.key, h, h);
    b.linear(n.value, h, h);
    b.linear(n.attnOut, h, h);
    b.layerNorm(n.attnNorm, h);
    b.linear(n.ffIn, ff, h);
    b.linear(n.ffOut, h, ff);
    b.layerNorm(n.ffNorm, h);
  }
  b.linear('classifier', numLabels, h);
  return specs;
}

/**
 * The shared forward pass. Subclasses give the HF class name, the base-model prefix, their
 * parameter specs, their embeddings and their layer names.
 */
export abstract class EncoderForTokenClassification extends CheckedParams {
  abstract readonly architecture: string;
  /** False for DistilBERT, whose attention block has no dropout after out_lin. */
  protected readonly attentionOutputDropout: boolean = true;
  /** int8 layers of a quantized folder (models/quantized.ts); used by forward passes without a graph or dropout. */
  int8Layers: Int8EncoderLayer[] | null = null;
  /** Precision of those layers' weights (quantization.json's weight_bits), which an int8 ONNX export repeats. */
  int8WeightBits: 7 | 8 = 8;

  /**
   * `params` must hold every name of `specs` with its shape; `prefix` is the base model's
   * attribute name (`bert`, `roberta`, `distilbert`), which bare base checkpoints lack.
   */
  constructor(
    config: ModelConfig,
    params: Map<string, Tensor>,
    specs: readonly ParamSpec[],
    className: string,
    readonly prefix: string,
  ) {
    super(config, params, specs, className);
    // Query, key and value weights (and biases) back to back, so that each layer projects with one
    // [3H, H] GEMM (see layer()); AdamW's flat buffer keeps them adjacent (same group, HF order).
    for (let l = 0; l < config.numHiddenLayers; l++) {
      for (const kind of ['weight', 'bias']) storeAdjacent(this.qkvParams(l, kind));
    }
  }

  /**
   * HF names of layer l's submodules (the ONNX export reads them too). Called from the
   * constructor: may use `prefix` and `config`, nothing a subclass sets later.
   */
  abstract layerNames(l: number): LayerNames;
  /** Embedding output [B*T, hidden], after its LayerNorm and dropout. */
  protected abstract embeddings(batch: TokenBatch, drop: DropoutSites): Tensor;

  private qkvParams(l: number, kind: string): Tensor[] {
    const n = this.layerNames(l);
    return [n.query, n.key, n.value].map((m) => this.p(`${m}.${kind}`));
  }

  /** Logits [batch * seqLen, numLabels]. */
  forward(batch: TokenBatch, opts: ForwardOptions): Tensor {
    const { batchSize: B, seqLen: T } = batch;
    const cfg = this.config;
    if (batch.inputIds.length !== B * T || batch.attentionMask.length !== B * T) {
      throw new Error(
        `forward: input_ids has ${batch.inputIds.length} and attention_mask ${batch.attentionMask.length} elements; expected batch ${B} x seq ${T}`,
      );
    }
    this.checkLength(T);
    const drop = new DropoutSites(opts);
    // Additive key mask [B, T]: 0 to attend, float32 min for padding (HF's extended mask).
    const maskData = new Float32Array(B * T);
    for (let i = 0; i < B * T; i++) maskData[i] = batch.attentionMask[i] ? 0 : MASK_MIN;
    const mask = Tensor.from(maskData, [B, T]);

    // Under skipPadding the layers run on the real tokens; only attention sees the padded layout
    // (real tokens' values are those of the padded pass: padded keys are masked out, nothing else
    // mixes tokens).
    const rows = tokenRows(batch, opts);
    const attend: Attend = (proj, attn) => {
      const [q, k, v] = proj.map(rows.scatter);
      return rows.gather(k ? ops.selfAttention(q, k, v, mask, B, attn) : ops.selfAttentionQkv(q, mask, B, attn));
    };
    let x = rows.gather(this.embeddings(batch, drop));
    opts.hiddenStates?.push(x);
    for (let l = 0; l < cfg.numHiddenLayers; l++) {
      // Without a graph nothing needs a layer's intermediates afterwards: free them layer by layer
      // (inference peak memory is then one layer's activations, not all of them).
      x = isGradEnabled() ? this.layer(l, x, attend, drop) : tidy(() => this.layer(l, x, attend, drop));
      opts.hiddenStates?.push(x);
    }
    const h = drop.apply(x, cfg.classifierDropout ?? cfg.hiddenDropoutProb);
    return rows.scatter(ops.linear(h, this.p('classifier.weight'), this.p('classifier.bias')));
  }

  /** The longest input (special tokens included) the position table covers. */
  get maxSequenceLength(): number {
    return this.config.maxPositionEmbeddings;
  }

  protected checkLength(T: number): void {
    if (T > this.maxSequenceLength) {
      throw new Error(`forward: sequence length ${T} exceeds max_position_embeddings ${this.config.maxPositionEmbeddings}`);
    }
  }

  /** One layer: self-attention block then feed-forward block, each with residual + LayerNorm. */
  private layer(l: number, x: Tensor, attend: Attend, drop: DropoutSites): Tensor {
    const cfg = this.config;
    if (this.int8Layers && !isGradEnabled() && !drop.active) return encoderLayerInt8(this.int8Layers[l], x, attend, cfg);
    const n = this.layerNames(l);
    const nh = cfg.numAttentionHeads,
      hd = cfg.hiddenSize / nh;
    // Heads are read in place from the projections (HF's view + permute, without copies).
    const pDrop = drop.next(cfg.attentionProbsDropoutProb);
    const attn = {
      heads: nh,
      scale: 1 / Math.sqrt(hd),
      dropoutP: pDrop === null ? 0 : cfg.attentionProbsDropoutProb,
      dropoutSeed: pDrop ?? 0,
    };
    // One [B*T, 3H] projection when the three weights lie back to back (the constructor arranges
    // it), else three linears.
    const w = adjacentView(this.qkvParams(l, 'weight')),
      b = adjacentView(this.qkvParams(l, 'bias'));
    const proj = (name: string): Tensor => ops.linear(x, this.p(`${name}.weight`), this.p(`${name}.bias`));
    const ctx = attend(w && b ? [ops.linear(x, w, b)] : [proj(n.query), proj(n.key), proj(n.value)], attn);
    // dense -> dropout -> + residual, in one buffer (ops.linearDropoutAdd); then LayerNorm.
    const residual = (h: Tensor, name: string, res: Tensor, dropout: boolean): Tensor => {
      const seed = dropout ? drop.next(cfg.hiddenDropoutProb) : null;
      return ops.linearDropoutAdd(
        h,
        this.p(`${name}.weight`),
        this.p(`${name}.bias`),
        res,
        seed === null ? 0 : cfg.hiddenDropoutProb,
        seed ?? 0,
      );
    };
    const norm = (h: Tensor, name: string): Tensor => ops.layerNorm(h, this.p(`${name}.weight`), this.p(`${name}.bias`), cfg.layerNormEps);
    const x1 = norm(residual(ctx, n.attnOut, x, this.attentionOutputDropout), n.attnNorm);
    const inter = ops.linearGelu(x1, this.p(`${n.ffIn}.weight`), this.p(`${n.ffIn}.bias`), cfg.hiddenAct === 'gelu' ? 'erf' : 'tanh');
    return norm(residual(inter, n.ffOut, x1, true), n.ffNorm);
  }
}
