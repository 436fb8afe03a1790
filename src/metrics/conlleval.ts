// conlleval.pl (CoNLL-2000 evaluation script, version 2004-01-26) re-implemented: the same
// streaming chunk comparison, the same counts, the same printed report. seqeval's default mode
// agrees with it on IOB files; the score command uses this directly so that its output is a
// drop-in for conlleval users even on unusual tags (E-, '[', ']', '.', tags without a type).

import { compareCodePoints, formatFixed, padLeftUtf8Bytes } from './format-number.js';
import type { TypeCounts } from './counts.js';

/** One input line for conlleval: a token's gold and predicted tag, or a sentence boundary. */
export type ConllevalRow = { boundary: false; gold: string; pred: string } | { boundary: true };

export interface ConllevalTypeCounts {
  /** Chunks of this type in the gold column ("phrases"). */
  gold: number;
  /** Chunks of this type in the predicted column ("found"). */
  found: number;
  /** Chunks predicted with the right type and extent ("correct"). */
  correct: number;
}

export interface ConllevalCounts {
  tokens: number;
  correctTags: number;
  gold: number;
  found: number;
  correct: number;
  /** Types in report order. */
  types: string[];
  perType: Record<string, ConllevalTypeCounts>;
}

// conlleval's endOfChunk, including the bracket representation's one-token chunks.
function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'B' && (tag === 'B' || tag === 'O')) return true;
  if (prevTag === 'I' && (tag === 'B' || tag === 'O')) return true;
  if (prevTag === 'E' && (tag === 'E' || tag === 'I' || tag === 'O')) return true;
  if (prevTag !== 'O' && prevTag !== '.' && prevType !== type) return true;
  return prevTag === ']' || prevTag === '[';
}

// conlleval's startOfChunk.
function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' && (prevTag === 'B' || prevTag === 'I' || prevTag === 'O')) return true;
  if (tag === 'I' && (prevTag === 'O' || prevTag === 'E')) return true;
  if (tag === 'E' && (prevTag === 'E' || prevTag === 'O')) return true;
  if (tag !== 'O' && tag !== '.' && prevType !== type) return true;
  return tag === '[' || tag === ']';
}

/**
 * Splits like conlleval's /^([^-]*)-(.*)$/: up to the first '-' is the chunk tag, the rest the
 * type. A type of "0" becomes "" because Perl treats the string "0" as false there.
 */
export function splitConllevalTag(s: string): { tag: string; type: string } {
  const dash = s.indexOf('-');
  if (dash < 0) return { tag: s, type: '' };
  const type = s.slice(dash + 1);
  return { tag: s.slice(0, dash), type: type === '0' ? '' : type };
}

export interface ConllevalOptions {
  /** conlleval -r: tags have no B-/I- prefix; every non-outside token is a one-token chunk. */
  raw?: boolean;
  /** conlleval -o: the outside tag in raw mode (default 'O'). */
  outsideTag?: string;
}

