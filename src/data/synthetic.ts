/**
 * A small labelled NER corpus generated deterministically from templates, so the demo and the
 * tests run on a fresh machine with no downloads and no third-party data. Entities (PER, ORG,
 * LOC, MISC) are built from syllables and word lists, so the model must learn from context and
 * word shape rather than memorise a fixed list; names in the test split are drawn from the same
 * generator with another seed and are mostly unseen in training.
 */
import { Rng } from '../engine/random.js';
import type { Dataset, Sentence } from './types.js';

const SYLLABLES = [
  'al',
  'ber',
  'ca',
  'dor',
  'el',
  'fin',
  'ga',
  'hel',
  'is',
  'jo',
  'ka',
  'lin',
  'mar',
  'no',
  'or',
  'pe',
  'ra',
  'sa',
  'ta',
  'ul',
  'va',
  'wen',
  'ya',
  'zo',
];
const ORG_SUFFIX = ['Corp', 'Labs', 'Group', 'Bank', 'Institute', 'Systems', 'United', 'Motors'];
const LOC_SUFFIX = ['City', 'Valley', 'Bay', 'Springs', 'Island', 'Heights'];
const MISC = [['Olympic', 'Games'], ['World', 'Cup'], ['Nobel', 'Prize'], ['Euro'], ['Grand', 'Prix'], ['Open'], ['Expo']];

type Slot = 'PER' | 'ORG' | 'LOC' | 'MISC';
/** Clauses; a sentence joins one or two of them, so contexts vary more than a fixed template list. */
const CLAUSES: (string | Slot)[][] = [
  ['PER', 'works', 'for', 'ORG', 'in', 'LOC'],
  ['PER', 'visited', 'LOC', 'last', 'week'],
  ['ORG', 'opened', 'an', 'office', 'in', 'LOC'],
  ['the', 'MISC', 'was', 'held', 'in', 'LOC'],
  ['PER', 'won', 'the', 'MISC', 'for', 'ORG'],
  ['PER', 'met', 'PER', 'at', 'ORG'],
  ['ORG', 'hired', 'PER', 'as', 'its', 'new', 'chief'],
  ['shares', 'of', 'ORG', 'rose', 'after', 'the', 'MISC'],
  ['PER', 'was', 'born', 'in', 'LOC'],
  ['a', 'spokesman', 'for', 'ORG', 'said', 'the', 'deal', 'was', 'done'],
  ['rain', 'is', 'expected', 'in', 'LOC', 'on', 'Monday'],
  ['the', 'report', 'was', 'published', 'on', 'Friday'],
  ['PER', 'told', 'reporters', 'in', 'LOC', 'that', 'ORG', 'would', 'grow'],
  ['ORG', 'and', 'ORG', 'agreed', 'to', 'merge'],
  ['PER', 'moved', 'from', 'LOC', 'to', 'LOC'],
  ['fans', 'in', 'LOC', 'watched', 'the', 'MISC'],
  ['PER', 'said', 'prices', 'would', 'fall'],
  ['the', 'mayor', 'of', 'LOC', ',', 'PER', ',', 'resigned'],
  ['ORG', 'sponsors', 'the', 'MISC'],
  ['talks', 'between', 'PER', 'and', 'PER', 'ended', 'without', 'a', 'deal'],
];
const OPENERS = [[], [], ['Yesterday', ','], ['On', 'Tuesday', ','], ['According', 'to', 'officials', ','], ['Later', ',']];
const JOINERS = [[',', 'and'], [',', 'while'], [';'], [',', 'but']];

function capitalised(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function name(rng: Rng, syllables: number): string {
  let s = '';
  for (let i = 0; i < syllables; i++) s += SYLLABLES[rng.nextInt(SYLLABLES.length)];
  return capitalised(s);
}

function entity(rng: Rng, slot: Slot): string[] {
  switch (slot) {
    case 'PER':
      return rng.nextFloat() < 0.3 ? [name(rng, 2)] : [name(rng, 2), name(rng, 2 + rng.nextInt(2))];
    case 'ORG':
      return [name(rng, 2 + rng.nextInt(2)), ORG_SUFFIX[rng.nextInt(ORG_SUFFIX.length)]];
    case 'LOC':
      return rng.nextFloat() < 0.5 ? [name(rng, 3)] : [name(rng, 2), LOC_SUFFIX[rng.nextInt(LOC_SUFFIX.length)]];
    case 'MISC':
      return MISC[rng.nextInt(MISC.length)];
  }
}

/** `n` sentences in IOB2, reproducible from `seed`. */
export function syntheticNer(n: number, seed: number): Dataset {
  const rng = Rng.fromSeed(seed);
  const sentences: Sentence[] = [];
  for (let i = 0; i < n; i++) {
    const parts: (string | Slot)[] = [...OPENERS[rng.nextInt(OPENERS.length)], ...CLAUSES[rng.nextInt(CLAUSES.length)]];
    if (rng.nextFloat() < 0.35) parts.push(...JOINERS[rng.nextInt(JOINERS.length)], ...CLAUSES[rng.nextInt(CLAUSES.length)]);
    parts.push('.');
    const tokens: string[] = [],
      tags: string[] = [];
    for (const [k, part] of parts.entries()) {
      if (part === 'PER' || part === 'ORG' || part === 'LOC' || part === 'MISC') {
        entity(rng, part).forEach((w, j) => {
          tokens.push(w);
          tags.push(`${j === 0 ? 'B' : 'I'}-${part}`);
        });
      } else {
        tokens.push(k === 0 ? capitalised(part) : part);
        tags.push('O');
      }
    }
    sentences.push({ tokens, tags, line: i + 1 });
  }
  return { sentences, source: `synthetic-ner(seed=${seed})`, warnings: [] };
}

/**
 * A WordPiece vocabulary that covers a corpus: specials, every character (and its ## form),
 * the corpus's frequent whole words, and its frequent syllable-sized pieces.
 */
export function buildVocab(datasets: readonly Dataset[], maxSize = 2000): string[] {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const chars = new Set<string>();
  const words = new Map<string, number>();
  const pieces = new Map<string, number>();
  for (const d of datasets) {
    for (const s of d.sentences) {
      for (const w of s.tokens) {
        words.set(w, (words.get(w) ?? 0) + 1);
        for (const c of w) chars.add(c);
        for (let i = 0; i + 2 <= w.length; i += 2) {
          const p = (i === 0 ? '' : '##') + w.slice(i, i + 2);
          pieces.set(p, (pieces.get(p) ?? 0) + 1);
        }
      }
    }
  }
  const vocab = [...specials];
  const seen = new Set(vocab);
  const push = (t: string): void => {
    if (!seen.has(t) && vocab.length < maxSize) {
      seen.add(t);
      vocab.push(t);
    }
  };
  for (const c of [...chars].sort()) {
    push(c);
    push(`##${c}`);
  }
  for (const [p] of [...pieces].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) push(p);
  for (const [w, c] of [...words].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) if (c >= 3) push(w);
  return vocab;
}
