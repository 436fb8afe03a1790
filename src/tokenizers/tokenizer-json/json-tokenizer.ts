/**
 * A Hugging Face `tokenizer.json` (Rust `tokenizers`) run in TypeScript: added tokens, normalizer,
 * pre-tokenizer, model (BPE, Unigram, WordPiece) and post-processor, giving the ids, offsets and
 * word ids the Rust library gives. Offsets are UTF-16 indices into the input (for encodeWords, into
 * each word), as WordPieceTokenizer's.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { TokenizerConfigError, TokenizerFileError } from '../errors.js';
import type { DecodeOptions, EncodeOptions, Encoding, Tokenizer } from '../tokenizer.js';
import { VocabLookups } from '../vocab-lookups.js';
import { AddedMatcher, type AddedToken } from './added-vocabulary.js';
import { buildDecoder, type Decoder } from './decoders.js';
import { JsonCtx } from './json-ctx.js';
import { BpeModel } from './models/bpe.js';
import type { Model } from './models/model.js';
import { UnigramModel } from './models/unigram.js';
import { WordPieceModel } from './models/wordpiece.js';
import { NStr, codePointsToString } from './normalized.js';
import { buildNormalizer, type Normalizer } from './normalizers.js';
import { buildPostProcessor, trimOffsets, type PostProcessor } from './post-processors.js';
import { buildPreTokenizer, type PreTokenizer } from './pre-tokenizers.js';

/** Settings from tokenizer_config.json / special_tokens_map.json that transformers applies. */
export interface HfTokenizerConfig {
  modelMaxLength?: number;
  unkToken?: string;
  padToken?: string;
  clsToken?: string;
  sepToken?: string;
  /** The files to write back on save (tokenizer_config.json, special_tokens_map.json), verbatim. */
  extraFiles?: Record<string, string>;
}

/** surface: what an added-token split holds (with whitespace lstrip/rstrip took), which offset trimming sees. */
interface Sink {
  ids: number[];
  starts: number[];
  ends: number[];
  words: number[];
  surface: (string | null)[];
}

export class JsonTokenizer extends VocabLookups implements Tokenizer {
  readonly kind = 'tokenizer.json';
  readonly vocabSize: number;
  readonly totalVocabSize: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly modelMaxLength: number;
  /** The model type ("BPE", "Unigram", "WordPiece"). */
  readonly modelType: string;
  /** The model's continuing_subword_prefix (WordPiece's default "##"; Unigram has none). */
  readonly continuingSubwordPrefix: string | null;

  private readonly normalizer: Normalizer | null;
  private readonly preTokenizer: PreTokenizer | null;
  private readonly model: Model;
  private readonly post: PostProcessor;
  private readonly decoder: Decoder | null;
  private readonly added: AddedToken[];
  private readonly rawMatcher: AddedMatcher;
  private readonly normMatcher: AddedMatcher;
  protected readonly idToToken: string[];
  protected readonly tokenToId: Map<string, number>;
  private readonly specialIds = new Set<number>();
  private readonly truncation: { maxLength: number; left: boolean } | null;

