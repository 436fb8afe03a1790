/** The WordPiece model of tokenizer.json: greedy longest match first, with the continuation prefix. */
import type { JsonCtx, Obj } from '../json-ctx.js';
import { Cached, readVocabObject, type Model } from './model.js';

export class WordPieceModel extends Cached implements Model {
  readonly vocab: Map<string, number>;
  readonly tokens: string[];
  readonly unkId: number;
  readonly prefix: string;
  private readonly maxChars: number;

  constructor(ctx: JsonCtx, o: Obj, path: string) {
    super();
    ctx.known(o, path, ['unk_token', 'continuing_subword_prefix', 'max_input_chars_per_word', 'vocab']);
    ({ vocab: this.vocab, tokens: this.tokens } = readVocabObject(ctx, o['vocab'], `${path}.vocab`));
    const unk = ctx.str(o, 'unk_token', path, '[UNK]');
    this.unkId = this.vocab.get(unk) ?? ctx.fail(`${path}.unk_token`, `${JSON.stringify(unk)} is not in the vocabulary`);
    this.prefix = ctx.str(o, 'continuing_subword_prefix', path, '##');
    this.maxChars = ctx.int(o, 'max_input_chars_per_word', path, 100);
    // No match is longer than the longest entry: candidates past it need not be built or looked up.
    const prefixLen = [...this.prefix].length;
    for (const tok of this.vocab.keys()) {
      const len = [...tok].length;
      this.maxTokenChars = Math.max(this.maxTokenChars, len, tok.startsWith(this.prefix) ? len - prefixLen : 0);
    }
  }
  /** Longest vocabulary entry in code points (a continuation entry counted without its prefix too). */
  private readonly maxTokenChars: number = 0;

  protected compute(cps: readonly number[], word: string): Int32Array {
    const n = cps.length;
    const unk = Int32Array.of(this.unkId, 0, n);
    if (n > this.maxChars) return unk;
    // UTF-16 index of each code point boundary.
    const at = new Int32Array(n + 1);
    for (let k = 0; k < n; k++) at[k + 1] = at[k]! + (cps[k]! > 0xffff ? 2 : 1);
    const out: number[] = [];
    let start = 0;
    while (start < n) {
      let end = Math.min(n, start + this.maxTokenChars);
      let id: number | undefined;
      while (end > start) {
        const sub = word.slice(at[start]!, at[end]!);
        id = this.vocab.get(start > 0 ? this.prefix + sub : sub);
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) return unk;
      out.push(id, start, end);
      start = end;
    }
    return Int32Array.from(out);
  }
}