function rawTag(t: string, outside: string): string {
  const tag = t === outside ? 'O' : t;
  return tag === 'O' ? tag : `B-${tag}`;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Runs conlleval's counting loop over the rows. */
export function conllevalCount(rows: Iterable<ConllevalRow>, opts: ConllevalOptions = {}): ConllevalCounts {
  const outside = opts.outsideTag ?? 'O';
  let tokens = 0;
  let correctTags = 0;
  let correctChunk = 0;
  let foundCorrect = 0;
  let foundGuessed = 0;
  const correctBy = new Map<string, number>();
  const foundCorrectBy = new Map<string, number>();
  const foundGuessedBy = new Map<string, number>();
  let inCorrect = false;
  let lastCorrect = 'O';
  let lastCorrectType = '';
  let lastGuessed = 'O';
  let lastGuessedType = '';

  for (const row of rows) {
    let correct: string;
    let correctType: string;
    let guessed: string;
    let guessedType: string;
    if (row.boundary) {
      // A sentence break is read as a token tagged O in both columns and not counted.
      correct = guessed = 'O';
      correctType = guessedType = '';
    } else {
      const g = opts.raw ? rawTag(row.gold, outside) : row.gold;
      const p = opts.raw ? rawTag(row.pred, outside) : row.pred;
      ({ tag: correct, type: correctType } = splitConllevalTag(g));
      ({ tag: guessed, type: guessedType } = splitConllevalTag(p));
    }

    const endCorrect = endOfChunk(lastCorrect, correct, lastCorrectType, correctType);
    const endGuessed = endOfChunk(lastGuessed, guessed, lastGuessedType, guessedType);
    if (inCorrect) {
      if (endCorrect && endGuessed && lastGuessedType === lastCorrectType) {
        inCorrect = false;
        correctChunk++;
        bump(correctBy, lastCorrectType);
      } else if (endCorrect !== endGuessed || guessedType !== correctType) {
        inCorrect = false;
      }
    }
    const startCorrect = startOfChunk(lastCorrect, correct, lastCorrectType, correctType);
    const startGuessed = startOfChunk(lastGuessed, guessed, lastGuessedType, guessedType);
    if (startCorrect && startGuessed && guessedType === correctType) inCorrect = true;
    if (startCorrect) {
      foundCorrect++;
      bump(foundCorrectBy, correctType);
    }
    if (startGuessed) {
      foundGuessed++;
      bump(foundGuessedBy, guessedType);
    }
    if (!row.boundary) {
      if (correct === guessed && guessedType === correctType) correctTags++;
      tokens++;
    }
    lastGuessed = guessed;
    lastCorrect = correct;
    lastGuessedType = guessedType;
    lastCorrectType = correctType;
  }
  if (inCorrect) {
    correctChunk++;
    bump(correctBy, lastCorrectType);
  }

  // conlleval sorts the keys of both hashes together and drops a key equal to the one before,
  // except after a key Perl reads as false (""), so the "" type can be listed twice.
  const sorted = [...foundCorrectBy.keys(), ...foundGuessedBy.keys()].sort(compareCodePoints);
  const types: string[] = [];
  let last: string | undefined;
  for (const t of sorted) {
    if (last === undefined || last === '' || last !== t) types.push(t);
    last = t;
  }
  const perType: Record<string, ConllevalTypeCounts> = Object.fromEntries(
    types.map((t) => [t, { gold: foundCorrectBy.get(t) ?? 0, found: foundGuessedBy.get(t) ?? 0, correct: correctBy.get(t) ?? 0 }]),
  );
  return { tokens, correctTags, gold: foundCorrect, found: foundGuessed, correct: correctChunk, types, perType };
}

/**
 * Counts in conlleval's shape from per-type unit counts (strict or token-level scoring) and token
 * totals; types in code-point order.
 */
export function conllevalCountsFromTypeCounts(
  counts: ReadonlyMap<string, TypeCounts> | Readonly<Record<string, TypeCounts>>,
  tokens: { tokens: number; correctTags: number },
): ConllevalCounts {
  const entries: Array<[string, TypeCounts]> =
    counts instanceof Map ? [...counts.entries()] : Object.entries(counts as Record<string, TypeCounts>);
  entries.sort((a, b) => compareCodePoints(a[0], b[0]));
  let gold = 0;
  let found = 0;
  let correct = 0;
  for (const [, c] of entries) {
    gold += c.gold;
    found += c.predicted;
    correct += c.correct;
  }
  return {
    tokens: tokens.tokens,
    correctTags: tokens.correctTags,
    gold,
    found,
    correct,
    types: entries.map(([t]) => t),
    perType: Object.fromEntries(entries.map(([t, c]) => [t, { gold: c.gold, found: c.predicted, correct: c.correct }])),
  };
}

export interface ConllevalScores {
  /** Percentages, as conlleval prints them (0-100). */
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

// conlleval's formulas: 100 * correct / found etc., each 0 when its denominator is 0.
function percentScores(correct: number, found: number, gold: number): Omit<ConllevalScores, 'accuracy'> {
  const precision = found > 0 ? (100 * correct) / found : 0;
  const recall = gold > 0 ? (100 * correct) / gold : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

export function conllevalOverall(c: ConllevalCounts): ConllevalScores {
  return {
    accuracy: c.tokens > 0 ? (100 * c.correctTags) / c.tokens : 0,
    ...percentScores(c.correct, c.found, c.gold),
  };
}

export function conllevalPerType(c: ConllevalTypeCounts): Omit<ConllevalScores, 'accuracy'> {
  return percentScores(c.correct, c.found, c.gold);
}

/**
 * conlleval's text report, byte for byte with `digits` = 2 (its %6.2f). Other digit counts keep
 * three places before the point. The accuracy line is left out for zero tokens, as conlleval does.
 */
export function formatConllevalReport(c: ConllevalCounts, opts: { digits?: number } = {}): string {
  const digits = opts.digits ?? 2;
  const width = digits > 0 ? digits + 4 : 3;
  const num = (x: number): string => {
    const s = formatFixed(x, digits);
    return s.length < width ? ' '.repeat(width - s.length) + s : s;
  };
  let out = `processed ${c.tokens} tokens with ${c.gold} phrases; found: ${c.found} phrases; correct: ${c.correct}.\n`;
  if (c.tokens > 0) {
    const o = conllevalOverall(c);
    out += `accuracy: ${num(o.accuracy)}%; precision: ${num(o.precision)}%; recall: ${num(o.recall)}%; FB1: ${num(o.f1)}\n`;
  }
  for (const t of c.types) {
    const tc = c.perType[t]!;
    const s = conllevalPerType(tc);
    // Perl pads byte strings, so the width counts UTF-8 bytes.
    out += `${padLeftUtf8Bytes(t, 17)}: precision: ${num(s.precision)}%; recall: ${num(s.recall)}%; FB1: ${num(s.f1)}  ${tc.found}\n`;
  }
  return out;
}

/** Fractions in [0, 1] straight from counts (not the percentages divided by 100). */
function fractions(correct: number, found: number, gold: number): { precision: number; recall: number; f1: number } {
  const precision = found > 0 ? correct / found : 0;
  const recall = gold > 0 ? correct / gold : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** JSON-ready numbers of a conlleval run: counts plus fractions in [0, 1]; accuracy null for no tokens. */
export function conllevalToJson(c: ConllevalCounts): Record<string, unknown> {
  return {
    tokens: c.tokens,
    correctTags: c.correctTags,
    phrases: c.gold,
    found: c.found,
    correct: c.correct,
    accuracy: c.tokens > 0 ? c.correctTags / c.tokens : null,
    ...fractions(c.correct, c.found, c.gold),
    perType: Object.fromEntries(
      c.types.map((t) => {
        const tc = c.perType[t]!;
        return [t, { ...fractions(tc.correct, tc.found, tc.gold), support: tc.gold, found: tc.found, correct: tc.correct }];
      }),
    ),
  };
}
