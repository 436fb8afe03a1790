/**
 * ModernBERT for token classification, with Hugging Face's module tree, parameter names and
 * semantics (transformers 5 modeling_modernbert.py, the padded eager/sdpa path):
 *   tok_embeddings -> LayerNorm -> dropout
 *   N pre-norm layers: x += Wo(attention(rope(Wqkv(attn_norm(x))))); x += Wo(geglu(Wi(mlp_norm(x))))
 *     (attn_norm is the identity in layer 0; layer_types pick global attention with the global
 *     rotary base, or sliding-window attention over |i - j| <= local_attention / 2 with the local one)
 *   final_norm -> head (dense, activation, norm) -> dropout -> classifier.
 * LayerNorms and linears lack biases where norm_bias / attention_bias / mlp_bias / classifier_bias
 * say so (the classifier itself always has one).
 */
import { Tensor, ops, isGradEnabled, tidy } from '../../engine/index.js';
import { DropoutSites, MASK_MIN, tokenRows, type ForwardOptions, type TokenBatch, type TokenRows } from '../forward.js';
import type { ModelConfig } from '../model-config.js';
import { CheckedParams } from '../checked-params.js';
import { initParameters, type ParamSpec } from '../init.js';
import { modernBertOptions, type ModernBertOptions } from './modernbert-config.js';

/** Additive score bias outside the sliding window: exp() of it is exactly 0, and sums stay finite. */
const OUTSIDE_WINDOW = -1e30;

/** Parameter names and shapes of ModernBertForTokenClassification, in HF's module order, with HF's init. */
export function modernBertParamSpecs(cfg: ModelConfig, numLabels: number, prefix = 'model'): ParamSpec[] {
  const o = modernBertOptions(cfg);
  const h = cfg.hiddenSize,
    ff = cfg.intermediateSize,
    L = cfg.numHiddenLayers;
  const r = cfg.initializerRange,
    cutoff = o.initializerCutoffFactor;
  const stdIn = r,
    stdOut = r / Math.sqrt(2 * L);
  const specs: ParamSpec[] = [];
  const lin = (name: string, out: number, inF: number, bias: boolean, std: number): void => {
    specs.push({ name: `${name}.weight`, shape: [out, inF], init: 'normal', std, cutoff });
    if (bias) specs.push({ name: `${name}.bias`, shape: [out], init: 'zeros' });
  };
  const ln = (name: string): void => {
    specs.push({ name: `${name}.weight`, shape: [h], init: 'ones' });
    if (o.normBias) specs.push({ name: `${name}.bias`, shape: [h], init: 'zeros' });
  };
  // HF's _init_weights truncates at +-cutoff * std over the whole table (padding row included).
  specs.push({ name: `${prefix}.embeddings.tok_embeddings.weight`, shape: [cfg.vocabSize, h], init: 'normal', std: r, cutoff });
  ln(`${prefix}.embeddings.norm`);
  for (let l = 0; l < L; l++) {
    const p = `${prefix}.layers.${l}`;
    if (l > 0) ln(`${p}.attn_norm`);
    lin(`${p}.attn.Wqkv`, 3 * h, h, o.attentionBias, stdIn);
    lin(`${p}.attn.Wo`, h, h, o.attentionBias, stdOut);
    ln(`${p}.mlp_norm`);
    lin(`${p}.mlp.Wi`, 2 * ff, h, o.mlpBias, stdIn);
    lin(`${p}.mlp.Wo`, h, ff, o.mlpBias, stdOut);
  }
  ln(`${prefix}.final_norm`);
  lin('head.dense', h, h, o.classifierBias, stdOut);
  ln('head.norm');
  lin('classifier', numLabels, h, true, h ** -0.5);
  return specs;
}