  constructor(
    private readonly source: string,
    file: string,
    private readonly config: HfTokenizerConfig = {},
  ) {
    super();
    const ctx = new JsonCtx(file);
    let json: unknown;
    try {
      json = JSON.parse(source);
    } catch (e) {
      throw new TokenizerFileError(file, `not valid JSON: ${(e as Error).message}`);
    }
    const root = ctx.obj(json, '$');
    const m = ctx.obj(root['model'], 'model');
    this.modelType = ctx.type(m, 'model', ['BPE', 'Unigram', 'WordPiece']);
    this.model =
      this.modelType === 'BPE'
        ? new BpeModel(ctx, m, 'model')
        : this.modelType === 'Unigram'
          ? new UnigramModel(ctx, m, 'model')
          : new WordPieceModel(ctx, m, 'model');
    const prefix = m['continuing_subword_prefix'];
    this.continuingSubwordPrefix =
      this.modelType === 'Unigram' ? null : typeof prefix === 'string' ? prefix : this.modelType === 'WordPiece' ? '##' : null;
    this.normalizer = buildNormalizer(root['normalizer'], ctx, 'normalizer');
    this.preTokenizer = buildPreTokenizer(root['pre_tokenizer'], ctx, 'pre_tokenizer');
    this.post = buildPostProcessor(root['post_processor'], ctx, 'post_processor');
    this.decoder = buildDecoder(root['decoder'], ctx, 'decoder');

    this.idToToken = this.model.tokens.slice();
    this.tokenToId = new Map(this.model.vocab);
    this.vocabSize = this.model.tokens.length;
    const addedList = root['added_tokens'] === undefined ? [] : ctx.arr(root, 'added_tokens', '$');
    this.added = addedList.map((x, i) => {
      const p = `added_tokens[${i}]`;
      const a = ctx.obj(x, p);
      ctx.known(a, p, ['id', 'content', 'single_word', 'lstrip', 'rstrip', 'normalized', 'special']);
      const t: AddedToken = {
        id: ctx.int(a, 'id', p),
        content: ctx.str(a, 'content', p),
        singleWord: ctx.bool(a, 'single_word', p, false),
        lstrip: ctx.bool(a, 'lstrip', p, false),
        rstrip: ctx.bool(a, 'rstrip', p, false),
        special: ctx.bool(a, 'special', p, false),
        normalized: ctx.bool(a, 'normalized', p, !ctx.bool(a, 'special', p, false)),
      };
      if (t.id > 0x7fffffff) ctx.fail(`${p}.id`, `${t.id} is too large`);
      this.idToToken[t.id] = t.content;
      this.tokenToId.set(t.content, t.id);
      if (t.special) this.specialIds.add(t.id);
      return t;
    });
    for (let i = 0; i < this.idToToken.length; i++) {
      if (this.idToToken[i] === undefined)
        ctx.fail('model.vocab', `no token has id ${i} (ids must be 0..${this.idToToken.length - 1} without gaps)`);
    }
    this.totalVocabSize = this.idToToken.length;
    this.rawMatcher = new AddedMatcher(this.added.filter((a) => !a.normalized));
    // Normalized added tokens are matched in normalized text: normalize their content first.
    this.normMatcher = new AddedMatcher(
      this.added
        .filter((a) => a.normalized)
        .map((a) => {
          if (!this.normalizer) return a;
          const n = NStr.fromText(a.content);
          this.normalizer(n);
          return { ...a, content: n.text() };
        }),
    );

    const trunc = root['truncation'];
    if (trunc === null || trunc === undefined) this.truncation = null;
    else {
      const t = ctx.obj(trunc, 'truncation');
      ctx.known(t, 'truncation', ['direction', 'max_length', 'strategy', 'stride']);
      const dir = ctx.str(t, 'direction', 'truncation', 'Right');
      if (dir !== 'Right' && dir !== 'Left') ctx.fail('truncation.direction', `must be "Right" or "Left", got ${JSON.stringify(dir)}`);
      this.truncation = { maxLength: ctx.int(t, 'max_length', 'truncation'), left: dir === 'Left' };
    }
    const pad = root['padding'];
    if (pad !== null && pad !== undefined) {
      const p = ctx.obj(pad, 'padding');
      if (JSON.stringify(p['strategy']) !== '"BatchLongest"')
        ctx.fail(
          'padding.strategy',
          `${JSON.stringify(p['strategy'])} is not supported (tokentune pads batches itself); use null or "BatchLongest"`,
        );
    }

    for (const s of [...this.post.before, ...this.post.after]) {
      // An id the vocabulary lacks could be neither embedded nor decoded.
      if (!Number.isInteger(s.id) || s.id < 0 || s.id >= this.idToToken.length)
        ctx.fail(
          'post_processor',
          `special token ${JSON.stringify(s.token)} has id ${s.id}, outside the vocabulary's 0..${this.idToToken.length - 1}`,
        );
      this.specialIds.add(s.id);
    }
    const idOf = (tok: string | undefined) => (tok === undefined ? undefined : this.tokenToId.get(tok));
    const byName = (re: RegExp) => this.added.find((a) => a.special && re.test(a.content))?.id;
    this.unkId = idOf(config.unkToken) ?? this.model.unkId ?? byName(/^[<[]unk[>\]]$/i) ?? -1;
    if (this.unkId < 0)
      throw new TokenizerConfigError(
        `${file}: no unknown token (model unk, tokenizer_config.json unk_token or an added <unk>/[UNK]); tokentune needs one for words that yield no piece`,
      );
    const padId = idOf(config.padToken) ?? byName(/^[<[]pad[>\]]$/i);
    if (padId === undefined) throw new TokenizerConfigError(`${file}: no padding token: set "pad_token" in tokenizer_config.json`);
    this.padId = padId;
    if (this.post.before.length !== 1 || this.post.after.length !== 1) {
      throw new TokenizerConfigError(
        `${file}: post_processor puts ${this.post.before.length} token(s) before and ${this.post.after.length} after a sequence; tokentune's windows need exactly one each (like [CLS] ... [SEP] or <s> ... </s>)`,
      );
    }
    this.clsId = this.post.before[0]!.id;
    this.sepId = this.post.after[0]!.id;
    this.modelMaxLength = config.modelMaxLength ?? 1e30;
  }

