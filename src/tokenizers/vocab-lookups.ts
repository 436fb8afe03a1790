/**
 * The token <-> id conversions every tokenizer offers (HF's tokenize, convert_tokens_to_ids,
 * convert_ids_to_tokens), over the subclass's vocabulary tables and unknown id.
 */
import type { EncodeOptions, Encoding } from './tokenizer.js';

export abstract class VocabLookups {
  abstract readonly unkId: number;
  protected abstract readonly tokenToId: Map<string, number>;
  /** Token of each id; holes are ids no token has. */
  protected abstract readonly idToToken: readonly (string | undefined)[];
  abstract encode(text: string, opts?: EncodeOptions): Encoding;

  tokenize(text: string): string[] {
    return this.encode(text, { addSpecialTokens: false }).tokens;
  }

  /** Unknown tokens map to unkId, as in HF. */
  convertTokensToIds(tokens: string): number;
  convertTokensToIds(tokens: readonly string[]): number[];
  convertTokensToIds(tokens: string | readonly string[]): number | number[] {
    if (typeof tokens === 'string') return this.tokenToId.get(tokens) ?? this.unkId;
    return tokens.map((t) => this.tokenToId.get(t) ?? this.unkId);
  }

  convertIdsToTokens(ids: number): string;
  convertIdsToTokens(ids: readonly number[]): string[];
  convertIdsToTokens(ids: number | readonly number[]): string | string[] {
    if (typeof ids === 'number') return this.tokenOf(ids);
    return ids.map((id) => this.tokenOf(id));
  }

  protected tokenOf(id: number): string {
    const t = Number.isInteger(id) ? this.idToToken[id] : undefined;
    if (t === undefined) throw new RangeError(`token id ${id} is not in the vocabulary (ids 0..${this.idToToken.length - 1})`);
    return t;
  }
}
