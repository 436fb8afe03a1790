/**
 * Character classes of BERT's normalizer and pre-tokenizer, per Unicode code point, as the Rust
 * `tokenizers` library (behind HF `BertTokenizerFast`) applies them:
 *   - clean_text removes U+0000, U+FFFD and "other" characters (Cc, Cf, Co; not Cn) except \t \n \r,
 *     and turns White_Space characters into spaces;
 *   - handle_chinese_chars isolates CJK ideographs (Rust ranges: note 0x2B920, where Python's slow
 *     tokenizer has 0x2B820);
 *   - strip_accents = NFD then drop Mn; lowercase = per-character full lowercase mapping (no
 *     final-sigma context, unlike Python's str.lower());
 *   - punctuation = ASCII punctuation (33-47, 58-64, 91-96, 123-126) or general category P*.
 * Node's ICU tables are newer than the Unicode tables compiled into the Rust crates,
 * so a few code points differ; `unicode-exceptions.ts` lists them so we agree with the Rust library.
 */
import { CLEAN_KEEP_OTHER, CLEAN_REMOVE_EXTRA, PUNCT_NOT_PUNCT, PUNCT_EXTRA, MN_NOT_MN, MN_EXTRA, NFD_KEEP } from './unicode-exceptions.js';

export interface NormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

/** What the normalizer + pre-tokenizer do with one input code point. */
export const KIND_REMOVE = 1; // dropped; its neighbours join
export const KIND_SPACE = 2; // word boundary, dropped
export const KIND_CHINESE = 3; // its normalized form is a word by itself
export const KIND_PUNCT = 4; // unchanged by normalization; a word by itself
export const KIND_WORD = 5; // unchanged by normalization; part of a word
export const KIND_MAPPED = 6; // normalization changes it: see CharClassifier.mapped()

const RE_OTHER = /^[\p{Cc}\p{Cf}\p{Co}]$/u;
const RE_WHITE = /^\p{White_Space}$/u;
const RE_PUNCT = /^\p{P}$/u;
const RE_MN = /^\p{Mn}$/u;

export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Rust's char::is_whitespace (the White_Space property); \t \n \r included. */
export function isWhitespace(cp: number): boolean {
  if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d) return true;
  if (cp < 0x85) return cp === 0x0b || cp === 0x0c;
  return RE_WHITE.test(String.fromCodePoint(cp));
}

/**
 * Characters clean_text removes. Lone UTF-16 surrogates (possible in JS strings, impossible in Rust
 * strings; N-API turns them into U+FFFD) are removed too.
 */
export function isRemovedByClean(cp: number): boolean {
  if (cp === 0 || cp === 0xfffd) return true;
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return true;
  if (CLEAN_KEEP_OTHER.has(cp)) return false;
  if (CLEAN_REMOVE_EXTRA.has(cp)) return true;
  return RE_OTHER.test(String.fromCodePoint(cp));
}

export function isPunctuation(cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  if (cp < 128) return false;
  if (PUNCT_EXTRA.has(cp)) return true;
  if (PUNCT_NOT_PUNCT.has(cp)) return false;
  return RE_PUNCT.test(String.fromCodePoint(cp));
}

export function isNonspacingMark(cp: number): boolean {
  if (MN_NOT_MN.has(cp)) return false;
  if (MN_EXTRA.has(cp)) return true;
  return RE_MN.test(String.fromCodePoint(cp));
}

/** strip_accents then lowercase, in that order (the Rust normalizer's order), on one code point. */
export function normalizeCodePoint(cp: number, stripAccents: boolean, lowercase: boolean): string {
  let s = String.fromCodePoint(cp);
  if (stripAccents) {
    const d = NFD_KEEP.has(cp) ? s : s.normalize('NFD');
    let kept = '';
    for (const ch of d) if (!isNonspacingMark(ch.codePointAt(0)!)) kept += ch;
    s = kept;
  }
  if (lowercase) {
    let lower = '';
    // Per character: Rust maps each char on its own, so no final-sigma rule.
    for (const ch of s) lower += ch.toLowerCase();
    s = lower;
  }
  return s;
}

/** The normalized form of a code point that normalization changes (or a CJK ideograph). */
export interface MappedForm {
  form: string;
  /** Code points in form. */
  length: number;
  /** No whitespace or punctuation in form: it simply extends the current word. */
  plain: boolean;
}

/**
 * Memoised per-code-point classification for one set of normalizer options. First sight of a code
 * point costs a few regex tests; later sights are one typed-array read (BMP) or one Map read.
 */
export class CharClassifier {
  private readonly bmpKinds = new Uint8Array(0x10000);
  private readonly astralKinds = new Map<number, number>();
  private readonly mappedForms = new Map<number, MappedForm>();

  constructor(readonly options: Readonly<NormalizerOptions>) {
    for (let cp = 0; cp < 128; cp++) this.bmpKinds[cp] = this.compute(cp);
  }

  kind(cp: number): number {
    if (cp < 0x10000) {
      const k = this.bmpKinds[cp]!;
      if (k !== 0) return k;
      const c = this.compute(cp);
      this.bmpKinds[cp] = c;
      return c;
    }
    const k = this.astralKinds.get(cp);
    if (k !== undefined) return k;
    const c = this.compute(cp);
    this.astralKinds.set(cp, c);
    return c;
  }

  /** Normalized form of a KIND_MAPPED or KIND_CHINESE code point (kind() must have been asked first). */
  mapped(cp: number): MappedForm {
    return this.mappedForms.get(cp)!;
  }

  private compute(cp: number): number {
    const o = this.options;
    if (o.cleanText && isRemovedByClean(cp)) return KIND_REMOVE;
    if (isWhitespace(cp)) return KIND_SPACE;
    const self = String.fromCodePoint(cp);
    const form = o.stripAccents || o.lowercase ? normalizeCodePoint(cp, o.stripAccents, o.lowercase) : self;
    const chinese = o.handleChineseChars && isChineseChar(cp);
    if (form !== self || chinese) {
      const cps = [...form].map((c) => c.codePointAt(0)!);
      const plain = cps.every((c) => !isWhitespace(c) && !isPunctuation(c));
      this.mappedForms.set(cp, { form, length: cps.length, plain });
      return chinese ? KIND_CHINESE : KIND_MAPPED;
    }
    return isPunctuation(cp) ? KIND_PUNCT : KIND_WORD;
  }
}
