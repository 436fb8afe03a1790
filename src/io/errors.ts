/**
 * Error classes of the io layer. Parsers throw only CheckpointFormatError (or a subclass) for
 * bad input, so callers (and the fuzz tests) can tell "this file is broken" from a bug.
 */

/** Longest detail an error quotes: hostile files can make names and strings of any length. */
const MAX_DETAIL_CHARS = 600;

/** `s`, or its head and tail around a note of how much was cut, when it is longer than `max`. */
export function excerpt(s: string, max = MAX_DETAIL_CHARS): string {
  if (s.length <= max) return s;
  const keep = Math.max(0, max - 40);
  return `${s.slice(0, Math.ceil(keep * 0.75))} ...[${s.length - keep} chars cut]... ${s.slice(s.length - Math.floor(keep * 0.25))}`;
}

/** A checkpoint/archive/pickle is malformed. `file` names the file (or '<buffer>'). */
export class CheckpointFormatError extends Error {
  readonly file: string;
  constructor(file: string, detail: string) {
    super(`${file}: ${excerpt(detail)}`);
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
      `refusing to load pickle global '${excerpt(global, 200)}': only tensor/state-dict globals are allowed ` +
        `(a pickle can run arbitrary code; this file is either not a plain state dict or malicious)`,
    );
    this.name = 'UnsafePickleError';
    this.global = excerpt(global, 200);
  }
}

/** No checkpoint file found where one was expected. */
export class CheckpointNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointNotFoundError';
  }
}
