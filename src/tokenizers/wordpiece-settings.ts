/**
 * WordPieceTokenizer's settings: the options a caller gives, and the files a BERT tokenizer folder
 * holds (tokenizer_config.json, special_tokens_map.json, added_tokens.json, a WordPiece
 * tokenizer.json) read into one resolved settings object, in HF's order of precedence; and the
 * BertTokenizer ones written back.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { TokenizerConfigError, TokenizerFileError } from './errors.js';
import { readJsonFile } from './read-tokenizer-file.js';
import { Vocab, readVocabTxt, vocabFromJsonObject } from './vocab.js';

/** Options a caller may give; every one defaults to what HF's BertTokenizer defaults to. */
export interface WordPieceOptions {
  /** Lowercase the text (uncased models). Default true, as HF's BertTokenizer. */
  doLowerCase?: boolean;
  /** Strip accents (NFD, drop Mn). null/undefined: do it exactly when lowercasing. */
  stripAccents?: boolean | null;
  /** Put CJK ideographs into words of their own. Default true. */
  tokenizeChineseChars?: boolean;
  /** Remove control characters and map whitespace to spaces. Default true. */
  cleanText?: boolean;
  /**
   * Slow-tokenizer `never_split`: a whitespace-delimited chunk equal to one of these is kept whole
   * (no lowercasing, no punctuation split, no WordPiece). HF's fast tokenizer ignores never_split.
   */
  neverSplit?: readonly string[] | null;
  /** Length used when truncation is asked for without maxLength. Default: no limit. */
  modelMaxLength?: number;
  unkToken?: string;
  clsToken?: string;
  sepToken?: string;
  padToken?: string;
  maskToken?: string;
  additionalSpecialTokens?: readonly string[];
  /** Words longer than this (in code points) become [UNK]. Default 100. */
  maxInputCharsPerWord?: number;
  continuingSubwordPrefix?: string;
  /** decode(): apply HF's clean_up_tokenization (" ." -> "." ...). Default true for BERT. */
  cleanUpTokenizationSpaces?: boolean;
}

/** A token outside the plain WordPiece vocabulary lookup: matched verbatim in the raw text. */
export interface AddedTokenSpec {
  content: string;
  id: number;
  special: boolean;
}

export interface ResolvedSettings {
  vocab: Vocab;
  doLowerCase: boolean;
  stripAccents: boolean | null;
  tokenizeChineseChars: boolean;
  cleanText: boolean;
  neverSplit: string[];
  modelMaxLength: number;
  unkToken: string;
  clsToken: string;
  sepToken: string;
  padToken: string;
  maskToken: string;
  additionalSpecialTokens: string[];
  maxInputCharsPerWord: number;
  continuingSubwordPrefix: string;
  cleanUpTokenizationSpaces: boolean;
  /**
   * Added tokens besides the special tokens: from tokenizer.json's added_tokens, tokenizer_config's
   * added_tokens_decoder, added_tokens.json. Ids may lie in the vocabulary or past it.
   */
  addedTokens: AddedTokenSpec[];
  /** decoder.cleanup of tokenizer.json's WordPiece decoder (per-token cleanup in Rust). */
  decoderCleanup: boolean;
}

/** HF writes "no limit" as int(1e30). */
export const VERY_LARGE_INTEGER = 1e30;

export function resolveSettings(vocab: Vocab, o: WordPieceOptions = {}): ResolvedSettings {
  const s: ResolvedSettings = {
    vocab,
    doLowerCase: o.doLowerCase ?? true,
    stripAccents: o.stripAccents ?? null,
    tokenizeChineseChars: o.tokenizeChineseChars ?? true,
    cleanText: o.cleanText ?? true,
    neverSplit: [...(o.neverSplit ?? [])],
    modelMaxLength: o.modelMaxLength ?? Infinity,
    unkToken: o.unkToken ?? '[UNK]',
    clsToken: o.clsToken ?? '[CLS]',
    sepToken: o.sepToken ?? '[SEP]',
    padToken: o.padToken ?? '[PAD]',
    maskToken: o.maskToken ?? '[MASK]',
    additionalSpecialTokens: [...(o.additionalSpecialTokens ?? [])],
    maxInputCharsPerWord: o.maxInputCharsPerWord ?? 100,
    continuingSubwordPrefix: o.continuingSubwordPrefix ?? '##',
    cleanUpTokenizationSpaces: o.cleanUpTokenizationSpaces ?? true,
    addedTokens: [],
    decoderCleanup: true,
  };
  if (!(s.modelMaxLength > 0)) throw new TokenizerConfigError(`modelMaxLength must be positive, got ${s.modelMaxLength}`);
  if (!Number.isInteger(s.maxInputCharsPerWord) || s.maxInputCharsPerWord < 1) {
    throw new TokenizerConfigError(`maxInputCharsPerWord must be a positive integer, got ${s.maxInputCharsPerWord}`);
  }
  return s;
}

