/**
 * Folders without tokenizer.json: the tokenizer.json transformers would build from the legacy
 * files. vocab.json + merges.txt: RoBERTa's byte-level BPE (RobertaConverter). A SentencePiece
 * model: parsed from its protobuf here, then laid out as transformers 5 lays out XLM-R
 * (fairseq id offset, Precompiled + WhitespaceSplit + Metaspace) or DeBERTa-v2/v3.
 * added_tokens.json (what slow tokenizers saved) is read as transformers 5 reads it: see fileAddedTokens.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, readTokenizerFile, readTokenizerText } from '../read-tokenizer-file.js';
import { TokenizerConfigError, TokenizerFileError } from '../errors.js';
import type { HfTokenizerConfig } from './json-tokenizer.js';
import { readSentencePieceModel } from './sentencepiece-model.js';

/** tokenizer_config.json as a plain object ({} when absent). */
function tokenizerConfig(dir: string): Record<string, unknown> {
  const p = join(dir, 'tokenizer_config.json');
  if (!existsSync(p)) return {};
  const c = readJsonFile(p);
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new TokenizerFileError(p, 'must be a JSON object');
  return c as Record<string, unknown>;
}

function tokenizerClass(dir: string): string | null {
  const c = tokenizerConfig(dir)['tokenizer_class'];
  return typeof c === 'string' ? c : null;
}

const added = (id: number, content: string, lstrip = false, special = true) => ({
  id,
  content,
  single_word: false,
  lstrip,
  rstrip: false,
  normalized: !special,
  special,
});
type Added = ReturnType<typeof added>;

const SPECIAL_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

/**
 * added_tokens.json ({token: id}) in id order, each special when tokenizer_config.json or
 * special_tokens_map.json names it (a *_token or extra_special_tokens), as transformers 5's
 * from_pretrained reads it (tokenization_utils_base: special -> normalized false, else normalized
 * true). Ignored, as there, when tokenizer_config.json has added_tokens_decoder.
 */
