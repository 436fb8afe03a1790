/**
 * tokenizer.json pre-tokenizers: each turns pieces (NStr) into smaller pieces, as Rust
 * `tokenizers`' PreTokenizedString::split does (empty pieces dropped).
 */
import { isPunctuation, isWhitespace } from '../unicode.js';
import { NStr, regexMatches, stringMatches } from './normalized.js';
import { JsonCtx } from './json-ctx.js';
import { compileOniguruma } from './oniguruma.js';
import { rangesToClass } from '../ranges.js';
import { REGEX_CRATE_WORD, RUST_NUMERIC } from '../rust-class-bases.js';
import { REGEX_WORD_EXTRA, REGEX_WORD_NOT } from '../unicode-exceptions.js';

/** words: encoding pre-split input (transformers' add_prefix_space=True for byte-level BPE). */
export type PreTokenizer = (pieces: NStr[], words: boolean) => NStr[];
export type Behavior = 'Removed' | 'Isolated' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';
const BEHAVIORS: readonly Behavior[] = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
const TYPES = [
  'BertPreTokenizer',
  'ByteLevel',
  'Metaspace',
  'Whitespace',
  'WhitespaceSplit',
  'Punctuation',
  'Split',
  'Digits',
  'Sequence',
] as const;

/** GPT-2's pattern, which ByteLevel uses when use_regex is true. */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** Splits one piece at matches ([start, end) code-point ranges, sorted, disjoint). */
export function splitPiece(n: NStr, matches: readonly [number, number][], behavior: Behavior, invert = false): NStr[] {
  if (behavior === 'Isolated' && !invert) {
    // The hot case (ByteLevel's regex): every match and every gap between them is a piece.
    const res: NStr[] = [];
    let prev = 0;
    for (const [a, b] of matches) {
      if (a > prev) res.push(n.slice(prev, a));
      if (b > a) res.push(n.slice(a, b));
      prev = b;
    }
    if (n.length > prev) res.push(n.slice(prev, n.length));
    return res;
  }
  if (behavior === 'MergedWithNext' && !invert && matches.every(([a, b]) => b > a)) {
    // Metaspace's case: a piece starts at every match and runs to the next one.
    const res: NStr[] = [];
    let start = 0;
    for (const [a] of matches) {
      if (a > start) res.push(n.slice(start, a));
      start = a;
    }
    if (n.length > start) res.push(n.slice(start, n.length));
    return res;
  }
  // Matches and the gaps between them, as Rust's Pattern::find_matches.
  let parts: [number, number, boolean][] = [];
  if (n.length === 0) parts.push([0, 0, false]);
  else {
    let prev = 0;
    for (const [a, b] of matches) {
      if (prev !== a) parts.push([prev, a, false]);
      parts.push([a, b, true]);
      prev = b;
    }
    if (prev !== n.length) parts.push([prev, n.length, false]);
  }
  if (invert) parts = parts.map(([a, b, m]) => [a, b, !m]);
  let out: [number, number, boolean][] = []; // [start, end, remove]
  switch (behavior) {
    case 'Removed':
      out = parts.map(([a, b, m]) => [a, b, m]);
      break;
    case 'Isolated':
      out = parts.map(([a, b]) => [a, b, false]);
      break;
    case 'MergedWithPrevious': {
      let prevMatch = false;
      for (const [a, b, m] of parts) {
        if (m && !prevMatch && out.length > 0) out[out.length - 1]![1] = b;
        else out.push([a, b, false]);
        prevMatch = m;
      }
      break;
    }
    case 'MergedWithNext': {
      let prevMatch = false;
      for (let k = parts.length - 1; k >= 0; k--) {
        const [a, b, m] = parts[k]!;
        if (m && !prevMatch && out.length > 0) out[out.length - 1]![0] = a;
        else out.push([a, b, false]);
        prevMatch = m;
      }
      out.reverse();
      break;
    }
    case 'Contiguous': {
      let prevMatch = false;
      for (const [a, b, m] of parts) {
        if (m === prevMatch && out.length > 0) out[out.length - 1]![1] = b;
        else out.push([a, b, false]);
        prevMatch = m;
      }
      break;
    }
  }
  const res: NStr[] = [];
  for (const [a, b, remove] of out) if (!remove && b > a) res.push(n.slice(a, b));
  return res;
}

