/**
 * BERT WordPiece tokenization as Hugging Face's BertTokenizerFast (Rust `tokenizers`) does it:
 * added/special tokens matched verbatim, then BertNormalizer (clean text, CJK spacing, strip
 * accents, lowercase), BertPreTokenizer (split on whitespace, isolate punctuation), WordPiece
 * (greedy longest match first, "##" continuation, [UNK] for a word that cannot be covered or is
 * longer than 100 code points), then [CLS] ... [SEP].
 *
 * Offsets are JavaScript string indices (UTF-16 code units) into the original text, [start, end).
 * HF Python reports code-point indices instead; they differ only after astral characters (emoji).
 * A piece of a character that normalization expanded (Hangul syllable -> jamo, "İ" -> "i̇") gets
 * the whole original character, as in HF.
 *
 * Normalization and pre-tokenization run in one pass over the text, character class by class
 * (unicode.ts memoises classes per code point); each word's pieces are cached by its normalized form.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AddedTokenMatcher } from './added-tokens.js';
import { writeFileAtomic } from '../io/atomic.js';
import {
  loadPretrainedDir,
  parseTokenizerJson,
  resolveSettings,
  specialTokensMapJson,
  tokenizerConfigJson,
  type ResolvedSettings,
  type WordPieceOptions,
} from './wordpiece-settings.js';
import { cleanUpTokenization, joinWordPieces } from './decode.js';
import { readJsonFile } from './read-tokenizer-file.js';
import { TokenizerConfigError } from './errors.js';
import { CharClassifier, KIND_CHINESE, KIND_PUNCT, KIND_REMOVE, KIND_SPACE, KIND_WORD, isPunctuation, isWhitespace } from './unicode.js';
import { Vocab, readVocabTxt } from './vocab.js';
import type { DecodeOptions, EncodeOptions, Encoding, Tokenizer } from './tokenizer.js';
import { VocabLookups } from './vocab-lookups.js';

/** Growable accumulator for the tokens of one encode call. */
interface TokenSink {
  ids: number[];
  starts: number[];
  ends: number[];
  words: number[];
}

const PIECE_CACHE_LIMIT = 1 << 18;

export class WordPieceTokenizer extends VocabLookups implements Tokenizer {
  readonly vocabSize: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maskId: number;
  readonly doLowerCase: boolean;
  readonly modelMaxLength: number;

  private readonly s: ResolvedSettings;
  private readonly classifier: CharClassifier;
  protected readonly tokenToId: Map<string, number>;
  protected readonly idToToken: (string | undefined)[];
  private readonly specialIds: Set<number>;
  private readonly added: AddedTokenMatcher;
  private readonly neverSplit: Set<string>;
  private readonly prefix: string;
  private readonly maxTokenChars: number;
  private readonly pieceCache = new Map<string, Int32Array>();
  // Scratch: original [start, end) of each normalized code point of the word being built.
  private cpStarts = new Int32Array(64);
  private cpEnds = new Int32Array(64);