function fileAddedTokens(dir: string): { content: string; special: boolean }[] {
  const path = join(dir, 'added_tokens.json');
  const conf = tokenizerConfig(dir);
  if (!existsSync(path) || conf['added_tokens_decoder'] !== undefined) return [];
  const j = readJsonFile(path);
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new TokenizerFileError(path, 'must be a JSON object {token: id}');
  const special = new Set<string>();
  const name = (v: unknown) =>
    typeof v === 'string' ? v : v !== null && typeof v === 'object' ? (v as Record<string, unknown>)['content'] : undefined;
  const mapPath = join(dir, 'special_tokens_map.json');
  const map = existsSync(mapPath) ? (readJsonFile(mapPath) as Record<string, unknown>) : {};
  for (const src of [conf, map]) {
    for (const k of SPECIAL_KEYS) {
      const t = name(src[k]);
      if (typeof t === 'string') special.add(t);
    }
    const extra = src['extra_special_tokens'];
    const list = Array.isArray(extra) ? extra : extra !== null && typeof extra === 'object' ? Object.values(extra) : [];
    for (const v of list) {
      const t = name(v);
      if (typeof t === 'string') special.add(t);
    }
  }
  const entries = Object.entries(j as Record<string, unknown>);
  for (const [t, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
      throw new TokenizerFileError(path, `${JSON.stringify(t)} has id ${JSON.stringify(id)}, not a non-negative integer`);
    if (t === '') throw new TokenizerFileError(path, 'an added token is empty');
  }
  return entries.sort((a, b) => (a[1] as number) - (b[1] as number)).map(([content]) => ({ content, special: special.has(content) }));
}

/**
 * Adds the file's tokens as the tokenizers library's add_tokens does: a token the vocabulary or the
 * added tokens already hold keeps that id; any other takes the next id (the id the file gives is
 * not used, as in transformers). Returns the next free id.
 */
function addFileTokens(dir: string, into: Added[], vocabId: (t: string) => number | undefined, next: number): number {
  const have = new Set(into.map((a) => a.content)); // not into.some() per token: 200k tokens made that quadratic
  for (const { content, special } of fileAddedTokens(dir)) {
    if (have.has(content)) continue;
    have.add(content);
    const id = vocabId(content);
    into.push(added(id ?? next++, content, false, special));
  }
  return next;
}

/**
 * Whether "<mask>" absorbs the space before it. transformers 5's RobertaTokenizer keeps the token as
 * given: its added_tokens_decoder entry in tokenizer_config.json, else special_tokens_map.json's
 * mask_token {"content", "lstrip", ...}; a plain string (or nothing) means no lstrip.
 */
function maskTokenLstrip(dir: string): boolean {
  const atd = tokenizerConfig(dir)['added_tokens_decoder'];
  if (atd !== null && typeof atd === 'object') {
    const e = Object.values(atd as Record<string, Record<string, unknown>>).find(
      (x) => x !== null && typeof x === 'object' && x['content'] === '<mask>',
    );
    return e?.['lstrip'] === true;
  }
  const p = join(dir, 'special_tokens_map.json');
  const m = existsSync(p) ? (readJsonFile(p) as Record<string, unknown>)['mask_token'] : undefined;
  return m !== null && typeof m === 'object' && (m as Record<string, unknown>)['lstrip'] === true;
}

export function legacyBpeJson(dir: string, cfg: HfTokenizerConfig): string {
  const vocabPath = join(dir, 'vocab.json');
  const vocab = readJsonFile(vocabPath);
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab))
    throw new TokenizerFileError(vocabPath, 'must be a JSON object {token: id}');
  const mergesPath = join(dir, 'merges.txt');
  const merges: string[] = [];
  readTokenizerText(mergesPath)
    .split('\n')
    .forEach((line, i) => {
      if (line === '' || (i === 0 && line.startsWith('#version'))) return;
      if (line.split(' ').length !== 2) throw new TokenizerFileError(mergesPath, `"${line.slice(0, 60)}" is not "left right"`, i + 1);
      merges.push(line);
    });
  const v = vocab as Record<string, number>;
  const tok = (t: string | undefined, d: string) => t ?? d;
  const cls = tok(cfg.clsToken, '<s>'),
    sep = tok(cfg.sepToken, '</s>'),
    unk = tok(cfg.unkToken, '<unk>'),
    pad = tok(cfg.padToken, '<pad>');
  const specials = [cls, pad, sep, unk, '<mask>'].filter((t, i, a) => a.indexOf(t) === i && v[t] !== undefined);
  const aps = (() => {
    try {
      return (readJsonFile(join(dir, 'tokenizer_config.json')) as Record<string, unknown>)['add_prefix_space'] === true;
    } catch {
      return false;
    }
  })();
  if (v[cls] === undefined || v[sep] === undefined)
    throw new TokenizerConfigError(`${vocabPath}: the start/end tokens ${cls} and ${sep} are not in the vocabulary`);
  const maskLstrip = maskTokenLstrip(dir);
  const addedTokens = specials.map((t) => added(v[t]!, t, t === '<mask>' && maskLstrip));
  addFileTokens(dir, addedTokens, (t) => v[t], Object.values(v).reduce((a, b) => Math.max(a, b), -1) + 1);
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: aps, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: [sep, v[sep]], cls: [cls, v[cls]], trim_offsets: true, add_prefix_space: aps },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: v[unk] !== undefined ? unk : null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: v,
      merges,
    },
  });
}

