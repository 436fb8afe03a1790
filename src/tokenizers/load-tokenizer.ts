/**
 * loadTokenizer(dir): the folder's tokenizer, as AutoTokenizer picks it. A tokenizer.json made of
 * BertNormalizer + BertPreTokenizer + WordPiece goes to WordPieceTokenizer (the fast path, which
 * also honours vocab.txt-era settings); any other tokenizer.json to JsonTokenizer; without one,
 * vocab.txt (WordPiece), vocab.json + merges.txt (byte-level BPE) or a SentencePiece model.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonFile, readTokenizerText } from './read-tokenizer-file.js';
import { TokenizerConfigError, TokenizerFileError } from './errors.js';
import { JsonTokenizer, type HfTokenizerConfig } from './tokenizer-json/json-tokenizer.js';
import { legacyBpeJson, sentencePieceJson } from './tokenizer-json/convert-legacy.js';
import type { Tokenizer } from './tokenizer.js';
import { WordPieceTokenizer } from './wordpiece-tokenizer.js';

const CONFIG_FILES = ['tokenizer_config.json', 'special_tokens_map.json'];
/** SentencePiece models, in the order loadTokenizer tries them (XLM-R, DeBERTa-v3, others). */
const SENTENCEPIECE_FILES = ['sentencepiece.bpe.model', 'spm.model', 'tokenizer.model'];
/** The files whose presence says a folder holds a tokenizer (loadTokenizer reads the first kind it finds). */
const TOKENIZER_MODEL_FILES = ['tokenizer.json', 'vocab.txt', 'vocab.json', ...SENTENCEPIECE_FILES];

/**
 * Every file a tokenizer folder may hold, of every kind transformers' AutoTokenizer reads:
 * tokenizer.json, WordPiece (vocab.txt), byte-level BPE (vocab.json + merges.txt), SentencePiece,
 * and the settings files.
 */
export const TOKENIZER_FILES: readonly string[] = [...TOKENIZER_MODEL_FILES, 'merges.txt', ...CONFIG_FILES, 'added_tokens.json'];

/** Whether `dir` holds a tokenizer of any kind (loadTokenizer then names what is missing, if anything). */
export function hasTokenizerFiles(dir: string): boolean {
  return TOKENIZER_MODEL_FILES.some((f) => existsSync(join(dir, f)));
}

export function loadTokenizer(dir: string): Tokenizer {
  if (!existsSync(dir)) throw new TokenizerConfigError(`tokenizer folder ${dir} does not exist`);
  const jsonPath = join(dir, 'tokenizer.json');
  if (existsSync(jsonPath)) {
    const source = readTokenizerText(jsonPath);
    const parsed = parseOrNull(source);
    // The parsed file is handed on: a 2M-entry vocabulary must not be parsed twice.
    if (isBertWordPiece(parsed)) return WordPieceTokenizer.fromPretrainedDir(dir, parsed);
    return new JsonTokenizer(applyConfig(source, dir), jsonPath, readConfig(dir));
  }
  if (existsSync(join(dir, 'vocab.txt'))) return WordPieceTokenizer.fromPretrainedDir(dir);
  const cfg = readConfig(dir);
  if (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt'))) {
    return new JsonTokenizer(legacyBpeJson(dir, cfg), join(dir, 'vocab.json'), cfg);
  }
  for (const name of SENTENCEPIECE_FILES) {
    const p = join(dir, name);
    if (existsSync(p)) return new JsonTokenizer(sentencePieceJson(p, cfg), p, cfg);
  }
  throw new TokenizerConfigError(
    `${dir} holds no tokenizer: expected tokenizer.json, vocab.txt, vocab.json + merges.txt, or sentencepiece.bpe.model / spm.model`,
  );
}

/** BERT's own pipeline (what WordPieceTokenizer implements natively). */
function parseOrNull(source: string): Record<string, unknown> | null {
  try {
    const j = JSON.parse(source) as unknown;
    return j !== null && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : null;
  } catch {
    return null; // JsonTokenizer reports the JSON error with the file name
  }
}

