/** The BPE model of tokenizer.json: merges by rank over a piece's characters, as Rust's BPE. */
import type { JsonCtx, Obj } from '../json-ctx.js';
import { Cached, readVocabObject, type Model } from './model.js';

export class BpeModel extends Cached implements Model {
  readonly vocab: Map<string, number>;
  readonly tokens: string[];
  readonly unkId: number | null;
  /** Merge of the pair (left, right) by pairKey: its rank and the merged token's id. */
  private readonly ranks = new Map<number | string, number>();
  private readonly mergedId = new Map<number | string, number>();
  private readonly pairKey: (a: number, b: number) => number | string;
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly byteFallback: boolean;
  private readonly fuseUnk: boolean;
  private readonly ignoreMerges: boolean;

  constructor(ctx: JsonCtx, o: Obj, path: string) {
    super();
    ctx.known(o, path, [
      'dropout',
      'unk_token',
      'continuing_subword_prefix',
      'end_of_word_suffix',
      'fuse_unk',
      'byte_fallback',
      'ignore_merges',
      'vocab',
      'merges',
    ]);
    if (o['dropout'] !== null && o['dropout'] !== undefined && o['dropout'] !== 0)
      ctx.fail(`${path}.dropout`, 'BPE dropout is not supported (it makes tokenization random); set it to null');
    ({ vocab: this.vocab, tokens: this.tokens } = readVocabObject(ctx, o['vocab'], `${path}.vocab`));
    const unk = ctx.optStr(o, 'unk_token', path);
    this.unkId =
      unk === null ? null : (this.vocab.get(unk) ?? ctx.fail(`${path}.unk_token`, `${JSON.stringify(unk)} is not in the vocabulary`));
    this.prefix = ctx.optStr(o, 'continuing_subword_prefix', path) ?? '';
    this.suffix = ctx.optStr(o, 'end_of_word_suffix', path) ?? '';
    this.byteFallback = ctx.bool(o, 'byte_fallback', path, false);
    this.fuseUnk = ctx.bool(o, 'fuse_unk', path, false);
    this.ignoreMerges = ctx.bool(o, 'ignore_merges', path, false);
    const merges = ctx.arr(o, 'merges', path);
    // A number key while left * width + right stays exact (any real vocabulary), else a string.
    const width = this.tokens.length;
    this.pairKey = width * width < Number.MAX_SAFE_INTEGER ? (a, b) => a * width + b : (a, b) => `${a} ${b}`;
    merges.forEach((m, rank) => {
      let a: unknown, b: unknown;
      if (typeof m === 'string') {
        const sp = m.indexOf(' ');
        if (sp < 0 || m.indexOf(' ', sp + 1) >= 0) ctx.fail(`${path}.merges[${rank}]`, `${JSON.stringify(m)} is not "left right"`);
        a = m.slice(0, sp);
        b = m.slice(sp + 1);
      } else if (Array.isArray(m) && m.length === 2) [a, b] = m;
      if (typeof a !== 'string' || typeof b !== 'string')
        ctx.fail(`${path}.merges[${rank}]`, `must be "left right" or ["left", "right"], got ${JSON.stringify(m)}`);
      const ia = this.vocab.get(a),
        ib = this.vocab.get(b);
      if (ia === undefined || ib === undefined)
        ctx.fail(`${path}.merges[${rank}]`, `${JSON.stringify(ia === undefined ? a : b)} is not in the vocabulary`);
      const merged = a + (this.prefix !== '' && b.startsWith(this.prefix) ? b.slice(this.prefix.length) : b);
      const id = this.vocab.get(merged);
      if (id === undefined) ctx.fail(`${path}.merges[${rank}]`, `the merged token ${JSON.stringify(merged)} is not in the vocabulary`);
      const key = this.pairKey(ia, ib);
      if (!this.ranks.has(key)) {
        this.ranks.set(key, rank);
        this.mergedId.set(key, id);
      }
    });
  }

