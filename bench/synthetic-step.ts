/**
 * The synthetic BERT training setup that bench/train-step.ts (timing) and bench/profile-step.ts
 * (per-kernel profile) both measure: the same model, optimizer and batch as
 * ../shared/bench/torch_bert.py (random init, vocabulary 28996, 9 labels, uniform random ids and
 * labels, all-ones mask), so the figures compare with PyTorch's.
 */
import { Tensor, Rng } from '../src/engine/index.js';
import { BertForTokenClassification, makeConfig, type TokenBatch } from '../src/models/index.js';
import { AdamW } from '../src/train/optimizer.js';

export const LR = 1.5e-5;
const LABELS = 9, VOCAB = 28996;

export interface SyntheticStep {
  model: BertForTokenClassification;
  /** AdamW (lr 1.5e-5, betas 0.9/0.999, eps 1e-8, no weight decay), or null when not training. */
  opt: AdamW | null;
  batch: TokenBatch;
  labels: Tensor;
}

export function syntheticStep(layers: number, hidden: number, heads: number, inter: number, B: number, T: number,
  train: boolean): SyntheticStep {
  const config = makeConfig({
    vocab_size: VOCAB, hidden_size: hidden, num_hidden_layers: layers, num_attention_heads: heads, intermediate_size: inter,
    id2label: Object.fromEntries(Array.from({ length: LABELS }, (_, i) => [String(i), `L${i}`])),
  });
  const model = BertForTokenClassification.create(config, 0);
  const opt = train ? new AdamW(model.parameters(), { lr: LR, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }) : null;
  const rng = Rng.fromSeed(1);
  const batch: TokenBatch = {
    inputIds: Int32Array.from({ length: B * T }, () => 1 + rng.nextInt(VOCAB - 1)),
    attentionMask: new Int32Array(B * T).fill(1),
    batchSize: B,
    seqLen: T,
  };
  const labels = Tensor.from(Int32Array.from({ length: B * T }, () => rng.nextInt(LABELS)), [B * T]);
  return { model, opt, batch, labels };
}