  encode(text: string, opts: EncodeOptions = {}): Encoding {
    const sink: Sink = { ids: [], starts: [], ends: [], words: [], surface: [] };
    this.encodeOne(text, -1, false, sink);
    return this.finish(sink, opts, false, () => text);
  }

  encodeWords(words: readonly string[], opts: EncodeOptions = {}): Encoding {
    const sink: Sink = { ids: [], starts: [], ends: [], words: [], surface: [] };
    for (let w = 0; w < words.length; w++) {
      const word = words[w];
      if (typeof word !== 'string') throw new TypeError(`encodeWords: word ${w} is ${typeof word}, not a string`);
      this.encodeOne(word, w, true, sink);
    }
    return this.finish(sink, opts, true, (w) => words[w]!);
  }

  /** The decoder's text; without a decoder, tokens joined by spaces (Rust's decode). */
  convertTokensToString(tokens: readonly string[]): string {
    if (this.decoder === null) return tokens.join(' ');
    return this.decoder(tokens.slice());
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const toks: string[] = [];
    for (const id of ids) if (!(opts.skipSpecialTokens && this.specialIds.has(id))) toks.push(this.tokenOf(id));
    return this.convertTokensToString(toks);
  }

  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** Writes the tokenizer.json it was read from (and the config files it came with), atomically. */
  saveVocab(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileAtomic(join(dir, 'tokenizer.json'), this.source);
    const extra = this.config.extraFiles ?? {};
    for (const [name, text] of Object.entries(extra)) writeFileAtomic(join(dir, name), text);
    if (extra['tokenizer_config.json'] === undefined) {
      // Without one, AutoTokenizer would guess the class from config.json's model_type.
      const cfg: Record<string, unknown> = {
        tokenizer_class: 'PreTrainedTokenizerFast',
        cls_token: this.idToToken[this.clsId],
        sep_token: this.idToToken[this.sepId],
        pad_token: this.idToToken[this.padId],
        unk_token: this.idToToken[this.unkId],
      };
      if (Number.isFinite(this.modelMaxLength) && this.modelMaxLength < 1e15) cfg['model_max_length'] = this.modelMaxLength;
      writeFileAtomic(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg, null, 2) + '\n');
    }
  }

  /** One input text (fixedWord < 0) or one word of encodeWords: splits, normalizes, pre-tokenizes, runs the model. */
  private encodeOne(text: string, fixedWord: number, words: boolean, sink: Sink): void {
    const whole = NStr.fromText(text);
    // Splits in order: an added token (id >= 0, with its original range) or a piece to tokenize.
    type Split = { id: number; s: number; e: number; surface: string } | NStr;
    const splits: Split[] = [];
    for (const [id, a, b] of this.rawMatcher.isEmpty ? [[-1, 0, whole.length] as const] : this.rawMatcher.split(whole.cps)) {
      if (id >= 0) {
        const [s, e] = whole.original(a, b);
        splits.push({ id, s, e, surface: whole.slice(a, b).text() });
        continue;
      }
      if (b <= a) continue;
      const n = whole.slice(a, b);
      if (this.normalizer) this.normalizer(n);
      if (n.length === 0) continue;
      if (this.normMatcher.isEmpty) {
        splits.push(n);
        continue;
      }
      for (const [id2, c, d] of this.normMatcher.split(n.cps)) {
        if (id2 >= 0) {
          const [s, e] = n.original(c, d);
          splits.push({ id: id2, s, e, surface: n.slice(c, d).text() });
        } else if (d > c) splits.push(n.slice(c, d));
      }
    }
    // Pre-tokenize runs between added tokens; each resulting piece is a word.
    let wordIdx = 0;
    const push = (id: number, s: number, e: number, w: number, surface: string | null) => {
      sink.ids.push(id);
      sink.starts.push(s);
      sink.ends.push(e);
      sink.words.push(fixedWord >= 0 ? fixedWord : w);
      sink.surface.push(surface);
    };
    let k = 0;
    while (k < splits.length) {
      const sp = splits[k]!;
      if (!(sp instanceof NStr)) {
        push(sp.id, sp.s, sp.e, wordIdx++, sp.surface);
        k++;
        continue;
      }
      const run: NStr[] = [];
      while (k < splits.length && splits[k] instanceof NStr) run.push(splits[k++] as NStr);
      const pieces = this.preTokenizer ? this.preTokenizer(run, words) : run;
      for (const p of pieces) {
        const toks = this.model.tokenize(p.cps, codePointsToString(p.cps, 0, p.cps.length));
        for (let t = 0; t < toks.length; t += 3) {
          const a = toks[t + 1]!,
            b = toks[t + 2]!;
          // p.original(a, b) without allocating a pair per token (a < b for every model token).
          if (a < b) push(toks[t]!, p.al[2 * a]!, p.al[2 * b - 1]!, wordIdx, null);
          else {
            const [s, e] = p.original(a, b);
            push(toks[t]!, s, e, wordIdx, null);
          }
        }
        wordIdx++;
      }
    }
  }

  /** textOf(wordId): the text a token's offsets index (the input, or its word for encodeWords). */
  private finish(sink: Sink, opts: EncodeOptions, words: boolean, textOf: (word: number) => string): Encoding {
    const addSpecial = opts.addSpecialTokens ?? true;
    const before = addSpecial ? this.post.before : [];
    const after = addSpecial ? this.post.after : [];
    const nSpecial = before.length + after.length;
    let from = 0,
      to = sink.ids.length;
    const truncate = opts.truncation ?? (opts.maxLength !== undefined || this.truncation !== null);
    if (truncate) {
      const limit = opts.maxLength ?? this.truncation?.maxLength ?? this.modelMaxLength;
      if (!(limit >= nSpecial) || (Number.isFinite(limit) && !Number.isInteger(limit)))
        throw new RangeError(`maxLength ${limit} cannot hold the ${nSpecial} special tokens`);
      const keep = limit - nSpecial;
      if (to - from > keep) {
        if (this.truncation?.left && opts.maxLength === undefined) from = to - keep;
        else to = from + keep;
      }
    }
    const ids: number[] = [],
      tokens: string[] = [],
      offsets: [number, number][] = [],
      wordIds: (number | null)[] = [],
      stm: number[] = [],
      typeIds: number[] = [];
    for (const s of before) {
      ids.push(s.id);
      tokens.push(s.token);
      offsets.push([0, 0]);
      wordIds.push(null);
      stm.push(1);
      typeIds.push(s.typeId);
    }
    const trim = this.post.trim;
    const astral = new Map<string, boolean>();
    const hasAstral = (t: string) => {
      let a = astral.get(t);
      if (a === undefined) {
        a = /[\ud800-\udfff]/.test(t);
        astral.set(t, a);
      }
      return a;
    };
    for (let i = from; i < to; i++) {
      const id = sink.ids[i]!;
      const tok = this.idToToken[id]!;
      const off: [number, number] = [sink.starts[i]!, sink.ends[i]!];
      if (trim) {
        const text = textOf(sink.words[i]!);
        trimOffsets(sink.surface[i] ?? tok, off, i - from, trim.addPrefixSpace || words, text, hasAstral(text));
      }
      ids.push(id);
      tokens.push(tok);
      offsets.push(off);
      wordIds.push(sink.words[i]!);
      stm.push(0);
      typeIds.push(this.post.typeId);
    }
    for (const s of after) {
      ids.push(s.id);
      tokens.push(s.token);
      offsets.push([0, 0]);
      wordIds.push(null);
      stm.push(1);
      typeIds.push(s.typeId);
    }
    return { ids, tokens, offsets, wordIds, specialTokensMask: stm, attentionMask: ids.map(() => 1), typeIds };
  }
}
