/**
 * Pushes the records of a file onto a stream, one message per record: `i` is the record's
 * index in the input (what `collect` orders by), `rec` the record as JSON. CoNLL document
 * markers (-DOCSTART-) have no jsonl output in `predict` and are not sent.
 */
import type { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { readRecords, type InputFormat } from '../infer/predict-files.js';
import { QueueError } from './connect.js';
import { DEFAULT_RECORD_LIMITS } from './worker.js';

export interface EnqueueOptions {
  format: InputFormat;
  /** Name of the input for error messages. */
  source?: string;
  /** Messages per round trip. Default 500. */
  chunk?: number;
  /** Index of the first record. Default 0. */
  startIndex?: number;
  onProgress?: (sent: number) => void;
  /** Largest message a worker takes (its --max-record-bytes): a larger record is an error here, naming its line. Default 1 MiB. */
  maxRecordBytes?: number;
}

/** Sends every record; returns how many were sent. */
export async function enqueueRecords(redis: Redis, stream: string, input: Readable, o: EnqueueOptions): Promise<number> {
  const chunk = o.chunk ?? 500;
  let index = o.startIndex ?? 0;
  let pipe = redis.pipeline();
  let queued = 0;
  let sent = 0;
  const flush = async () => {
    if (queued === 0) return;
    const replies = (await pipe.exec()) ?? [];
    const err = replies.find((r) => r[0])?.[0];
    if (err) throw new Error(`XADD to ${stream} failed: ${err.message}`);
    sent += queued;
    queued = 0;
    pipe = redis.pipeline();
    o.onProgress?.(sent);
  };
  const maxBytes = o.maxRecordBytes ?? DEFAULT_RECORD_LIMITS.maxRecordBytes;
  for await (const { record, line } of readRecords(input, o.format, o.source)) {
    if (record.kind === 'passthrough') continue;
    const rec = JSON.stringify(record);
    const i = String(index++);
    // The size the worker's bound counts: every field name and value.
    const bytes = 4 + i.length + Buffer.byteLength(rec);
    if (bytes > maxBytes)
      throw new QueueError(
        `${o.source ?? 'input'}:${line}: the record is ${bytes} bytes as a message; workers take at most ${maxBytes} (--max-record-bytes), split it or raise the limit on both sides`,
      );
    pipe.xadd(stream, '*', 'i', i, 'rec', rec);
    if (++queued >= chunk) await flush();
  }
  await flush();
  return sent;
}
