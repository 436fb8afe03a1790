/**
 * Added tokens of a tokenizer.json, found as Rust `tokenizers`' AddedVocabulary finds them:
 * leftmost-longest, non-overlapping; `normalized: false` ones in the raw text, `normalized: true`
 * ones in the normalized text; lstrip/rstrip absorb neighbouring whitespace; single_word requires
 * no word character on either side.
 */
import { isWhiteSpace } from './normalized.js';
import { REGEX_WORD } from './pre-tokenizers.js';

export interface AddedToken { id: number; content: string; singleWord: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean }

/** A piece of text: a run to tokenize (id -1) or an added token (its id), [start, end) code points (with the whitespace lstrip/rstrip took). */
export type Match = [id: number, start: number, end: number];

/** single_word's test: the regex crate's \w, with its (older) Unicode tables. */
const RE_WORD = new RegExp(`^${REGEX_WORD}$`, 'v');
const isWordChar = (c: number) => RE_WORD.test(String.fromCodePoint(c));

export class AddedMatcher {
  private readonly tokens: { cps: number[]; tok: AddedToken }[];
  private readonly first = new Set<number>();

  constructor(tokens: readonly AddedToken[]) {
    this.tokens = tokens.filter((t) => t.content !== '').map((tok) => ({ cps: [...tok.content].map((c) => c.codePointAt(0)!), tok }));
    for (const t of this.tokens) this.first.add(t.cps[0]!);
  }

  get isEmpty(): boolean {
    return this.tokens.length === 0;
  }

  /** Splits cps into runs and added tokens (Rust find_matches); empty runs are left out. */
  split(cps: readonly number[]): Match[] {
    const out: Match[] = [];
    let last = 0;
    let i = 0;
    while (i < cps.length) {
      if (!this.first.has(cps[i]!)) { i++; continue; }
      let best: { cps: number[]; tok: AddedToken } | null = null;
      for (const t of this.tokens) {
        if (best !== null && t.cps.length <= best.cps.length) continue;
        if (i + t.cps.length > cps.length) continue;
        let k = 0;
        while (k < t.cps.length && cps[i + k] === t.cps[k]) k++;
        if (k === t.cps.length) best = t;
      }
      if (best === null) { i++; continue; }
      let start = i, stop = i + best.cps.length;
      const tok = best.tok;
      if (tok.singleWord) {
        const startOk = start === 0 || !isWordChar(cps[start - 1]!);
        const stopOk = stop === cps.length || !isWordChar(cps[stop]!);
        if (!startOk || !stopOk) { i = stop; continue; }
      }
      if (tok.lstrip) {
        let s = start;
        while (s > 0 && isWhiteSpace(cps[s - 1]!)) s--;
        start = Math.max(s, last);
      }
      if (tok.rstrip) while (stop < cps.length && isWhiteSpace(cps[stop]!)) stop++;
      if (last < start) out.push([-1, last, start]);
      out.push([tok.id, start, stop]);
      last = stop;
      i = stop;
    }
    if (last < cps.length) out.push([-1, last, cps.length]);
    return out;
  }
}