  constructor(settings: ResolvedSettings) {
    super();
    this.s = settings;
    const vocab = settings.vocab;
    this.vocabSize = vocab.size;
    this.tokenToId = new Map(vocab.tokenToId);
    this.idToToken = vocab.idToToken.slice();
    this.doLowerCase = settings.doLowerCase;
    this.modelMaxLength = settings.modelMaxLength;
    this.prefix = settings.continuingSubwordPrefix;
    this.maxTokenChars = vocab.maxTokenChars;
    this.classifier = new CharClassifier({
      cleanText: settings.cleanText,
      handleChineseChars: settings.tokenizeChineseChars,
      stripAccents: settings.stripAccents ?? settings.doLowerCase,
      lowercase: settings.doLowerCase,
    });
    this.neverSplit = new Set(settings.neverSplit);

    const unk = this.tokenToId.get(settings.unkToken);
    if (unk === undefined) {
      throw new TokenizerConfigError(
        `unknown-token ${JSON.stringify(settings.unkToken)} is not in the vocabulary (${vocab.size} tokens); WordPiece needs it`,
      );
    }
    this.unkId = unk;
    // Added tokens past the vocabulary get their ids; in-vocabulary ones keep the vocabulary's.
    for (const a of settings.addedTokens) {
      const known = this.tokenToId.get(a.content);
      if (known !== undefined && known !== a.id) {
        throw new TokenizerConfigError(`added token ${JSON.stringify(a.content)} has id ${a.id} but the vocabulary gives it ${known}`);
      }
      if (this.idToToken[a.id] !== undefined && this.idToToken[a.id] !== a.content) {
        throw new TokenizerConfigError(
          `added token ${JSON.stringify(a.content)} has id ${a.id}, already used by ${JSON.stringify(this.idToToken[a.id])}`,
        );
      }
      this.tokenToId.set(a.content, a.id);
      this.idToToken[a.id] = a.content;
    }
    // As HF's fast tokenizer: a special token missing from the vocabulary is appended as an
    // added token with the next free id (in HF's attribute order: sep, pad, cls, mask, additional).
    const specials = [settings.sepToken, settings.padToken, settings.clsToken, settings.maskToken, ...settings.additionalSpecialTokens];
    for (const t of specials) {
      if (!this.tokenToId.has(t)) {
        const id = this.idToToken.length;
        this.tokenToId.set(t, id);
        this.idToToken[id] = t;
      }
    }
    this.clsId = this.tokenToId.get(settings.clsToken)!;
    this.sepId = this.tokenToId.get(settings.sepToken)!;
    this.padId = this.tokenToId.get(settings.padToken)!;
    this.maskId = this.tokenToId.get(settings.maskToken)!;
    this.specialIds = new Set([this.unkId, ...specials.map((t) => this.tokenToId.get(t)!)]);
    for (const a of settings.addedTokens) if (a.special) this.specialIds.add(a.id);

    const matchable = [settings.unkToken, ...specials, ...settings.addedTokens.map((a) => a.content)];
    this.added = new AddedTokenMatcher(matchable.map((content) => ({ content, id: this.tokenToId.get(content)! })));
  }

  /** From a vocab.txt; options default to HF BertTokenizer's (uncased: doLowerCase true). */
  static fromVocabFile(path: string, options?: WordPieceOptions): WordPieceTokenizer {
    return new WordPieceTokenizer(resolveSettings(readVocabTxt(path), options));
  }

  /** From a token list (id = index), e.g. a small vocabulary built in a test. */
  static fromTokens(tokens: readonly string[], options?: WordPieceOptions): WordPieceTokenizer {
    return new WordPieceTokenizer(resolveSettings(Vocab.fromLines(tokens), options));
  }

  /** From an HF tokenizer.json with BertNormalizer, BertPreTokenizer and a WordPiece model. */
  static fromTokenizerJson(path: string): WordPieceTokenizer {
    const parsed = parseTokenizerJson(path, readJsonFile(path));
    const s = resolveSettings(parsed.vocab, parsed.options);
    s.addedTokens = parsed.addedTokens;
    s.decoderCleanup = parsed.decoderCleanup;
    return new WordPieceTokenizer(s);
  }

  /**
   * From a saved HF tokenizer folder: tokenizer.json if present (else vocab.txt), overridden by
   * tokenizer_config.json and special_tokens_map.json, plus added_tokens.json.
   */
  static fromPretrainedDir(dir: string, tokenizerJson?: unknown): WordPieceTokenizer {
    return new WordPieceTokenizer(loadPretrainedDir(dir, tokenizerJson));
  }

  /** Total ids including added tokens past the vocabulary (HF's len(tokenizer)). */
  get totalVocabSize(): number {
    return this.idToToken.length;
  }

  get stripAccents(): boolean | null {
    return this.s.stripAccents;
  }

  encode(text: string, opts: EncodeOptions = {}): Encoding {
    const sink: TokenSink = { ids: [], starts: [], ends: [], words: [] };
    this.encodeText(text, -1, sink);
    return this.finish(sink, opts);
  }

  /**
   * HF `is_split_into_words=True`: each word is normalized and pre-tokenized on its own (so
   * "U.S." still gives U . S .), wordIds = index of the word, offsets relative to that word.
   * A word that normalizes to nothing (e.g. only spaces or control characters) yields no token.
   */
  encodeWords(words: readonly string[], opts: EncodeOptions = {}): Encoding {
    const sink: TokenSink = { ids: [], starts: [], ends: [], words: [] };
    for (let w = 0; w < words.length; w++) {
      const word = words[w];
      if (typeof word !== 'string') throw new TypeError(`encodeWords: word ${w} is ${typeof word}, not a string`);
      this.encodeText(word, w, sink);
    }
    return this.finish(sink, opts);
  }

