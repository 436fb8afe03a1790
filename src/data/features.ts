import { IGNORE_INDEX, WordPieceCache, alignLabels } from './align.js';
import type { WordTokenizer } from './align.js';
import { DataFormatError } from './errors.js';
import { bToIMap } from './label-map.js';
import type { LabelMap } from './label-map.js';
import { planWindows } from './windows.js';

/**
 * One model input: a whole sentence or one window of a long sentence. The arrays are views into
 * shared chunks (see `slabAllocator`): read them, or `.slice()` them, but never use `.buffer`
 * as if it held only this feature.
 */
export interface Feature {
  inputIds: Int32Array;
  /** All ones (padding is added by `collate`). */
  attentionMask: Int32Array;
  /** All zeros: single-sequence input. */
  tokenTypeIds: Int32Array;
  /** Label id per token; -100 where the loss ignores it (specials, continuation pieces). */
  labels: Int32Array;
  /** Sentence word index per token; -1 for [CLS]/[SEP]. */
  wordIds: Int32Array;
  sentenceIndex: number;
  /** 0 for the first (or only) window of the sentence. */
  windowIndex: number;
  /** Words [wordStart, wordEnd) of the sentence are in this feature. */
  wordStart: number;
  wordEnd: number;
  /** Words [ownedWordStart, ownedWordEnd) take their prediction from this feature. */
  ownedWordStart: number;
  ownedWordEnd: number;
}

export interface FeatureOptions {
  /** Longest sequence including [CLS] and [SEP]. Default 512. */
  maxSeqLength?: number;
  /** Overlap between consecutive windows of a long sentence, in tokens. Default min(128, half the window). */
  stride?: number;
  /** Label every sub-token (B- becomes I- on continuations), as run_ner.py's --label_all_tokens. */
  labelAllTokens?: boolean;
  /**
   * Label a word only in the window that owns it. Default false: in training every window
   * labels all its words (more signal; ownership matters only for predictions).
   */
  labelOwnedOnly?: boolean;
  /** Reuse a cache across splits so each distinct word is tokenized once. */
  cache?: WordPieceCache;
}

export interface FeatureStats {
  sentences: number;
  features: number;
  /** Sentences that needed more than one window. */
  splitSentences: number;
  /** Words longer than a whole window, cut to fit (their first piece is kept). */
  truncatedWords: number;
  /** Word occurrences that produced no sub-token and were given [UNK]. */
  zeroPieceWords: number;
  /** Tokens that carry a label (not -100). */
  labelledTokens: number;
  /** Longest feature, in tokens. */
  maxTokens: number;
}

/**
 * Tokenizes, aligns and windows sentences. With `labelMap` null (prediction) all labels are
 * -100 and tags are not looked at. A tag not in the label map is an error naming the file,
 * the sentence's line and the tag.
 */
