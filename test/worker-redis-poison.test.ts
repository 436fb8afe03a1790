/**
 * Issue 21 #3, poison messages against `tokentune worker` and a real redis-server: a message
 * too large (55 MB), a record with too much to tag (a huge word list, a huge text) go to the
 * dead-letter stream with the reason, unread or untokenized, within seconds and a small heap,
 * while their neighbours are tagged; a worker busy on a long batch still exits 0 on SIGTERM
 * within its grace, leaving the batch pending for another worker. Skips without redis-server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { Readable } from 'node:stream';
import { connectRedis, enqueueRecords, QueueError, streamNames, StreamWorker, type Tagger } from '../src/queue/index.js';
import { makeQueueFixture } from './helpers/queue-model.js';
import { spawnCli, type CliProcess } from './helpers/cli-run.js';
import { NO_REDIS, redisServerPath, startRedis, type RedisInstance } from './helpers/redis-server.js';

const skip = redisServerPath() ? false : NO_REDIS;

let server: RedisInstance;
let redis: Redis;
let fixture: ReturnType<typeof makeQueueFixture>;

before(async () => {
  if (skip) return;
  server = await startRedis();
  redis = await connectRedis(server.url);
  fixture = makeQueueFixture(20);
});

after(async () => {
  if (skip) return;
  redis?.disconnect();
  await server?.stop();
  rmSync(fixture.dir, { recursive: true, force: true });
});

/** A worker with a 200 MB heap: a message that reached it whole (or were tokenized) would exhaust it. */
function worker(stream: string, extra: string[] = []): CliProcess {
  return spawnCli(['worker', '--model', fixture.model, '--redis', server.url, '--stream', stream, ...extra], ['--max-old-space-size=200']);
}

