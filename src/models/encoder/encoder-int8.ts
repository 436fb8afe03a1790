/**
 * The shared encoder layer's inference pass with int8 linear layers (the quantized folder of
 * `tokentune quantize`), for every architecture on encoder.ts (BERT, RoBERTa, XLM-RoBERTa,
 * DistilBERT): the query/key/value projection, attention output, intermediate and output dense
 * layers run through ops.linearInt8 (bias, residual and GELU in its epilogue); attention, softmax
 * and LayerNorm stay float32, as do the embeddings and the classifier. Dropout plays no part: this
 * pass only runs for inference.
 */
import { ops, type Tensor } from '../../engine/index.js';
import type { Int8Linear } from '../../engine/ops/int8.js';
import type { SelfAttentionOptions } from '../../engine/ops/index.js';
import type { ModelConfig } from '../model-config.js';

/**
 * Self-attention for a layer whose tokens are rows of its input (encoder.ts supplies it): given one
 * fused [rows, 3H] projection, or the query, key and value projections apart; returns the context [rows, H].
 */
export type Attend = (proj: readonly Tensor[], attn: SelfAttentionOptions) => Tensor;

export interface Int8EncoderLayer {
  /** query, key and value weights stacked as one [3H, H] linear (per-channel scales make this exact). */
  qkv: Int8Linear;
  attentionOutput: Int8Linear;
  intermediate: Int8Linear;
  output: Int8Linear;
  /** The attention block's and the feed-forward block's LayerNorms (weight, bias): the float model's tensors. */
  ln1: [Tensor, Tensor];
  ln2: [Tensor, Tensor];
}

export function encoderLayerInt8(L: Int8EncoderLayer, x: Tensor, attend: Attend, cfg: ModelConfig): Tensor {
  const heads = cfg.numAttentionHeads;
  const ctx = attend([ops.linearInt8(x, L.qkv)], { heads, scale: 1 / Math.sqrt(cfg.hiddenSize / heads) });
  const x1 = ops.layerNorm(ops.linearInt8(ctx, L.attentionOutput, { residual: x }), L.ln1[0], L.ln1[1], cfg.layerNormEps);
  const inter = ops.linearInt8(x1, L.intermediate, { gelu: cfg.hiddenAct === 'gelu' ? 'erf' : 'tanh' });
  return ops.layerNorm(ops.linearInt8(inter, L.output, { residual: x1 }), L.ln2[0], L.ln2[1], cfg.layerNormEps);
}