export function buildFeatures(
  data: { sentences: readonly { tokens: readonly string[]; tags?: readonly string[]; line?: number }[]; source?: string },
  tokenizer: WordTokenizer,
  labelMap: LabelMap | null,
  opts: FeatureOptions = {},
): { features: Feature[]; stats: FeatureStats } {
  const maxSeqLength = opts.maxSeqLength ?? 512;
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 3)
    throw new RangeError(`maxSeqLength must be an integer >= 3 (room for [CLS], one token, [SEP]), got ${maxSeqLength}`);
  const budget = maxSeqLength - 2;
  // An explicit stride is validated by planWindows; the default shrinks for short windows.
  const stride = opts.stride ?? Math.min(128, Math.floor(budget / 2));
  const cache = opts.cache ?? new WordPieceCache(tokenizer);
  const bToI = labelMap && opts.labelAllTokens ? bToIMap(labelMap) : undefined;
  const special = { clsId: tokenizer.clsId, sepId: tokenizer.sepId };
  const source = data.source ?? '<sentences>';
  const features: Feature[] = [];
  const stats: FeatureStats = {
    sentences: data.sentences.length,
    features: 0,
    splitSentences: 0,
    truncatedWords: 0,
    zeroPieceWords: 0,
    labelledTokens: 0,
    maxTokens: 0,
  };

  const alloc = slabAllocator();
  const pieces: Int32Array[] = [];
  let countsBuf = new Int32Array(64);
  let labelsBuf = new Int32Array(64);

  data.sentences.forEach((sent, si) => {
    const n = sent.tokens.length;
    // Scratch buffers reused across sentences; only the features' own arrays are kept.
    if (n > countsBuf.length) {
      countsBuf = new Int32Array(2 * n);
      labelsBuf = new Int32Array(2 * n);
    }
    const counts = countsBuf.subarray(0, n);
    pieces.length = n;
    for (let w = 0; w < n; w++) {
      const p = cache.pieces(sent.tokens[w]!);
      if (cache.isZeroPiece(p)) stats.zeroPieceWords++;
      if (p.length > budget) stats.truncatedWords++;
      pieces[w] = p;
      counts[w] = p.length;
    }
    let wordLabels: Int32Array | null = null;
    if (labelMap) {
      if (!sent.tags || sent.tags.length !== n)
        throw new DataFormatError(source, sent.line ?? 0, `sentence ${si} has ${n} tokens but ${sent.tags?.length ?? 0} tags`);
      wordLabels = labelsBuf;
      for (let w = 0; w < n; w++) {
        const id = labelMap.label2id.get(sent.tags[w]!);
        if (id === undefined)
          throw new DataFormatError(
            source,
            sent.line ?? 0,
            `sentence ${si}, word ${w} (${JSON.stringify(sent.tokens[w])}): label ${JSON.stringify(sent.tags[w])} is not in the label map [${labelMap.labels.join(', ')}]`,
          );
        wordLabels[w] = id;
      }
    }
    const windows = planWindows(counts, budget, stride);
    if (windows.length > 1) stats.splitSentences++;
    for (let wi = 0; wi < windows.length; wi++) {
      const win = windows[wi]!;
      const seq = alignLabels(pieces, wordLabels, special, {
        start: win.start,
        end: win.end,
        maxPiecesPerWord: budget,
        alloc,
        labelAllTokens: opts.labelAllTokens ?? false,
        ...(bToI ? { bToI } : {}),
        ...(opts.labelOwnedOnly ? { labelFrom: win.ownStart, labelTo: win.ownEnd } : {}),
      });
      const len = seq.inputIds.length;
      for (let t = 0; t < len; t++) if (seq.labels[t] !== IGNORE_INDEX) stats.labelledTokens++;
      if (len > stats.maxTokens) stats.maxTokens = len;
      features.push({
        inputIds: seq.inputIds,
        labels: seq.labels,
        wordIds: seq.wordIds,
        attentionMask: alloc(len).fill(1),
        tokenTypeIds: alloc(len).fill(0),
        sentenceIndex: si,
        windowIndex: wi,
        wordStart: win.start,
        wordEnd: win.end,
        ownedWordStart: win.ownStart,
        ownedWordEnd: win.ownEnd,
      });
    }
  });
  stats.features = features.length;
  return { features, stats };
}

/**
 * Hands out Int32Array views into large shared chunks: one backing store per ~256 KiB instead of
 * five per feature, which cut the garbage-collection time that dominated feature building.
 * Views never overlap; a chunk lives as long as any feature that uses it.
 */
function slabAllocator(chunkInts = 1 << 16): (n: number) => Int32Array {
  let chunk = new Int32Array(chunkInts);
  let used = 0;
  return (n: number): Int32Array => {
    if (used + n > chunk.length) {
      chunk = new Int32Array(Math.max(chunkInts, n));
      used = 0;
    }
    const view = chunk.subarray(used, used + n);
    used += n;
    return view;
  };
}
