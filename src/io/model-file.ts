/**
 * The one way files of a model, tokenizer or checkpoint folder are opened. A folder is untrusted:
 * a file may be a FIFO (open would hang), a device (`/dev/zero` reads without end), a folder, or a
 * symlink out of the folder (`vocab.txt -> /etc/passwd`). Only regular files are read, opened with
 * O_NONBLOCK and checked with fstat before a byte is read, text files with a size bound; a symlink
 * is followed only where its target stays inside the file's own folder or, for the hub cache's
 * `snapshots/<rev>/file -> ../../blobs/<hash>` links, inside that repository's blob store.
 * Errors name the file and the problem, never the content of a refused link's target.
 */
import { closeSync, constants as fsc, fstatSync, lstatSync, openSync, readSync, realpathSync, type Stats } from 'node:fs';
import { constants as bufc } from 'node:buffer';
import { basename, dirname, resolve, sep } from 'node:path';
import { CheckpointFormatError } from './errors.js';

/** Largest text/JSON file read from a model folder: the longest string V8 can make. */
export const MAX_MODEL_TEXT_BYTES = bufc.MAX_STRING_LENGTH;

/** A model-folder file is missing, not a regular file, too large, or a link leaving its folder. */
export class ModelFileError extends CheckpointFormatError {
  readonly code: string | undefined;
  /** The problem without the file name, for callers that wrap it in their own error class. */
  readonly problem: string;
  constructor(file: string, detail: string, code?: string) {
    super(file, detail);
    this.name = 'ModelFileError';
    this.code = code;
    this.problem = detail;
  }
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/** Folders a link at `path` may point into: its own folder, and the hub cache's blobs/ above a snapshots/ folder. */
function allowedRoots(path: string): string[] {
  const roots: string[] = [];
  const own = realOrNull(dirname(path));
  if (own !== null) roots.push(own);
  for (let d = dirname(path); dirname(d) !== d; d = dirname(d)) {
    if (basename(d) === 'snapshots') {
      const blobs = realOrNull(resolve(dirname(d), 'blobs'));
      if (blobs !== null) roots.push(blobs);
      break;
    }
  }
  return roots;
}

function fail(path: string, e: unknown): never {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') throw new ModelFileError(path, 'no such file', 'ENOENT');
  if (err.code === 'EACCES' || err.code === 'EPERM') throw new ModelFileError(path, 'permission denied', err.code);
  if (err.code === 'ELOOP') throw new ModelFileError(path, 'too many levels of symbolic links', err.code);
  throw new ModelFileError(path, `cannot open: ${err.code ?? err.message}`, err.code);
}

/** An fd of the regular file at `path` (after the checks above) and its size; the caller closes it. */
export function openModelFile(path: string): { fd: number; size: number } {
  let target = path;
  let lst: Stats;
  try {
    lst = lstatSync(path);
  } catch (e) {
    fail(path, e);
  }
  if (lst.isSymbolicLink()) {
    const real = realOrNull(path);
    if (real === null) throw new ModelFileError(path, 'is a symbolic link to a missing file', 'ENOENT');
    if (!allowedRoots(path).some((r) => within(real, r))) {
      throw new ModelFileError(
        path,
        "is a symbolic link that leads outside the model folder (and outside the hub cache's blob store); copy the file into the folder instead",
        'ELINK',
      );
    }
    target = real;
  } else if (!lst.isFile()) {
    throw new ModelFileError(path, `is ${kind(lst)}, expected a regular file`, 'ENOTREG');
  }
  let fd: number;
  // O_NONBLOCK: a FIFO swapped in after the lstat must not hang the open; fstat then refuses it.
  try {
    fd = openSync(target, fsc.O_RDONLY | (fsc.O_NONBLOCK ?? 0));
  } catch (e) {
    fail(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ModelFileError(path, `is ${kind(st)}, expected a regular file`, 'ENOTREG');
    return { fd, size: st.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Whether `path` exists as anything (a dangling link too): the readers then say what is wrong with it. */
export function modelFileExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The bytes of the model-folder file at `path`, refused unread when larger than `maxBytes`. */
export function readModelFile(path: string, maxBytes = MAX_MODEL_TEXT_BYTES): Buffer {
  const { fd, size } = openModelFile(path);
  try {
    if (size > maxBytes) throw new ModelFileError(path, `is ${size} bytes, more than the ${maxBytes} bytes allowed for this file`, 'EFBIG');
    const buf = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      let n: number;
      try {
        n = readSync(fd, buf, done, size - done, done);
      } catch (e) {
        fail(path, e);
      }
      if (n === 0) throw new ModelFileError(path, `file shrank while reading at byte ${done}`);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** The file as UTF-8 text (invalid sequences become U+FFFD, as readFileSync(path, 'utf8') did). */
export function readModelText(path: string, maxBytes = MAX_MODEL_TEXT_BYTES): string {
  return readModelFile(path, maxBytes).toString('utf8');
}

/** The file parsed as JSON; a syntax error names the file. */
export function readModelJson(path: string, maxBytes = MAX_MODEL_TEXT_BYTES): unknown {
  const text = readModelText(path, maxBytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ModelFileError(path, `not valid JSON: ${(e as Error).message}`, 'EJSON');
  }
}