async function waitFor(cond: () => Promise<boolean>, what: string, p: CliProcess, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (p.child.exitCode !== null)
      throw new Error(`the worker exited (${p.child.exitCode}) while waiting for ${what}: ${p.err.slice(-1500)}`);
    if (Date.now() - t0 > ms) throw new Error(`timed out (${ms} ms) waiting for ${what}: ${p.err.slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const rec = (r: unknown) => JSON.stringify(r);

test('poison messages: 55 MB, 2M words, 500k characters are dead-lettered with the reason; the rest is tagged; SIGTERM exits 0', {
  skip,
  timeout: 120_000,
}, async () => {
  const stream = 'poison';
  const fine = fixture.texts.slice(0, 3);
  await redis.xadd(stream, '*', 'i', '0', 'rec', rec({ kind: 'text', text: fine[0] }));
  await redis.xadd(stream, '*', 'i', '1', 'rec', rec({ kind: 'text', text: 'x'.repeat(55_000_000) }));
  await redis.xadd(stream, '*', 'i', '2', 'rec', rec({ kind: 'words', words: Array.from({ length: 2_000_000 }, () => 'in') }));
  await redis.xadd(stream, '*', 'i', '3', 'rec', rec({ kind: 'text', text: fine[1] }));
  // Under the byte bound, over the work bound: 200k one-letter words, one 500k-character text.
  await redis.xadd(stream, '*', 'i', '4', 'rec', rec({ kind: 'words', words: Array.from({ length: 200_000 }, () => 'a') }));
  await redis.xadd(stream, '*', 'i', '5', 'rec', rec({ kind: 'text', text: 'in'.repeat(250_000) }));
  // Over the bound in its other fields (not "rec").
  await redis.xadd(stream, '*', 'i', '6', 'rec', rec({ kind: 'text', text: fine[2] }), 'junk', 'j'.repeat(3_000_000));
  await redis.xadd(stream, '*', 'i', '7', 'rec', rec({ kind: 'text', text: fine[2] }));
  const names = streamNames(stream);
  const w = worker(stream);
  try {
    await waitFor(
      async () => (await redis.xlen(names.dead)) + (await redis.xlen(names.results)) >= 8,
      'every message to be done',
      w,
      30_000,
    );
    const dead = Object.fromEntries(
      (await redis.xrange(names.dead, '-', '+')).map(([, f]) => [
        f[f.indexOf('i') + 1]!,
        { reason: f[f.indexOf('reason') + 1]!, message: f[f.indexOf('message') + 1]! },
      ]),
    );
    assert.deepEqual(Object.keys(dead).sort(), ['1', '2', '4', '5', '6']);
    assert.match(dead['1']!.reason, /^the message is 550000\d\d bytes; the limit is 1048576 \(--max-record-bytes\)$/);
    assert.match(dead['2']!.reason, /the limit is 1048576 \(--max-record-bytes\)/);
    assert.match(dead['6']!.reason, /the limit is 1048576 \(--max-record-bytes\)/);
    assert.ok(dead['1']!.message.length < 100, 'the dead letter does not copy the huge message');
    assert.match(dead['4']!.reason, /field "rec": the record has 400000 characters to tag; the limit is 100000 \(--max-record-chars\)/);
    assert.match(dead['5']!.reason, /the record has 500000 characters to tag/);
    const results = (await redis.xrange(names.results, '-', '+')).map(([, f]) => f[f.indexOf('i') + 1]!).sort();
    assert.deepEqual(results, ['0', '3', '7']);
    assert.equal(((await redis.xpending(stream, names.group)) as [number])[0], 0, 'nothing left pending');
    w.child.kill('SIGTERM');
    assert.equal(await w.exit, 0, w.err.slice(-1000));
  } finally {
    w.child.kill('SIGKILL');
  }
});

test('a worker busy on a long batch exits 0 on SIGTERM within --stop-grace-ms, its batch left pending for another', {
  skip,
  timeout: 120_000,
}, async () => {
  const stream = 'stuck';
  // 64 records of 100k characters each: tens of seconds of tagging for one batch.
  const long = fixture.texts
    .join(' ')
    .repeat(Math.ceil(100_000 / fixture.texts.join(' ').length))
    .slice(0, 99_000);
  const p = redis.pipeline();
  for (let i = 0; i < 64; i++) p.xadd(stream, '*', 'i', String(i), 'rec', rec({ kind: 'text', text: long }));
  await p.exec();
  const names = streamNames(stream);
  const w = worker(stream, ['--stop-grace-ms', '1000', '--batch', '64']);
  try {
    // Wait until the batch is delivered (pending to this worker), then give it a moment in the model.
    const pending = async () => ((await redis.xpending(stream, names.group).catch(() => [0])) as [number])[0];
    await waitFor(async () => (await pending()) === 64, 'the batch to be read', w, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    w.child.kill('SIGTERM');
    const code = await Promise.race([w.exit, new Promise<'late'>((r) => setTimeout(() => r('late'), 15_000))]);
    const ms = Date.now() - t0;
    assert.equal(code, 0, `exit ${code} after ${ms} ms: ${w.err.slice(-1000)}`);
    assert.ok(ms < 10_000, `SIGTERM took ${ms} ms`);
    assert.match(w.err, /stopping: left 64 messages pending for another worker/);
    assert.equal(((await redis.xpending(stream, names.group)) as [number])[0], 64, 'the batch stays pending');
    assert.equal(await redis.xlen(names.results), 0);
    assert.equal(await redis.xlen(names.dead), 0, 'an abandoned batch is not a failure');
  } finally {
    w.child.kill('SIGKILL');
  }
});

test('reclaimed messages are bounded too: an oversized message left by a dead consumer is dead-lettered unread', {
  skip,
  timeout: 30_000,
}, async () => {
  const stream = 'claimed';
  const names = streamNames(stream);
  await redis.xgroup('CREATE', stream, names.group, '0', 'MKSTREAM');
  await redis.xadd(stream, '*', 'i', '0', 'rec', rec({ kind: 'text', text: 'y'.repeat(3_000_000) }));
  await redis.xadd(stream, '*', 'i', '1', 'rec', rec({ kind: 'text', text: 'fine' }));
  await redis.call('XREADGROUP', 'GROUP', names.group, 'ghost', 'COUNT', 10, 'STREAMS', stream, '>');
  const seen: number[] = [];
  const tagger: Tagger = async (recs) =>
    recs.map((r) => {
      seen.push((r as { text: string }).text.length);
      return '{}\n';
    });
  const w = new StreamWorker(redis, tagger, {
    names,
    consumer: 'me',
    claimIdleMs: 0,
    blockMs: 20,
    batchWaitMs: 0,
    maxRecordBytes: 100_000,
  });
  const run = w.run();
  const t0 = Date.now();
  while ((await redis.xlen(names.dead)) + (await redis.xlen(names.results)) < 2 && Date.now() - t0 < 10_000)
    await new Promise((r) => setTimeout(r, 20));
  w.stop();
  await run;
  const [[, f]] = (await redis.xrange(names.dead, '-', '+')) as [string, string[]][];
  assert.match(f![f!.indexOf('reason') + 1]!, /^the message is 30000\d\d bytes; the limit is 100000 \(--max-record-bytes\)$/);
  assert.deepEqual(seen, [4]);
  assert.throws(() => new StreamWorker(redis, tagger, { names, maxRecordBytes: 0 }), /maxRecordBytes must be a positive integer/);
});

test("enqueue refuses a record over the workers' byte bound, naming its line", { skip }, async () => {
  const lines = ['short one', 'x'.repeat(2000), 'never sent'].join('\n') + '\n';
  await assert.rejects(
    enqueueRecords(redis, 'enq-big', Readable.from([lines]), { format: 'txt', source: 'in.txt', maxRecordBytes: 1000 }),
    (e: Error) =>
      e instanceof QueueError &&
      /^in\.txt:2: the record is 20\d\d bytes as a message; workers take at most 1000 \(--max-record-bytes\)/.test(e.message),
  );
});
