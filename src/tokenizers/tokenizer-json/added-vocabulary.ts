/**
 * Added tokens of a tokenizer.json, found as Rust `tokenizers`' AddedVocabulary finds them:
 * leftmost-longest, non-overlapping; `normalized: false` ones in the raw text, `normalized: true`
 * ones in the normalized text; lstrip/rstrip absorb neighbouring whitespace; single_word requires
 * no word character on either side.
 */
import { isWhiteSpace } from './normalized.js';
import { REGEX_WORD } from './pre-tokenizers.js';

export interface AddedToken {
  id: number;
  content: string;
  singleWord: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A piece of text: a run to tokenize (id -1) or an added token (its id), [start, end) code points (with the whitespace lstrip/rstrip took). */
export type Match = [id: number, start: number, end: number];

/** single_word's test: the regex crate's \w, with its (older) Unicode tables. */
const RE_WORD = new RegExp(`^${REGEX_WORD}$`, 'v');
const isWordChar = (c: number) => RE_WORD.test(String.fromCodePoint(c));

export class AddedMatcher {
  /** Trie over the tokens' code points (node -> code point -> child), and the token ending at each node. */
  private readonly children: Map<number, number>[] = [new Map()];
  private readonly ending: (AddedToken | undefined)[] = [undefined];

  constructor(tokens: readonly AddedToken[]) {
    for (const tok of tokens) {
      if (tok.content === '') continue;
      let node = 0;
      for (const ch of tok.content) {
        const c = ch.codePointAt(0)!;
        let next = this.children[node]!.get(c);
        if (next === undefined) {
          next = this.children.length;
          this.children.push(new Map());
          this.ending.push(undefined);
          this.children[node]!.set(c, next);
        }
        node = next;
      }
      this.ending[node] ??= tok; // the first of equal contents wins
    }
  }

  get isEmpty(): boolean {
    return this.children[0]!.size === 0;
  }

  /** The longest token starting at cps[i] and its length, by one walk down the trie (not a scan of every token). */
  private longestAt(cps: readonly number[], i: number): { tok: AddedToken; len: number } | null {
    let node = 0,
      best: { tok: AddedToken; len: number } | null = null;
    for (let k = i; k < cps.length; k++) {
      const next = this.children[node]!.get(cps[k]!);
      if (next === undefined) break;
      node = next;
      const t = this.ending[node];
      if (t !== undefined) best = { tok: t, len: k + 1 - i };
    }
    return best;
  }

  /** Splits cps into runs and added tokens (Rust find_matches); empty runs are left out. */
  split(cps: readonly number[]): Match[] {
    const out: Match[] = [];
    let last = 0;
    let i = 0;
    while (i < cps.length) {
      const best = this.longestAt(cps, i);
      if (best === null) {
        i++;
        continue;
      }
      let start = i,
        stop = i + best.len;
      const tok = best.tok;
      if (tok.singleWord) {
        const startOk = start === 0 || !isWordChar(cps[start - 1]!);
        const stopOk = stop === cps.length || !isWordChar(cps[stop]!);
        if (!startOk || !stopOk) {
          i = stop;
          continue;
        }
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