  /**
   * Text from ids, as HF BertTokenizerFast.decode: "##" pieces joined to the previous token, other
   * tokens separated by a space, then clean_up_tokenization (" ," -> ","...).
   */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const skip = opts.skipSpecialTokens ?? false;
    const tokens: string[] = [];
    for (const id of ids) {
      const t = this.tokenOf(id);
      if (skip && this.specialIds.has(id)) continue;
      tokens.push(t);
    }
    const text = joinWordPieces(tokens, this.prefix, this.s.decoderCleanup);
    return (opts.cleanUpTokenizationSpaces ?? this.s.cleanUpTokenizationSpaces) ? cleanUpTokenization(text) : text;
  }

  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }

  /**
   * Writes vocab.txt, tokenizer_config.json (tokenizer_class "BertTokenizer") and
   * special_tokens_map.json into dir, each atomically (temporary file + rename).
   */
  saveVocab(dir: string): void {
    if (!this.s.cleanText) {
      throw new TokenizerConfigError('this tokenizer has clean_text off, which a BertTokenizer tokenizer_config.json cannot express');
    }
    if (this.prefix !== '##' || this.s.maxInputCharsPerWord !== 100) {
      throw new TokenizerConfigError(
        'a non-default continuing-subword prefix or max_input_chars_per_word cannot be saved as a BertTokenizer',
      );
    }
    mkdirSync(dir, { recursive: true });
    const lines = this.s.vocab.lines;
    writeFileAtomic(join(dir, 'vocab.txt'), lines.join('\n') + '\n');
    writeFileAtomic(join(dir, 'tokenizer_config.json'), tokenizerConfigJson(this.s));
    writeFileAtomic(join(dir, 'special_tokens_map.json'), specialTokensMapJson(this.s));
    const extra: Record<string, number> = {};
    let anyExtra = false;
    for (let id = this.vocabSize; id < this.idToToken.length; id++) {
      const t = this.idToToken[id];
      if (t !== undefined) {
        extra[t] = id;
        anyExtra = true;
      }
    }
    if (anyExtra) writeFileAtomic(join(dir, 'added_tokens.json'), JSON.stringify(extra, null, 2) + '\n');
  }

  /** Adds specials, truncates, builds the public Encoding. */
  private finish(sink: TokenSink, opts: EncodeOptions): Encoding {
    const addSpecial = opts.addSpecialTokens ?? true;
    const nSpecial = addSpecial ? 2 : 0;
    let n = sink.ids.length;
    const truncate = opts.truncation ?? opts.maxLength !== undefined;
    if (truncate) {
      const limit = opts.maxLength ?? this.modelMaxLength;
      if (!(limit >= nSpecial) || (Number.isFinite(limit) && !Number.isInteger(limit))) {
        throw new RangeError(`maxLength ${limit} cannot hold the ${nSpecial} special tokens`);
      }
      if (n + nSpecial > limit) n = limit - nSpecial;
    }
    const total = n + nSpecial;
    const ids = new Array<number>(total);
    const tokens = new Array<string>(total);
    const offsets = new Array<[number, number]>(total);
    const wordIds = new Array<number | null>(total);
    const specialTokensMask = new Array<number>(total).fill(0);
    const attentionMask = new Array<number>(total).fill(1);
    const typeIds = new Array<number>(total).fill(0);
    let o = 0;
    if (addSpecial) {
      ids[0] = this.clsId;
      tokens[0] = this.idToToken[this.clsId]!;
      offsets[0] = [0, 0];
      wordIds[0] = null;
      specialTokensMask[0] = 1;
      o = 1;
    }
    for (let i = 0; i < n; i++, o++) {
      const id = sink.ids[i]!;
      ids[o] = id;
      tokens[o] = this.idToToken[id]!;
      offsets[o] = [sink.starts[i]!, sink.ends[i]!];
      wordIds[o] = sink.words[i]!;
    }
    if (addSpecial) {
      ids[o] = this.sepId;
      tokens[o] = this.idToToken[this.sepId]!;
      offsets[o] = [0, 0];
      wordIds[o] = null;
      specialTokensMask[o] = 1;
    }
    return { ids, tokens, offsets, wordIds, specialTokensMask, attentionMask, typeIds };
  }

  /**
   * Tokenizes one text (fixedWord < 0: word ids count pre-tokenized words, continuing from what the
   * sink holds) or one input word of encodeWords (fixedWord = its index).
   */
  private encodeText(text: string, fixedWord: number, sink: TokenSink): void {
    const matches = this.added.isEmpty ? [] : this.added.find(text, 0, text.length);
    let pos = 0;
    for (const m of matches) {
      if (m.start > pos) this.encodeSegment(text, pos, m.start, fixedWord, sink);
      sink.ids.push(m.id);
      sink.starts.push(m.start);
      sink.ends.push(m.end);
      sink.words.push(fixedWord >= 0 ? fixedWord : this.nextWordId(sink));
      pos = m.end;
    }
    if (pos < text.length) this.encodeSegment(text, pos, text.length, fixedWord, sink);
  }

  private nextWordId(sink: TokenSink): number {
    const w = sink.words;
    return w.length === 0 ? 0 : w[w.length - 1]! + 1;
  }

  /**
   * Normalizer + pre-tokenizer + WordPiece over text[from, to). A word is built as `head` (text
   * that normalization changed) followed by an untouched run text[runStart, i): most words are
   * one slice of the input.
   */
  private encodeSegment(text: string, from: number, to: number, fixedWord: number, sink: TokenSink): void {
    const cls = this.classifier;
    const checkNeverSplit = this.neverSplit.size > 0;
    let n = 0; // normalized code points in the current word
    let head = '';
    let runStart = -1;
    let chunkStart = true; // for never_split: at the start of a whitespace-delimited chunk
    let i = from;
    while (i < to) {
      let cp = text.charCodeAt(i);
      let w = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < to) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
          w = 2;
        }
      }
      const kind = cls.kind(cp);
      if (kind === KIND_WORD) {
        if (runStart < 0) runStart = i;
        if (checkNeverSplit && chunkStart && n === 0) {
          const end = this.neverSplitChunkEnd(text, i, to);
          if (end > 0) {
            this.emitWhole(text.slice(i, end), i, end, fixedWord, sink);
            runStart = -1;
            i = end;
            continue;
          }
          chunkStart = false;
        }
        this.pushCp(n++, i, i + w);
      } else if (kind === KIND_SPACE) {
        if (n > 0) {
          this.emitWord(runStart >= 0 ? head + text.slice(runStart, i) : head, n, fixedWord, sink);
          n = 0;
          head = '';
        }
        runStart = -1;
        chunkStart = true;
      } else if (kind === KIND_REMOVE) {
        if (runStart >= 0) {
          head += text.slice(runStart, i);
          runStart = -1;
        }
      } else {
        // Punctuation, CJK or a character normalization changes: never part of an untouched run.
        if (checkNeverSplit && chunkStart && n === 0 && kind !== KIND_CHINESE) {
          const end = this.neverSplitChunkEnd(text, i, to);
          if (end > 0) {
            this.emitWhole(text.slice(i, end), i, end, fixedWord, sink);
            i = end;
            continue;
          }
        }
        chunkStart = kind === KIND_CHINESE;
        if (runStart >= 0) {
          head += text.slice(runStart, i);
          runStart = -1;
        }
        if (kind === KIND_PUNCT) {
          if (n > 0) {
            this.emitWord(head, n, fixedWord, sink);
            n = 0;
            head = '';
          }
          this.pushCp(0, i, i + w);
          this.emitWord(w === 1 ? text[i]! : text.slice(i, i + 2), 1, fixedWord, sink);
        } else {
          if (kind === KIND_CHINESE && n > 0) {
            this.emitWord(head, n, fixedWord, sink);
            n = 0;
            head = '';
          }
          // KIND_MAPPED or KIND_CHINESE: the normalized form extends the word, unless it holds
          // whitespace or punctuation (rare), which split as in the pre-tokenizer.
          const m = cls.mapped(cp);
          if (m.plain) {
            head += m.form;
            for (let k = 0; k < m.length; k++) this.pushCp(n++, i, i + w);
          } else {
            for (const ch of m.form) {
              const c = ch.codePointAt(0)!;
              if (!isWhitespace(c) && !isPunctuation(c)) {
                head += ch;
                this.pushCp(n++, i, i + w);
                continue;
              }
              if (n > 0) {
                this.emitWord(head, n, fixedWord, sink);
                n = 0;
                head = '';
              }
              if (!isWhitespace(c)) {
                this.pushCp(0, i, i + w);
                this.emitWord(ch, 1, fixedWord, sink);
              }
            }
          }
          if (kind === KIND_CHINESE && n > 0) {
            this.emitWord(head, n, fixedWord, sink);
            n = 0;
            head = '';
          }
        }
      }
      i += w;
    }
    if (n > 0) this.emitWord(runStart >= 0 ? head + text.slice(runStart, to) : head, n, fixedWord, sink);
  }

  /**
   * never_split (slow-tokenizer semantics): if the chunk starting at i (up to whitespace or a CJK
   * character, control characters dropped) is a never_split token, its end; else -1.
   */
  private neverSplitChunkEnd(text: string, i: number, to: number): number {
    let chunk = '';
    let j = i;
    while (j < to) {
      const cp = text.codePointAt(j)!;
      const w = cp > 0xffff ? 2 : 1;
      const kind = this.classifier.kind(cp);
      if (kind === KIND_SPACE || (kind === KIND_CHINESE && j > i)) break;
      if (kind !== KIND_REMOVE) chunk += text.slice(j, j + w);
      j += w;
      if (kind === KIND_CHINESE) break;
    }
    return this.neverSplit.has(chunk) ? j : -1;
  }

  private emitWhole(token: string, start: number, end: number, fixedWord: number, sink: TokenSink): void {
    let kept = token;
    // The chunk may contain removed control characters: look up the cleaned text.
    if (this.s.cleanText) kept = [...token].filter((ch) => this.classifier.kind(ch.codePointAt(0)!) !== KIND_REMOVE).join('');
    sink.ids.push(this.tokenToId.get(kept) ?? this.unkId);
    sink.starts.push(start);
    sink.ends.push(end);
    sink.words.push(fixedWord >= 0 ? fixedWord : this.nextWordId(sink));
  }

  private pushCp(k: number, start: number, end: number): void {
    if (k >= this.cpStarts.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.cpStarts = grow(this.cpStarts);
      this.cpEnds = grow(this.cpEnds);
    }
    this.cpStarts[k] = start;
    this.cpEnds[k] = end;
  }

  /** WordPiece on one pre-tokenized word of n code points; offsets come from the scratch arrays. */
  private emitWord(word: string, n: number, fixedWord: number, sink: TokenSink): void {
    let pieces = this.pieceCache.get(word);
    if (pieces === undefined) {
      pieces = this.wordPiece(word, n);
      if (this.pieceCache.size >= PIECE_CACHE_LIMIT) this.pieceCache.clear();
      this.pieceCache.set(word, pieces);
    }
    const wordId = fixedWord >= 0 ? fixedWord : this.nextWordId(sink);
    let startCp = 0;
    for (let p = 0; p < pieces.length; p += 2) {
      const endCp = pieces[p + 1]!;
      sink.ids.push(pieces[p]!);
      sink.starts.push(this.cpStarts[startCp]!);
      sink.ends.push(this.cpEnds[endCp - 1]!);
      sink.words.push(wordId);
      startCp = endCp;
    }
  }

  /**
   * Greedy longest-match-first. Returns [id, endCodePoint, id, endCodePoint, ...]; a word longer
   * than maxInputCharsPerWord, or with any uncoverable rest, is one [UNK] over the whole word.
   */
  private wordPiece(word: string, n: number): Int32Array {
    const unk = Int32Array.of(this.unkId, n);
    if (n > this.s.maxInputCharsPerWord) return unk;
    // UTF-16 index of each code point boundary (identity when the word has no astral characters).
    let bounds: Int32Array | null = null;
    if (word.length !== n) {
      bounds = new Int32Array(n + 1);
      let u = 0;
      for (let k = 0; k < n; k++) {
        bounds[k] = u;
        u += word.codePointAt(u)! > 0xffff ? 2 : 1;
      }
      bounds[n] = u;
    }
    const out: number[] = [];
    const vocab = this.tokenToId;
    const maxLen = this.maxTokenChars;
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + maxLen);
      let id: number | undefined;
      while (end > start) {
        const sub = bounds === null ? word.slice(start, end) : word.slice(bounds[start], bounds[end]);
        id = vocab.get(start > 0 ? this.prefix + sub : sub);
        if (id !== undefined && id < this.vocabSize) break;
        id = undefined;
        end--;
      }
      if (id === undefined) return unk;
      out.push(id, end);
      start = end;
    }
    return Int32Array.from(out);
  }
}
