/**
 * One tag per word, for pre-tokenized input (CoNLL-style columns) and for the CoNLL output of
 * raw text. A word's tokens are known exactly here (the tokenizer's word ids), so no subword
 * heuristic is needed; the label is chosen like HF's aggregate_word.
 */
import { argmax, type AggregationStrategy } from './aggregation.js';

export interface WordTag {
  /** The word as given (pre-tokenized input) or its slice of the text. */
  word: string;
  entity: string;
  /** Probability of `entity` (for 'average', the mean probability); 0 for a word with no tokens. */
  score: number;
  /** Position of the word in the input. */
  index: number;
  /** For pre-tokenized input: offsets into the words joined by single spaces (HF's is_split_into_words). */
  start: number;
  end: number;
}

/** The label a word with no tokens (empty, or only control characters) receives. */
export function outsideLabel(labels: readonly string[]): string {
  return labels.includes('O') ? 'O' : (labels[0] ?? 'O');
}

/**
 * Chooses each word's label from its tokens' probabilities. 'none' and 'simple' mean 'first'
 * here: a word-level tag cannot be split.
 */
export function tagWords(
  words: readonly { word: string; start: number; end: number }[],
  tokenWordIds: readonly (number | null)[],
  tokenScores: readonly Float64Array[],
  strategy: AggregationStrategy,
  labels: readonly string[],
): WordTag[] {
  const byWord: Float64Array[][] = words.map(() => []);
  tokenWordIds.forEach((w, t) => {
    if (w === null) return;
    const slot = byWord[w];
    if (slot === undefined) throw new RangeError(`token ${t} belongs to word ${w}, but there are ${words.length} words`);
    slot.push(tokenScores[t]!);
  });
  return words.map((w, i) => {
    const scores = byWord[i]!;
    let entity = outsideLabel(labels);
    let score = 0;
    if (scores.length > 0) {
      let chosen: ArrayLike<number> = scores[0]!;
      if (strategy === 'max') {
        let best = -Infinity;
        for (const s of scores) {
          const m = s[argmax(s)]!;
          if (m > best) {
            best = m;
            chosen = s;
          }
        }
      } else if (strategy === 'average') {
        const avg = new Float64Array(labels.length);
        for (const s of scores) for (let c = 0; c < avg.length; c++) avg[c]! += s[c]!;
        for (let c = 0; c < avg.length; c++) avg[c]! /= scores.length;
        chosen = avg;
      }
      const idx = argmax(chosen);
      entity = labels[idx] ?? String(idx);
      score = chosen[idx]!;
    }
    return { word: w.word, entity, score, index: i, start: w.start, end: w.end };
  });
}