function asObject(path: string, v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TokenizerFileError(path, `${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function optBool(path: string, obj: Record<string, unknown>, key: string): boolean | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new TokenizerFileError(path, `"${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function optBoolOrNull(path: string, obj: Record<string, unknown>, key: string): boolean | null | undefined {
  const v = obj[key];
  if (v === null) return null;
  return optBool(path, obj, key);
}

/** A special token in HF configs is a string or a serialized AddedToken ({"content": ...}). */
function tokenContent(path: string, key: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && !Array.isArray(v) && typeof (v as { content?: unknown }).content === 'string') {
    return (v as { content: string }).content;
  }
  throw new TokenizerFileError(path, `"${key}" must be a token string or {"content": ...}, got ${JSON.stringify(v)}`);
}

const SPECIAL_KEYS = ['unk_token', 'cls_token', 'sep_token', 'pad_token', 'mask_token'] as const;
const SPECIAL_FIELDS = {
  unk_token: 'unkToken',
  cls_token: 'clsToken',
  sep_token: 'sepToken',
  pad_token: 'padToken',
  mask_token: 'maskToken',
} as const;

/** Applies special-token entries (tokenizer_config.json or special_tokens_map.json) onto options. */
function applySpecialTokens(path: string, obj: Record<string, unknown>, o: WordPieceOptions): void {
  for (const key of SPECIAL_KEYS) {
    const c = tokenContent(path, key, obj[key]);
    if (c !== undefined) o[SPECIAL_FIELDS[key]] = c;
  }
  const extra = obj['additional_special_tokens'];
  if (extra !== undefined && extra !== null) {
    if (!Array.isArray(extra)) throw new TokenizerFileError(path, '"additional_special_tokens" must be a list');
    o.additionalSpecialTokens = extra.map((t, i) => tokenContent(path, `additional_special_tokens[${i}]`, t)!);
  }
}

/** tokenizer_config.json -> options (only the keys present). */
export function optionsFromTokenizerConfig(path: string, json: unknown): WordPieceOptions {
  const c = asObject(path, json, 'tokenizer_config.json');
  const o: WordPieceOptions = {};
  const lower = optBool(path, c, 'do_lower_case');
  if (lower !== undefined) o.doLowerCase = lower;
  const strip = optBoolOrNull(path, c, 'strip_accents');
  if (strip !== undefined) o.stripAccents = strip;
  const chinese = optBool(path, c, 'tokenize_chinese_chars');
  if (chinese !== undefined) o.tokenizeChineseChars = chinese;
  const cleanup = optBool(path, c, 'clean_up_tokenization_spaces');
  if (cleanup !== undefined) o.cleanUpTokenizationSpaces = cleanup;
  const ns = c['never_split'];
  if (ns !== undefined && ns !== null) {
    if (!Array.isArray(ns) || !ns.every((t) => typeof t === 'string')) {
      throw new TokenizerFileError(path, '"never_split" must be null or a list of strings');
    }
    o.neverSplit = ns as string[];
  }
  const mml = c['model_max_length'];
  if (mml !== undefined && mml !== null) {
    if (typeof mml !== 'number' || !(mml > 0))
      throw new TokenizerFileError(path, `"model_max_length" must be a positive number, got ${JSON.stringify(mml)}`);
    o.modelMaxLength = mml >= VERY_LARGE_INTEGER ? Infinity : Math.floor(mml);
  }
  applySpecialTokens(path, c, o);
  return o;
}

export function optionsFromSpecialTokensMap(path: string, json: unknown): WordPieceOptions {
  const o: WordPieceOptions = {};
  applySpecialTokens(path, asObject(path, json, 'special_tokens_map.json'), o);
  return o;
}

/**
 * Added tokens listed by id (added_tokens.json: {token: id}; tokenizer_config's
 * added_tokens_decoder: {id: {content, special}}). An id inside the vocabulary must hold the same
 * token there.
 */
