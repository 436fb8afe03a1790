/**
 * The Redis Streams queue against a real redis-server (started on a free loopback port, no
 * persistence): 10,000 sentences through three worker processes, one killed with SIGKILL midway
 * and one stopped and restarted, must give every message exactly one result and the same bytes
 * as a single-process `tokentune predict`. Then dead letters, idempotent writes and collect's
 * checks, in process. Skips where redis-server is not installed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { pipeline, predictStream } from '../../src/infer/index.js';
import {
  collectResults,
  connectRedis,
  enqueueRecords,
  pipelineTagger,
  streamNames,
  StreamWorker,
  QueueError,
  type Tagger,
} from '../../src/queue/index.js';
import { parseMessage } from '../../src/queue/worker.js';
import { WRITE_RESULTS } from '../../src/queue/scripts.js';
import { main } from '../../src/cli/main.js';
import { makeQueueFixture } from '../helpers/queue-model.js';
import { spawnCli, type CliProcess } from '../helpers/cli-run.js';
import { NO_REDIS, redisServerPath, startRedis, type RedisInstance } from '../helpers/redis-server.js';

const skip = redisServerPath() ? false : NO_REDIS;
const N = 10_000;

let server: RedisInstance;
let redis: Redis;
let fixture: ReturnType<typeof makeQueueFixture>;

before(async () => {
  if (skip) return;
  server = await startRedis();
  redis = await connectRedis(server.url);
  fixture = makeQueueFixture(N);
});

after(async () => {
  if (skip) return;
  redis?.disconnect();
  await server?.stop();
  rmSync(fixture.dir, { recursive: true, force: true });
});

/** The counters a worker prints at exit. */
function finalMetrics(p: CliProcess): Record<string, number> {
  const lines = p.err.split('\n').filter((l) => l.startsWith('metrics '));
  assert.ok(lines.length > 0, `no metrics line from worker: ${p.err.slice(-500)}`);
  return JSON.parse(lines[lines.length - 1]!.slice('metrics '.length));
}

async function waitFor(cond: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('10,000 sentences, 3 workers, one SIGKILLed and one restarted: exactly one result each, equal to predict', {
  skip,
  timeout: 120_000,
}, async (t) => {
  const ref = join(fixture.dir, 'ref.jsonl');
  const got = join(fixture.dir, 'queue.jsonl');
  const predict = spawnCli(['predict', '--model', fixture.model, '--file', fixture.input, '--out', ref]);
  assert.equal(await predict.exit, 0, predict.err);

  const stream = 'crash';
  const enq = spawnCli(['enqueue', '--redis', server.url, '--stream', stream, '--file', fixture.input]);
  assert.equal(await enq.exit, 0, enq.err);
  assert.match(enq.out, /10000 records enqueued/);
  const names = streamNames(stream);
  assert.equal(await redis.xlen(stream), N);

  const worker = (name: string, batch = 32) =>
    spawnCli([
      'worker',
      '--model',
      fixture.model,
      '--redis',
      server.url,
      '--stream',
      stream,
      '--consumer',
      name,
      '--batch',
      String(batch),
      '--claim-idle-ms',
      '1500',
    ]);
  const collect = spawnCli([
    'collect',
    '--redis',
    server.url,
    '--results',
    names.results,
    '--expect',
    String(N),
    '--out',
    got,
    '--timeout',
    '60',
  ]);
  // Worker a first, so it is surely reading before the others could drain the stream.
  const a = worker('a', 256);
  await waitFor(async () => a.out.includes(' on redis://'), 'worker a to start');
  const b = worker('b'),
    c = worker('c');

  // Midway, and while the worker holds a batch. Checking the pending list and then killing races
  // the worker's own ack (a fast machine acks 256 messages between the two calls), so freeze it
  // with SIGSTOP first: its pending list cannot change while it is stopped (result + ack is one
  // Lua script on the server), and it is killed only when it is seen holding messages.
  const held = async (name: string) => ((await redis.xpending(stream, names.group, '-', '+', 1000, name)) as unknown[]).length;
  await waitFor(async () => (await redis.xlen(names.results)) >= 2000, '2,000 results');
  await waitFor(async () => {
    a.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 50)); // a command it sent just before stopping lands first
    if ((await held('a')) > 0) return true;
    a.child.kill('SIGCONT');
    return false;
  }, 'worker a stopped while holding a batch');
  a.child.kill('SIGKILL');
  await a.exit;
  // The killed worker held messages it had read but not acknowledged: they must be reclaimed.
  const orphaned = await held('a');

  await waitFor(async () => (await redis.xlen(names.results)) >= 4000, '4,000 results');
  b.child.kill('SIGTERM');
  assert.equal(await b.exit, 0, `SIGTERM: the worker finishes its batch and exits 0 (${b.err.slice(-300)})`);
  const bFirst = finalMetrics(b);
  assert.equal(
    ((await redis.xpending(stream, names.group, '-', '+', 1000, 'b')) as unknown[]).length,
    0,
    'a stopped worker leaves nothing pending',
  );
  const b2 = worker('b');

  assert.equal(await collect.exit, 0, collect.err);
  // A worker still loading its model has no SIGTERM handler yet (the signal would kill it, exit
  // code null): stop each only once it says it is consuming.
  for (const w of [b2, c]) await waitFor(async () => w.out.includes(' on redis://'), 'the worker to start');
  for (const w of [b2, c]) w.child.kill('SIGTERM');
  assert.equal(await b2.exit, 0, b2.err);
  assert.equal(await c.exit, 0, c.err);

  // Every message: exactly one result, none lost, none dead.
  const ids = (await redis.xrange(stream, '-', '+')).map(([id]) => id);
  const results = await redis.xrange(names.results, '-', '+');
  assert.equal(results.length, N, 'one result entry per message');
  const resultIds = results.map(([, f]) => f[f.indexOf('id') + 1]!);
  assert.deepEqual([...resultIds].sort(), [...ids].sort());
  assert.equal(await redis.hlen(names.done), N);
  assert.equal(await redis.xlen(names.dead), 0);
  assert.equal(((await redis.xpending(stream, names.group)) as [number])[0], 0, 'nothing left pending');

  const processed = [bFirst, finalMetrics(b2), finalMetrics(c)];
  const reclaimed = processed.reduce((s, m) => s + m.reclaimed!, 0);
  assert.ok(orphaned === 0 || reclaimed >= orphaned, `the ${orphaned} messages the killed worker held were reclaimed (${reclaimed})`);
  assert.ok(orphaned > 0, 'the SIGKILL landed while the worker held a batch (the test exercises reclaiming)');

  const maxDiff = assertSameOutput(readFileSync(got, 'utf8'), readFileSync(ref, 'utf8'));
  t.diagnostic(`${orphaned} messages reclaimed from the killed worker; largest score difference from predict ${maxDiff.toExponential(2)}`);
});

