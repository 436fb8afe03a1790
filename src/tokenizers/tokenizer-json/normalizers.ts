/**
 * tokenizer.json normalizers, each an in-place edit of an NStr with Rust `tokenizers`' alignments.
 */
import { isChineseChar, isNonspacingMark as isNonspacingMarkCp, isRemovedByClean, isWhitespace as isBertWhitespace } from '../unicode.js';
import { NStr, codePointsToString, isWhiteSpace, regexMatches, stringMatches } from './normalized.js';
import { JsonCtx } from './json-ctx.js';
import { compileOniguruma } from './oniguruma.js';
import { PrecompiledCharsmap } from './precompiled.js';
import { MARK_EXTRA, MARK_NOT_MARK, NF_NO_DECOMPOSITION_IN_RUST, NF_UNASSIGNED_IN_RUST } from '../unicode-exceptions.js';

export type Normalizer = (n: NStr) => void;

const TYPES = [
  'BertNormalizer',
  'NFC',
  'NFD',
  'NFKC',
  'NFKD',
  'Lowercase',
  'StripAccents',
  'Strip',
  'Replace',
  'Prepend',
  'Precompiled',
  'Sequence',
] as const;

export function buildNormalizer(v: unknown, ctx: JsonCtx, path: string): Normalizer | null {
  if (v === null || v === undefined) return null;
  const o = ctx.obj(v, path);
  const t = ctx.type(o, path, TYPES);
  switch (t) {
    case 'Sequence': {
      ctx.known(o, path, ['normalizers']);
      const parts = ctx
        .sequence(o, 'normalizers', path)
        .map((x, i) => buildNormalizer(x, ctx, `${path}.normalizers[${i}]`))
        .filter((x): x is Normalizer => x !== null);
      return (n) => {
        for (const p of parts) p(n);
      };
    }
    case 'BertNormalizer': {
      ctx.known(o, path, ['clean_text', 'handle_chinese_chars', 'strip_accents', 'lowercase']);
      const clean = ctx.bool(o, 'clean_text', path, true);
      const chinese = ctx.bool(o, 'handle_chinese_chars', path, true);
      const lower = ctx.bool(o, 'lowercase', path, true);
      const strip = ctx.optBool(o, 'strip_accents', path) ?? lower;
      return (n) => {
        if (clean) {
          n.mapEach((c) => (isRemovedByClean(c) ? null : isBertWhitespace(c) ? 32 : c));
        }
        if (chinese) n.mapEach((c) => (isChineseChar(c) ? ` ${String.fromCodePoint(c)} ` : c));
        if (strip) stripAccents(n);
        if (lower) lowercase(n);
      };
    }
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
      ctx.known(o, path, []);
      return (n) => unicodeNormalize(n, t);
    case 'Lowercase':
      ctx.known(o, path, []);
      return lowercase;
    case 'StripAccents':
      ctx.known(o, path, []);
      return (n) => n.mapEach((c) => (isMark(c) ? null : c));
    case 'Strip': {
      ctx.known(o, path, ['strip_left', 'strip_right']);
      const left = ctx.bool(o, 'strip_left', path, true);
      const right = ctx.bool(o, 'strip_right', path, true);
      return (n) => strip(n, left, right);
    }
    case 'Prepend': {
      ctx.known(o, path, ['prepend']);
      const s = ctx.str(o, 'prepend', path);
      return (n) => n.prepend(s);
    }
    case 'Replace': {
      ctx.known(o, path, ['pattern', 'content']);
      const p = ctx.pattern(o['pattern'], `${path}.pattern`);
      const content = [...ctx.str(o, 'content', path)].map((ch) => ch.codePointAt(0)!);
      const re = 'regex' in p ? compileOniguruma(p.regex, ctx, `${path}.pattern`) : null;
      const needle = 'string' in p ? [...p.string].map((ch) => ch.codePointAt(0)!) : [];
      return (n) => replace(n, re ? regexMatches(re, n.cps) : stringMatches(needle, n.cps), content);
    }
    case 'Precompiled': {
      ctx.known(o, path, ['precompiled_charsmap']);
      const b64 = ctx.optStr(o, 'precompiled_charsmap', path);
      if (b64 === null) return null;
      const map = new PrecompiledCharsmap(Buffer.from(b64, 'base64'), `${ctx.file}: ${path}`);
      return (n) => map.normalize(n);
    }
  }
  return null;
}

