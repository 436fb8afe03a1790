/** A WordPiece vocabulary: token <-> id, read from vocab.txt or from tokenizer.json's model.vocab. */
import { TokenizerFileError } from './errors.js';
import { ModelFileError, readModelFile } from '../io/model-file.js';

export class Vocab {
  /** Token of each id; `undefined` for an id no token maps to (a duplicate line lost it, as in HF). */
  readonly idToToken: (string | undefined)[];
  readonly tokenToId: Map<string, number>;
  /** Longest token in code points (including any "##"), bounding WordPiece's inner loop. */
  readonly maxTokenChars: number;
  /** The lines to write back as vocab.txt (duplicates kept, so ids do not shift). */
  readonly lines: readonly string[];

  constructor(idToToken: (string | undefined)[], tokenToId: Map<string, number>, lines?: readonly string[]) {
    this.idToToken = idToToken;
    this.lines = lines ?? idToToken.map((t) => t ?? '');
    this.tokenToId = tokenToId;
    let max = 0;
    for (const t of tokenToId.keys()) {
      let n = 0;
      for (let i = 0; i < t.length; i++) {
        const c = t.charCodeAt(i);
        if (c < 0xdc00 || c > 0xdfff) n++; // count code points, not UTF-16 units
      }
      if (n > max) max = n;
    }
    this.maxTokenChars = max;
  }

  /** Number of ids (highest id + 1): the rows an embedding table needs. */
  get size(): number {
    return this.idToToken.length;
  }

  /** Lines of vocab.txt as HF's `load_vocab` reads them: id = line number, later duplicates win. */
  static fromLines(lines: readonly string[]): Vocab {
    const tokenToId = new Map<string, number>();
    const idToToken: (string | undefined)[] = lines.slice();
    lines.forEach((t, i) => {
      const prev = tokenToId.get(t);
      if (prev !== undefined) idToToken[prev] = undefined;
      tokenToId.set(t, i);
    });
    return new Vocab(idToToken, tokenToId, lines);
  }
}

/**
 * Reads vocab.txt like transformers' `load_vocab`: UTF-8 (a BOM stays part of the first token,
 * as in Python's 'utf-8' codec), universal newlines (\n, \r\n, \r), one token per line, nothing else
 * stripped. Invalid UTF-8 is an error naming the line.
 */
export function readVocabTxt(path: string): Vocab {
  let bytes: Buffer;
  try {
    bytes = readModelFile(path);
  } catch (e) {
    throw new TokenizerFileError(path, `cannot read vocabulary: ${e instanceof ModelFileError ? e.problem : (e as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new TokenizerFileError(path, 'not valid UTF-8', firstBadUtf8Line(bytes));
  }
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new TokenizerFileError(path, 'vocabulary is empty');
  return Vocab.fromLines(lines);
}

function firstBadUtf8Line(bytes: Buffer): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        dec.decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}

/** tokenizer.json's `model.vocab` object ({token: id}); ids must be distinct non-negative integers. */
export function vocabFromJsonObject(path: string, obj: unknown): Vocab {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new TokenizerFileError(path, 'model.vocab must be an object mapping token to id');
  }
  const o = obj as Record<string, unknown>;
  // Keys only, then one lookup each: Object.entries made 2M [key, value] pairs for a 2M vocabulary.
  const keys = Object.keys(o);
  const n = keys.length;
  if (n === 0) throw new TokenizerFileError(path, 'model.vocab is empty');
  const tokenToId = new Map<string, number>();
  // Ids must be exactly 0..n-1 (what every WordPiece tokenizer.json holds): a gap or a huge id
  // would make an embedding table that the vocabulary cannot fill.
  const idToToken: (string | undefined)[] = new Array<string | undefined>(n).fill(undefined);
  for (const token of keys) {
    const id = o[token];
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= n) {
      throw new TokenizerFileError(
        path,
        `model.vocab[${JSON.stringify(token)}] is ${JSON.stringify(id)}; ids must be integers 0..${n - 1}`,
      );
    }
    if (idToToken[id] !== undefined) {
      throw new TokenizerFileError(
        path,
        `model.vocab gives id ${id} to both ${JSON.stringify(idToToken[id])} and ${JSON.stringify(token)}`,
      );
    }
    idToToken[id] = token;
    tokenToId.set(token, id);
  }
  return new Vocab(idToToken, tokenToId);
}
