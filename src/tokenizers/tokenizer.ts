/**
 * The tokenizer interface the rest of tokentune uses (data alignment, windows, the pipeline, the
 * Trainer, checkpoints, the CLI) and the types it speaks in. Implementations (WordPieceTokenizer,
 * JsonTokenizer) import this file, never the reverse; `loadTokenizer(dir)` (load-tokenizer.ts)
 * picks one the way transformers' AutoTokenizer does.
 */

export interface Encoding {
  /** Token ids, with the post-processor's special tokens ([CLS] ... [SEP], <s> ... </s>) when addSpecialTokens. */
  ids: number[];
  tokens: string[];
  /**
   * [start, end) in UTF-16 code units into the input text; for encodeWords, into the word the
   * token came from (wordIds says which). [0, 0] for the special tokens the post-processor added.
   */
  offsets: [number, number][];
  /** Index of the pre-tokenized word (encode) or of the input word (encodeWords); null for added [CLS]/[SEP]. */
  wordIds: (number | null)[];
  /** 1 for the [CLS]/[SEP] the post-processor added, 0 otherwise (also for "[MASK]" found in the text). */
  specialTokensMask: number[];
  attentionMask: number[];
  typeIds: number[];
}

export interface EncodeOptions {
  /** Add the special tokens ([CLS] and [SEP] for BERT). Default true. */
  addSpecialTokens?: boolean;
  /** Longest result, special tokens included. Implies truncation unless truncation is false. */
  maxLength?: number;
  /** Cut the tokens to maxLength (or modelMaxLength when maxLength is absent), keeping the start. */
  truncation?: boolean;
}

export interface DecodeOptions {
  /** Drop special tokens ([CLS], [SEP], [PAD], [UNK], [MASK], additional ones). Default false. */
  skipSpecialTokens?: boolean;
  /** Apply transformers' clean_up_tokenization. Default: the tokenizer's setting (true for BERT). */
  cleanUpTokenizationSpaces?: boolean;
}

export interface Tokenizer {
  /** Size of the model's own vocabulary (HF `vocab_size`). */
  readonly vocabSize: number;
  /** All ids, added tokens included (HF `len(tokenizer)`). */
  readonly totalVocabSize: number;
  readonly unkId: number;
  /** The token put before a sequence ([CLS], <s>). */
  readonly clsId: number;
  /** The token put after a sequence ([SEP], </s>). */
  readonly sepId: number;
  readonly padId: number;
  readonly modelMaxLength: number;
  encode(text: string, opts?: EncodeOptions): Encoding;
  /** HF `is_split_into_words=True`: word ids are input indices, offsets relative to each word. */
  encodeWords(words: readonly string[], opts?: EncodeOptions): Encoding;
  tokenize(text: string): string[];
  convertIdsToTokens(ids: number): string;
  convertIdsToTokens(ids: readonly number[]): string[];
  convertTokensToIds(tokens: string): number;
  convertTokensToIds(tokens: readonly string[]): number[];
  /**
   * HF `backend_tokenizer.model.continuing_subword_prefix`: the pipeline fuses sub-tokens into
   * words by it; null when the model has none (byte-level BPE, Unigram). Absent: WordPiece's "##".
   */
  readonly continuingSubwordPrefix?: string | null;
  /** HF convert_tokens_to_string; absent: the WordPiece decoder. */
  convertTokensToString?(tokens: readonly string[]): string;
  decode(ids: readonly number[], opts?: DecodeOptions): string;
  isSpecialId(id: number): boolean;
  /** Writes the tokenizer files (as AutoTokenizer reads them) into dir. */
  saveVocab(dir: string): void;
}
