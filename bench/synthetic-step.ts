/**
 * The synthetic BERT training setup that bench/train-step.ts (timing) and bench/profile-step.ts
 * (per-kernel profile) both measure: the same model, optimizer and batch as
 * ../shared/bench/torch_bert.py (random init, vocabulary 28996, 9 labels, uniform random ids and
 * labels, all-ones mask), so the figures compare with PyTorch's. `realFraction` < 1 pads the batch
 * instead: the first sequence is full, every other one has that fraction of real tokens (mask 0 and
 * label -100 after), the shape of a shuffled, dynamically padded batch.
 */
import { Tensor, Rng } from '../src/engine/index.js';
import { architectureFor, initParameters, makeConfig, type TokenBatch, type TokenClassifier } from '../src/models/index.js';
import { AdamW } from '../src/train/optimizer.js';

export const LR = 1.5e-5;
const LABELS = 9,
  VOCAB = 28996;

/** Config fields beyond the sizes that ../shared/bench/hf_step.py gives each model_type. */
const ARCH_FIELDS: Record<string, Record<string, unknown>> = {
  // DeBERTa-v3 settings; DebertaV2Config's defaults otherwise (the deberta-v2 config family).
  'deberta-v2': {
    relative_attention: true,
    position_buckets: 256,
    norm_rel_ebd: 'layer_norm',
    share_att_key: true,
    pos_att_type: ['p2c', 'c2p'],
    position_biased_input: false,
    max_relative_positions: -1,
  },
  // ModernBertConfig's defaults (global attention every 3rd layer, window 128, no biases) with special ids inside the vocabulary.
  modernbert: { pad_token_id: 0, bos_token_id: 1, eos_token_id: 2, cls_token_id: 1, sep_token_id: 2 },
};

export interface SyntheticStep {
  model: TokenClassifier;
  /** AdamW (lr 1.5e-5, betas 0.9/0.999, eps 1e-8, no weight decay), or null when not training. */
  opt: AdamW | null;
  batch: TokenBatch;
  labels: Tensor;
}

/**
 * `modelType` other than bert: the same sizes as ../shared/bench/hf_step.py gives that type
 * (transformers' config defaults otherwise), ids from 5 up as hf_step.py draws them.
 */
export function syntheticStep(
  layers: number,
  hidden: number,
  heads: number,
  inter: number,
  B: number,
  T: number,
  train: boolean,
  modelType = 'bert',
  realFraction = 1,
): SyntheticStep {
  const id2label = Object.fromEntries(Array.from({ length: LABELS }, (_, i) => [String(i), `L${i}`]));
  const config =
    modelType === 'distilbert'
      ? makeConfig({ model_type: modelType, vocab_size: VOCAB, dim: hidden, n_layers: layers, n_heads: heads, hidden_dim: inter, id2label })
      : makeConfig({
          model_type: modelType,
          vocab_size: VOCAB,
          hidden_size: hidden,
          num_hidden_layers: layers,
          num_attention_heads: heads,
          intermediate_size: inter,
          id2label,
          ...ARCH_FIELDS[modelType],
        });
  const arch = architectureFor(config);
  const model = arch.build(config, initParameters(arch.paramSpecs(config, LABELS), config.initializerRange, 0));
  const firstId = modelType === 'bert' ? 1 : 5;
  const opt = train ? new AdamW(model.parameters(), { lr: LR, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }) : null;
  const rng = Rng.fromSeed(1);
  const realLen = Math.max(1, Math.round(T * Math.min(1, realFraction)));
  const isReal = (i: number): boolean => i < T || i % T < realLen;
  const batch: TokenBatch = {
    inputIds: Int32Array.from({ length: B * T }, () => firstId + rng.nextInt(VOCAB - firstId)),
    attentionMask: Int32Array.from({ length: B * T }, (_, i) => (isReal(i) ? 1 : 0)),
    batchSize: B,
    seqLen: T,
  };
  const labels = Tensor.from(
    Int32Array.from({ length: B * T }, (_, i) => (isReal(i) ? rng.nextInt(LABELS) : -100)),
    [B * T],
  );
  return { model, opt, batch, labels };
}