function isBertWordPiece(j: Record<string, unknown> | null): boolean {
  if (j === null) return false;
  const type = (v: unknown) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)['type'] : undefined);
  const pp = type(j['post_processor']);
  return (
    type(j['model']) === 'WordPiece' &&
    type(j['normalizer']) === 'BertNormalizer' &&
    type(j['pre_tokenizer']) === 'BertPreTokenizer' &&
    (pp === 'BertProcessing' || pp === 'TemplateProcessing') &&
    (j['decoder'] === null || type(j['decoder']) === 'WordPiece') &&
    Array.isArray(j['added_tokens']) &&
    (j['added_tokens'] as Record<string, unknown>[]).every((a) => !a['lstrip'] && !a['rstrip'] && !a['single_word'])
  );
}

/** tokenizer_config.json and special_tokens_map.json: the settings transformers reads, and the files to save back. */
export function readConfig(dir: string): HfTokenizerConfig {
  const cfg: HfTokenizerConfig = { extraFiles: {} };
  for (const name of CONFIG_FILES) {
    const p = join(dir, name);
    if (!existsSync(p)) continue;
    cfg.extraFiles![name] = readTokenizerText(p);
    const j = readJsonFile(p);
    if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new TokenizerFileError(p, 'must be a JSON object');
    const o = j as Record<string, unknown>;
    const tok = (k: string): string | undefined => {
      const v = o[k];
      if (typeof v === 'string') return v;
      if (v !== null && typeof v === 'object' && typeof (v as Record<string, unknown>)['content'] === 'string')
        return (v as Record<string, string>)['content'];
      if (v === undefined || v === null) return undefined;
      throw new TokenizerFileError(p, `"${k}" must be a token string or {"content": ...}, got ${JSON.stringify(v)}`);
    };
    cfg.unkToken = tok('unk_token') ?? cfg.unkToken;
    cfg.padToken = tok('pad_token') ?? cfg.padToken;
    cfg.clsToken = tok('cls_token') ?? cfg.clsToken;
    cfg.sepToken = tok('sep_token') ?? cfg.sepToken;
    const mml = o['model_max_length'];
    if (mml !== undefined) {
      if (typeof mml !== 'number' || !(mml > 0))
        throw new TokenizerFileError(p, `"model_max_length" must be a positive number, got ${JSON.stringify(mml)}`);
      cfg.modelMaxLength = mml;
    }
  }
  return cfg;
}

/**
 * tokenizer_config.json's add_prefix_space, which transformers' RoBERTa-style tokenizers write
 * into the ByteLevel pre-tokenizer and the RobertaProcessing post-processor.
 */
function applyConfig(source: string, dir: string): string {
  const p = join(dir, 'tokenizer_config.json');
  if (!existsSync(p)) return source;
  const c = readJsonFile(p) as Record<string, unknown>;
  const aps = c['add_prefix_space'];
  if (typeof aps !== 'boolean') return source;
  const j = JSON.parse(source) as Record<string, unknown>;
  let changed = false;
  const visit = (v: unknown, key: string, depth = 0) => {
    if (v === null || typeof v !== 'object' || depth > 64) return; // deeper Sequences are refused by JsonTokenizer
    const o = v as Record<string, unknown>;
    if (o['type'] === 'ByteLevel' && key !== 'decoder' && o['add_prefix_space'] !== aps) {
      o['add_prefix_space'] = aps;
      changed = true;
    }
    if (o['type'] === 'RobertaProcessing' && o['add_prefix_space'] !== aps) {
      o['add_prefix_space'] = aps;
      changed = true;
    }
    for (const k of ['pretokenizers', 'processors', 'normalizers'])
      if (Array.isArray(o[k])) for (const x of o[k] as unknown[]) visit(x, key, depth + 1);
  };
  for (const k of ['pre_tokenizer', 'post_processor', 'normalizer']) visit(j[k], k);
  return changed ? JSON.stringify(j) : source;
}