function charMatches(n: NStr, pred: (cp: number) => boolean): [number, number][] {
  const m: [number, number][] = [];
  for (let i = 0; i < n.cps.length; i++) if (pred(n.cps[i]!)) m.push([i, i + 1]);
  return m;
}

const each =
  (f: (n: NStr, words: boolean) => NStr[]): PreTokenizer =>
  (pieces, words) => {
    const out: NStr[] = [];
    for (const p of pieces) for (const q of f(p, words)) if (q.length > 0) out.push(q);
    return out;
  };

const RE_NUMERIC = new RegExp(`^[${RUST_NUMERIC}]$`, 'u');
const isNumeric = (cp: number) => (cp < 128 ? cp >= 48 && cp <= 57 : RE_NUMERIC.test(String.fromCodePoint(cp)));
/** The regex crate's \w (its Unicode tables), as a `v`-flag class. */
export const REGEX_WORD = `[[${REGEX_CRATE_WORD}${rangesToClass(REGEX_WORD_EXTRA)}]--[${rangesToClass(REGEX_WORD_NOT)}]]`;
/** Rust's Whitespace pre-tokenizer: \w+|[^\w\s]+ with the regex crate's Unicode classes. */
const RE_WHITESPACE = new RegExp(`${REGEX_WORD}+|[^${REGEX_WORD}\\p{White_Space}]+`, 'gv');

export const BYTE_TO_CHAR: number[] = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map = new Array<number>(256);
  for (const b of bs) map[b] = b;
  let n = 0;
  for (let b = 0; b < 256; b++) if (map[b] === undefined) map[b] = 256 + n++;
  return map;
})();

const utf8 = new TextEncoder();
/** ByteLevel's normalize step: each character becomes the characters of its UTF-8 bytes. */
export function toByteChars(n: NStr): void {
  let ascii = true;
  for (const c of n.cps)
    if (c >= 128) {
      ascii = false;
      break;
    }
  if (ascii) {
    // One byte per character: map in place, alignments unchanged.
    for (let i = 0; i < n.cps.length; i++) n.cps[i] = BYTE_TO_CHAR[n.cps[i]!]!;
    return;
  }
  const cps: number[] = [];
  const al: number[] = [];
  const buf = new Uint8Array(4);
  for (let i = 0; i < n.cps.length; i++) {
    const c = n.cps[i]!;
    const s = n.al[2 * i]!,
      e = n.al[2 * i + 1]!;
    if (c < 128) {
      cps.push(BYTE_TO_CHAR[c]!);
      al.push(s, e);
      continue;
    }
    const len = utf8.encodeInto(String.fromCodePoint(c), buf).written;
    for (let k = 0; k < len; k++) {
      cps.push(BYTE_TO_CHAR[buf[k]!]!);
      al.push(s, e);
    }
  }
  n.cps = cps;
  n.al = al;
}

export interface ByteLevelSettings {
  addPrefixSpace: boolean;
  trimOffsets: boolean;
  useRegex: boolean;
}

