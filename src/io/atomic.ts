/**
 * Crash-safe writes: a file or folder is written under a temporary name beside its target, then
 * renamed over it, so a reader (or a resumed run) never sees half of it under the real name.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Streams `chunks` to `<path>.tmp-<pid>`, fsyncs, renames over `path` and (best effort) fsyncs the
 * folder so the rename itself survives a power cut. Nothing is concatenated in memory, so a
 * model of hundreds of megabytes is written straight from its tensors. Returns the bytes written.
 */
export function writeChunksAtomic(path: string, chunks: Iterable<Uint8Array | string>): number {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let total = 0;
  try {
    for (const c of chunks) {
      const buf = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      total += buf.length;
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    // A folder (or anything else) in the way: leave no temporary file of the full size behind.
    rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* not every platform can open a folder */
  }
  return total;
}

/** writeChunksAtomic for one string or buffer. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeChunksAtomic(path, [data]);
}

const TMP_SUFFIX = /\.(tmp|old)-(\d+)$/;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Repairs what an interrupted writeDirAtomic may have left in `parentDir`: a `<name>.old-<pid>`
 * whose `<name>` is missing is renamed back (the crash came between the two renames); other
 * `.tmp-<pid>` / `.old-<pid>` folders of processes that are gone are removed. Returns what it did.
 */
export function cleanupAtomicLeftovers(parentDir: string): string[] {
  if (!existsSync(parentDir)) return [];
  const actions: string[] = [];
  for (const name of readdirSync(parentDir)) {
    const m = TMP_SUFFIX.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && pidAlive(pid)) continue;
    const full = join(parentDir, name);
    const finalPath = join(parentDir, name.slice(0, m.index));
    if (m[1] === 'old' && !existsSync(finalPath)) {
      renameSync(full, finalPath);
      actions.push(`restored ${finalPath}`);
    } else {
      rmSync(full, { recursive: true, force: true });
      actions.push(`removed ${full}`);
    }
  }
  return actions;
}

/**
 * Builds a folder atomically: `writeFn` fills `<finalDir>.tmp-<pid>`, which is then renamed to
 * `finalDir`. An existing `finalDir` is first moved aside to `<finalDir>.old-<pid>` and removed
 * only after the new one is in place, so at every moment one complete version exists.
 * If `writeFn` throws, the temporary folder is removed and `finalDir` is untouched.
 */
export async function writeDirAtomic(finalDir: string, writeFn: (tmpDir: string) => void | Promise<void>): Promise<void> {
  const tmp = prepareTmpDir(finalDir);
  try {
    await writeFn(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  swapIntoPlace(tmp, finalDir);
}

/** writeDirAtomic for a synchronous writer. */
export function writeDirAtomicSync(finalDir: string, writeFn: (tmpDir: string) => void): void {
  const tmp = prepareTmpDir(finalDir);
  try {
    writeFn(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  swapIntoPlace(tmp, finalDir);
}

function prepareTmpDir(finalDir: string): string {
  const parent = dirname(resolve(finalDir));
  mkdirSync(parent, { recursive: true });
  const tmp = `${finalDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  return tmp;
}

function swapIntoPlace(tmp: string, finalDir: string): void {
  if (existsSync(finalDir)) {
    const old = `${finalDir}.old-${process.pid}`;
    rmSync(old, { recursive: true, force: true });
    renameSync(finalDir, old);
    renameSync(tmp, finalDir);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, finalDir);
  }
}
