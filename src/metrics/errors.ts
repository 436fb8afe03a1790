import { excerpt } from '../io/errors.js';

/** Raised when tag sequences cannot be scored (length mismatch, empty tag, tag outside a scheme). */
export class MetricsInputError extends Error {
  /** 0-based sentence index and token position the problem was found at, when it is about one tag. */
  readonly sentence: number | undefined;
  readonly position: number | undefined;
  /** Which side the bad tag came from. */
  readonly side: 'gold' | 'predicted' | undefined;

  constructor(message: string, where: { sentence?: number; position?: number; side?: 'gold' | 'predicted' } = {}) {
    super(excerpt(message)); // tags quoted from a hostile file may be any length
    this.name = 'MetricsInputError';
    this.sentence = where.sentence;
    this.position = where.position;
    this.side = where.side;
  }
}

/** Raised for a malformed conlleval-style input file; names the file and the 1-based line. */
export class ConllFormatError extends Error {
  readonly file: string;
  readonly line: number;

  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${excerpt(problem)}`); // a quoted line may be 400 MB: quote a short excerpt
    this.name = 'ConllFormatError';
    this.file = file;
    this.line = line;
  }
}