  protected compute(cps: readonly number[], word: string): Int32Array {
    if (this.ignoreMerges) {
      const id = this.vocab.get(word);
      if (id !== undefined) return Int32Array.of(id, 0, cps.length);
    }
    // Symbols: id, start, end (code points).
    const ids: number[] = [],
      st: number[] = [],
      en: number[] = [];
    let unk: [number, number, number] | null = null;
    const flushUnk = () => {
      if (unk) {
        ids.push(unk[0]);
        st.push(unk[1]);
        en.push(unk[2]);
        unk = null;
      }
    };
    for (let i = 0; i < cps.length; i++) {
      let s = String.fromCodePoint(cps[i]!);
      if (i > 0) s = this.prefix + s;
      if (i === cps.length - 1) s = s + this.suffix;
      const id = this.vocab.get(s);
      if (id !== undefined) {
        flushUnk();
        ids.push(id);
        st.push(i);
        en.push(i + 1);
        continue;
      }
      if (this.byteFallback) {
        const bytes = Buffer.from(s, 'utf8');
        const bids: number[] = [];
        for (const b of bytes) {
          const bid = this.vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
          if (bid === undefined) break;
          bids.push(bid);
        }
        if (bids.length === bytes.length) {
          // Rust does not flush a pending unk here; it stays pending until the next known symbol.
          for (const b of bids) {
            ids.push(b);
            st.push(i);
            en.push(i + 1);
          }
          continue;
        }
      }
      if (this.unkId !== null) {
        const u: [number, number, number] | null = unk;
        if (u !== null && this.fuseUnk) u[2] = i + 1;
        else {
          flushUnk();
          unk = [this.unkId, i, i + 1];
        }
      }
    }
    flushUnk();
    return this.mergeAll(ids, st, en);
  }

  /**
   * Rust's Word::merge_all: a heap of candidate merges keyed by (rank, position) over a linked
   * list of symbols, so a word of n symbols costs O(n log n), not a rescan per merge. Entries
   * made stale by an earlier merge are skipped when popped (same test as Rust: the pair now at
   * that position must still merge into the entry's token).
   */
  private mergeAll(ids: number[], st: number[], en: number[]): Int32Array {
    const n = ids.length;
    const next = new Int32Array(n),
      prev = new Int32Array(n);
    const alive = new Uint8Array(n).fill(1);
    for (let k = 0; k < n; k++) {
      next[k] = k + 1 < n ? k + 1 : -1;
      prev[k] = k - 1;
    }
    const heap = new MergeHeap();
    const offer = (pos: number, right: number) => {
      const key = this.pairKey(ids[pos]!, ids[right]!);
      const rank = this.ranks.get(key);
      if (rank !== undefined) heap.push(rank, pos, this.mergedId.get(key)!);
    };
    for (let k = 0; k + 1 < n; k++) offer(k, k + 1);
    while (heap.size > 0) {
      const pos = heap.topPos(),
        newId = heap.topNewId();
      heap.pop();
      if (!alive[pos]) continue;
      const right = next[pos]!;
      if (right < 0) continue;
      const key = this.pairKey(ids[pos]!, ids[right]!);
      if (this.mergedId.get(key) !== newId) continue; // stale
      ids[pos] = newId;
      en[pos] = en[right]!;
      alive[right] = 0;
      const after = next[right]!;
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      if (prev[pos]! >= 0) offer(prev[pos]!, pos);
      if (after >= 0) offer(pos, after);
    }
    let count = 0;
    for (let k = 0; k < n; k++) count += alive[k]!;
    const out = new Int32Array(count * 3);
    let o = 0;
    for (let k = 0; k < n; k++) {
      if (!alive[k]) continue;
      out[o++] = ids[k]!;
      out[o++] = st[k]!;
      out[o++] = en[k]!;
    }
    return out;
  }
}

/** Binary min-heap of merges ordered by (rank, position), in parallel typed arrays. */
class MergeHeap {
  private rank = new Float64Array(16);
  private pos = new Int32Array(16);
  private newId = new Int32Array(16);
  size = 0;

  topPos(): number {
    return this.pos[0]!;
  }
  topNewId(): number {
    return this.newId[0]!;
  }

  private less(i: number, j: number): boolean {
    const ri = this.rank[i]!,
      rj = this.rank[j]!;
    return ri < rj || (ri === rj && this.pos[i]! < this.pos[j]!);
  }

  private swap(i: number, j: number): void {
    const r = this.rank[i]!;
    this.rank[i] = this.rank[j]!;
    this.rank[j] = r;
    const p = this.pos[i]!;
    this.pos[i] = this.pos[j]!;
    this.pos[j] = p;
    const d = this.newId[i]!;
    this.newId[i] = this.newId[j]!;
    this.newId[j] = d;
  }

  push(rank: number, pos: number, newId: number): void {
    if (this.size === this.rank.length) {
      const grow = <T extends Float64Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.rank = grow(this.rank);
      this.pos = grow(this.pos);
      this.newId = grow(this.newId);
    }
    let i = this.size++;
    this.rank[i] = rank;
    this.pos[i] = pos;
    this.newId[i] = newId;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): void {
    const last = --this.size;
    if (last === 0) return;
    this.rank[0] = this.rank[last]!;
    this.pos[0] = this.pos[last]!;
    this.newId[0] = this.newId[last]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1,
        r = l + 1;
      let m = i;
      if (l < last && this.less(l, m)) m = l;
      if (r < last && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
