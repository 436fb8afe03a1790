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
  private readonly tokens: { content: string; id: number }[];
  private readonly firstUnits: string[];

  constructor(tokens: Iterable<{ content: string; id: number }>) {
    const byContent = new Map<string, number>();
    for (const t of tokens) if (t.content !== '' && !byContent.has(t.content)) byContent.set(t.content, t.id);
    this.tokens = [...byContent].map(([content, id]) => ({ content, id }));
    this.firstUnits = [...new Set(this.tokens.map((t) => t.content[0]!))];
  }

  get isEmpty(): boolean {
    return this.tokens.length === 0;
  }

  /** Matches in text[from, to), in order. Usually no token's first character occurs: one indexOf each. */
  find(text: string, from: number, to: number): AddedMatch[] {
    const none: AddedMatch[] = [];
    let any = false;
    for (const u of this.firstUnits) {
      const at = text.indexOf(u, from);
      if (at >= 0 && at < to) {
        any = true;
        break;
      }
    }
    if (!any) return none;
    const cands: AddedMatch[] = [];
    for (const t of this.tokens) {
      for (let at = text.indexOf(t.content, from); at >= 0 && at + t.content.length <= to; at = text.indexOf(t.content, at + 1)) {
        cands.push({ start: at, end: at + t.content.length, id: t.id });
      }
    }
    cands.sort((a, b) => a.start - b.start || b.end - a.end);
    const out: AddedMatch[] = [];
    let pos = from;
    for (const c of cands) {
      if (c.start < pos) continue;
      out.push(c);
      pos = c.end;
    }
    return out;
  }
}
