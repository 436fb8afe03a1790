// Strict entity extraction, seqeval's `mode='strict', scheme=...` (seqeval/scheme.py): a chunk
// counts only when it is well formed in the named scheme, e.g. in IOB2 it must open with B-.
// Each scheme is a table of (previous prefix, current prefix, same/different type) patterns for
// "starts a chunk", "continues a chunk" and "the previous token ended a chunk"; the walk over
// the tokens is seqeval's Tokens.entities, including its quirks (IOE1 has known gaps there).

import { MetricsInputError } from './errors.js';
import { firstCodePoint, lastCodePoint, stripChars } from './tags.js';

export const SCHEMES = ['IOB1', 'IOB2', 'IOE1', 'IOE2', 'IOBES', 'BILOU'] as const;
export type SchemeName = (typeof SCHEMES)[number];

export function isSchemeName(name: string): name is SchemeName {
  return (SCHEMES as readonly string[]).includes(name);
}

// Prefix letters as bit flags so that a pattern can accept several (ANY).
const I = 1;
const O = 2;
const B = 4;
const E = 8;
const S = 16;
const U = 32;
const L = 64;
const ANY = I | O | B | E | S | U | L;
const PREFIX_BITS: Readonly<Record<string, number>> = { I, O, B, E, S, U, L };
const PREFIX_ORDER: ReadonlyArray<readonly [string, number]> = [
  ['I', I],
  ['O', O],
  ['B', B],
  ['E', E],
  ['S', S],
  ['U', U],
  ['L', L],
];

type TagCond = 'same' | 'diff' | 'any';
type Pattern = readonly [prev: number, current: number, cond: TagCond];

interface SchemeTable {
  allowed: number;
  start: readonly Pattern[];
  inside: readonly Pattern[];
  end: readonly Pattern[];
}

const TABLES: Readonly<Record<SchemeName, SchemeTable>> = {
  IOB1: {
    allowed: I | O | B,
    start: [
      [O, I, 'any'],
      [I, I, 'diff'],
      [B, I, 'any'],
      [I, B, 'same'],
      [B, B, 'same'],
    ],
    inside: [
      [B, I, 'same'],
      [I, I, 'same'],
    ],
    end: [
      [I, I, 'diff'],
      [I, O, 'any'],
      [I, B, 'any'],
      [B, O, 'any'],
      [B, I, 'diff'],
      [B, B, 'same'],
    ],
  },
  IOE1: {
    allowed: I | O | E,
    start: [
      [O, I, 'any'],
      [I, I, 'diff'],
      [E, I, 'any'],
      [E, E, 'same'],
    ],
    inside: [
      [I, I, 'same'],
      [I, E, 'same'],
    ],
    end: [
      [I, I, 'diff'],
      [I, O, 'any'],
      [I, E, 'diff'],
      [E, I, 'same'],
      [E, E, 'same'],
    ],
  },
  IOB2: {
    allowed: I | O | B,
    start: [[ANY, B, 'any']],
    inside: [
      [B, I, 'same'],
      [I, I, 'same'],
    ],
    end: [
      [I, O, 'any'],
      [I, I, 'diff'],
      [I, B, 'any'],
      [B, O, 'any'],
      [B, I, 'diff'],
      [B, B, 'any'],
    ],
  },
  IOE2: {
    allowed: I | O | E,
    start: [
      [O, I, 'any'],
      [O, E, 'any'],
      [E, I, 'any'],
      [E, E, 'any'],
      [I, I, 'diff'],
      [I, E, 'diff'],
    ],
    inside: [
      [I, E, 'same'],
      [I, I, 'same'],
    ],
    end: [[E, ANY, 'any']],
  },
  IOBES: {
    allowed: I | O | B | E | S,
    start: [
      [ANY, B, 'any'],
      [ANY, S, 'any'],
    ],
    inside: [
      [B, I, 'same'],
      [B, E, 'same'],
      [I, I, 'same'],
      [I, E, 'same'],
    ],
    end: [
      [S, ANY, 'any'],
      [E, ANY, 'any'],
    ],
  },
  BILOU: {
    allowed: B | I | L | O | U,
    start: [
      [ANY, B, 'any'],
      [ANY, U, 'any'],
    ],
    inside: [
      [B, I, 'same'],
      [B, L, 'same'],
      [I, I, 'same'],
      [I, L, 'same'],
    ],
    end: [
      [U, ANY, 'any'],
      [L, ANY, 'any'],
    ],
  },
};

interface ParsedToken {
  prefix: number;
  tag: string;
}

function prefixNames(bits: number): string {
  return PREFIX_ORDER.filter(([, b]) => (bits & b) !== 0)
    .map(([n]) => n)
    .join(', ');
}