export function addedTokensFromConfig(path: string, json: unknown, vocab: Vocab, byId: boolean): AddedTokenSpec[] {
  const obj = asObject(path, json, byId ? 'added_tokens_decoder' : 'added_tokens.json');
  const out: AddedTokenSpec[] = [];
  for (const [k, v] of Object.entries(obj)) {
    let content: string;
    let id: number;
    let special = false;
    if (byId) {
      id = Number(k);
      const entry = asObject(path, v, `added_tokens_decoder["${k}"]`);
      if (typeof entry['content'] !== 'string') throw new TokenizerFileError(path, `added_tokens_decoder["${k}"].content must be a string`);
      content = entry['content'];
      special = entry['special'] === true;
    } else {
      content = k;
      id = v as number;
    }
    checkAddedToken(path, vocab, content, id);
    out.push({ content, id, special });
  }
  return out;
}

function checkAddedToken(path: string, vocab: Vocab, content: string, id: unknown): asserts id is number {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
    throw new TokenizerFileError(path, `added token ${JSON.stringify(content)} has id ${JSON.stringify(id)}, not a non-negative integer`);
  }
  if (id < vocab.size && vocab.idToToken[id] !== content) {
    throw new TokenizerFileError(
      path,
      `added token ${JSON.stringify(content)} has id ${id}, which the vocabulary gives to ${JSON.stringify(vocab.idToToken[id])}`,
    );
  }
  if (content === '') throw new TokenizerFileError(path, `added token with id ${id} is empty`);
}

/** The parts of a WordPiece tokenizer.json we use, with everything we cannot honour rejected. */
export interface TokenizerJson {
  vocab: Vocab;
  options: WordPieceOptions;
  /** Every entry of added_tokens (in the vocabulary or past it). */
  addedTokens: AddedTokenSpec[];
  decoderCleanup: boolean;
}

export function parseTokenizerJson(path: string, json: unknown): TokenizerJson {
  const root = asObject(path, json, 'tokenizer.json');
  const model = asObject(path, root['model'], '"model"');
  if (model['type'] !== undefined && model['type'] !== 'WordPiece') {
    throw new TokenizerFileError(path, `model.type is ${JSON.stringify(model['type'])}; only "WordPiece" is supported`);
  }
  const vocab = vocabFromJsonObject(path, model['vocab']);
  const o: WordPieceOptions = {};
  if (typeof model['unk_token'] === 'string') o.unkToken = model['unk_token'];
  if (typeof model['continuing_subword_prefix'] === 'string') o.continuingSubwordPrefix = model['continuing_subword_prefix'];
  const mic = model['max_input_chars_per_word'];
  if (mic !== undefined) {
    if (typeof mic !== 'number' || !Number.isInteger(mic) || mic < 1)
      throw new TokenizerFileError(path, `model.max_input_chars_per_word must be a positive integer, got ${JSON.stringify(mic)}`);
    o.maxInputCharsPerWord = mic;
  }

  const norm = root['normalizer'];
  if (norm === null || norm === undefined) {
    o.cleanText = false;
    o.tokenizeChineseChars = false;
    o.doLowerCase = false;
    o.stripAccents = false;
  } else {
    const n = asObject(path, norm, '"normalizer"');
    if (n['type'] !== 'BertNormalizer')
      throw new TokenizerFileError(path, `normalizer.type is ${JSON.stringify(n['type'])}; only "BertNormalizer" is supported`);
    o.cleanText = optBool(path, n, 'clean_text') ?? true;
    o.tokenizeChineseChars = optBool(path, n, 'handle_chinese_chars') ?? true;
    o.doLowerCase = optBool(path, n, 'lowercase') ?? true;
    o.stripAccents = optBoolOrNull(path, n, 'strip_accents') ?? null;
  }
  const pre = asObject(path, root['pre_tokenizer'], '"pre_tokenizer"');
  if (pre['type'] !== 'BertPreTokenizer')
    throw new TokenizerFileError(path, `pre_tokenizer.type is ${JSON.stringify(pre['type'])}; only "BertPreTokenizer" is supported`);

  const [cls, sep] = parsePostProcessor(path, root['post_processor']);
  o.clsToken = cls;
  o.sepToken = sep;

  let decoderCleanup = true;
  const dec = root['decoder'];
  if (dec !== null && dec !== undefined) {
    const d = asObject(path, dec, '"decoder"');
    if (d['type'] !== 'WordPiece')
      throw new TokenizerFileError(path, `decoder.type is ${JSON.stringify(d['type'])}; only "WordPiece" is supported`);
    if (d['prefix'] !== undefined && d['prefix'] !== (o.continuingSubwordPrefix ?? '##')) {
      throw new TokenizerFileError(
        path,
        `decoder.prefix ${JSON.stringify(d['prefix'])} differs from the model's continuing_subword_prefix`,
      );
    }
    decoderCleanup = optBool(path, d, 'cleanup') ?? true;
  }

  const addedTokens: AddedTokenSpec[] = [];
  const added = root['added_tokens'] ?? [];
  if (!Array.isArray(added)) throw new TokenizerFileError(path, '"added_tokens" must be a list');
  added.forEach((raw, i) => {
    const a = asObject(path, raw, `added_tokens[${i}]`);
    const content = a['content'];
    if (typeof content !== 'string') throw new TokenizerFileError(path, `added_tokens[${i}].content must be a string`);
    for (const flag of ['lstrip', 'rstrip', 'single_word'] as const) {
      if (a[flag] === true)
        throw new TokenizerFileError(path, `added_tokens[${i}] (${JSON.stringify(content)}) sets ${flag}, which is not supported`);
    }
    checkAddedToken(path, vocab, content, a['id']);
    addedTokens.push({ content, id: a['id'], special: a['special'] === true });
  });
  return { vocab, options: o, addedTokens, decoderCleanup };
}

