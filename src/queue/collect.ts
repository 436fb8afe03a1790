/**
 * Waits for the results of N input records (indexes 0..N-1) on the results stream and returns
 * them in input order (or hands them to `write` in input order as soon as the earlier ones are
 * in, keeping only the out-of-order ones in memory). Dead letters count as outcomes too: the wait ends, and the caller reports
 * the indexes that have no result. Each index must have exactly one outcome; a second one (the
 * file enqueued twice into one stream) is an error, not a silent overwrite.
 */
import type { Redis } from 'ioredis';
import { entryFields, QueueError, type RawEntry } from './connect.js';

export interface CollectOptions {
  results: string;
  dead: string;
  expect: number;
  /** Give up after this long without a new outcome (ms); 0: wait for ever. */
  idleTimeoutMs?: number;
  /** Longest XREAD block. Default 1000 ms. */
  blockMs?: number;
  onProgress?: (done: number) => void;
  /** Receives each result in input order (dead letters skipped); then `outputs` is left empty. */
  write?: (out: string) => void | Promise<void>;
}

export interface Collected {
  /** The output line(s) per index; null where the record was dead-lettered (empty with `write`). */
  outputs: (string | null)[];
  /** Dead letters: index and reason. */
  dead: { index: number; reason: string }[];
}

export async function collectResults(redis: Redis, o: CollectOptions): Promise<Collected> {
  if (!Number.isInteger(o.expect) || o.expect < 0) throw new QueueError(`--expect must be a non-negative integer, got ${o.expect}`);
  const seen = new Uint8Array(o.expect);
  const sourceId: string[] = new Array(o.expect);
  const outputs: (string | null)[] = [];
  // Outcomes that arrived before an earlier index's: released in order.
  const early = new Map<number, string | null>();
  let next = 0;
  const release = async () => {
    while (early.has(next)) {
      const out = early.get(next)!;
      early.delete(next++);
      if (!o.write) outputs.push(out);
      else if (out) await o.write(out);
    }
  };
  const dead: { index: number; reason: string }[] = [];
  let done = 0;
  const cursors: Record<string, string> = { [o.results]: '0-0', [o.dead]: '0-0' };
  let lastProgress = Date.now();
  while (done < o.expect) {
    const reply = (await redis.call(
      'XREAD',
      'COUNT',
      1000,
      'BLOCK',
      o.blockMs ?? 1000,
      'STREAMS',
      o.results,
      o.dead,
      cursors[o.results]!,
      cursors[o.dead]!,
    )) as [string, RawEntry[]][] | null;
    if (!reply) {
      if (o.idleTimeoutMs && Date.now() - lastProgress > o.idleTimeoutMs) {
        const missing: number[] = [];
        for (let i = 0; i < o.expect && missing.length <= 20; i++) if (!seen[i]) missing.push(i);
        throw new QueueError(
          `no new result for ${Math.round(o.idleTimeoutMs / 1000)} s: ${done} of ${o.expect} records done; missing input indexes ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', ...' : ''} (are workers running on this stream?)`,
        );
      }
      continue;
    }
    for (const [key, entries] of reply) {
      for (const [entryId, raw] of entries) {
        cursors[key] = entryId;
        const f = entryFields(raw);
        const index = Number(f.i);
        const isDead = key === o.dead && key !== o.results;
        if (f.i === undefined || f.i === '' || !Number.isInteger(index) || index < 0) {
          if (isDead) continue; // a malformed message carries no index: nothing to account for
          throw new QueueError(`${key} entry ${entryId} has no valid input index (field "i" = ${JSON.stringify(f.i)})`);
        }
        if (index >= o.expect)
          throw new QueueError(
            `${key} entry ${entryId} is for input index ${index}, but --expect is ${o.expect} (indexes 0..${o.expect - 1}): is --expect the count enqueue printed, and the stream fresh?`,
          );
        if (seen[index]) {
          throw new QueueError(
            `input index ${index} has two outcomes (messages ${sourceId[index]} and ${f.id}): was the input enqueued twice into one stream?`,
          );
        }
        sourceId[index] = f.id ?? entryId;
        seen[index] = 1;
        if (isDead) dead.push({ index, reason: f.reason ?? 'dead-lettered' });
        early.set(index, isDead ? null : (f.out ?? ''));
        done++;
        lastProgress = Date.now();
      }
    }
    await release();
    o.onProgress?.(done);
  }
  return { outputs, dead };
}