/**
 * Equal to predict's output: every line, every field, every tag and offset exactly; scores to
 * 1e-6, because a forward pass's last bits depend on which texts share its batch (summation
 * order over the padded length), and workers batch messages differently from predict.
 */
function assertSameOutput(got: string, want: string): number {
  const g = got.split('\n'),
    w = want.split('\n');
  assert.equal(g.length, w.length, 'line count');
  let maxDiff = 0;
  const same = (x: unknown, y: unknown, path: string): void => {
    if (typeof x === 'number' && typeof y === 'number' && !Number.isInteger(y)) {
      const d = Math.abs(x - y);
      maxDiff = Math.max(maxDiff, d);
      assert.ok(d <= 1e-6, `${path}: ${x} vs ${y}`);
    } else if (Array.isArray(y)) {
      assert.ok(Array.isArray(x) && x.length === y.length, `${path}: length`);
      y.forEach((v, k) => same((x as unknown[])[k], v, `${path}[${k}]`));
    } else if (y !== null && typeof y === 'object') {
      assert.deepEqual(Object.keys(x as object), Object.keys(y), `${path}: keys`);
      for (const [k, v] of Object.entries(y)) same((x as Record<string, unknown>)[k], v, `${path}.${k}`);
    } else assert.equal(x, y, path);
  };
  w.forEach((line, i) => (line === '' ? assert.equal(g[i], '') : same(JSON.parse(g[i]!), JSON.parse(line), `line ${i + 1}`)));
  return maxDiff;
}

/** An in-process worker on `stream`, stopped when `done` says so. */
async function runUntil(w: StreamWorker, done: () => Promise<boolean>): Promise<void> {
  const running = w.run();
  await waitFor(done, 'the worker');
  w.stop();
  await running;
}

