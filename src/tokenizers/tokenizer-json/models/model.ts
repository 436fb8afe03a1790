/**
 * What every tokenizer.json model (BPE, Unigram, WordPiece) is: it turns one pre-tokenized piece
 * (code points) into tokens, [id, startCp, endCp] triples flattened, ranges in the piece's code
 * points. Results are cached per piece text.
 */
import type { JsonCtx } from '../json-ctx.js';

export interface Model {
  readonly vocab: Map<string, number>;
  /** id -> token, for the model's own vocabulary. */
  readonly tokens: string[];
  readonly unkId: number | null;
  tokenize(cps: readonly number[], text: string): Int32Array;
}

const CACHE_LIMIT = 1 << 17;
/** Longer pieces are not cached (as Rust's 256-char MAX_LENGTH): one hostile word must not pin memory. */
const CACHE_MAX_CHARS = 256;

/** A {"token": id} vocabulary (BPE, WordPiece), every id checked. */
export function readVocabObject(ctx: JsonCtx, v: unknown, path: string): { vocab: Map<string, number>; tokens: string[] } {
  const o = ctx.obj(v, path);
  const vocab = new Map<string, number>();
  const tokens: string[] = [];
  for (const [tok, id] of Object.entries(o)) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0x7fffffff)
      ctx.fail(`${path}[${JSON.stringify(tok)}]`, `id must be a non-negative integer, got ${JSON.stringify(id)}`);
    if (tokens[id] !== undefined) ctx.fail(`${path}[${JSON.stringify(tok)}]`, `id ${id} is also ${JSON.stringify(tokens[id])}`);
    vocab.set(tok, id);
    tokens[id] = tok;
  }
  return { vocab, tokens };
}

/** Results cached per piece text, the cache bounded in entries and in piece length. */
export abstract class Cached {
  private readonly cache = new Map<string, Int32Array>();
  tokenize(cps: readonly number[], text: string): Int32Array {
    if (text.length > CACHE_MAX_CHARS) return this.compute(cps, text);
    let r = this.cache.get(text);
    if (r === undefined) {
      r = this.compute(cps, text);
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(text, r);
    }
    return r;
  }
  /** `text` is `cps` as a string. */
  protected abstract compute(cps: readonly number[], text: string): Int32Array;
}
