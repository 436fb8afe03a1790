/**
 * Streaming form of the data readers' text rule (text-file.ts): bytes in, strict UTF-8 text
 * out, refusing bad UTF-8 and NUL bytes with the file, line and byte offset, so a streamed
 * input (`predict --file`) follows the same rule as a file read whole (train, evaluate, score).
 */
import { Transform, type Readable } from 'node:stream';
import { DataFormatError } from './errors.js';
import { firstInvalidUtf8Offset } from './text-file.js';

/**
 * Longest line a stream may carry: a 1 GB line once died in readline with a RangeError stack and
 * a 300 MB word in "Array buffer allocation failed"; past this the input is refused by line number.
 */
export const MAX_STREAM_LINE_BYTES = 32 * 1024 * 1024;

export function strictUtf8Stream(input: Readable, source: string, maxLineBytes = MAX_STREAM_LINE_BYTES): Readable {
  let run = 0; // bytes since the last line feed
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  let line = 1;
  let carry = new Uint8Array(0); // an incomplete sequence at a chunk end, to locate errors exactly
  const fail = (bytes: Uint8Array): DataFormatError => {
    const at = Math.max(0, firstInvalidUtf8Offset(bytes));
    let l = line;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) l++;
    const shown = Array.from(bytes.subarray(at, at + 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    return new DataFormatError(
      source,
      l,
      `invalid UTF-8 at byte offset ${offset - carry.length + at} (bytes ${shown}); re-encode the file as UTF-8`,
    );
  };
  const t = new Transform({
    readableObjectMode: false,
    decodeStrings: true,
    transform(chunk: Buffer, _enc, done) {
      const nul = chunk.indexOf(0);
      if (nul >= 0) {
        let l = line;
        for (let i = 0; i < nul; i++) if (chunk[i] === 0x0a) l++;
        done(new DataFormatError(source, l, `binary data (a NUL byte) at byte offset ${offset + nul}: not a text file`));
        return;
      }
      const bytes = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        done(fail(bytes));
        return;
      }
      offset += chunk.length;
      // Keep an unfinished sequence at the end, so an error in the next chunk is located exactly.
      carry = Uint8Array.from(bytes.subarray(bytes.length - incompleteTail(bytes)));
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] === 0x0a) {
          line++;
          run = 0;
        } else if (++run > maxLineBytes) {
          done(
            new DataFormatError(
              source,
              line,
              `line is longer than ${maxLineBytes} bytes (the most one line may hold); split it into several lines`,
            ),
          );
          return;
        }
      }
      done(null, text);
    },
    flush(done) {
      try {
        done(null, decoder.decode());
      } catch {
        done(
          new DataFormatError(
            source,
            line,
            `invalid UTF-8 at byte offset ${offset - 1}: the file ends inside a multi-byte sequence; re-encode the file as UTF-8`,
          ),
        );
      }
    },
  });
  input.on('error', (e) => t.destroy(e));
  return input.pipe(t);
}

/** Bytes at the end of `b` that start a multi-byte sequence not yet complete (0 to 3). */
function incompleteTail(b: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, b.length); k++) {
    const c = b[b.length - k]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}
