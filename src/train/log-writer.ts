// outputDir/log.jsonl: every log and evaluation record as one JSON line, appended as it happens,
// so that a crashed or killed run still leaves its history. Each line is written with one
// write(2) on an O_APPEND descriptor (no user-space buffer to lose); resuming from a checkpoint
// drops the lines past that checkpoint's step so the file reads like one uninterrupted run.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseJsonText, stringifyJsonText } from '../util/json-text.js';
import { writeFileAtomic } from '../io/atomic.js';

export const LOG_FILE_NAME = 'log.jsonl';

export class LogFileError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'LogFileError';
  }
}

/** One line of log.jsonl: the Trainer's records always carry a numeric `step`. */
export type LogLine = Readonly<Record<string, unknown>>;

export interface ReadLogResult {
  records: LogLine[];
  /** True when the last line had no newline (a write cut short by a crash); it is not in records. */
  truncatedTail: boolean;
}

/** Reads log.jsonl. A partial last line is skipped (reported), any other bad line is an error. */
export function readLogFile(path: string): ReadLogResult {
  if (!existsSync(path)) return { records: [], truncatedTail: false };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop()!; // '' when the file ends with a newline
  const records: LogLine[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = parseJsonText(line, `${path}:${i + 1}`);
    } catch (e) {
      throw new LogFileError(`${path}:${i + 1}: not a JSON record (${(e as Error).message})`, path, i + 1);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw new LogFileError(`${path}:${i + 1}: expected a JSON object`, path, i + 1);
    }
    records.push(v as LogLine);
  });
  return { records, truncatedTail: last.length > 0 };
}

export interface LogWriterOptions {
  /** Resuming from the checkpoint at this step: drop records with a larger step first. */
  resumeFromStep?: number;
  /** A fresh run: an earlier run's records are discarded, not continued. */
  fresh?: boolean;
  /** fsync after every line (survives power loss; costs a disk flush per record). */
  fsync?: boolean;
}

export class LogWriter {
  readonly path: string;
  private fd: number | null;
  private readonly fsyncEach: boolean;

  /**
   * Opens (creating outputDir if needed) outputDir/log.jsonl for appending. A cut-off last line
   * from a crash is dropped; with `resumeFromStep`, so are records past that step.
   */
  constructor(outputDir: string, opts: LogWriterOptions = {}) {
    mkdirSync(outputDir, { recursive: true });
    this.path = join(outputDir, LOG_FILE_NAME);
    if (opts.fresh) rmSync(this.path, { force: true });
    if (existsSync(this.path)) {
      const { records, truncatedTail } = readLogFile(this.path);
      const keep =
        opts.resumeFromStep === undefined ? records : records.filter((r) => !(typeof r.step === 'number' && r.step > opts.resumeFromStep!));
      // Rewrite only when something must go: a cut-off last line or records past the resume point.
      if (truncatedTail || keep.length !== records.length) {
        writeFileAtomic(this.path, keep.map((r) => stringifyJsonText(r) + '\n').join(''));
      }
    }
    this.fd = openSync(this.path, 'a');
    this.fsyncEach = opts.fsync ?? false;
  }

  static open(outputDir: string, opts: LogWriterOptions = {}): LogWriter {
    return new LogWriter(outputDir, opts);
  }

  /** Appends one record as a single line. */
  append(record: Readonly<Record<string, unknown>>): void {
    if (this.fd === null) throw new Error(`${this.path}: log writer is closed`);
    const buf = Buffer.from(stringifyJsonText(record) + '\n', 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    if (this.fsyncEach) fsyncSync(this.fd);
  }

  /** Same as append(). */
  write(record: Readonly<Record<string, unknown>>): void {
    this.append(record);
  }

  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