export function sentencePieceJson(path: string, cfg: HfTokenizerConfig): string {
  const dir = path.slice(0, path.length - path.split('/').pop()!.length);
  const cls =
    tokenizerClass(dir) ??
    (path.endsWith('sentencepiece.bpe.model') ? 'XLMRobertaTokenizer' : path.endsWith('spm.model') ? 'DebertaV2Tokenizer' : null);
  const m = readSentencePieceModel(readTokenizerFile(path), path);
  if (m.modelType !== 1)
    throw new TokenizerConfigError(
      `${path}: SentencePiece model type ${m.modelType} (${['', 'unigram', 'bpe', 'word', 'char'][m.modelType] ?? '?'}) is not supported; only unigram models`,
    );
  // The settings transformers 5's XLMRobertaTokenizer / DebertaV2Tokenizer take from tokenizer_config.json.
  const conf = tokenizerConfig(dir);
  const flag = (k: string, d: boolean) => (typeof conf[k] === 'boolean' ? (conf[k] as boolean) : d);
  // Without add_prefix_space, XLM-R never prepends "▁" and DeBERTa-v2 only at the start of the text.
  const noPrefix = cls === 'DebertaV2Tokenizer' ? 'first' : 'never';
  const meta = {
    type: 'Metaspace',
    replacement: '\u2581',
    prepend_scheme: flag('add_prefix_space', true) ? 'always' : noPrefix,
    split: true,
  };
  const tpl = (a: string, b: string, ids: Record<string, number>) => ({
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: a, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: b, type_id: 0 } }],
    pair: [
      { SpecialToken: { id: a, type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: b, type_id: 0 } },
      { Sequence: { id: 'B', type_id: 0 } },
      { SpecialToken: { id: b, type_id: 0 } },
    ],
    special_tokens: { [a]: { id: a, ids: [ids[a]], tokens: [a] }, [b]: { id: b, ids: [ids[b]], tokens: [b] } },
  });
  if (cls === 'XLMRobertaTokenizer' || cls === 'CamembertTokenizer') {
    // fairseq layout: <s> <pad> </s> <unk>, then the model's pieces from id 3 on, then <mask>.
    const vocab: [string, number][] = [
      ['<s>', 0],
      ['<pad>', 0],
      ['</s>', 0],
      ['<unk>', 0],
    ];
    for (const p of m.pieces.slice(3)) vocab.push([p.piece, p.score]);
    vocab.push(['<mask>', 0]);
    const ids = { '<s>': 0, '</s>': 2 };
    const addedTokens = [added(0, '<s>'), added(1, '<pad>'), added(2, '</s>'), added(3, '<unk>'), added(vocab.length - 1, '<mask>')];
    const index = new Map(vocab.map(([p], i) => [p, i] as const).reverse());
    addFileTokens(dir, addedTokens, (t) => index.get(t), vocab.length);
    return JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer: m.precompiledCharsmap
        ? { type: 'Precompiled', precompiled_charsmap: Buffer.from(m.precompiledCharsmap).toString('base64') }
        : null,
      pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, meta] },
      post_processor: tpl('<s>', '</s>', ids),
      decoder: meta,
      model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
    });
  }
  if (cls === 'DebertaV2Tokenizer') {
    const vocab: [string, number][] = m.pieces.map((p) => [p.piece, p.score]);
    const extra = ['[CLS]', '[SEP]', '[UNK]', '[PAD]', '[MASK]'];
    const ids: Record<string, number> = {};
    const addedTokens: Added[] = [];
    for (const [i, p] of m.pieces.entries()) if (p.type === 3) addedTokens.push(added(i, p.piece));
    // transformers 5 builds the tokenizer with added_tokens.json's tokens, then adds the special
    // tokens the model lacks after them.
    const index = new Map(vocab.map(([p], i) => [p, i] as const).reverse());
    let next = addFileTokens(dir, addedTokens, (t) => index.get(t), vocab.length);
    for (const t of extra) {
      const id = index.get(t) ?? addedTokens.find((a) => a.content === t)?.id ?? next++;
      ids[t] = id;
      if (!addedTokens.some((a) => a.content === t)) addedTokens.push(added(id, t));
    }
    const unk = m.pieces.findIndex((p) => p.type === 2);
    return JSON.stringify({
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer: {
        type: 'Sequence',
        normalizers: [
          ...(flag('do_lower_case', false) ? [{ type: 'Lowercase' }] : []),
          { type: 'Replace', pattern: { Regex: '\\s{2,}|[\\n\\r\\t]' }, content: ' ' },
          { type: 'NFC' },
          { type: 'Strip', strip_left: false, strip_right: true },
        ],
      },
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [...(flag('split_by_punct', false) ? [{ type: 'Punctuation', behavior: 'Isolated' }] : []), meta],
      },
      post_processor: tpl('[CLS]', '[SEP]', ids),
      decoder: meta,
      model: { type: 'Unigram', unk_id: unk < 0 ? 0 : unk, vocab, byte_fallback: false },
    });
  }
  void cfg;
  throw new TokenizerConfigError(
    `${path}: a SentencePiece model for tokenizer_class ${JSON.stringify(cls)} is not supported; supported: XLMRobertaTokenizer, DebertaV2Tokenizer (or ship a tokenizer.json)`,
  );
}
