/**
 * A consumer-group worker on Redis Streams. Each loop: reclaim messages left idle by dead
 * consumers (XAUTOCLAIM; past `maxDeliveries` deliveries, counted by XPENDING, they go to the
 * dead-letter stream), read new ones (XREADGROUP), tag them together (one pipeline call, so they
 * share forward passes), then write every result and acknowledge it in one Lua script.
 * A message whose tagging throws stays pending and is retried by whichever worker reclaims it.
 * `stop()` (SIGTERM in the CLI) lets the batch in hand finish, be written and acknowledged.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { InputRecord } from '../infer/predict-files.js';
import { entryFields, QueueError, type RawEntry, type StreamNames } from './connect.js';
import { DEAD_LETTER, WRITE_RESULTS } from './scripts.js';
import { WorkerCounters } from './metrics.js';

/** Tags records; returns one output string per record (predict's jsonl line with its \n). */
export type Tagger = (records: readonly InputRecord[]) => Promise<string[]>;

export interface WorkerOptions {
  names: StreamNames;
  /** Consumer name; default HOST-PID. A restarted worker that keeps its name resumes its own pending messages first. */
  consumer?: string;
  /** Messages per batch (one tagging call). Default 64. */
  batch?: number;
  /** After the first message arrives, how long to wait for the batch to fill. Default 10 ms. */
  batchWaitMs?: number;
  /** Longest XREADGROUP block, which bounds how long stop() waits for an idle worker. Default 500 ms. */
  blockMs?: number;
  /** A message pending this long is taken to belong to a dead worker and is reclaimed. Default 60 s. */
  claimIdleMs?: number;
  /** Deliveries after which a message goes to the dead-letter stream instead. Default 5. */
  maxDeliveries?: number;
  /** One line per event worth a log (dead letters, failures). */
  log?: (line: string) => void;
}

interface Message {
  id: string;
  index: string;
  record?: InputRecord;
  /** Why the message cannot be tagged at all (dead-lettered at once). */
  malformed?: string;
  fields: Record<string, string>;
}

export class StreamWorker {
  readonly counters = new WorkerCounters();
  readonly consumer: string;
  private stopping = false;
  private readonly o: Required<Omit<WorkerOptions, 'log' | 'consumer' | 'names'>>;
  private readonly lastError = new Map<string, string>();
  private claimCursor = '0-0';
  /** Id of the last entry the latest XREADGROUP returned (null: none). */
  private lastReadId: string | null = null;
  private lastClaim = 0;

  constructor(private readonly redis: Redis, private readonly tag: Tagger, private readonly opts: WorkerOptions) {
    this.consumer = opts.consumer ?? `${hostname()}-${process.pid}`;
    this.o = {
      batch: opts.batch ?? 64,
      batchWaitMs: opts.batchWaitMs ?? 10,
      blockMs: opts.blockMs ?? 500,
      claimIdleMs: opts.claimIdleMs ?? 60_000,
      maxDeliveries: opts.maxDeliveries ?? 5,
    };
    for (const [k, v] of Object.entries(this.o)) {
      if (!Number.isInteger(v) || v < (k === 'batch' || k === 'maxDeliveries' || k === 'blockMs' ? 1 : 0)) throw new QueueError(`worker option ${k} must be a ${k === 'batch' || k === 'maxDeliveries' || k === 'blockMs' ? 'positive' : 'non-negative'} integer, got ${v}`);
    }
  }

  get names(): StreamNames {
    return this.opts.names;
  }

