// Tag-string helpers shared by the default (conlleval-compatible) and strict extractors.
// Python indexes strings by code point; these helpers do the same so that a tag whose first
// character lies outside the BMP splits the way seqeval splits it.

import { MetricsInputError } from './errors.js';

export function firstCodePoint(s: string): string {
  const cp = s.codePointAt(0);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

export function lastCodePoint(s: string): string {
  if (s.length === 0) return '';
  const last = s.charCodeAt(s.length - 1);
  if (last >= 0xdc00 && last <= 0xdfff && s.length >= 2) {
    const before = s.charCodeAt(s.length - 2);
    if (before >= 0xd800 && before <= 0xdbff) return s.slice(-2);
  }
  return s.slice(-1);
}

/** Python's str.strip(chars) for a set of single characters. */
export function stripChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start]!)) start++;
  while (end > start && chars.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

/** Prefix letters that mark a chunk scheme (IOB1/2, IOE1/2, IOBES, BILOU), besides O. */
const SCHEME_LETTERS = new Set(['B', 'I', 'E', 'S', 'L', 'U']);

/**
 * True when the tag carries a chunk-scheme prefix: `B-PER`, `I-`, a bare `B`, or with
 * `suffix` `PER-B`. Used to tell entity tag sets from flat label sets such as POS tags.
 */
export function hasSchemePrefix(tag: string, suffix = false): boolean {
  if (SCHEME_LETTERS.has(tag)) return true;
  if (tag.length < 2) return false;
  return suffix ? tag[tag.length - 2] === '-' && SCHEME_LETTERS.has(tag[tag.length - 1]!) : tag[1] === '-' && SCHEME_LETTERS.has(tag[0]!);
}

export type Level = 'entity' | 'token';

/**
 * 'token' when the sequences hold some label other than `outside` and no label has a scheme
 * prefix (POS tags, flat labels); otherwise 'entity'. All-outside input stays 'entity'.
 */
export function detectLevel(sequences: ReadonlyArray<ReadonlyArray<readonly string[]>>, suffix = false, outside = 'O'): Level {
  let sawLabel = false;
  for (const seqs of sequences) {
    for (const seq of seqs) {
      for (const tag of seq) {
        if (hasSchemePrefix(tag, suffix)) return 'entity';
        if (tag !== outside) sawLabel = true;
      }
    }
  }
  return sawLabel ? 'token' : 'entity';
}

/**
 * Checks that gold and predicted sequences line up (same sentence count and lengths) and that
 * every tag is a non-empty string; seqeval raises ValueError / IndexError for these.
 */
export function checkConsistent(yTrue: ReadonlyArray<readonly string[]>, yPred: ReadonlyArray<readonly string[]>): void {
  if (!Array.isArray(yTrue) || !Array.isArray(yPred)) {
    throw new MetricsInputError('gold and predicted tags must be arrays of sentences (string[][])');
  }
  if (yTrue.length !== yPred.length) {
    throw new MetricsInputError(`gold has ${yTrue.length} sentences but predicted has ${yPred.length}`);
  }
  for (let s = 0; s < yTrue.length; s++) {
    const gold = yTrue[s];
    const pred = yPred[s];
    if (!Array.isArray(gold) || !Array.isArray(pred)) {
      throw new MetricsInputError(`sentence ${s} is not an array of tags`, { sentence: s });
    }
    if (gold.length !== pred.length) {
      throw new MetricsInputError(`sentence ${s}: gold has ${gold.length} tags but predicted has ${pred.length}`, { sentence: s });
    }
    checkTags(gold, s, 'gold');
    checkTags(pred, s, 'predicted');
  }
}

function checkTags(tags: readonly string[], sentence: number, side: 'gold' | 'predicted'): void {
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i];
    if (typeof tag !== 'string' || tag.length === 0) {
      throw new MetricsInputError(
        `sentence ${sentence}, token ${i}: ${side} tag is ${typeof tag === 'string' ? 'empty' : `not a string (${typeof tag})`}`,
        { sentence, position: i, side },
      );
    }
  }
}
