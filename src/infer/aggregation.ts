/**
 * Hugging Face TokenClassificationPipeline's post-processing, step for step
 * (transformers/pipelines/token_classification.py: gather_pre_entities, aggregate,
 * aggregate_words, aggregate_word, group_entities, group_sub_entities, get_tag), as pure
 * functions over per-token probabilities so they can be tested on crafted scores.
 *
 * Differences from HF, all deliberate:
 * - start/end are JavaScript string indices (UTF-16 code units); HF reports code points. They
 *   agree on text without astral characters (emoji and the like).
 * - The subword test compares code-point lengths, as Python's len() does, so it is unaffected
 *   by the unit of the offsets.
 */

export const AGGREGATION_STRATEGIES = ['none', 'simple', 'first', 'average', 'max'] as const;
export type AggregationStrategy = (typeof AGGREGATION_STRATEGIES)[number];

export function isAggregationStrategy(s: unknown): s is AggregationStrategy {
  return typeof s === 'string' && (AGGREGATION_STRATEGIES as readonly string[]).includes(s);
}

/** aggregation 'none': one entry per token, as HF (key order too). */
export interface TokenEntity {
  entity: string;
  score: number;
  /** Position of the token in the encoded sequence ([CLS] is 0). */
  index: number;
  /** The token as the vocabulary spells it ("##ing"); the original text for [UNK]. */
  word: string;
  start: number;
  end: number;
}

/** aggregation simple/first/average/max: one entry per group of adjacent same-type tokens/words. */
export interface GroupedEntity {
  entity_group: string;
  score: number;
  /**
   * The group's tokens joined as HF's convert_tokens_to_string does (WordPiece decoder: "##"
   * pieces glued, others space-separated; lowercased for uncased models). For the exact
   * original text use text.slice(start, end).
   */
  word: string;
  start: number;
  end: number;
}

export type Entity = TokenEntity | GroupedEntity;

/** One non-special token with its probabilities, before aggregation (HF's "pre_entity"). */
export interface PreEntity {
  word: string;
  scores: Float64Array;
  start: number;
  end: number;
  index: number;
  isSubword: boolean;
}

/** What post-processing needs from the tokenizer. */
export interface TokenText {
  convertIdsToTokens(id: number): string;
  /** HF convert_tokens_to_string: the WordPiece decoder over a token list. */
  tokensToString(tokens: readonly string[]): string;
  readonly unkId: number;
  /**
   * HF's `tokenizer._tokenizer.model.continuing_subword_prefix` ("##" for WordPiece). Set: a token
   * is a subword when its spelling and its text differ in length. Empty or null (byte-level BPE,
   * SentencePiece Unigram): transformers' fallback, a token is a subword unless a space touches
   * its start. Absent: "##".
   */
  readonly continuingSubwordPrefix?: string | null;
}

/** Row-wise softmax of float32 logits [n, numLabels] (HF: exp(x - max) / sum). */
export function softmaxRows(logits: ArrayLike<number>, n: number, numLabels: number): Float64Array[] {
  const out: Float64Array[] = new Array(n);
  for (let r = 0; r < n; r++) {
    const o = r * numLabels;
    let mx = -Infinity;
    for (let c = 0; c < numLabels; c++) if (logits[o + c]! > mx) mx = logits[o + c]!;
    const row = new Float64Array(numLabels);
    let sum = 0;
    for (let c = 0; c < numLabels; c++) {
      const e = Math.exp(logits[o + c]! - mx);
      row[c] = e;
      sum += e;
    }
    for (let c = 0; c < numLabels; c++) row[c]! /= sum;
    out[r] = row;
  }
  return out;
}

/** numpy argmax: the first index of the maximum. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

export interface TokenForEntity {
  id: number;
  start: number;
  end: number;
  /** Position in the encoded sequence ([CLS] = 0). */
  index: number;
  scores: Float64Array;
}

/**
 * HF gather_pre_entities: with a continuing_subword_prefix (WordPiece), a token is a subword when
 * its vocabulary spelling and its text differ in length ("##ing" vs "ing"); without one, when
 * neither the character before it nor its first character is a space (HF's fallback heuristic,
 * on the text as given). An unknown token is never a subword and its word is the original text.
 * Special tokens must already be left out by the caller.
 */
export function gatherPreEntities(sentence: string, tokens: readonly TokenForEntity[], tok: TokenText): PreEntity[] {
  const wordAware = (tok.continuingSubwordPrefix ?? (tok.continuingSubwordPrefix === null ? '' : '##')) !== '';
  return tokens.map((t) => {
    let word = tok.convertIdsToTokens(t.id);
    const wordRef = sentence.slice(t.start, t.end);
    // Python's sentence[start - 1:start + 1] holds two code points; ' ' is never half of a surrogate pair.
    let isSubword = wordAware
      ? codePointLength(word) !== codePointLength(wordRef)
      : t.start > 0 && sentence[t.start - 1] !== ' ' && sentence[t.start] !== ' ';
    if (t.id === tok.unkId) {
      word = wordRef;
      isSubword = false;
    }
    return { word, scores: t.scores, start: t.start, end: t.end, index: t.index, isSubword };
  });
}

/** A token or word with its decided label, before grouping. */
interface LabelledPiece {
  entity: string;
  score: number;
  word: string;
  start: number;
  end: number;
  index?: number;
}