export class ModernBertForTokenClassification extends CheckedParams {
  static readonly architecture = 'ModernBertForTokenClassification';
  readonly architecture = ModernBertForTokenClassification.architecture;
  readonly prefix = 'model';
  readonly options: ModernBertOptions;
  /** Zero vectors standing in for absent biases (the fused kernels take one); never trained. */
  private readonly zeros = new Map<number, Tensor>();
  private readonly ropeCache = new Map<string, { cos: Float32Array; sin: Float32Array }>();

  constructor(config: ModelConfig, params: Map<string, Tensor>) {
    super(config, params, modernBertParamSpecs(config, config.labels.length, 'model'), ModernBertForTokenClassification.architecture);
    this.options = modernBertOptions(config);
  }

  /** A randomly initialised model, as HF's _init_weights does it (truncated normals, per-module std). */
  static create(config: ModelConfig, seed = 42): ModernBertForTokenClassification {
    return new ModernBertForTokenClassification(
      config,
      initParameters(modernBertParamSpecs(config, config.labels.length), config.initializerRange, seed),
    );
  }

  /** The bias `name`, or null when the config has none. */
  private b(name: string): Tensor | null {
    return this.params.get(name) ?? null;
  }

  private zerosOf(n: number): Tensor {
    let z = this.zeros.get(n);
    // keep(): the model outlives the tidy() scope of the forward pass that first asks for it.
    if (!z) {
      z = Tensor.from(new Float32Array(n), [n]).keep();
      this.zeros.set(n, z);
    }
    return z;
  }

  private layerNorm(x: Tensor, name: string): Tensor {
    const w = this.p(`${name}.weight`);
    return ops.layerNorm(x, w, this.b(`${name}.bias`) ?? this.zerosOf(w.size), this.options.normEps);
  }

  private rope(T: number, theta: number): { cos: Float32Array; sin: Float32Array } {
    const key = `${T}/${theta}`;
    let t = this.ropeCache.get(key);
    if (!t) {
      t = ops.ropeTables(T, this.config.hiddenSize / this.config.numAttentionHeads, theta);
      this.ropeCache.set(key, t);
    }
    return t;
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
    if (T > cfg.maxPositionEmbeddings) {
      throw new Error(`forward: sequence length ${T} exceeds max_position_embeddings ${cfg.maxPositionEmbeddings}`);
    }
    const drop = new DropoutSites(opts);
    const maskData = new Float32Array(B * T);
    for (let i = 0; i < B * T; i++) maskData[i] = batch.attentionMask[i] ? 0 : MASK_MIN;
    const mask = Tensor.from(maskData, [B, T]);
    // A window that covers the whole sequence masks nothing: those layers take the fused path.
    const half = Math.floor(o.localAttention / 2);
    const window = T - 1 > half ? windowBias(T, half) : null;

    const m = this.prefix;
    const ids = Tensor.from(batch.inputIds, [B * T]);
    // Under skipPadding the layers run on the real tokens; only attention (with its rotary
    // positions) sees the padded layout.
    const rows = tokenRows(batch, opts);
    let x = rows.gather(ops.embedding(this.p(`${m}.embeddings.tok_embeddings.weight`), ids, cfg.padTokenId));
    x = drop.apply(this.layerNorm(x, `${m}.embeddings.norm`), o.embeddingDropout);
    opts.hiddenStates?.push(x);
    const padded = { rows, mask, window, B, T };
    for (let l = 0; l < cfg.numHiddenLayers; l++) {
      const run = (): Tensor => this.layer(l, x, padded, drop);
      x = isGradEnabled() ? run() : tidy(run);
      opts.hiddenStates?.push(x);
    }
    x = this.layerNorm(x, `${m}.final_norm`);
    const dense = ops.linear(x, this.p('head.dense.weight'), this.b('head.dense.bias'));
    const h = drop.apply(this.layerNorm(ops.gelu(dense, o.classifierActivation), 'head.norm'), o.classifierDropout);
    return rows.scatter(ops.linear(h, this.p('classifier.weight'), this.p('classifier.bias')));
  }