/** [cls, sep] from a BertProcessing or BERT-shaped TemplateProcessing post-processor. */
function parsePostProcessor(path: string, raw: unknown): [string, string] {
  const pp = asObject(path, raw, '"post_processor"');
  if (pp['type'] === 'BertProcessing') {
    const cls = pp['cls'];
    const sep = pp['sep'];
    if (!Array.isArray(cls) || typeof cls[0] !== 'string' || !Array.isArray(sep) || typeof sep[0] !== 'string') {
      throw new TokenizerFileError(path, 'post_processor (BertProcessing) needs "cls" and "sep" as [token, id]');
    }
    return [cls[0], sep[0]];
  }
  if (pp['type'] === 'TemplateProcessing') {
    const single = pp['single'];
    const bad = () =>
      new TokenizerFileError(path, `post_processor.single must be [CLS-like special, $A, SEP-like special]; got ${JSON.stringify(single)}`);
    if (!Array.isArray(single) || single.length !== 3) throw bad();
    const special = (p: unknown): string => {
      const id = (p as { SpecialToken?: { id?: unknown } } | null)?.SpecialToken?.id;
      if (typeof id !== 'string') throw bad();
      return id;
    };
    const seq = (single[1] as { Sequence?: { id?: unknown } } | null)?.Sequence?.id;
    if (seq !== 'A') throw bad();
    const cls = special(single[0]);
    const sep = special(single[2]);
    // The template names a special-tokens entry whose tokens are what gets inserted.
    const table = asObject(path, pp['special_tokens'] ?? {}, 'post_processor.special_tokens');
    const resolve = (name: string): string => {
      const e = table[name] as { tokens?: unknown } | undefined;
      if (e === undefined) return name;
      if (!Array.isArray(e.tokens) || e.tokens.length !== 1 || typeof e.tokens[0] !== 'string') {
        throw new TokenizerFileError(path, `post_processor.special_tokens["${name}"] must hold exactly one token`);
      }
      return e.tokens[0];
    };
    return [resolve(cls), resolve(sep)];
  }
  throw new TokenizerFileError(
    path,
    `post_processor.type is ${JSON.stringify(pp['type'])}; only "BertProcessing" or "TemplateProcessing" is supported`,
  );
}

