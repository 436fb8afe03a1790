/**
 * Aligning word-level labels to sub-word tokens, as HF run_ner.py's `tokenize_and_align_labels`.
 */

/** Label id that the loss ignores (PyTorch CrossEntropyLoss ignore_index). */
export const IGNORE_INDEX = -100;

/**
 * The part of a tokenizer this layer needs (structural, so tests can pass a fake). Must behave
 * like BERT's `is_split_into_words` mode: each word is tokenized on its own, so a word's pieces
 * do not depend on its neighbours and can be cached.
 */
export interface WordTokenizer {
  encodeWords(words: string[], opts?: { addSpecialTokens?: boolean }): { ids: number[] };
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
}

/**
 * Tokenizes each distinct word once. A word that yields no pieces at all (a lone control
 * character, a zero-width space: BERT's normalizer deletes them) is given the single piece
 * [UNK], so it still gets a position and therefore a prediction; HF would silently drop its
 * label instead. `zeroPieceWords` counts such distinct words.
 */
export class WordPieceCache {
  private readonly cache = new Map<string, Int32Array>();
  private readonly unk: Int32Array;
  zeroPieceWords = 0;

  constructor(
    private readonly tokenizer: WordTokenizer,
    private readonly maxEntries = 1 << 20,
  ) {
    this.unk = Int32Array.of(tokenizer.unkId);
  }

  pieces(word: string): Int32Array {
    let p = this.cache.get(word);
    if (p === undefined) {
      const ids = this.tokenizer.encodeWords([word], { addSpecialTokens: false }).ids;
      if (ids.length === 0) {
        p = this.unk;
        this.zeroPieceWords++;
      } else p = Int32Array.from(ids);
      // Bounded so a stream of unique junk (URLs, hashes) cannot grow memory without limit.
      if (this.cache.size >= this.maxEntries) this.cache.clear();
      this.cache.set(word, p);
    }
    return p;
  }

  /** True if the word tokenized to nothing and was given [UNK]. */
  isZeroPiece(pieces: Int32Array): boolean {
    return pieces === this.unk;
  }
}

export interface AlignOptions {
  /** Label every sub-token (continuations get `bToI[label]`); default false: first sub-token only. */
  labelAllTokens?: boolean;
  /** Per label id, the label for continuation pieces (see `bToIMap`); identity when omitted. */
  bToI?: ArrayLike<number>;
}

/**
 * Labels for a token sequence given its word ids (null/-1 for special tokens), exactly as
 * run_ner.py: the first token of each word gets the word's label, other tokens and specials
 * get -100, or with `labelAllTokens` continuation tokens get `bToI[label]`.
 * A word label of -100 stays -100 on all its tokens.
 */
export function labelsFromWordIds(wordIds: ArrayLike<number | null>, wordLabels: ArrayLike<number>, opts: AlignOptions = {}): Int32Array {
  const out = new Int32Array(wordIds.length);
  let prev: number | null = null;
  for (let i = 0; i < wordIds.length; i++) {
    const w = wordIds[i];
    if (w === null || w === undefined || w < 0) {
      out[i] = IGNORE_INDEX;
      prev = null;
      continue;
    }
    if (w >= wordLabels.length) throw new RangeError(`word id ${w} at token ${i} is out of range for ${wordLabels.length} word labels`);
    const label = wordLabels[w]!;
    if (w !== prev) out[i] = label;
    else if (opts.labelAllTokens && label !== IGNORE_INDEX) out[i] = opts.bToI ? opts.bToI[label]! : label;
    else out[i] = IGNORE_INDEX;
    prev = w;
  }
  return out;
}

export interface AlignedSequence {
  inputIds: Int32Array;
  labels: Int32Array;
  /** Index of the word (in the sentence) each token belongs to; -1 for [CLS]/[SEP]. */
  wordIds: Int32Array;
}

/**
 * Builds `[CLS] pieces(words[start..end)) [SEP]` with aligned labels from per-word pieces.
 * `maxPiecesPerWord` truncates an oversize word (one longer than a whole window); its first
 * piece, which carries the label, is always kept.
 */
export function alignLabels(
  wordPieces: readonly ArrayLike<number>[],
  wordLabels: ArrayLike<number> | null,
  special: { clsId: number; sepId: number },
  opts: AlignOptions & {
    start?: number;
    end?: number;
    maxPiecesPerWord?: number;
    /** Only words [labelFrom, labelTo) get labels (the rest -100); default all. */
    labelFrom?: number;
    labelTo?: number;
    /** Allocator for the output arrays (features.ts passes a slab allocator). */
    alloc?: (n: number) => Int32Array;
  } = {},
): AlignedSequence {
  const start = opts.start ?? 0;
  const end = opts.end ?? wordPieces.length;
  const cap = opts.maxPiecesPerWord ?? Infinity;
  let len = 2;
  for (let w = start; w < end; w++) len += Math.min(wordPieces[w]!.length, cap);
  const alloc = opts.alloc ?? ((k: number) => new Int32Array(k));
  const labelFrom = opts.labelFrom ?? start;
  const labelTo = opts.labelTo ?? end;
  const inputIds = alloc(len);
  const labels = alloc(len);
  const wordIds = alloc(len);
  inputIds[0] = special.clsId;
  labels[0] = IGNORE_INDEX;
  wordIds[0] = -1;
  let t = 1;
  for (let w = start; w < end; w++) {
    const p = wordPieces[w]!;
    const n = Math.min(p.length, cap);
    const label = wordLabels && w >= labelFrom && w < labelTo ? wordLabels[w]! : IGNORE_INDEX;
    const cont = opts.labelAllTokens && label !== IGNORE_INDEX ? (opts.bToI ? opts.bToI[label]! : label) : IGNORE_INDEX;
    for (let k = 0; k < n; k++, t++) {
      inputIds[t] = p[k]!;
      wordIds[t] = w;
      labels[t] = k === 0 ? label : cont;
    }
  }
  inputIds[t] = special.sepId;
  labels[t] = IGNORE_INDEX;
  wordIds[t] = -1;
  return { inputIds, labels, wordIds };
}
