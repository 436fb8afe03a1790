/**
 * Overlapping windows over a tokenized text that is longer than the model accepts. Every token
 * is owned by exactly one window, the one where it has the most context on its nearer side
 * (data/windows.ts's rule, here with every "word" a single token), so each token gets one
 * prediction and nothing is truncated.
 */
import { planWindows, type WordWindow } from '../data/windows.js';

export type TokenWindow = WordWindow;

/** Default overlap for `budget` tokens per window: a quarter of the window. */
export function defaultStride(budget: number): number {
  return Math.max(0, Math.floor(budget / 4));
}

/**
 * Windows over n tokens, at most `budget` tokens each (the model's limit minus [CLS] and [SEP]),
 * consecutive windows sharing at most `stride` tokens (HF's stride).
 */
export function planTokenWindows(n: number, budget: number, stride: number = defaultStride(budget)): TokenWindow[] {
  if (n <= budget) return [{ start: 0, end: n, ownStart: 0, ownEnd: n }];
  return planWindows(new Uint8Array(n).fill(1), budget, stride);
}