export function buildPreTokenizer(v: unknown, ctx: JsonCtx, path: string): PreTokenizer | null {
  if (v === null || v === undefined) return null;
  const o = ctx.obj(v, path);
  const t = ctx.type(o, path, TYPES);
  switch (t) {
    case 'Sequence': {
      ctx.known(o, path, ['pretokenizers']);
      const parts = ctx
        .sequence(o, 'pretokenizers', path)
        .map((x, i) => buildPreTokenizer(x, ctx, `${path}.pretokenizers[${i}]`))
        .filter((x): x is PreTokenizer => x !== null);
      return (pieces, words) => parts.reduce((acc, p) => p(acc, words), pieces);
    }
    case 'BertPreTokenizer':
      ctx.known(o, path, []);
      return each((n) =>
        splitPiece(n, charMatches(n, isWhitespace), 'Removed').flatMap((q) => splitPiece(q, charMatches(q, isPunctuation), 'Isolated')),
      );
    case 'Whitespace':
      ctx.known(o, path, []);
      return each((n) => splitPiece(n, regexMatches(RE_WHITESPACE, n.cps), 'Removed', true));
    case 'WhitespaceSplit':
      ctx.known(o, path, []);
      return each((n) => splitPiece(n, charMatches(n, isWhitespace), 'Removed'));
    case 'Punctuation': {
      ctx.known(o, path, ['behavior']);
      const b = behavior(ctx, o, path, 'Isolated');
      return each((n) => splitPiece(n, charMatches(n, isPunctuation), b));
    }
    case 'Digits': {
      ctx.known(o, path, ['individual_digits']);
      const individual = ctx.bool(o, 'individual_digits', path, false);
      return each((n) => splitPiece(n, charMatches(n, isNumeric), individual ? 'Isolated' : 'Contiguous'));
    }
    case 'Split': {
      ctx.known(o, path, ['pattern', 'behavior', 'invert']);
      const p = ctx.pattern(o['pattern'], `${path}.pattern`);
      const b = behavior(ctx, o, path);
      const invert = ctx.bool(o, 'invert', path, false);
      if ('regex' in p) {
        const re = compileOniguruma(p.regex, ctx, `${path}.pattern`);
        return each((n) => splitPiece(n, regexMatches(re, n.cps), b, invert));
      }
      const needle = [...p.string].map((ch) => ch.codePointAt(0)!);
      return each((n) => splitPiece(n, stringMatches(needle, n.cps), b, invert));
    }
    case 'Metaspace': {
      ctx.known(o, path, ['replacement', 'prepend_scheme', 'split', 'add_prefix_space', 'str_rep']);
      const rep = ctx.str(o, 'replacement', path, '\u2581');
      if ([...rep].length !== 1) ctx.fail(`${path}.replacement`, `must be one character, got ${JSON.stringify(rep)}`);
      const repCp = rep.codePointAt(0)!;
      let scheme = ctx.optStr(o, 'prepend_scheme', path);
      if (scheme === null) scheme = ctx.bool(o, 'add_prefix_space', path, true) ? 'always' : 'never';
      if (!['always', 'never', 'first'].includes(scheme))
        ctx.fail(`${path}.prepend_scheme`, `must be "always", "never" or "first", got ${JSON.stringify(scheme)}`);
      const split = ctx.bool(o, 'split', path, true);
      return each((n) => {
        for (let i = 0; i < n.cps.length; i++) if (n.cps[i] === 32) n.cps[i] = repCp;
        if (n.cps[0] !== repCp && (scheme === 'always' || (scheme === 'first' && n.original(0, 1)[0] === 0))) n.prepend(rep);
        return split
          ? splitPiece(
              n,
              charMatches(n, (c) => c === repCp),
              'MergedWithNext',
            )
          : [n];
      });
    }
    case 'ByteLevel': {
      const s = byteLevelSettings(ctx, o, path);
      const re = compileOniguruma(GPT2_PATTERN, ctx, path);
      return each((n, words) => {
        if ((s.addPrefixSpace || words) && n.cps[0] !== 32) n.prepend(' ');
        const pieces = s.useRegex ? splitPiece(n, regexMatches(re, n.cps), 'Isolated') : [n];
        for (const p of pieces) toByteChars(p);
        return pieces;
      });
    }
  }
  return null;
}

export function byteLevelSettings(ctx: JsonCtx, o: Record<string, unknown>, path: string): ByteLevelSettings {
  ctx.known(o, path, ['add_prefix_space', 'trim_offsets', 'use_regex']);
  return {
    addPrefixSpace: ctx.bool(o, 'add_prefix_space', path, true),
    trimOffsets: ctx.bool(o, 'trim_offsets', path, true),
    useRegex: ctx.bool(o, 'use_regex', path, true),
  };
}

function behavior(ctx: JsonCtx, o: Record<string, unknown>, path: string, dflt?: Behavior): Behavior {
  const b = ctx.str(o, 'behavior', path, dflt);
  if (!BEHAVIORS.includes(b as Behavior)) ctx.fail(`${path}.behavior`, `${JSON.stringify(b)} is not one of ${BEHAVIORS.join(', ')}`);
  return b as Behavior;
}