function labelAt(labels: readonly string[], idx: number): string {
  const l = labels[idx];
  if (l === undefined) throw new RangeError(`label id ${idx} has no name (the model has ${labels.length} labels)`);
  return l;
}

/** HF aggregate_word: one label for the tokens of one word. */
export function aggregateWord(
  pieces: readonly PreEntity[],
  strategy: 'first' | 'average' | 'max',
  labels: readonly string[],
  tok: TokenText,
): LabelledPiece {
  const word = tok.tokensToString(pieces.map((p) => p.word));
  let entity: string;
  let score: number;
  if (strategy === 'first') {
    const s = pieces[0]!.scores;
    const idx = argmax(s);
    score = s[idx]!;
    entity = labelAt(labels, idx);
  } else if (strategy === 'max') {
    // Python's max(): the first piece whose top probability is largest.
    let best = pieces[0]!;
    let bestMax = best.scores[argmax(best.scores)]!;
    for (const p of pieces.slice(1)) {
      const m = p.scores[argmax(p.scores)]!;
      if (m > bestMax) {
        best = p;
        bestMax = m;
      }
    }
    const idx = argmax(best.scores);
    score = best.scores[idx]!;
    entity = labelAt(labels, idx);
  } else {
    const avg = new Float64Array(labels.length);
    for (const p of pieces) for (let c = 0; c < avg.length; c++) avg[c]! += p.scores[c]!;
    for (let c = 0; c < avg.length; c++) avg[c]! /= pieces.length;
    const idx = argmax(avg);
    entity = labelAt(labels, idx);
    score = avg[idx]!;
  }
  return { entity, score, word, start: pieces[0]!.start, end: pieces[pieces.length - 1]!.end };
}

/** HF aggregate_words: a subword joins the word before it; each word gets one label. */
export function aggregateWords(
  pre: readonly PreEntity[],
  strategy: 'first' | 'average' | 'max',
  labels: readonly string[],
  tok: TokenText,
): LabelledPiece[] {
  const out: LabelledPiece[] = [];
  let group: PreEntity[] | null = null;
  for (const p of pre) {
    if (group === null) group = [p];
    else if (p.isSubword) group.push(p);
    else {
      out.push(aggregateWord(group, strategy, labels, tok));
      group = [p];
    }
  }
  if (group !== null) out.push(aggregateWord(group, strategy, labels, tok));
  return out;
}

/** HF get_tag: "B-X" -> [B, X]; "I-X" -> [I, X]; anything else continues: [I, whole label]. */
export function getTag(label: string): ['B' | 'I', string] {
  if (label.startsWith('B-')) return ['B', label.slice(2)];
  if (label.startsWith('I-')) return ['I', label.slice(2)];
  return ['I', label];
}

/** HF group_sub_entities: type = text after the first '-', score = mean, word = decoded tokens. */
function groupSubEntities(pieces: readonly LabelledPiece[], tok: TokenText): GroupedEntity {
  const first = pieces[0]!.entity;
  const dash = first.indexOf('-');
  const entityGroup = dash < 0 ? first : first.slice(dash + 1);
  let sum = 0;
  for (const p of pieces) sum += p.score;
  return {
    entity_group: entityGroup,
    score: sum / pieces.length,
    word: tok.tokensToString(pieces.map((p) => p.word)),
    start: pieces[0]!.start,
    end: pieces[pieces.length - 1]!.end,
  };
}

/**
 * HF group_entities: adjacent pieces of the same type merge unless the newer one is a B-.
 * Runs over ALL pieces, "O" included, so "B-PER O I-PER" stays two PER entities.
 */
export function groupEntities(pieces: readonly LabelledPiece[], tok: TokenText): GroupedEntity[] {
  const groups: GroupedEntity[] = [];
  let current: LabelledPiece[] = [];
  for (const p of pieces) {
    if (current.length === 0) {
      current.push(p);
      continue;
    }
    const [bi, tag] = getTag(p.entity);
    const [, lastTag] = getTag(current[current.length - 1]!.entity);
    if (tag === lastTag && bi !== 'B') current.push(p);
    else {
      groups.push(groupSubEntities(current, tok));
      current = [p];
    }
  }
  if (current.length) groups.push(groupSubEntities(current, tok));
  return groups;
}

/** HF aggregate + the ignore_labels filter of postprocess. */
export function aggregate(
  pre: readonly PreEntity[],
  strategy: AggregationStrategy,
  labels: readonly string[],
  tok: TokenText,
  ignoreLabels: readonly string[] = ['O'],
): Entity[] {
  const ignore = new Set(ignoreLabels);
  if (strategy === 'none' || strategy === 'simple') {
    const tokens: TokenEntity[] = pre.map((p) => {
      const idx = argmax(p.scores);
      return { entity: labelAt(labels, idx), score: p.scores[idx]!, index: p.index, word: p.word, start: p.start, end: p.end };
    });
    if (strategy === 'none') return tokens.filter((t) => !ignore.has(t.entity));
    return groupEntities(tokens, tok).filter((g) => !ignore.has(g.entity_group));
  }
  return groupEntities(aggregateWords(pre, strategy, labels, tok), tok).filter((g) => !ignore.has(g.entity_group));
}
