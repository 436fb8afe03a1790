/**
 * Positional reads from a file or an in-memory buffer, so parsers read only the bytes they need
 * (a 400 MB checkpoint is never held twice) and every read is bounds-checked in one place.
 */
import { closeSync, readSync } from 'node:fs';
import { CheckpointFormatError } from './errors.js';
import { openModelFile } from './model-file.js';

export interface ByteSource {
  /** Name used in error messages: the file path, or '<buffer>'. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`, in a fresh buffer the caller owns (aligned at 0). */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

function checkRange(name: string, size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new CheckpointFormatError(
      name,
      `${what}: byte range [${offset}, ${offset + length}) lies outside the ${size}-byte file (truncated or corrupt)`,
    );
  }
}

export function bufferSource(buf: Uint8Array, name = '<buffer>'): ByteSource {
  return {
    name,
    size: buf.length,
    read(offset, length) {
      checkRange(name, buf.length, offset, length, 'read');
      // Copy into a fresh ArrayBuffer: Buffer#slice would alias (and may sit at any pool offset).
      const out = new Uint8Array(length);
      out.set(buf.subarray(offset, offset + length));
      return out;
    },
    close() {},
  };
}

export function fileSource(path: string): ByteSource {
  // A regular file inside its folder only: a FIFO, device, folder or escaping link is refused.
  const { fd, size } = openModelFile(path);
  let open = true;
  return {
    name: path,
    size,
    read(offset, length) {
      checkRange(path, size, offset, length, 'read');
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) {
          throw new CheckpointFormatError(path, `file shrank while reading at byte ${offset + done}`);
        }
        done += n;
      }
      return out;
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Open `input` (path or bytes), run `fn`, always close. */
export function withSource<T>(input: string | Uint8Array, fn: (src: ByteSource) => T, name?: string): T {
  const src = typeof input === 'string' ? fileSource(input) : bufferSource(input, name);
  try {
    return fn(src);
  } finally {
    src.close();
  }
}
