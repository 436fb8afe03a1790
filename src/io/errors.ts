/**
 * Error classes of the io layer. Parsers throw only CheckpointFormatError (or a subclass) for
 * bad input, so callers (and the fuzz tests) can tell "this file is broken" from a bug.
 */

/** A checkpoint/archive/pickle is malformed. `file` names the file (or '<buffer>'). */
export class CheckpointFormatError extends Error {
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'CheckpointFormatError';
    this.file = file;
  }
}

/** The file is well-formed but uses a feature we deliberately do not read. */
export class UnsupportedCheckpointError extends CheckpointFormatError {
  constructor(file: string, detail: string) {
    super(file, detail);
    this.name = 'UnsupportedCheckpointError';
  }
}

/** A pickle asked for a global outside the allow-list: refused, nothing is ever executed. */
export class UnsafePickleError extends CheckpointFormatError {
  readonly global: string;
  constructor(file: string, global: string) {
    super(
      file,
      `refusing to load pickle global '${global}': only tensor/state-dict globals are allowed ` +
        `(a pickle can run arbitrary code; this file is either not a plain state dict or malicious)`,
    );
    this.name = 'UnsafePickleError';
    this.global = global;
  }
}

/** No checkpoint file found where one was expected. */
export class CheckpointNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointNotFoundError';
  }
}
