/**
 * Folders without tokenizer.json: the tokenizer.json transformers would build from the legacy
 * files. vocab.json + merges.txt: RoBERTa's byte-level BPE (RobertaConverter). A SentencePiece
 * model: parsed from its protobuf here, then laid out as transformers 5 lays out XLM-R
 * (fairseq id offset, Precompiled + WhitespaceSplit + Metaspace) or DeBERTa-v2/v3.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile } from '../config.js';
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

const added = (id: number, content: string, lstrip = false) => ({ id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true });

export function legacyBpeJson(dir: string, cfg: HfTokenizerConfig): string {
  const vocabPath = join(dir, 'vocab.json');
  const vocab = readJsonFile(vocabPath);
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) throw new TokenizerFileError(vocabPath, 'must be a JSON object {token: id}');
  const mergesPath = join(dir, 'merges.txt');
  const merges: string[] = [];
  readFileSync(mergesPath, 'utf8').split('\n').forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    if (line.split(' ').length !== 2) throw new TokenizerFileError(mergesPath, `"${line.slice(0, 60)}" is not "left right"`, i + 1);
    merges.push(line);
  });
  const v = vocab as Record<string, number>;
  const tok = (t: string | undefined, d: string) => t ?? d;
  const cls = tok(cfg.clsToken, '<s>'), sep = tok(cfg.sepToken, '</s>'), unk = tok(cfg.unkToken, '<unk>'), pad = tok(cfg.padToken, '<pad>');
  const specials = [cls, pad, sep, unk, '<mask>'].filter((t, i, a) => a.indexOf(t) === i && v[t] !== undefined);
  const aps = (() => {
    try { return (readJsonFile(join(dir, 'tokenizer_config.json')) as Record<string, unknown>)['add_prefix_space'] === true; } catch { return false; }
  })();
  if (v[cls] === undefined || v[sep] === undefined) throw new TokenizerConfigError(`${vocabPath}: the start/end tokens ${cls} and ${sep} are not in the vocabulary`);
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null,
    added_tokens: specials.map((t) => added(v[t]!, t, t === '<mask>')),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: aps, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: [sep, v[sep]], cls: [cls, v[cls]], trim_offsets: true, add_prefix_space: aps },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: v[unk] !== undefined ? unk : null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: v, merges },
  });
}

export function sentencePieceJson(path: string, cfg: HfTokenizerConfig): string {
  const dir = path.slice(0, path.length - path.split('/').pop()!.length);
  const cls = tokenizerClass(dir) ?? (path.endsWith('sentencepiece.bpe.model') ? 'XLMRobertaTokenizer' : path.endsWith('spm.model') ? 'DebertaV2Tokenizer' : null);
  const m = readSentencePieceModel(readFileSync(path), path);
  if (m.modelType !== 1) throw new TokenizerConfigError(`${path}: SentencePiece model type ${m.modelType} (${['', 'unigram', 'bpe', 'word', 'char'][m.modelType] ?? '?'}) is not supported; only unigram models`);
  // The settings transformers 5's XLMRobertaTokenizer / DebertaV2Tokenizer take from tokenizer_config.json.
  const conf = tokenizerConfig(dir);
  const flag = (k: string, d: boolean) => (typeof conf[k] === 'boolean' ? (conf[k] as boolean) : d);
  // Without add_prefix_space, XLM-R never prepends "▁" and DeBERTa-v2 only at the start of the text.
  const noPrefix = cls === 'DebertaV2Tokenizer' ? 'first' : 'never';
  const meta = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: flag('add_prefix_space', true) ? 'always' : noPrefix, split: true };
  const tpl = (a: string, b: string, ids: Record<string, number>) => ({
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: a, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: b, type_id: 0 } }],
    pair: [{ SpecialToken: { id: a, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: b, type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: b, type_id: 0 } }],
    special_tokens: { [a]: { id: a, ids: [ids[a]], tokens: [a] }, [b]: { id: b, ids: [ids[b]], tokens: [b] } },
  });
  if (cls === 'XLMRobertaTokenizer' || cls === 'CamembertTokenizer') {
    // fairseq layout: <s> <pad> </s> <unk>, then the model's pieces from id 3 on, then <mask>.
    const vocab: [string, number][] = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0]];
    for (const p of m.pieces.slice(3)) vocab.push([p.piece, p.score]);
    vocab.push(['<mask>', 0]);
    const ids = { '<s>': 0, '</s>': 2 };
    return JSON.stringify({
      version: '1.0', truncation: null, padding: null,
      added_tokens: [added(0, '<s>'), added(1, '<pad>'), added(2, '</s>'), added(3, '<unk>'), added(vocab.length - 1, '<mask>')],
      normalizer: m.precompiledCharsmap ? { type: 'Precompiled', precompiled_charsmap: Buffer.from(m.precompiledCharsmap).toString('base64') } : null,
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
    const addedTokens = [];
    for (const [i, p] of m.pieces.entries()) if (p.type === 3) addedTokens.push(added(i, p.piece));
    for (const t of extra) {
      let id = vocab.findIndex(([p]) => p === t);
      if (id < 0) { id = vocab.length + Object.keys(ids).filter((k) => ids[k]! >= vocab.length).length; }
      ids[t] = id;
      addedTokens.push(added(id, t));
    }
    const unk = m.pieces.findIndex((p) => p.type === 2);
    return JSON.stringify({
      version: '1.0', truncation: null, padding: null,
      added_tokens: addedTokens,
      normalizer: { type: 'Sequence', normalizers: [
        ...(flag('do_lower_case', false) ? [{ type: 'Lowercase' }] : []),
        { type: 'Replace', pattern: { Regex: '\\s{2,}|[\\n\\r\\t]' }, content: ' ' }, { type: 'NFC' }, { type: 'Strip', strip_left: false, strip_right: true },
      ] },
      pre_tokenizer: { type: 'Sequence', pretokenizers: [...(flag('split_by_punct', false) ? [{ type: 'Punctuation', behavior: 'Isolated' }] : []), meta] },
      post_processor: tpl('[CLS]', '[SEP]', ids),
      decoder: meta,
      model: { type: 'Unigram', unk_id: unk < 0 ? 0 : unk, vocab, byte_fallback: false },
    });
  }
  void cfg;
  throw new TokenizerConfigError(`${path}: a SentencePiece model for tokenizer_class ${JSON.stringify(cls)} is not supported; supported: XLMRobertaTokenizer, DebertaV2Tokenizer (or ship a tokenizer.json)`);
}
