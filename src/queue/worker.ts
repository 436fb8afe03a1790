/**
 * A consumer-group worker on Redis Streams. Each loop: reclaim messages left idle by dead
 * consumers (XAUTOCLAIM; past `maxDeliveries` deliveries, counted by XPENDING, they go to the
 * dead-letter stream), read new ones (XREADGROUP), tag them together (one pipeline call, so they
 * share forward passes), then write every result and acknowledge it in one Lua script.
 * A message whose tagging throws stays pending and is retried by whichever worker reclaims it.
 * `stop()` (SIGTERM in the CLI) lets the batch in hand finish, be written and acknowledged,
 * for up to `stopGraceMs`; past that its tagging is abandoned between forward calls and its
 * messages stay pending for another worker.
 *
 * Messages are untrusted (anyone who can XADD writes them): each is read through a Lua script
 * that withholds one larger than `maxRecordBytes` (so it never reaches this heap), and a record
 * with more than `maxRecordChars` to tag is refused before tokenization; both go to the
 * dead-letter stream with the reason, and the work per record stays bounded.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { InputRecord } from '../infer/predict-files.js';
import { entryFields, QueueError, type StreamNames } from './connect.js';
import { DEAD_LETTER, READ_BOUNDED, WRITE_RESULTS } from './scripts.js';
import { WorkerCounters } from './metrics.js';

/**
 * Tags records; returns one output string per record (predict's jsonl line with its \n). Once
 * `signal` is aborted (the worker is stopping past its grace) it should reject soon.
 */
export type Tagger = (records: readonly InputRecord[], signal?: AbortSignal) => Promise<string[]>;

/** Bounds on one message, checked before its record is parsed or tagged. */
export interface RecordLimits {
  /** Largest message (its fields' bytes together). Default 1 MiB. */
  maxRecordBytes: number;
  /** Most characters to tag in one record (a text's length; words' lengths plus one each). Default 100 000. */
  maxRecordChars: number;
}

export const DEFAULT_RECORD_LIMITS: RecordLimits = { maxRecordBytes: 1 << 20, maxRecordChars: 100_000 };

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
  /** Largest message in bytes; larger ones are dead-lettered unread. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Most characters to tag in one record; more is dead-lettered. Default 100 000. */
  maxRecordChars?: number;
  /** After stop(), how long the batch in hand may run before its tagging is abandoned (left pending). Default 10 s. */
  stopGraceMs?: number;
  /** While idle, how often to look for new messages (the bounded read cannot block in Redis). Default 25 ms. */
  pollMs?: number;
  /** One line per event worth a log (dead letters, failures). */
  log?: (line: string) => void;
}

