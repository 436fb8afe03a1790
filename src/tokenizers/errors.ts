/** Errors raised while reading or writing tokenizer files. They name the file and, where known, the line. */
export class TokenizerFileError extends Error {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, problem: string, line?: number) {
    super(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
    this.name = 'TokenizerFileError';
    this.file = file;
    this.line = line;
  }
}

/** A setting the caller passed (or a file requested) that this tokenizer does not support. */
export class TokenizerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerConfigError';
  }
}
