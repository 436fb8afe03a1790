import { readFileSync } from 'node:fs';
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
    if (b < 0x80) { i++; continue; }
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
  } catch {
    const off = firstInvalidUtf8Offset(bytes);
    const at = off < 0 ? bytes.length : off;
    const shown = Array.from(bytes.subarray(at, Math.min(at + 4, bytes.length)), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new DataFormatError(file, lineOfByteOffset(bytes, at), `invalid UTF-8 at byte offset ${at} (bytes ${shown}); re-encode the file as UTF-8`);
  }
}

/** Reads a text data file, rejecting empty files and bad UTF-8 with a message naming the file. */
export function readTextFile(file: string): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new DataFormatError(file, 0, `cannot read file: ${(e as Error).message}`);
  }
  if (bytes.length === 0) throw new DataFormatError(file, 0, 'file is empty');
  return decodeUtf8Strict(bytes, file);
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