interface Message {
  id: string;
  index: string;
  record?: InputRecord;
  /** Why the message cannot be tagged at all (dead-lettered at once). */
  malformed?: string;
  /** Characters its record gives the tokenizer. */
  chars: number;
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
  /** Aborted when a stopping worker's grace runs out: the tagging in hand gives up. */
  private readonly halt = new AbortController();
  private haltTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly tag: Tagger,
    private readonly opts: WorkerOptions,
  ) {
    this.consumer = opts.consumer ?? `${hostname()}-${process.pid}`;
    this.o = {
      batch: opts.batch ?? 64,
      batchWaitMs: opts.batchWaitMs ?? 10,
      blockMs: opts.blockMs ?? 500,
      claimIdleMs: opts.claimIdleMs ?? 60_000,
      maxDeliveries: opts.maxDeliveries ?? 5,
      maxRecordBytes: opts.maxRecordBytes ?? DEFAULT_RECORD_LIMITS.maxRecordBytes,
      maxRecordChars: opts.maxRecordChars ?? DEFAULT_RECORD_LIMITS.maxRecordChars,
      stopGraceMs: opts.stopGraceMs ?? 10_000,
      pollMs: opts.pollMs ?? 25,
    };
    const positive = new Set(['batch', 'maxDeliveries', 'blockMs', 'maxRecordBytes', 'maxRecordChars', 'pollMs']);
    for (const [k, v] of Object.entries(this.o)) {
      if (!Number.isInteger(v) || v < (positive.has(k) ? 1 : 0))
        throw new QueueError(`worker option ${k} must be a ${positive.has(k) ? 'positive' : 'non-negative'} integer, got ${v}`);
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

  /**
   * Asks the loop to finish the batch in hand and return; past `stopGraceMs` (at once with
   * `now`) the batch's tagging is abandoned and its messages stay pending for another worker.
   */
  stop(now = false): void {
    this.stopping = true;
    if (now) {
      clearTimeout(this.haltTimer);
      this.halt.abort();
    } else if (this.haltTimer === undefined) {
      this.haltTimer = setTimeout(() => this.halt.abort(), this.o.stopGraceMs);
      this.haltTimer.unref();
    }
  }

  get stopped(): boolean {
    return this.stopping;
  }

  /** Runs until stop(); resolves once the last batch is written and acknowledged (or abandoned). */
  async run(): Promise<void> {
    try {
      await this.loop();
    } finally {
      clearTimeout(this.haltTimer);
    }
  }

  private async loop(): Promise<void> {
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

  /**
   * XREADGROUP through READ_BOUNDED: '>' for new messages, an id for this consumer's own pending
   * ones after it. A script cannot block, so new messages are polled for up to `blockMs`.
   */
  private async read(from: string, count: number, blockMs: number): Promise<Message[]> {
    const deadline = Date.now() + blockMs;
    let entries: BoundedEntry[];
    for (;;) {
      entries = (await this.redis.eval(
        READ_BOUNDED,
        1,
        this.names.stream,
        'read',
        this.names.group,
        this.consumer,
        count,
        this.o.maxRecordBytes,
        from,
      )) as BoundedEntry[];
      const left = deadline - Date.now();
      if (entries.length > 0 || from !== '>' || this.stopping || left <= 0) break;
      await new Promise((r) => setTimeout(r, Math.min(this.o.pollMs, left)));
    }
    this.lastReadId = entries.length ? entries[entries.length - 1]![0] : null;
    const out: Message[] = [];
    const gone: string[] = [];
    for (const [id, fields, index] of entries) {
      if (fields === null)
        gone.push(id); // trimmed or deleted from the stream while pending
      else out.push(parseMessage(id, fields, this.o, index));
    }
    if (gone.length)
      await this.deadLetter(
        gone.map((id) => ({ id, index: '', chars: 0, fields: {}, malformed: 'the message was deleted from the stream while pending' })),
        0,
      );
    return out;
  }

  /** XAUTOCLAIM of messages idle past claimIdleMs; the over-delivered go to the dead-letter stream. */
  private async reclaim(): Promise<Message[]> {
    const now = Date.now();
    if (now - this.lastClaim < Math.max(50, this.o.claimIdleMs / 4)) return [];
    this.lastClaim = now;
    const [next, entries, deleted] = (await this.redis.eval(
      READ_BOUNDED,
      1,
      this.names.stream,
      'claim',
      this.names.group,
      this.consumer,
      this.o.batch,
      this.o.maxRecordBytes,
      this.o.claimIdleMs,
      this.claimCursor,
    )) as [string, BoundedEntry[], string[]?];
    this.claimCursor = next;
    if (next !== '0-0') this.lastClaim = 0; // more to scan: come back at once
    // Deleted from the stream while pending: no record to tag, but the input index must not vanish silently.
    if (deleted?.length)
      await this.deadLetter(
        deleted.map((id) => ({ id, index: '', chars: 0, fields: {}, malformed: 'the message was deleted from the stream while pending' })),
        0,
      );
    const claimed = entries.filter((e) => e[1] !== null).map(([id, f, index]) => parseMessage(id, f!, this.o, index));
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
    const signal = this.halt.signal;
    const outs: (string | null)[] = [];
    // Tagged in groups of at most maxRecordChars characters (one record at least), so the
    // memory in use is bounded by one large record, however many a batch holds.
    for (let start = 0; start < good.length; ) {
      let end = start + 1;
      for (let chars = good[start]!.chars; end < good.length && chars + good[end]!.chars <= this.o.maxRecordChars; end++)
        chars += good[end]!.chars;
      const group = good.slice(start, end);
      start = end;
      try {
        const got = await this.tag(
          group.map((m) => m.record!),
          signal,
        );
        if (got.length !== group.length) throw new Error(`the tagger returned ${got.length} outputs for ${group.length} records`);
        outs.push(...got);
      } catch (e) {
        if (signal.aborted) return this.abandon(good);
        if (group.length === 1) {
          outs.push(null);
          this.fail(group[0]!, e);
          continue;
        }
        // One bad record must not fail its neighbours: tag each alone to find it.
        for (const m of group) {
          try {
            outs.push((await this.tag([m.record!], signal))[0]!);
          } catch (err) {
            if (signal.aborted) return this.abandon(good);
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

  /** Stopping past the grace: the batch is left pending (not failed: it is retried as it was). */
  private abandon(batch: Message[]): void {
    this.opts.log?.(
      `stopping: left ${batch.length} message${batch.length === 1 ? '' : 's'} pending for another worker (${batch[0]!.id}${batch.length > 1 ? ' ...' : ''})`,
    );
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

/** An entry from READ_BOUNDED: [id, fields] or, past the size bound, [id, size in bytes, its "i"]; fields null if deleted. */
type BoundedEntry = [string, string[] | number | null, string?];

/**
 * A message's index and record; a message that cannot be read, or is over a bound, is marked
 * malformed (dead-lettered at once, never retried). `raw` is the field list, or the message's
 * size in bytes where READ_BOUNDED withheld it (`oversizeIndex`: its "i" field).
 */
export function parseMessage(
  id: string,
  raw: readonly string[] | number,
  limits: RecordLimits = DEFAULT_RECORD_LIMITS,
  oversizeIndex = '',
): Message {
  if (typeof raw === 'number') {
    const index = /^\d+$/.test(oversizeIndex) ? oversizeIndex : '';
    return {
      id,
      index,
      chars: 0,
      fields: index ? { i: index } : {},
      malformed: `the message is ${raw} bytes; the limit is ${limits.maxRecordBytes} (--max-record-bytes)`,
    };
  }
  const fields = entryFields(raw);
  const index = fields.i ?? '';
  const size = raw.reduce((n, f) => n + Buffer.byteLength(f), 0);
  if (size > limits.maxRecordBytes)
    return {
      id,
      index: /^\d+$/.test(index) ? index : '',
      chars: 0,
      fields: {},
      malformed: `the message is ${size} bytes; the limit is ${limits.maxRecordBytes} (--max-record-bytes)`,
    };
  if (!/^\d+$/.test(index))
    return {
      id,
      index,
      chars: 0,
      fields,
      malformed: `field "i" (the input index) is ${fields.i === undefined ? 'missing' : JSON.stringify(fields.i.slice(0, 40))}, expected a non-negative integer`,
    };
  let rec: unknown;
  try {
    rec = JSON.parse(fields.rec ?? '');
  } catch {
    return {
      id,
      index,
      chars: 0,
      fields,
      malformed: `field "rec" is ${fields.rec === undefined ? 'missing' : 'not valid JSON'}; messages are written by tokentune enqueue`,
    };
  }
  const shape = checkRecord(rec);
  if (shape) return { id, index, chars: 0, fields, malformed: `field "rec": ${shape}` };
  const chars = charsToTag(rec as InputRecord);
  if (chars > limits.maxRecordChars)
    return {
      id,
      index,
      chars,
      fields,
      malformed: `field "rec": the record has ${chars} characters to tag; the limit is ${limits.maxRecordChars} (--max-record-chars)`,
    };
  return { id, index, chars, fields, record: rec as InputRecord };
}

/** The tagging work of a well-formed record: the characters it gives the tokenizer. */
function charsToTag(r: InputRecord): number {
  let chars = 0;
  if (r.kind === 'text') chars = r.text.length;
  else if (r.kind === 'words' || r.kind === 'conll') for (const w of r.words) chars += w.length + 1;
  return chars;
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
      return strings(o.words) && strings(o.lines) && (o.words as string[]).length === (o.lines as string[]).length
        ? null
        : 'a conll record needs "lines" and "words" (lists of strings of one length)';
    case 'passthrough':
      return typeof o.line === 'string' ? null : 'a passthrough record needs "line" (a string)';
    default:
      return `unknown record kind ${JSON.stringify(o.kind)} (text, words, conll, passthrough)`;
  }
}