test('dead letters: malformed messages at once, a failing record after maxDeliveries, an over-delivered message without tagging', {
  skip,
  timeout: 30_000,
}, async () => {
  const names = streamNames('dl');
  const text = (t: string) => JSON.stringify({ kind: 'text', text: t });
  // A message another consumer took and failed ten times already (XCLAIM RETRYCOUNT sets the count).
  const tired = (await redis.xadd('dl', '*', 'i', '4', 'rec', text('tired')))!;
  await redis.xgroup('CREATE', 'dl', names.group, '0', 'MKSTREAM');
  await redis.call('XREADGROUP', 'GROUP', names.group, 'ghost', 'COUNT', 1, 'STREAMS', 'dl', '>');
  await redis.call('XCLAIM', 'dl', names.group, 'ghost', 0, tired, 'RETRYCOUNT', 10);
  await redis.xadd('dl', '*', 'rec', text('no index'));
  await redis.xadd('dl', '*', 'i', '1', 'rec', '{"kind":"text","text":5}');
  await redis.xadd('dl', '*', 'i', '2', 'rec', text('poison'));
  await redis.xadd('dl', '*', 'i', '3', 'rec', text('fine'));
  await redis.xadd('dl', '*', 'i', '0', 'rec', text('zero'));

  const seen: string[] = [];
  const tagger: Tagger = async (recs) =>
    recs.map((r) => {
      const t = (r as { text: string }).text;
      seen.push(t);
      if (t === 'poison') throw new Error('boom');
      return JSON.stringify({ text: t, entities: [] }) + '\n';
    });
  const w = new StreamWorker(redis, tagger, { names, consumer: 'me', claimIdleMs: 0, maxDeliveries: 2, blockMs: 20, batchWaitMs: 0 });
  await runUntil(w, async () => (await redis.xlen(names.dead)) >= 4 && (await redis.xlen(names.results)) >= 2);
  const dead = Object.fromEntries(
    (await redis.xrange(names.dead, '-', '+')).map(([, f]) => [f[f.indexOf('i') + 1]!, f[f.indexOf('reason') + 1]!]),
  );
  assert.match(dead['']!, /field "i" \(the input index\) is missing/);
  assert.match(dead['1']!, /field "rec": a text record needs "text"/);
  assert.match(dead['2']!, /failed 2 deliveries \(limit 2\); last error: boom/);
  assert.match(dead['4']!, /failed 1[01] deliveries/);
  assert.ok(!seen.includes('tired'), 'an over-delivered message is dead-lettered without being tagged again');
  assert.equal((await redis.xrange(names.results, '-', '+')).length, 2);
  assert.equal(((await redis.xpending('dl', names.group)) as [number])[0], 0);
  assert.equal(w.counters.failed, 2, 'the failing record failed once per delivery, maxDeliveries times');
  assert.equal(w.counters.deadLettered, 4);

  // collect counts dead letters as outcomes and reports them.
  const got = await collectResults(redis, { results: names.results, dead: names.dead, expect: 5, blockMs: 50 });
  // (The message without an index is dead-lettered but cannot be placed; the others are accounted for.)
  assert.deepEqual(
    got.outputs.map((x) => (x === null ? null : JSON.parse(x).text)),
    ['zero', null, null, 'fine', null],
  );
  assert.deepEqual(got.dead.map((d) => d.index).sort(), [1, 2, 4]);
});

test('a result is written once per message id, however many workers finish it', { skip }, async () => {
  const names = streamNames('idem');
  await redis.xgroup('CREATE', 'idem', names.group, '0', 'MKSTREAM');
  const id = (await redis.xadd('idem', '*', 'i', '0', 'rec', '{}'))!;
  const write = () => redis.eval(WRITE_RESULTS, 3, 'idem', names.results, names.done, names.group, id, '0', 'out\n');
  assert.equal(await write(), 1);
  assert.equal(await write(), 0);
  assert.equal(await redis.xlen(names.results), 1);
});

test('enqueue -> worker -> collect equals predict for jsonl and conll files (document markers, token lists)', {
  skip,
  timeout: 30_000,
}, async () => {
  const pipe = await pipeline(fixture.model, { onWarning: () => {} });
  const conll =
    '-DOCSTART- -X- O O\n\n' +
    fixture.texts
      .slice(0, 30)
      .map((t) =>
        t
          .split(' ')
          .map((w) => `${w} NN O`)
          .join('\n'),
      )
      .join('\n\n') +
    '\n';
  const jsonl =
    fixture.texts
      .slice(0, 30)
      .map((t, i) => JSON.stringify(i % 2 ? { text: t, id: i } : { tokens: t.split(' '), id: i }))
      .join('\n') + '\n';
  for (const [fmt, body] of [
    ['conll', conll],
    ['jsonl', jsonl],
  ] as const) {
    const file = join(fixture.dir, `small.${fmt}`);
    writeFileSync(file, body);
    const stream = `fmt-${fmt}`;
    const n = await enqueueRecords(redis, stream, createReadStream(file, 'utf8'), { format: fmt });
    assert.equal(n, 30);
    const names = streamNames(stream);
    const w = new StreamWorker(redis, pipelineTagger(pipe, { aggregationStrategy: 'first', ignoreLabels: ['O'] }), {
      names,
      consumer: 'x',
      batch: 7,
      blockMs: 20,
    });
    await runUntil(w, async () => (await redis.xlen(names.results)) >= n);
    const got = await collectResults(redis, { results: names.results, dead: names.dead, expect: n });
    const sink = new PassThrough();
    let want = '';
    sink.on('data', (c: Buffer) => (want += c.toString()));
    await predictStream(pipe, createReadStream(file, 'utf8'), sink, {
      inputFormat: fmt,
      outputFormat: 'jsonl',
      aggregationStrategy: 'first',
      ignoreLabels: ['O'],
    });
    assertSameOutput(got.outputs.join(''), want);
  }
});

