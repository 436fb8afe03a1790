/**
 * Static refusal of tokenizer.json regexes that can backtrack catastrophically. JavaScript's
 * engine backtracks and Node has no match timeout, so a Split pre-tokenizer or Replace normalizer
 * with `(a+)+$`, `(\w+\s?)+$` or `(a|aa)+$` would hang on 40 a's and a '!'. Two shapes cause the
 * exponential (and high-degree polynomial) cases, as in safe-regex's star height and overlapping
 * alternation tests; both are refused here:
 *  - a repeated group holding a variable-length quantifier (star height > 1): `(a+)+`, `(a*b?)*`,
 *    `(a{1,3}){2,}`;
 *  - a repeated group whose alternatives can start with the same character: `(a|aa)+`, `(\w|_)*`.
 * The patterns real tokenizers ship (GPT-2/RoBERTa/ModernBERT's, Llama-3's, `\s{2,}|[\n\r\t]`,
 * punctuation and digit splits) have neither and pass.
 */

/** Longest pattern and deepest group nesting accepted (real ones: a few hundred chars, depth 2). */
const MAX_PATTERN_CHARS = 4096;
const MAX_DEPTH = 64;

type Atom = { t: 'lit'; c: string } | { t: 'set' } | { t: 'group'; alts: Item[][] } | { t: 'zero' };
interface Item {
  atom: Atom;
  min: number;
  max: number;
}

class Parser {
  i = 0;
  constructor(readonly src: string) {}

  /** Alternatives until `)` or the end. */
  alts(depth: number): Item[][] {
    if (depth > MAX_DEPTH) throw new Error(`nests groups more than ${MAX_DEPTH} deep`);
    const alts: Item[][] = [[]];
    while (this.i < this.src.length) {
      const ch = this.src[this.i]!;
      if (ch === ')') break;
      if (ch === '|') {
        this.i++;
        alts.push([]);
        continue;
      }
      const atom = this.atom(depth);
      const [min, max] = this.quantifier();
      alts[alts.length - 1]!.push({ atom, min, max });
    }
    return alts;
  }

  private atom(depth: number): Atom {
    const s = this.src;
    const ch = s[this.i++]!;
    if (ch === '\\') {
      const n = s[this.i++] ?? '';
      if ((n === 'p' || n === 'P' || n === 'x') && s[this.i] === '{') {
        const end = s.indexOf('}', this.i);
        this.i = end < 0 ? s.length : end + 1;
        return { t: 'set' };
      }
      if (n === 'p' || n === 'P') {
        this.i++;
        return { t: 'set' };
      }
      if ('AzZbBG'.includes(n)) return { t: 'zero' };
      if (n === 't') return { t: 'lit', c: '\t' };
      if (n === 'n') return { t: 'lit', c: '\n' };
      if (n === 'r') return { t: 'lit', c: '\r' };
      if (/[A-Za-z0-9]/.test(n)) return { t: 'set' }; // \s \w \d \h \x41 \u0041 ...: a class (conservatively)
      return { t: 'lit', c: n };
    }
    if (ch === '[') {
      // Skip to the matching ']' (classes nest in Oniguruma; a ']' first in a class is literal).
      let d = 1;
      if (s[this.i] === '^') this.i++;
      if (s[this.i] === ']') this.i++;
      while (this.i < s.length && d > 0) {
        const c = s[this.i++]!;
        if (c === '\\') this.i++;
        else if (c === '[') d++;
        else if (c === ']') d--;
      }
      return { t: 'set' };
    }
    if (ch === '(') {
      let zero = false;
      if (s[this.i] === '?') {
        const m = /^\?(?:<?[=!]|[imx-]*:|[imx-]+\)|<[A-Za-z_][A-Za-z0-9_]*>|'[A-Za-z_][A-Za-z0-9_]*'|>|:)?/.exec(
          s.slice(this.i, this.i + 40),
        )!;
        zero = /^\?<?[=!]/.test(m[0]);
        if (m[0].endsWith(')')) {
          this.i += m[0].length;
          return { t: 'zero' };
        } // (?i) flags
        this.i += m[0].length;
      }
      const alts = this.alts(depth + 1);
      if (this.src[this.i] === ')') this.i++;
      // A lookaround matches nothing itself, but its own content is checked like any group.
      if (zero) {
        check({ t: 'group', alts }, 1, 1);
        return { t: 'zero' };
      }
      return { t: 'group', alts };
    }
    if (ch === '.') return { t: 'set' };
    if (ch === '^' || ch === '$') return { t: 'zero' };
    return { t: 'lit', c: ch };
  }

  private quantifier(): [number, number] {
    const s = this.src;
    let min = 1,
      max = 1;
    const c = s[this.i];
    if (c === '*') {
      min = 0;
      max = Infinity;
      this.i++;
    } else if (c === '+') {
      min = 1;
      max = Infinity;
      this.i++;
    } else if (c === '?') {
      min = 0;
      max = 1;
      this.i++;
    } else if (c === '{') {
      const m = /^\{(\d*)(,(\d*))?\}/.exec(s.slice(this.i, this.i + 24));
      if (m && (m[1] !== '' || m[3] !== undefined)) {
        min = m[1] === '' ? 0 : Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        this.i += m[0].length;
      }
    } else return [min, max];
    if (s[this.i] === '?' || s[this.i] === '+') this.i++; // lazy or possessive: same shape
    return [min, max];
  }
}

/** Whether `alts` holds a quantifier that can repeat a variable number of times (or match empty). */
function hasVariableRepeat(alts: Item[][]): boolean {
  return alts.some((seq) =>
    seq.some((it) => (it.min !== it.max && it.atom.t !== 'zero') || (it.atom.t === 'group' && hasVariableRepeat(it.atom.alts))),
  );
}

/** The first character an alternative can match: a literal, 'any' (a class, group, or an optional start), or 'empty'. */
function firstChar(seq: Item[]): string | 'any' | 'empty' {
  for (const it of seq) {
    if (it.atom.t === 'zero') continue;
    if (it.min === 0 || it.atom.t !== 'lit') return 'any';
    return it.atom.c;
  }
  return 'empty';
}

class Refused extends Error {}

/** Throws Refused when the item, or anything inside it, has one of the shapes above. */
function check(atom: Atom, min: number, max: number): void {
  if (atom.t !== 'group') return;
  for (const seq of atom.alts) for (const it of seq) check(it.atom, it.min, it.max);
  if (max < 2) return;
  if (hasVariableRepeat(atom.alts))
    throw new Refused('repeats a group that itself holds a variable-length quantifier (nested quantifiers)');
  if (atom.alts.length > 1) {
    const seen = new Set<string>();
    for (const seq of atom.alts) {
      const f = firstChar(seq);
      if (f === 'any' || f === 'empty' || seen.has(f.toLowerCase()))
        throw new Refused('repeats a group whose alternatives can match the same text (overlapping alternation under a quantifier)');
      seen.add(f.toLowerCase());
    }
  }
  void min;
}

/**
 * Why `src` (an Oniguruma pattern from tokenizer.json) may backtrack catastrophically, or null
 * when it has neither dangerous shape.
 */
export function backtrackingProblem(src: string): string | null {
  if (src.length > MAX_PATTERN_CHARS) return `is ${src.length} characters long (at most ${MAX_PATTERN_CHARS})`;
  try {
    const p = new Parser(src);
    const alts = p.alts(0);
    check({ t: 'group', alts }, 1, 1);
    return null;
  } catch (e) {
    if (e instanceof Refused || e instanceof Error) return e.message;
    throw e;
  }
}