/** Prefix letter and type of one tag as seqeval's Token reads it ('PER' from 'B-PER'). */
function parseToken(
  token: string,
  suffix: boolean,
  where: { sentence: number; position: number; side: 'gold' | 'predicted' },
): ParsedToken {
  const letter = suffix ? lastCodePoint(token) : firstCodePoint(token);
  const prefix = PREFIX_BITS[letter];
  if (prefix === undefined) {
    throw new MetricsInputError(
      `sentence ${where.sentence}, token ${where.position}: ${where.side} tag '${token}' has no ` +
        `scheme ${suffix ? 'suffix' : 'prefix'} (expected one of I, O, B, E, S, U, L)`,
      where,
    );
  }
  const rest = suffix ? token.slice(0, token.length - letter.length) : token.slice(letter.length);
  return { prefix, tag: stripChars(rest, '-') || '_' };
}

function matches(prev: ParsedToken, cur: ParsedToken, patterns: readonly Pattern[]): boolean {
  for (const [p, c, cond] of patterns) {
    if ((prev.prefix & p) === 0 || (cur.prefix & c) === 0) continue;
    if (cond === 'any' || (cond === 'same') === (prev.tag === cur.tag)) return true;
  }
  return false;
}

/** One strictly valid entity: sentence index, type, first token, end (exclusive). */
export interface StrictEntity {
  sentence: number;
  type: string;
  start: number;
  end: number;
}

/** seqeval's Tokens(...).entities for one sentence. */
export function strictSentenceEntities(
  tokens: readonly string[],
  scheme: SchemeName,
  options: { suffix?: boolean; sentence?: number; side?: 'gold' | 'predicted' } = {},
): StrictEntity[] {
  const table = TABLES[scheme];
  const suffix = options.suffix ?? false;
  const sentence = options.sentence ?? 0;
  const side = options.side ?? 'gold';
  const outside: ParsedToken = { prefix: O, tag: '_' };
  // The trailing outside token is seqeval's sentinel that closes a chunk at the sentence end.
  const ext: ParsedToken[] = tokens.map((t, position) => parseToken(t, suffix, { sentence, position, side }));
  ext.push(outside);

  const entities: StrictEntity[] = [];
  let prev = outside;
  let i = 0;
  while (i < ext.length) {
    const token = ext[i]!;
    if ((token.prefix & table.allowed) === 0) {
      throw new MetricsInputError(
        `sentence ${sentence}, token ${i}: ${side} tag '${tokens[i]}' is not valid in scheme ` +
          `${scheme} (allowed prefixes: ${prefixNames(table.allowed)})`,
        { sentence, position: i, side },
      );
    }
    if (matches(prev, token, table.start)) {
      // Walk forward over tokens that continue the chunk; seqeval's Tokens._forward.
      let end = ext.length - 2; // seqeval's fallback; unreachable because the sentinel never continues
      let inner = token;
      for (let j = i + 1; j < ext.length; j++) {
        if (matches(inner, ext[j]!, table.inside)) {
          inner = ext[j]!;
        } else {
          end = j;
          break;
        }
      }
      if (matches(ext[end - 1]!, ext[end]!, table.end)) {
        entities.push({ sentence, type: token.tag, start: i, end });
      }
      i = end;
    } else {
      i += 1;
    }
    prev = ext[i - 1]!;
  }
  return entities;
}

/** Strict entities of every sentence. */
export function getStrictEntities(
  sequences: ReadonlyArray<readonly string[]>,
  scheme: SchemeName,
  options: { suffix?: boolean; side?: 'gold' | 'predicted' } = {},
): StrictEntity[] {
  const all: StrictEntity[] = [];
  sequences.forEach((tokens, sentence) => {
    for (const e of strictSentenceEntities(tokens, scheme, { ...options, sentence })) all.push(e);
  });
  return all;
}

// Prefix sets that seqeval's auto_detect maps to each scheme (IOB1 and IOE1 are never guessed).
const AUTO_DETECT: ReadonlyArray<readonly [SchemeName, readonly number[]]> = [
  ['IOB2', [I | O | B, I | B, B | O, B]],
  ['IOE2', [I | O | E, I | E, E | O, E]],
  ['IOBES', [I | O | B | E | S, I | B | E | S, I | O | B | E, O | B | E | S, I | B | E, B | E | S, O | B | E, B | E, S]],
  ['BILOU', [I | O | B | L | U, I | B | L | U, I | O | B | L, O | B | L | U, I | B | L, B | L | U, O | B | L, B | L, U]],
];

/** seqeval's auto_detect: the scheme implied by the set of prefixes in the gold tags. */
export function autoDetectScheme(sequences: ReadonlyArray<readonly string[]>, suffix = false): SchemeName {
  let seen = 0;
  sequences.forEach((tokens, sentence) => {
    tokens.forEach((t, position) => {
      seen |= parseToken(t, suffix, { sentence, position, side: 'gold' }).prefix;
    });
  });
  for (const [name, sets] of AUTO_DETECT) {
    if (sets.includes(seen)) return name;
  }
  throw new MetricsInputError(
    `cannot detect the tagging scheme from gold prefixes {${prefixNames(seen)}}; pass scheme ` +
      `explicitly (one of ${SCHEMES.join(', ')})`,
  );
}