export function lowercase(n: NStr): void {
  n.mapEach((c) => {
    if (c < 128) return c >= 65 && c <= 90 ? c + 32 : c;
    const s = String.fromCodePoint(c);
    const l = s.toLowerCase();
    return l === s ? c : l;
  });
}

function stripAccents(n: NStr): void {
  unicodeNormalize(n, 'NFD');
  n.mapEach((c) => (isNonspacingMarkCp(c) ? null : c));
}

function strip(n: NStr, left: boolean, right: boolean): void {
  const len = n.cps.length;
  let lead = 0;
  if (left) while (lead < len && isWhiteSpace(n.cps[lead]!)) lead++;
  let trail = 0;
  if (right) while (trail < len - lead && isWhiteSpace(n.cps[len - 1 - trail]!)) trail++;
  if (lead === 0 && trail === 0) return;
  // Rust compares the character index with the normalized *byte* length here, so with non-ASCII
  // text the removal is charged to another character (or none), shifting the alignments after it.
  const byteLen = Buffer.byteLength(n.text(), 'utf8');
  const charged = byteLen - trail - 1;
  const items: [number, number][] = [];
  for (let i = lead; i < len - trail; i++) items.push([n.cps[i]!, i === charged ? -trail : 0]);
  if (items.length === 0) {
    n.cps = [];
    n.al = [];
    return;
  }
  n.transform(items, lead);
}

/** Rust NormalizedString::replace: each match's characters removed, the content inserted after them. */
export function replace(n: NStr, matches: readonly [number, number][], content: readonly number[]): void {
  if (matches.length === 0) return;
  const cps: number[] = [];
  const al: number[] = [];
  let pos = 0;
  for (const [a, b] of matches) {
    for (let i = pos; i < a; i++) {
      cps.push(n.cps[i]!);
      al.push(n.al[2 * i]!, n.al[2 * i + 1]!);
    }
    // Inserted characters take the alignment of the last removed one (or the one before an empty match).
    const src = b > a ? b - 1 : a - 1;
    const s = src >= 0 ? n.al[2 * src]! : n.base,
      e = src >= 0 ? n.al[2 * src + 1]! : n.base;
    for (const c of content) {
      cps.push(c);
      al.push(s, e);
    }
    pos = b;
  }
  for (let i = pos; i < n.cps.length; i++) {
    cps.push(n.cps[i]!);
    al.push(n.al[2 * i]!, n.al[2 * i + 1]!);
  }
  n.cps = cps;
  n.al = al;
}

/**
 * NFC/NFD/NFKC/NFKD with the alignments of Rust's unicode-normalization-alignments crate: each
 * character is decomposed on its own (first piece change 0, the rest inserted, +1), combining
 * marks are put in canonical order, then (NFC/NFKC) a mark composed into its starter is charged to
 * the starter (change += mark's change - 1).
 */