test('collect: a second outcome for an index, an index past --expect, and a stalled queue are errors that say why', { skip }, async () => {
  await redis.xadd('c1:results', '*', 'id', '1-1', 'i', '0', 'out', 'a\n');
  await redis.xadd('c1:results', '*', 'id', '2-1', 'i', '0', 'out', 'b\n');
  await assert.rejects(
    collectResults(redis, { results: 'c1:results', dead: 'c1:dead', expect: 2, blockMs: 20 }),
    /input index 0 has two outcomes \(messages 1-1 and 2-1\): was the input enqueued twice/,
  );
  await redis.xadd('c2:results', '*', 'id', '1-1', 'i', '7', 'out', 'a\n');
  await assert.rejects(
    collectResults(redis, { results: 'c2:results', dead: 'c2:dead', expect: 3, blockMs: 20 }),
    /input index 7, but --expect is 3/,
  );
  await redis.xadd('c3:results', '*', 'id', '1-1', 'i', '1', 'out', 'a\n');
  await assert.rejects(
    collectResults(redis, { results: 'c3:results', dead: 'c3:dead', expect: 3, blockMs: 20, idleTimeoutMs: 100 }),
    (e: Error) => e instanceof QueueError && /1 of 3 records done; missing input indexes 0, 2/.test(e.message),
  );
});

test('CLI: a bad --redis URL, an unreachable server and missing flags name the flag', { skip, timeout: 30_000 }, async () => {
  const run = async (argv: string[]) => {
    let out = '',
      err = '';
    const code = await main(argv, {
      stdout: { write: (s: string) => ((out += s), true) } as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((err += s), true) } as NodeJS.WritableStream,
    });
    return { code, out, err };
  };
  let r = await run(['enqueue', '--redis', 'http://x:1', '--stream', 's', '--file', fixture.input]);
  assert.equal(r.code, 1);
  assert.match(r.err, /--redis: the scheme is 'http:', expected redis:\/\/HOST:PORT/);
  r = await run(['collect', '--redis', 'redis://127.0.0.1:1', '--results', 'r', '--expect', '1']);
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot reach Redis at redis:\/\/127\.0\.0\.1:1 \(--redis\).*ECONNREFUSED/);
  r = await run(['collect', '--redis', server.url, '--results', 'r']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--expect N/);
  r = await run(['worker', '--model', fixture.model, '--redis', server.url]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--stream NAME/);
  r = await run(['enqueue', '--redis', server.url, '--stream', 's', '--file', join(fixture.dir, 'absent.txt')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /absent\.txt: cannot read \(ENOENT\)/);
});

test('parseMessage: any field list gives a valid record or a reason, never a throw (property)', () => {
  const field = fc.oneof(fc.constantFrom('i', 'rec', 'x'), fc.string({ maxLength: 4 }));
  const value = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.nat().map(String),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          kind: fc.constantFrom('text', 'words', 'conll', 'passthrough', 'other'),
          text: fc.oneof(fc.string(), fc.integer()),
          words: fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
          lines: fc.array(fc.string(), { maxLength: 3 }),
          line: fc.string(),
        },
        { requiredKeys: ['kind'] },
      )
      .map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(field, value), { maxLength: 6 }), (pairs) => {
      const m = parseMessage('1-0', pairs.flat());
      if (m.malformed) {
        assert.equal(m.record, undefined);
        return;
      }
      assert.match(m.index, /^\d+$/);
      const r = m.record!;
      if (r.kind === 'text') assert.equal(typeof r.text, 'string');
      else if (r.kind === 'words') assert.ok(r.words.every((w) => typeof w === 'string'));
      else if (r.kind === 'conll') assert.equal(r.words.length, r.lines.length);
      else assert.equal(typeof r.line, 'string');
    }),
    { numRuns: 2000 },
  );
});

