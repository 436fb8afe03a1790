/**
 * The tokenizer interface the rest of tokentune uses (data alignment, windows, the pipeline, the
 * Trainer, checkpoints, the CLI), and `loadTokenizer(dir)`, which picks the implementation the way
 * transformers' AutoTokenizer does: tokenizer.json when present, else the legacy files.
 */
import type { DecodeOptions, EncodeOptions, Encoding } from './wordpiece-tokenizer.js';

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
