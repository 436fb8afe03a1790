/**
 * From token logits back to one tag per word: a word's prediction is the argmax at its first
 * sub-token, taken from the window that owns the word (so long sentences split into windows
 * still get exactly one prediction per word).
 */
import type { Feature } from '../data/features.js';

/** Accumulates per-word predictions for a set of sentences, batch by batch. */
export class WordPredictions {
  private readonly tags: (string | undefined)[][];
  private readonly scores: Float32Array[];

  constructor(
    sentenceLengths: readonly number[],
    private readonly labels: readonly string[],
  ) {
    this.tags = sentenceLengths.map((n) => new Array<string | undefined>(n));
    this.scores = sentenceLengths.map((n) => new Float32Array(n));
  }

  /**
   * logits [batchSize * seqLen, numLabels] for the features of one collated batch, in order.
   * Each feature's tokens occupy rows [b * seqLen, b * seqLen + feature length).
   */
  add(features: readonly Feature[], logits: Float32Array | Float64Array, seqLen: number): void {
    const L = this.labels.length;
    features.forEach((f, b) => {
      const sent = this.tags[f.sentenceIndex];
      let prevWord = -1;
      for (let t = 0; t < f.wordIds.length; t++) {
        const w = f.wordIds[t];
        if (w < 0 || w === prevWord) continue;
        prevWord = w;
        if (w < f.ownedWordStart || w >= f.ownedWordEnd) continue;
        const o = (b * seqLen + t) * L;
        let best = 0;
        for (let c = 1; c < L; c++) if (logits[o + c] > logits[o + best]) best = c;
        sent[w] = this.labels[best];
        this.scores[f.sentenceIndex][w] = softmaxAt(logits, o, L, best);
      }
    });
  }

  /** One tag per word; throws if a word never received a prediction (a windowing bug). */
  result(): string[][] {
    return this.tags.map((s, i) =>
      s.map((t, w) => {
        if (t === undefined) throw new Error(`internal: word ${w} of sentence ${i} received no prediction`);
        return t;
      }),
    );
  }

  /** Softmax probability of each word's predicted tag. */
  confidences(): Float32Array[] {
    return this.scores;
  }
}

function softmaxAt(logits: Float32Array | Float64Array, o: number, n: number, k: number): number {
  let mx = -Infinity;
  for (let c = 0; c < n; c++) mx = Math.max(mx, logits[o + c]);
  let sum = 0;
  for (let c = 0; c < n; c++) sum += Math.exp(logits[o + c] - mx);
  return Math.exp(logits[o + k] - mx) / sum;
}
