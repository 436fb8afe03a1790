/**
 * Finding added/special tokens ("[MASK]", "[SEP]", ...) verbatim in raw text before normalization,
 * as HF tokenizers' AddedVocabulary does for non-normalized tokens: leftmost match first, longest
 * on a tie, matches never overlap; the text between matches is tokenized normally.
 */
export interface AddedMatch {
  start: number;
  end: number;
  id: number;
}

export class AddedTokenMatcher {
  /** Trie over the tokens' UTF-16 units (node -> unit -> child) and the id ending at each node (-1 none). */
  private readonly children: Map<number, number>[] = [new Map()];
  private readonly ending: number[] = [-1];

  constructor(tokens: Iterable<{ content: string; id: number }>) {
    for (const t of tokens) {
      if (t.content === '') continue;
      let node = 0;
      for (let k = 0; k < t.content.length; k++) {
        const u = t.content.charCodeAt(k);
        let next = this.children[node]!.get(u);
        if (next === undefined) {
          next = this.children.length;
          this.children.push(new Map());
          this.ending.push(-1);
          this.children[node]!.set(u, next);
        }
        node = next;
      }
      if (this.ending[node] === -1) this.ending[node] = t.id; // the first of equal contents wins
    }
  }

  get isEmpty(): boolean {
    return this.children[0]!.size === 0;
  }

  /**
   * Matches in text[from, to), in order: leftmost first, the longest at a start, never
   * overlapping. One trie walk per position, so 200k added tokens cost no more than 20.
   */
  find(text: string, from: number, to: number): AddedMatch[] {
    const out: AddedMatch[] = [];
    const root = this.children[0]!;
    let i = from;
    while (i < to) {
      if (!root.has(text.charCodeAt(i))) {
        i++;
        continue;
      }
      let node = 0,
        end = -1,
        id = -1;
      for (let k = i; k < to; k++) {
        const next = this.children[node]!.get(text.charCodeAt(k));
        if (next === undefined) break;
        node = next;
        if (this.ending[node]! >= 0) {
          end = k + 1;
          id = this.ending[node]!;
        }
      }
      if (end < 0) {
        i++;
        continue;
      }
      out.push({ start: i, end, id });
      i = end;
    }
    return out;
  }
}