/** What fromPretrainedDir found, in HF's order of precedence. */
/** `tokenizerJson`: tokenizer.json already parsed by the caller, if it was. */
export function loadPretrainedDir(dir: string, tokenizerJson?: unknown): ResolvedSettings {
  const p = (f: string) => join(dir, f);
  if (!existsSync(dir)) throw new TokenizerConfigError(`tokenizer folder ${dir} does not exist`);
  const hasJson = existsSync(p('tokenizer.json'));
  const hasVocab = existsSync(p('vocab.txt'));
  if (!hasJson && !hasVocab) throw new TokenizerConfigError(`${dir} holds neither tokenizer.json nor vocab.txt`);

  let base: TokenizerJson | null = null;
  let vocab: Vocab;
  if (hasJson) {
    // AutoTokenizer (fast) prefers tokenizer.json; tokenizer_config.json values still override it.
    base = parseTokenizerJson(p('tokenizer.json'), tokenizerJson ?? readJsonFile(p('tokenizer.json')));
    vocab = base.vocab;
  } else {
    vocab = readVocabTxt(p('vocab.txt'));
  }
  const o: WordPieceOptions = { ...(base?.options ?? {}) };
  const extra: AddedTokenSpec[] = [...(base?.addedTokens ?? [])];
  if (existsSync(p('tokenizer_config.json'))) {
    const cfgPath = p('tokenizer_config.json');
    const cfg = readJsonFile(cfgPath);
    Object.assign(o, optionsFromTokenizerConfig(cfgPath, cfg));
    const atd = (cfg as Record<string, unknown>)['added_tokens_decoder'];
    if (atd !== undefined && atd !== null) mergeAdded(extra, addedTokensFromConfig(cfgPath, atd, vocab, true));
  }
  if (existsSync(p('special_tokens_map.json'))) {
    const path = p('special_tokens_map.json');
    Object.assign(o, optionsFromSpecialTokensMap(path, readJsonFile(path)));
  }
  if (!hasJson && existsSync(p('added_tokens.json'))) {
    const path = p('added_tokens.json');
    mergeAdded(extra, addedTokensFromConfig(path, readJsonFile(path), vocab, false));
  }
  const s = resolveSettings(vocab, o);
  s.addedTokens = extra;
  if (base) s.decoderCleanup = base.decoderCleanup;
  return s;
}

function mergeAdded(into: AddedTokenSpec[], more: AddedTokenSpec[]): void {
  // By id in a Map: into.find() per token made 200k added tokens quadratic (36 s).
  const byId = new Map<number, AddedTokenSpec>();
  for (const b of into) if (!byId.has(b.id)) byId.set(b.id, b);
  for (const a of more) {
    const same = byId.get(a.id);
    if (same) {
      if (same.content !== a.content)
        throw new TokenizerConfigError(`added token id ${a.id} is both ${JSON.stringify(same.content)} and ${JSON.stringify(a.content)}`);
      same.special ||= a.special;
    } else {
      into.push(a);
      byId.set(a.id, a);
    }
  }
}

/** tokenizer_config.json as HF's BertTokenizer.save_pretrained writes it (keys sorted). */
export function tokenizerConfigJson(s: ResolvedSettings): string {
  const cfg: Record<string, unknown> = {
    clean_up_tokenization_spaces: s.cleanUpTokenizationSpaces,
    cls_token: s.clsToken,
    do_basic_tokenize: true,
    do_lower_case: s.doLowerCase,
    mask_token: s.maskToken,
    model_max_length: 0, // placeholder, written below as an exact integer
    never_split: s.neverSplit.length > 0 ? s.neverSplit : null,
    pad_token: s.padToken,
    sep_token: s.sepToken,
    strip_accents: s.stripAccents,
    tokenize_chinese_chars: s.tokenizeChineseChars,
    tokenizer_class: 'BertTokenizer',
    unk_token: s.unkToken,
  };
  if (s.additionalSpecialTokens.length > 0) cfg['additional_special_tokens'] = s.additionalSpecialTokens;
  const sorted = Object.fromEntries(Object.entries(cfg).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  // Python's json would read 1e+30 as a float; HF itself writes the integer int(1e30).
  const mml = Number.isFinite(s.modelMaxLength) ? String(s.modelMaxLength) : '1000000000000000019884624838656';
  return JSON.stringify(sorted, null, 2).replace('"model_max_length": 0', `"model_max_length": ${mml}`) + '\n';
}

export function specialTokensMapJson(s: ResolvedSettings): string {
  const m: Record<string, unknown> = {};
  if (s.additionalSpecialTokens.length > 0) m['additional_special_tokens'] = s.additionalSpecialTokens;
  Object.assign(m, { cls_token: s.clsToken, mask_token: s.maskToken, pad_token: s.padToken, sep_token: s.sepToken, unk_token: s.unkToken });
  return JSON.stringify(m, null, 2) + '\n';
}