test('worker --metrics-port serves Prometheus counters; abort stops it with exit code 0', { skip, timeout: 30_000 }, async () => {
  const { runWorker } = await import('../../src/cli/worker.js');
  let out = '',
    err = '';
  const ac = new AbortController();
  const done = runWorker(
    [
      '--model',
      fixture.model,
      '--redis',
      server.url,
      '--stream',
      'metrics',
      '--consumer',
      'm',
      '--metrics-port',
      '0',
      '--batch-wait-ms',
      '0',
    ],
    {
      stdout: { write: (s: string) => ((out += s), true) } as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((err += s), true) } as NodeJS.WritableStream,
      signal: ac.signal,
    },
  );
  await waitFor(async () => /metrics on http:\/\/\S+\/metrics/.test(err), 'the metrics endpoint');
  const url = /metrics on (http:\/\/\S+\/metrics)/.exec(err)![1]!;
  for (let i = 0; i < 5; i++)
    await redis.xadd('metrics', '*', 'i', String(i), 'rec', JSON.stringify({ kind: 'text', text: fixture.texts[i] }));
  await waitFor(async () => (await redis.xlen('metrics:results')) >= 5, 'five results');
  const text = await (await fetch(url)).text();
  assert.match(text, /# TYPE tokentune_worker_processed_total counter\ntokentune_worker_processed_total\{consumer="m"\} 5\n/);
  assert.match(text, /tokentune_worker_pending\{consumer="m"\} 0\n/);
  assert.match(text, /tokentune_worker_lag\{consumer="m"\} 0\n/);
  assert.match(text, /tokentune_worker_throughput_per_s\{consumer="m"\} [\d.]+\n/);
  assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404);
  ac.abort();
  assert.equal(await done, 0);
  assert.match(out, /worker m stopped after 5 results/);
  assert.match(err, /^metrics \{"consumer":"m","processed":5,/m);
});

test('a restarted consumer retries its own pending messages once, then moves on (a failing one is left for XAUTOCLAIM)', {
  skip,
  timeout: 30_000,
}, async () => {
  const names = streamNames('own');
  await redis.xgroup('CREATE', 'own', names.group, '0', 'MKSTREAM');
  for (const t of ['bad', 'good'])
    await redis.xadd('own', '*', 'i', t === 'bad' ? '0' : '1', 'rec', JSON.stringify({ kind: 'text', text: t }));
  await redis.call('XREADGROUP', 'GROUP', names.group, 'p', 'COUNT', 10, 'STREAMS', 'own', '>'); // 'p' took both, then "crashed"
  let calls = 0;
  const tagger: Tagger = async (recs) => {
    calls++;
    return recs.map((r) => {
      if ((r as { text: string }).text === 'bad') throw new Error('always fails');
      return 'ok\n';
    });
  };
  const w = new StreamWorker(redis, tagger, { names, consumer: 'p', blockMs: 20, batchWaitMs: 0 });
  const running = w.run();
  await waitFor(async () => (await redis.xlen(names.results)) >= 1, 'the good message');
  await new Promise((r) => setTimeout(r, 200));
  w.stop();
  await running;
  assert.equal(w.counters.processed, 1);
  assert.equal(w.counters.failed, 1, 'the failing message was tried once, not in a loop');
  assert.ok(calls <= 3, `${calls} tagger calls`);
  const pending = (await redis.xpending('own', names.group, '-', '+', 10)) as [string, string, number, number][];
  assert.equal(pending.length, 1, 'the failing message stays pending for a retry');
});

test('collect with a writer: results leave in input order as soon as the earlier ones are in; dead letters skipped', { skip }, async () => {
  for (const [i, out] of [
    [2, 'c\n'],
    [0, 'a\n'],
    [4, 'e\n'],
  ] as const)
    await redis.xadd('c5:results', '*', 'id', `${i}-1`, 'i', String(i), 'out', out);
  await redis.xadd('c5:dead', '*', 'id', '3-1', 'i', '3', 'reason', 'failed 5 deliveries');
  const written: string[] = [];
  setTimeout(() => void redis.xadd('c5:results', '*', 'id', '1-1', 'i', '1', 'out', 'b\n'), 100);
  const got = await collectResults(redis, {
    results: 'c5:results',
    dead: 'c5:dead',
    expect: 5,
    blockMs: 20,
    write: (l) => void written.push(l),
  });
  assert.deepEqual(written, ['a\n', 'b\n', 'c\n', 'e\n']);
  assert.deepEqual(got.outputs, []);
  assert.deepEqual(got.dead, [{ index: 3, reason: 'failed 5 deliveries' }]);
});
