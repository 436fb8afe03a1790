import { constants } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { DataFormatError } from './errors.js';

/**
 * Byte offset of the first invalid UTF-8 sequence in `bytes`, or -1 if it is all valid.
 * Follows the same rules as WHATWG's decoder (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequences.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // > U+10FFFF
    } else return i;
    if (i + need >= n) return i; // sequence truncated by end of input
    const second = bytes[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) {
      const c = bytes[i + k]!;
      if (c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** 1-based line number of byte `offset` (counts LF bytes before it). */
export function lineOfByteOffset(bytes: Uint8Array, offset: number): number {
  let line = 1;
  const end = Math.min(offset, bytes.length);
  for (let i = 0; i < end; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * Strict UTF-8 decoding of a whole file; on bad bytes the error names the line and byte offset
 * instead of the decoder's bare "The encoded data was not valid".
 */
export function decodeUtf8Strict(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    const off = firstInvalidUtf8Offset(bytes);
    // Valid bytes that still fail to decode make a string longer than V8 allows.
    if (off < 0)
      throw new DataFormatError(
        file,
        0,
        `${bytes.length} bytes of text are too long for one string (${(e as Error).message}); split the file into several`,
      );
    const at = off;
    const shown = Array.from(bytes.subarray(at, Math.min(at + 4, bytes.length)), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataFormatError(
      file,
      lineOfByteOffset(bytes, at),
      `invalid UTF-8 at byte offset ${at} (bytes ${shown}); re-encode the file as UTF-8`,
    );
  }
}

/**
 * Largest text file read: V8 cannot hold a longer string, and a character device or FIFO
 * (`/dev/zero`) must not be read without bound.
 */
export const MAX_TEXT_BYTES = constants.MAX_STRING_LENGTH;
const CHUNK = 1 << 20;

/**
 * Reads a text data file, rejecting folders, empty files, binary data (NUL bytes), files too
 * large for one string, bad UTF-8 and CR-only line endings with a message naming the file.
 * Reading goes by chunks so a device or a binary file is refused after its first megabyte.
 */
export function readTextFile(file: string): string {
  return decodeTextBytes(readBoundedFile(file), file);
}

/** The bytes of `file`, at most MAX_TEXT_BYTES, with no NUL byte. */
export function readBoundedFile(file: string, maxBytes = MAX_TEXT_BYTES): Uint8Array {
  let fd: number;
  try {
    if (statSync(file).isDirectory()) throw new DataFormatError(file, 0, 'is a folder, expected a data file');
    fd = openSync(file, 'r');
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(file, 0, `cannot read file: ${(e as Error).message}`);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    // A regular file's size is known: too large is refused unread, and one read takes it whole.
    const st = fstatSync(fd);
    if (st.isFile() && st.size > maxBytes) throw tooLarge(file, maxBytes);
    const chunk = st.isFile() ? Math.max(CHUNK, st.size + 1) : CHUNK;
    for (;;) {
      const buf = Buffer.allocUnsafe(chunk);
      let n: number;
      try {
        n = readSync(fd, buf, 0, chunk, null);
      } catch (e) {
        throw new DataFormatError(file, 0, `cannot read file: ${(e as Error).message}`);
      }
      if (n === 0) break;
      const nul = buf.subarray(0, n).indexOf(0);
      if (nul >= 0) {
        const at = total + nul;
        throw new DataFormatError(
          file,
          lineOfByteOffset(Buffer.concat([...chunks, buf.subarray(0, nul)]), at),
          `binary data (a NUL byte) at byte offset ${at}: not a text data file`,
        );
      }
      total += n;
      if (total > maxBytes) throw tooLarge(file, maxBytes);
      chunks.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

function tooLarge(file: string, maxBytes: number): DataFormatError {
  return new DataFormatError(
    file,
    0,
    `is larger than ${maxBytes} bytes, the most one text file may hold (the longest string Node can make); split it into several files`,
  );
}

/** Strict UTF-8 text of a data file's bytes: empty files and CR-only line endings are refused too. */
export function decodeTextBytes(bytes: Uint8Array, file: string): string {
  if (bytes.length === 0) throw new DataFormatError(file, 0, 'file is empty');
  const text = decodeUtf8Strict(bytes, file);
  checkLineEndings(text, file);
  return text;
}

/**
 * A carriage return not followed by a line feed means old Mac (CR-only) line endings, which
 * would otherwise read as one long line and score or train on garbage without a word.
 */
export function checkLineEndings(text: string, file: string): void {
  for (let i = text.indexOf('\r'); i >= 0; i = text.indexOf('\r', i + 1)) {
    if (text.charCodeAt(i + 1) !== 10) {
      let line = 1;
      for (let j = text.indexOf('\n'); j >= 0 && j < i; j = text.indexOf('\n', j + 1)) line++;
      throw new DataFormatError(
        file,
        line,
        "carriage return (CR) without a line feed: the file has CR-only (old Mac) line endings or a stray CR; convert it to LF or CRLF line endings (e.g. tr '\\r' '\\n')",
      );
    }
  }
}

/**
 * Calls `fn(line, lineNo)` for each line with its terminator (LF or CRLF) removed.
 * A final line without terminator is still visited; a terminator at the very end does not
 * produce an extra empty line.
 */
export function forEachLine(text: string, fn: (line: string, lineNo: number) => void): void {
  let start = 0;
  let lineNo = 1;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    const next = end < 0 ? n : end + 1;
    if (end < 0) end = n;
    const stop = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    fn(text.slice(start, stop), lineNo);
    lineNo++;
    start = next;
  }
}