function unicodeNormalize(n: NStr, form: 'NFC' | 'NFD' | 'NFKC' | 'NFKD'): void {
  let plain = true; // below U+00A0 every form is the identity
  for (const c of n.cps)
    if (c >= 0xa0) {
      plain = false;
      break;
    }
  if (plain) return;
  const text = codePointsToString(n.cps, 0, n.cps.length);
  if (text.normalize(form) === text) return;
  const compat = form === 'NFKC' || form === 'NFKD';
  const cps: number[] = [];
  const ch: number[] = [];
  for (const c of n.cps) {
    const d = decomposition(c, compat);
    for (let k = 0; k < d.length; k++) {
      cps.push(d[k]!);
      ch.push(k === 0 ? 0 : 1);
    }
  }
  // Canonical ordering: a stable bubble sort of adjacent marks that NFD would swap.
  for (let i = 1; i < cps.length; i++) {
    for (let j = i; j > 0 && !isStarter(cps[j]!) && !isStarter(cps[j - 1]!) && swaps(cps[j - 1]!, cps[j]!); j--) {
      [cps[j - 1], cps[j]] = [cps[j]!, cps[j - 1]!];
      [ch[j - 1], ch[j]] = [ch[j]!, ch[j - 1]!];
    }
  }
  let items: [number, number][] = cps.map((c, i) => [c, ch[i]!]);
  if (form === 'NFC' || form === 'NFKC') {
    // Follow the composed string: each output character is the next unused decomposed one, with
    // the rest of its canonical decomposition taken from the unused characters after it.
    // Composed per run between marks Rust does not know (they act as starters that compose with nothing).
    const target: number[] = [];
    let runStart = 0;
    for (let i = 0; i <= cps.length; i++) {
      if (i < cps.length && !RUST_UNASSIGNED.has(cps[i]!)) continue;
      for (const x of codePointsToString(cps, runStart, i).normalize('NFC')) target.push(x.codePointAt(0)!);
      if (i < cps.length) target.push(cps[i]!);
      runStart = i + 1;
    }
    const used = new Uint8Array(cps.length);
    const out: [number, number][] = [];
    let p = 0;
    for (const o of target) {
      while (p < cps.length && used[p]) p++;
      if (p >= cps.length) {
        out.length = 0;
        break;
      }
      used[p] = 1;
      let change = ch[p]!;
      const parts = decomposition(o, false);
      if (parts.length > 1 || parts[0] !== cps[p]) {
        let q = p + 1;
        for (const part of parts.slice(1)) {
          while (q < cps.length && (used[q] || cps[q] !== part)) q++;
          if (q >= cps.length) break;
          used[q] = 1;
          change += ch[q]! - 1;
        }
      }
      out.push([o, change]);
    }
    if (out.length === target.length) items = out;
  }
  n.transform(items, 0);
}

const decompCache = [new Map<number, number[]>(), new Map<number, number[]>()];
function decomposition(c: number, compat: boolean): number[] {
  const m = decompCache[compat ? 1 : 0]!;
  let d = m.get(c);
  if (d === undefined) {
    d = RUST_UNASSIGNED.has(c) ? [c] : [...String.fromCodePoint(c).normalize(compat ? 'NFKD' : 'NFD')].map((x) => x.codePointAt(0)!);
    m.set(c, d);
  }
  return d;
}

/** True when canonical ordering puts mark b before mark a (ccc(b) < ccc(a)). */
function swaps(a: number, b: number): boolean {
  const s = String.fromCodePoint(a, b);
  return s.normalize('NFD') === String.fromCodePoint(b, a);
}

const RE_MARK = /^\p{M}$/u;
/** Marks (approximately: combining class > 0) versus starters. */
function isStarter(cp: number): boolean {
  return !RE_MARK.test(String.fromCodePoint(cp)) || RUST_UNASSIGNED.has(cp);
}
/** Characters the Rust crate's older tables leave alone: starters that neither decompose nor compose. */
const RUST_UNASSIGNED = new Set([...NF_UNASSIGNED_IN_RUST, ...NF_NO_DECOMPOSITION_IN_RUST]);

/** Rust's is_combining_mark (General_Category M in its tables), which the StripAccents normalizer removes. */
export function isMark(cp: number): boolean {
  if (cp < 0x300) return false;
  if (MARK_EXTRA.has(cp)) return true;
  return !MARK_NOT_MARK.has(cp) && RE_MARK.test(String.fromCodePoint(cp));
}
