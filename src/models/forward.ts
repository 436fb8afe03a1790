/**
 * What every model's forward pass shares: the padded batch it takes, its options, HF's additive
 * mask value, the per-site dropout seeds, and the TokenClassifier interface the trainer and the
 * pipeline call. Lives apart from any one architecture, so each model folder imports it alone.
 */
import { ops, deriveSeed, type Tensor } from '../engine/index.js';
import type { ModelConfig } from './model-config.js';

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
  /**
   * When given, the forward appends HF's hidden_states to it: the embeddings output, then each
   * layer's output (numHiddenLayers + 1 tensors [B*T, hidden], with their graph when it records
   * one). Distillation's hidden-state matching reads them.
   */
  hiddenStates?: Tensor[];
  /**
   * Run the per-token layers (linear layers, LayerNorm, activations, dropout, the head) on the real
   * tokens only (attention_mask 1), which saves what padding would cost; attention still sees the
   * padded layout. Real tokens' logits and every gradient stay what the padded pass gives; the
   * logits of padding rows are zeros instead of the values transformers computes there, so only
   * callers that read real tokens alone (training, evaluation, prediction) set it. A forward that
   * collects hidden states ignores it (they stay [B*T, hidden]). See tokenRows.
   */
  skipPadding?: boolean;
}

/**
 * The rows a forward pass computes per-token layers on: gather() takes a [B*T, ...] tensor to those
 * rows, scatter() puts them back into [B*T, ...] (zeros elsewhere). Under skipPadding (and no hidden
 * states requested) they are the real tokens; otherwise every row, and both are the identity.
 */
export interface TokenRows {
  gather(x: Tensor): Tensor;
  scatter(x: Tensor): Tensor;
}

export function tokenRows(batch: TokenBatch, opts: ForwardOptions): TokenRows {
  const every: TokenRows = { gather: (x) => x, scatter: (x) => x };
  if (!opts.skipPadding || opts.hiddenStates) return every;
  const mask = batch.attentionMask;
  let n = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i]) n++;
  if (n === mask.length) return every;
  const rows = new Int32Array(n);
  for (let i = 0, j = 0; i < mask.length; i++) if (mask[i]) rows[j++] = i;
  return { gather: (x) => ops.gatherRows(x, rows), scatter: (x) => ops.scatterRows(x, rows, mask.length) };
}

/** torch.finfo(torch.float32).min: HF's additive mask value for padded keys. */
export const MASK_MIN = -3.4028234663852886e38;

/** What the trainer and the pipeline need from a token classifier. */
export interface TokenClassifier {
  readonly config: ModelConfig;
  readonly architecture: string;
  readonly params: Map<string, Tensor>;
  readonly numLabels: number;
  /** Longest input the position table covers (RoBERTa: max_position_embeddings - pad_token_id - 1); default max_position_embeddings. */
  readonly maxSequenceLength?: number;
  parameters(): [string, Tensor][];
  forward(batch: TokenBatch, opts: ForwardOptions): Tensor;
}

/** Gives each dropout call of a forward pass its own seed, derived from the step's seed. */
export class DropoutSites {
  private n = 0;
  constructor(private readonly opts: ForwardOptions) {}
  /** Whether any site drops (training). */
  get active(): boolean {
    return this.opts.training;
  }
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
