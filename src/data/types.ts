/** One labelled sentence: parallel arrays of words and their tags. */
export interface Sentence {
  tokens: string[];
  tags: string[];
  /** 1-based line (text formats) or row/item number (parquet, JSON arrays) where it starts. */
  line: number;
}

/** What every reader returns. */
export interface Dataset {
  sentences: Sentence[];
  /** The file it came from (as given). */
  source: string;
  /** Non-fatal problems, each naming file and line (e.g. labels mapped to O by policy). */
  warnings: string[];
}

/** What to do with a tag that is not in the model's label set. */
export type UnknownLabelPolicy = 'error' | 'warn' | 'map-to-O';

/** Options shared by all readers for checking tags. */
export interface TagCheckOptions {
  /**
   * The model's labels. When given, a tag outside this set is handled per `onUnknownLabel`.
   * When absent every well-formed tag is accepted.
   */
  labelSet?: Iterable<string>;
  /** Default 'error'. 'warn' keeps the tag and records a warning; 'map-to-O' replaces it with O and warns. */
  onUnknownLabel?: UnknownLabelPolicy;
  /**
   * Validate chunk-tag prefixes (`X-PER`, `B-` are errors). Default true; CoNLL-U readers default
   * to false because POS tags are not chunk tags.
   */
  checkPrefixes?: boolean;
}
