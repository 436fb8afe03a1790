/**
 * Rust `tokenizers`' NormalizedString, per code point: the normalized text as code points, each
 * with the [start, end) of the original text (UTF-16 units, absolute) it came from. `transform`
 * follows Rust's alignment rule exactly: a character with change 0 replaces the next original one
 * and takes its alignment; change -k also swallows the k after it; change +1 is inserted and
 * takes the alignment of the last original character consumed so far.
 */
export class NStr {
  constructor(
    /** Normalized code points. */
    public cps: number[],
    /** Original [start, end) per code point, flattened. */
    public al: number[],
    /** Original start of this piece: the alignment of a character inserted before anything. */
    public base: number,
  ) {}

  static fromText(text: string, from = 0, to = text.length): NStr {
    const cps: number[] = [];
    const al: number[] = [];
    for (let i = from; i < to; ) {
      const c = text.codePointAt(i)!;
      const w = c > 0xffff ? 2 : 1;
      cps.push(c);
      al.push(i, i + w);
      i += w;
    }
    return new NStr(cps, al, from);
  }

  get length(): number {
    return this.cps.length;
  }

  text(): string {
    return codePointsToString(this.cps, 0, this.cps.length);
  }

  slice(i: number, j: number): NStr {
    return new NStr(this.cps.slice(i, j), this.al.slice(2 * i, 2 * j), i < this.cps.length ? this.al[2 * i]! : this.base);
  }

  /** Replaces the whole content; items are [codePoint, change] as in Rust's transform. */
  transform(items: readonly (readonly [number, number])[], initialRemoved = 0): void {
    const cps: number[] = [];
    const al: number[] = [];
    let idx = initialRemoved;
    for (const [c, change] of items) {
      let s: number, e: number;
      if (change > 0) {
        if (idx < 1) {
          s = this.base;
          e = this.base;
        } else {
          s = this.al[2 * (idx - 1)]!;
          e = this.al[2 * (idx - 1) + 1]!;
        }
      } else {
        s = this.al[2 * idx]!;
        e = this.al[2 * idx + 1]!;
        idx += 1 - change;
      }
      cps.push(c);
      al.push(s, e);
    }
    this.cps = cps;
    this.al = al;
  }

  /** Each code point mapped to zero or more (a string); inserted ones follow Rust's rule. */
  mapEach(f: (cp: number) => string | number | null): void {
    const items: [number, number][] = [];
    let removed = 0; // removed characters before the first kept one (Rust's initial offset)
    let any = false;
    for (const c of this.cps) {
      const r = f(c);
      if (r === null || r === '') {
        if (items.length === 0) removed++;
        else items[items.length - 1]![1]--;
        continue;
      }
      any = true;
      if (typeof r === 'number') {
        items.push([r, 0]);
        continue;
      }
      let first = true;
      for (const ch of r) {
        items.push([ch.codePointAt(0)!, first ? 0 : 1]);
        first = false;
      }
    }
    if (!any) {
      this.cps = [];
      this.al = [];
      return;
    }
    this.transform(items, removed);
  }

  /** Rust prepend: the new characters take the alignment of the first character. */
  prepend(s: string): void {
    if (this.cps.length === 0) return;
    const add = [...s].map((ch) => ch.codePointAt(0)!);
    const a0 = this.al[0]!,
      a1 = this.al[1]!;
    const al: number[] = [];
    for (let k = 0; k < add.length; k++) al.push(a0, a1);
    this.cps.unshift(...add); // in place: no copy of the whole text
    this.al.unshift(...al);
  }

  /** Rust append: the new characters take the alignment of the last character. */
  append(s: string): void {
    if (this.cps.length === 0) return;
    const n = this.cps.length;
    const a0 = this.al[2 * n - 2]!,
      a1 = this.al[2 * n - 1]!;
    for (const ch of s) {
      this.cps.push(ch.codePointAt(0)!);
      this.al.push(a0, a1);
    }
  }

  /** Original [start, end) of normalized code points [i, j). */
  original(i: number, j: number): [number, number] {
    if (i >= j) return i < this.cps.length ? [this.al[2 * i]!, this.al[2 * i]!] : [this.base, this.base];
    return [this.al[2 * i]!, this.al[2 * j - 1]!];
  }
}

export function codePointsToString(cps: readonly number[], i: number, j: number): string {
  let s = '';
  for (let k = i; k < j; k += 4096) s += String.fromCodePoint(...cps.slice(k, Math.min(j, k + 4096)));
  return s;
}

/** Rust's char::is_whitespace (the White_Space property). */
const RE_WHITE = /^\p{White_Space}$/u;
const whiteCache = new Map<number, boolean>();
export function isWhiteSpace(cp: number): boolean {
  if (cp < 128) return cp === 32 || (cp >= 9 && cp <= 13);
  let v = whiteCache.get(cp);
  if (v === undefined) {
    v = RE_WHITE.test(String.fromCodePoint(cp));
    whiteCache.set(cp, v);
  }
  return v;
}

/**
 * Rust's regex matches over a code-point string, as [start, end) code-point indices. `re` must be
 * global and unicode; empty matches advance by one code point, as the regex crates do.
 */
export function regexMatches(re: RegExp, cps: readonly number[]): [number, number][] {
  const s = codePointsToString(cps, 0, cps.length);
  // UTF-16 index -> code point index (identity without astral characters).
  let map: Int32Array | null = null;
  if (s.length !== cps.length) {
    map = new Int32Array(s.length + 1);
    let k = 0;
    for (let u = 0; u < s.length; ) {
      map[u] = k;
      const w = s.codePointAt(u)! > 0xffff ? 2 : 1;
      if (w === 2) map[u + 1] = k;
      u += w;
      k++;
    }
    map[s.length] = k;
  }
  const out: [number, number][] = [];
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const a = m.index,
      b = a + m[0].length;
    out.push(map ? [map[a]!, map[b]!] : [a, b]);
    if (b === a) re.lastIndex = a + (s.codePointAt(a)! > 0xffff ? 2 : 1);
    if (re.lastIndex > s.length) break;
  }
  return out;
}

/** Non-overlapping [start, end) code-point spans where `needle` occurs, left to right (Rust's str pattern). */
export function stringMatches(needle: readonly number[], cps: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  if (needle.length === 0) return out;
  for (let i = 0; i + needle.length <= cps.length; ) {
    let k = 0;
    while (k < needle.length && cps[i + k] === needle[k]) k++;
    if (k === needle.length) {
      out.push([i, i + needle.length]);
      i += needle.length;
    } else i++;
  }
  return out;
}
