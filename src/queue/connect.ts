/**
 * Redis connections and stream names for the queue commands. The client is ioredis (a
 * well-kept, promise-based client with pipelining, Lua scripts and reconnection built in);
 * tokentune never speaks the protocol itself.
 */
import { Redis } from 'ioredis';

export class QueueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueueError';
  }
}

/** The keys one job uses, all derived from the input stream unless named. */
export interface StreamNames {
  /** Input stream: one message per record (fields `i`: input index, `rec`: the record as JSON). */
  stream: string;
  /** Consumer group of the workers. */
  group: string;
  /** Results stream: one entry per message (fields `id`: input message id, `i`, `out`: predict's jsonl line). */
  results: string;
  /** Dead-letter stream: messages that failed `maxDeliveries` times, or could not be parsed. */
  dead: string;
  /** Hash marking each input message id as done (result or dead letter): a second write is a no-op. */
  done: string;
}

export function streamNames(stream: string, o: { group?: string; results?: string; dead?: string } = {}): StreamNames {
  const results = o.results ?? `${stream}:results`;
  return { stream, group: o.group ?? 'tokentune', results, dead: o.dead ?? `${stream}:dead`, done: `${results}:done` };
}

/** Checks a redis:// or rediss:// URL (the error names the flag and the expected shape). */
export function checkRedisUrl(url: string, flag = '--redis'): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueError(`${flag}: ${JSON.stringify(url)} is not a URL; expected redis://HOST:PORT (or rediss:// for TLS)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new QueueError(`${flag}: the scheme is '${u.protocol}', expected redis://HOST:PORT (or rediss:// for TLS)`);
  }
  return u;
}

/**
 * Connects and waits for the first PONG, so a wrong address fails at once with a readable error
 * instead of retrying forever; later drops are retried by ioredis (commands wait, up to a bound).
 */
export async function connectRedis(url: string, flag = '--redis'): Promise<Redis> {
  checkRedisUrl(url, flag);
  let lastError: Error | undefined;
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 20,
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  client.on('error', (e: Error) => (lastError = e));
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    client.disconnect();
    const why = (lastError ?? (e as Error)).message;
    throw new QueueError(`cannot reach Redis at ${redactUrl(url)} (${flag}): ${why}; is redis-server running there?`);
  }
  return client;
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** A stream entry as ioredis returns it: [id, [field, value, ...]] (fields null if deleted). */
export type RawEntry = [string, string[] | null];

/** Fields of an entry as an object. */
export function entryFields(fields: readonly string[] | null): Record<string, string> {
  const o: Record<string, string> = {};
  if (!fields) return o;
  for (let k = 0; k + 1 < fields.length; k += 2) o[fields[k]!] = fields[k + 1]!;
  return o;
}
