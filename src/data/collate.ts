import { IGNORE_INDEX } from './align.js';
import type { Feature } from './features.js';

/** A padded batch as flat row-major [batchSize * seqLen] arrays, ready to become tensors. */
export interface Batch {
  inputIds: Int32Array;
  /** 1 for real tokens, 0 for padding (Int32: the trainer converts to its mask dtype). */
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
  /** -100 on padding and ignored tokens. */
  labels: Int32Array;
  /** Sentence word index per token; -1 for specials and padding. */
  wordIds: Int32Array;
  batchSize: number;
  seqLen: number;
  /** The features in batch order (sentence indices, windows, owned words). */
  features: readonly Feature[];
}

export interface CollateOptions {
  /** Round the padded length up to a multiple of this (8 suits tensor cores / SIMD widths). */
  padToMultipleOf?: number;
}

/** Pads features to the longest one in the batch (dynamic padding) and stacks them. */
export function collate(features: readonly Feature[], padId: number, opts: CollateOptions = {}): Batch {
  if (features.length === 0) throw new RangeError('cannot collate an empty batch');
  let seqLen = 0;
  for (const f of features) seqLen = Math.max(seqLen, f.inputIds.length);
  const m = opts.padToMultipleOf;
  if (m !== undefined) {
    if (!Number.isInteger(m) || m < 1) throw new RangeError(`padToMultipleOf must be a positive integer, got ${m}`);
    seqLen = Math.ceil(seqLen / m) * m;
  }
  const b = features.length;
  const size = b * seqLen;
  const inputIds = new Int32Array(size).fill(padId);
  const attentionMask = new Int32Array(size);
  const tokenTypeIds = new Int32Array(size);
  const labels = new Int32Array(size).fill(IGNORE_INDEX);
  const wordIds = new Int32Array(size).fill(-1);
  features.forEach((f, i) => {
    const o = i * seqLen;
    inputIds.set(f.inputIds, o);
    attentionMask.set(f.attentionMask, o);
    tokenTypeIds.set(f.tokenTypeIds, o);
    labels.set(f.labels, o);
    wordIds.set(f.wordIds, o);
  });
  return { inputIds, attentionMask, tokenTypeIds, labels, wordIds, batchSize: b, seqLen, features };
}