  /** Creates the stream and the group (from the stream's start, so messages enqueued earlier are read). */
  async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.names.stream, this.names.group, '0', 'MKSTREAM');
    } catch (e) {
      if (!String((e as Error).message).startsWith('BUSYGROUP')) throw e;
    }
  }

  /** Asks the loop to finish the batch in hand and return. */
  stop(): void {
    this.stopping = true;
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Runs until stop(); resolves once the last batch is written and acknowledged. */
  async run(): Promise<void> {
    await this.ensureGroup();
    // Own pending messages first (this consumer name crashed before acknowledging them); a cursor,
    // because one that fails again stays pending (XAUTOCLAIM retries it later).
    for (let after = '0-0'; !this.stopping; ) {
      const mine = await this.read(after, this.o.batch, 0);
      if (this.lastReadId === null) break;
      after = this.lastReadId;
      await this.process(mine);
    }
    if (this.stopping) return;
    while (!this.stopping) {
      const batch = await this.reclaim();
      if (batch.length < this.o.batch && !this.stopping) {
        batch.push(...(await this.read('>', this.o.batch - batch.length, this.o.blockMs)));
        if (batch.length > 0 && batch.length < this.o.batch && this.o.batchWaitMs > 0 && !this.stopping) {
          batch.push(...(await this.read('>', this.o.batch - batch.length, this.o.batchWaitMs)));
        }
      }
      if (batch.length > 0) await this.process(batch);
    }
  }

  /** XREADGROUP: '>' for new messages, an id for this consumer's own pending ones after it. */
  private async read(from: string, count: number, blockMs: number): Promise<Message[]> {
    const args: (string | number)[] = ['GROUP', this.names.group, this.consumer, 'COUNT', count];
    if (from === '>' && blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.names.stream, from);
    const reply = (await this.redis.call('XREADGROUP', ...args)) as [string, RawEntry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    this.lastReadId = entries.length ? entries[entries.length - 1]![0] : null;
    const out: Message[] = [];
    const gone: string[] = [];
    for (const [id, fields] of entries) {
      if (fields === null) gone.push(id); // trimmed or deleted from the stream while pending
      else out.push(parseMessage(id, fields));
    }
    if (gone.length) await this.deadLetter(gone.map((id) => ({ id, index: '', fields: {}, malformed: 'the message was deleted from the stream while pending' })), 0);
    return out;
  }

  /** XAUTOCLAIM of messages idle past claimIdleMs; the over-delivered go to the dead-letter stream. */
  private async reclaim(): Promise<Message[]> {
    const now = Date.now();
    if (now - this.lastClaim < Math.max(50, this.o.claimIdleMs / 4)) return [];
    this.lastClaim = now;
    const [next, entries, deleted] = (await this.redis.call('XAUTOCLAIM', this.names.stream, this.names.group, this.consumer, this.o.claimIdleMs, this.claimCursor, 'COUNT', this.o.batch)) as [string, RawEntry[], string[]?];
    this.claimCursor = next;
    if (next !== '0-0') this.lastClaim = 0; // more to scan: come back at once
    // Deleted from the stream while pending: no record to tag, but the input index must not vanish silently.
    if (deleted?.length) await this.deadLetter(deleted.map((id) => ({ id, index: '', fields: {}, malformed: 'the message was deleted from the stream while pending' })), 0);
    const claimed = entries.filter((e) => e[1] !== null).map(([id, f]) => parseMessage(id, f!));
    if (claimed.length === 0) return [];
    this.counters.reclaimed += claimed.length;
    // Delivery counts after this claim: XPENDING over each id.
    const pipe = this.redis.pipeline();
    for (const m of claimed) pipe.xpending(this.names.stream, this.names.group, m.id, m.id, 1);
    const counts = (await pipe.exec()) ?? [];
    const keep: Message[] = [];
    const dead: { m: Message; deliveries: number }[] = [];
    claimed.forEach((m, k) => {
      const row = (counts[k]?.[1] as [string, string, number, number][] | undefined)?.[0];
      const deliveries = row ? Number(row[3]) : 1;
      if (deliveries > this.o.maxDeliveries) dead.push({ m, deliveries });
      else keep.push(m);
    });
    for (const { m, deliveries } of dead) {
      m.malformed = `failed ${deliveries - 1} deliveries (limit ${this.o.maxDeliveries})${this.lastError.has(m.id) ? `; last error: ${this.lastError.get(m.id)}` : ''}`;
      await this.deadLetter([m], deliveries);
    }
    return keep;
  }

  private async process(batch: Message[]): Promise<void> {
    const bad = batch.filter((m) => m.malformed);
    if (bad.length) await this.deadLetter(bad, 1);
    const good = batch.filter((m) => !m.malformed);
    if (good.length === 0) return;
    const t0 = performance.now();
    let outs: (string | null)[];
    try {
      outs = await this.tag(good.map((m) => m.record!));
      if (outs.length !== good.length) throw new Error(`the tagger returned ${outs.length} outputs for ${good.length} records`);
    } catch (e) {
      if (good.length === 1) {
        outs = [null];
        this.fail(good[0]!, e);
      } else {
        // One bad record must not fail its neighbours: tag each alone to find it.
        outs = [];
        for (const m of good) {
          try {
            outs.push((await this.tag([m.record!]))[0]!);
          } catch (err) {
            outs.push(null);
            this.fail(m, err);
          }
        }
      }
    }
    const ok = good.filter((_, k) => outs[k] != null);
    if (ok.length) {
      const argv: string[] = [this.names.group];
      ok.forEach((m) => argv.push(m.id, m.index, outs[good.indexOf(m)]!));
      const written = Number(await this.redis.eval(WRITE_RESULTS, 3, this.names.stream, this.names.results, this.names.done, ...argv));
      this.counters.processed += written;
      this.counters.duplicates += ok.length - written;
      for (const m of ok) this.lastError.delete(m.id);
    }
    this.counters.batches++;
    this.counters.busyMs += performance.now() - t0;
  }

  private fail(m: Message, err: unknown): void {
    this.counters.failed++;
    const why = err instanceof Error ? err.message : String(err);
    this.lastError.set(m.id, why.slice(0, 500));
    this.opts.log?.(`message ${m.id} (input ${m.index}) failed, left pending for a retry: ${why.slice(0, 200)}`);
  }

  private async deadLetter(msgs: Message[], deliveries: number): Promise<void> {
    const argv: string[] = [this.names.group];
    for (const m of msgs) argv.push(m.id, m.index, String(deliveries), m.malformed ?? 'failed', JSON.stringify(m.fields));
    const moved = Number(await this.redis.eval(DEAD_LETTER, 3, this.names.stream, this.names.dead, this.names.done, ...argv));
    this.counters.deadLettered += moved;
    for (const m of msgs) {
      this.lastError.delete(m.id);
      this.opts.log?.(`message ${m.id} (input ${m.index || '?'}) -> ${this.names.dead}: ${m.malformed}`);
    }
  }

  /** Group-wide figures from Redis: messages delivered but not acknowledged, and not yet delivered. */
  async queueDepth(): Promise<{ pending: number; lag: number | null }> {
    const summary = (await this.redis.xpending(this.names.stream, this.names.group)) as [number, ...unknown[]];
    const groups = (await this.redis.call('XINFO', 'GROUPS', this.names.stream)) as unknown[][];
    let lag: number | null = null;
    for (const g of groups) {
      const f = Object.fromEntries(Array.from({ length: g.length / 2 }, (_, k) => [String(g[2 * k]), g[2 * k + 1]]));
      if (f.name === this.names.group && typeof f.lag === 'number') lag = f.lag;
    }
    return { pending: Number(summary[0]), lag };
  }
}

/** A message's index and record; a message that cannot be read is marked malformed (never retried). */
export function parseMessage(id: string, raw: readonly string[]): Message {
  const fields = entryFields(raw);
  const index = fields.i ?? '';
  if (!/^\d+$/.test(index)) return { id, index, fields, malformed: `field "i" (the input index) is ${fields.i === undefined ? 'missing' : JSON.stringify(fields.i.slice(0, 40))}, expected a non-negative integer` };
  let rec: unknown;
  try {
    rec = JSON.parse(fields.rec ?? '');
  } catch {
    return { id, index, fields, malformed: `field "rec" is ${fields.rec === undefined ? 'missing' : 'not valid JSON'}; messages are written by tokentune enqueue` };
  }
  const why = checkRecord(rec);
  return why ? { id, index, fields, malformed: `field "rec": ${why}` } : { id, index, fields, record: rec as InputRecord };
}

/** Checks a record's shape (messages are untrusted: anyone can XADD to the stream). */
function checkRecord(r: unknown): string | null {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'expected a JSON object';
  const o = r as Record<string, unknown>;
  const strings = (x: unknown) => Array.isArray(x) && x.every((w) => typeof w === 'string');
  const json = o.json === undefined || (o.json !== null && typeof o.json === 'object' && !Array.isArray(o.json));
  switch (o.kind) {
    case 'text':
      return typeof o.text === 'string' && json ? null : 'a text record needs "text" (a string) and an optional "json" object';
    case 'words':
      return strings(o.words) && json ? null : 'a words record needs "words" (a list of strings)';
    case 'conll':
      return strings(o.words) && strings(o.lines) && (o.words as string[]).length === (o.lines as string[]).length ? null : 'a conll record needs "lines" and "words" (lists of strings of one length)';
    case 'passthrough':
      return typeof o.line === 'string' ? null : 'a passthrough record needs "line" (a string)';
    default:
      return `unknown record kind ${JSON.stringify(o.kind)} (text, words, conll, passthrough)`;
  }
}
