/**
 * Errors raised while reading labelled data. The message always starts with
 * `file:line:` (or `file: row N:` for formats without lines) so a user can jump
 * straight to the offending spot.
 */
import { excerpt } from '../io/errors.js';

export class DataFormatError extends Error {
  /** 1-based line (or row/item number, see `unit`); 0 when the problem concerns the whole file. */
  readonly line: number;
  readonly file: string;
  readonly problem: string;

  constructor(file: string, line: number, problem: string, unit: 'line' | 'row' | 'item' = 'line') {
    problem = excerpt(problem); // tokens and tags quoted from a hostile file may be any length
    super(line > 0 ? `${file}:${unit === 'line' ? '' : `${unit} `}${line}: ${problem}` : `${file}: ${problem}`);
    this.name = 'DataFormatError';
    this.file = file;
    this.line = line;
    this.problem = problem;
  }
}

/** A label the model does not know; thrown only when the policy is 'error'. */
export class UnknownLabelError extends DataFormatError {
  override readonly name = 'UnknownLabelError';
}

/** Problems with how data and model fit together (label maps, configs), not with one file line. */
export class LabelMapError extends Error {
  override readonly name = 'LabelMapError';
}
