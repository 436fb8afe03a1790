/** The Unigram model of tokenizer.json (SentencePiece's): Viterbi over piece scores. */
import { TokenizerConfigError } from '../../errors.js';
import type { JsonCtx, Obj } from '../json-ctx.js';
import { codePointsToString } from '../normalized.js';
import { serdeJsonF64 } from '../serde-float.js';
import { Cached, type Model } from './model.js';

/** Viterbi over the pieces' log-probabilities, as Rust's Unigram::encode_optimized. */
export class UnigramModel extends Cached implements Model {
  readonly vocab = new Map<string, number>();
  readonly tokens: string[] = [];
  readonly unkId: number | null;
  private readonly scores: Float64Array;
  private readonly byteFallback: boolean;
  private readonly unkScore: number;
  /** Trie over code points: node -> (code point -> child); terminal id per node (-1 none). */
  private readonly children: Map<number, number>[] = [new Map()];
  private readonly terminal: number[] = [-1];

  constructor(ctx: JsonCtx, o: Obj, path: string) {
    super();
    ctx.known(o, path, ['unk_id', 'vocab', 'byte_fallback']);
    const list = ctx.arr(o, 'vocab', path);
    this.scores = new Float64Array(list.length);
    let minScore = Infinity;
    list.forEach((e, id) => {
      if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || typeof e[1] !== 'number')
        ctx.fail(`${path}.vocab[${id}]`, `must be ["piece", score], got ${JSON.stringify(e)}`);
      // JSON.parse reads 1e999 as Infinity; Rust's reader refuses it, and an infinite score wins every path.
      if (!Number.isFinite(e[1]))
        ctx.fail(`${path}.vocab[${id}]`, `score ${String(e[1])} is not a finite number (Rust tokenizers refuses it)`);
      const [piece, score] = e as [string, number];
      this.vocab.set(piece, id); // Rust's HashMap: the last duplicate wins
      this.tokens[id] = piece;
      this.scores[id] = serdeJsonF64(score); // the value Rust's JSON reader gives, which decides ties
      if (score < minScore) minScore = score;
      let node = 0;
      for (const ch of piece) {
        const c = ch.codePointAt(0)!;
        let next = this.children[node]!.get(c);
        if (next === undefined) {
          next = this.children.length;
          this.children.push(new Map());
          this.terminal.push(-1);
          this.children[node]!.set(c, next);
        }
        node = next;
      }
      if (node !== 0) this.terminal[node] = id;
    });
    const unk = o['unk_id'];
    if (unk === null || unk === undefined) this.unkId = null;
    else {
      this.unkId = ctx.int(o, 'unk_id', path);
      if (this.unkId >= list.length) ctx.fail(`${path}.unk_id`, `${this.unkId} is past the ${list.length}-piece vocabulary`);
    }
    this.byteFallback = ctx.bool(o, 'byte_fallback', path, false);
    this.unkScore = minScore - 10;
  }

  protected compute(cps: readonly number[]): Int32Array {
    const n = cps.length;
    const score = new Float64Array(n + 1);
    const from = new Int32Array(n + 1).fill(-1);
    const idAt = new Int32Array(n + 1);
    for (let s = 0; s < n; s++) {
      if (s > 0 && from[s] === -1) continue; // unreachable (cannot happen: unk covers every character)
      const base = score[s]!;
      let hasSingle = false;
      let node = 0;
      for (let e = s; e < n; e++) {
        const next = this.children[node]!.get(cps[e]!);
        if (next === undefined) break;
        node = next;
        const id = this.terminal[node]!;
        if (id < 0) continue;
        const cand = this.scores[id]! + base;
        if (from[e + 1] === -1 || cand > score[e + 1]!) {
          score[e + 1] = cand;
          from[e + 1] = s;
          idAt[e + 1] = id;
        }
        if (e === s) hasSingle = true;
      }
      if (!hasSingle) {
        if (this.unkId === null)
          throw new TokenizerConfigError(
            `Unigram: the character ${JSON.stringify(String.fromCodePoint(cps[s]!))} is not in the vocabulary and the model has no unk_id`,
          );
        const cand = this.unkScore + base;
        if (from[s + 1] === -1 || cand > score[s + 1]!) {
          score[s + 1] = cand;
          from[s + 1] = s;
          idAt[s + 1] = this.unkId;
        }
      }
    }
    // Back-track; consecutive unknowns fuse into one (fuse_unk is always on for Unigram).
    const rev: number[] = [];
    let end = n;
    while (end > 0) {
      const s = from[end]!;
      const id = idAt[end]!;
      if (id === this.unkId && rev.length > 0 && rev[rev.length - 3] === this.unkId) rev[rev.length - 2] = s;
      else rev.push(id, s, end);
      end = s;
    }
    const out: number[] = [];
    for (let k = rev.length - 3; k >= 0; k -= 3) {
      const id = rev[k]!,
        s = rev[k + 1]!,
        e = rev[k + 2]!;
      if (id === this.unkId && this.byteFallback) {
        const bytes = Buffer.from(codePointsToString(cps, s, e), 'utf8');
        const bids: number[] = [];
        for (const b of bytes) {
          const bid = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
          if (bid === undefined) break;
          bids.push(bid);
        }
        if (bids.length === bytes.length) {
          for (const b of bids) out.push(b, s, e);
          continue;
        }
      }
      out.push(id, s, e);
    }
    return Int32Array.from(out);
  }
}