  /** One ModernBertEncoderLayer (pre-norm attention block, then pre-norm GeGLU block). */
  private layer(
    l: number,
    x: Tensor,
    padded: { rows: TokenRows; mask: Tensor; window: Tensor | null; B: number; T: number },
    drop: DropoutSites,
  ): Tensor {
    const cfg = this.config,
      o = this.options;
    const { rows, mask, window, B, T } = padded;
    const p = `${this.prefix}.layers.${l}`;
    const H = cfg.hiddenSize,
      nh = cfg.numAttentionHeads,
      hd = H / nh;
    const sliding = o.layerTypes[l] === 'sliding_attention';
    const a = l === 0 ? x : this.layerNorm(x, `${p}.attn_norm`);
    const qkv = ops.rotaryQkv(
      rows.scatter(ops.linear(a, this.p(`${p}.attn.Wqkv.weight`), this.b(`${p}.attn.Wqkv.bias`))),
      T,
      nh,
      this.rope(T, sliding ? o.localRopeTheta : o.globalRopeTheta),
    );
    const pDrop = drop.next(o.attentionDropout);
    const attn = { heads: nh, scale: 1 / Math.sqrt(hd), dropoutP: pDrop === null ? 0 : o.attentionDropout, dropoutSeed: pDrop ?? 0 };
    const ctx = rows.gather(
      sliding && window ? windowedAttention(qkv, mask, window, B, T, attn) : ops.selfAttentionQkv(qkv, mask, B, attn),
    );
    const outSeed = drop.next(o.attentionDropout);
    const x1 = ops.linearDropoutAdd(
      ctx,
      this.p(`${p}.attn.Wo.weight`),
      this.b(`${p}.attn.Wo.bias`) ?? this.zerosOf(H),
      x,
      outSeed === null ? 0 : o.attentionDropout,
      outSeed ?? 0,
    );
    const inner = ops.linear(this.layerNorm(x1, `${p}.mlp_norm`), this.p(`${p}.mlp.Wi.weight`), this.b(`${p}.mlp.Wi.bias`));
    const act = drop.apply(ops.geglu(inner, o.hiddenActivation), o.mlpDropout);
    return ops.linearDropoutAdd(act, this.p(`${p}.mlp.Wo.weight`), this.b(`${p}.mlp.Wo.bias`) ?? this.zerosOf(H), x1, 0, 0);
  }
}

/** [T, T] additive bias: 0 where |i - j| <= half (transformers' bidirectional sliding window), else OUTSIDE_WINDOW. */
export function windowBias(T: number, half: number): Tensor {
  const w = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) if (Math.abs(i - j) > half) w[i * T + j] = OUTSIDE_WINDOW;
  return Tensor.from(w, [T, T]);
}

/**
 * Sliding-window attention from the engine's ops: scores [B, heads, T, T] get the window bias,
 * then the padding mask, scale and softmax (maskedSoftmax), dropout, and the product with V.
 * Unlike the fused kernel this materialises the head split; only local layers with sequences
 * longer than the window take it.
 */
function windowedAttention(
  qkv: Tensor,
  mask: Tensor,
  window: Tensor,
  B: number,
  T: number,
  attn: { heads: number; scale: number; dropoutP: number; dropoutSeed: number },
): Tensor {
  const H = qkv.shape[qkv.shape.length - 1] / 3,
    nh = attn.heads;
  const [q, k, v] = [0, 1, 2].map((i) => ops.blockHeads(qkv, i, 3, B, nh));
  let probs = ops.maskedSoftmax(ops.add(ops.matmul(q, k, { transB: true }), window), mask, attn.scale);
  if (attn.dropoutP > 0) probs = ops.dropout(probs, attn.dropoutP, attn.dropoutSeed, true);
  return ops.reshape(ops.permute0213(ops.matmul(probs, v)), [B * T, H]);
}
