/**
 * `serve --workers N`: inference in child processes. Same answers as the in-process pipeline,
 * /health keeps answering while a large batch runs, a killed inference process fails only its
 * own batch and is replaced.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { createServer, pipeline, PredictorPool, type TokenClassificationPipeline } from '../src/infer/index.js';
import { makeQueueFixture } from './helpers/queue-model.js';

let fixture: ReturnType<typeof makeQueueFixture>;
let pool: PredictorPool;
let local: TokenClassificationPipeline;
let server: http.Server;
let port = 0;
const exits: string[] = [];
let bigBatchMs = 0;
const long = () => fixture.texts.join(' ');

before(async () => {
  fixture = makeQueueFixture(40, { hidden: 64, layers: 2 });
  pool = await PredictorPool.start({ model: fixture.model, workers: 2, threadsPerWorker: 1, onExit: (l) => exits.push(l) });
  local = await pipeline(fixture.model, { onWarning: () => {} });
  server = createServer(pool, { concurrency: 2, maxTextChars: 200_000 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  pool.close();
  rmSync(fixture.dir, { recursive: true, force: true });
});

function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text), ms: performance.now() - t0 }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

test('the pool answers as the in-process pipeline does', async () => {
  assert.equal(pool.name, 'model');
  assert.deepEqual(pool.labels, local.labels);
  for (const text of fixture.texts.slice(0, 6)) {
    const r = await call('POST', '/predict', { text, aggregation_strategy: 'simple' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.entities, JSON.parse(JSON.stringify(await local.predict(text, { aggregationStrategy: 'simple' }))));
  }
  const bad = await call('POST', '/predict', { text: 'x', aggregation_strategy: 'simple', ignore_labels: ['O'] });
  assert.equal(bad.status, 200);
});

test('/health answers while a large batch runs in an inference process', async () => {
  const texts = Array.from({ length: 48 }, (_, i) => `${long()} ${i}`); // about 1,500 windows of the model's 126 tokens
  let finished = false;
  const big = call('POST', '/predict', { texts }).then((r) => ((finished = true), r));
  const during: number[] = [];
  await new Promise((r) => setTimeout(r, 30));
  while (!finished) {
    const h = await call('GET', '/health');
    assert.equal(h.status, 200);
    if (!finished) during.push(h.ms);
    await new Promise((r) => setTimeout(r, 10));
  }
  const r = await big;
  bigBatchMs = r.ms;
  assert.equal(r.status, 200);
  assert.equal(r.json.results.length, texts.length);
  assert.ok(during.length >= 3, `/health answered ${during.length} times during the batch`);
  during.sort((a, b) => a - b);
  // Loose bound: CI machines are shared; the design point is that /health does not wait for the batch.
  assert.ok(
    during[Math.floor(during.length / 2)]! < 100,
    `median /health latency during the batch ${during[Math.floor(during.length / 2)]!.toFixed(1)} ms`,
  );
});

test('clients that hang up have their work stopped in the inference processes', async () => {
  const texts = Array.from({ length: 48 }, (_, i) => `${long()} ${i}`);
  const before = (await call('GET', '/health')).json.disconnects;
  // Two large requests occupy both processes; both clients hang up.
  await Promise.all(
    [0, 1].map(
      () =>
        new Promise<void>((resolve) => {
          const req = http.request({
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/predict',
            agent: false,
            headers: { 'content-type': 'application/json' },
          });
          req.on('error', () => resolve());
          req.end(JSON.stringify({ texts }));
          setTimeout(() => (req.destroy(), resolve()), 150);
        }),
    ),
  );
  const small = await call('POST', '/predict', { text: fixture.texts[0] });
  assert.equal(small.status, 200);
  assert.ok(
    small.ms < bigBatchMs / 3,
    `a small request after the hang-ups took ${small.ms.toFixed(0)} ms (a large batch takes ${bigBatchMs.toFixed(0)} ms)`,
  );
  // Both abandoned batches end (as disconnects) well before a large batch could have finished.
  const t0 = performance.now();
  let seen = 0;
  while ((seen = (await call('GET', '/health')).json.disconnects - before) < 2 && performance.now() - t0 < bigBatchMs)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(seen, 2);
  assert.ok(
    performance.now() - t0 < bigBatchMs / 2,
    `the second abandoned batch ended ${(performance.now() - t0).toFixed(0)} ms after the hang-up checks (a large batch takes ${bigBatchMs.toFixed(0)} ms)`,
  );
});

test('a killed inference process fails only its batch and is replaced', async () => {
  const [victim] = pool.pids;
  process.kill(victim!, 'SIGKILL');
  for (let i = 0; i < 400 && (pool.restarts < 1 || pool.workers < 2); i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(pool.restarts, 1);
  assert.equal(pool.workers, 2);
  assert.ok(!pool.pids.includes(victim!));
  assert.match(exits[0]!, /exited \(SIGKILL\); starting another/);
  const r = await call('POST', '/predict', { texts: fixture.texts.slice(0, 4) });
  assert.equal(r.status, 200);
  assert.equal(r.json.results.length, 4);
});

test('tokentune serve --workers 1: listens, answers, stops on abort and takes its process with it', async () => {
  const { runServe } = await import('../src/cli/serve.js');
  let out = '',
    err = '';
  const ac = new AbortController();
  const done = runServe(['--model', fixture.model, '--port', '0', '--workers', '1'], {
    stdout: { write: (s: string) => ((out += s), true) } as NodeJS.WritableStream,
    stderr: { write: (s: string) => ((err += s), true) } as NodeJS.WritableStream,
    signal: ac.signal,
  });
  for (let i = 0; i < 1000 && !out.includes('http://'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.match(out, /with 1 inference process\b/);
  const url = /http:\/\/\S+\//.exec(out)![0];
  const health = (await (await fetch(url + 'health')).json()) as { inference_processes?: number; model: string };
  assert.equal(health.model, 'model');
  const pred = (await (
    await fetch(url + 'predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: fixture.texts[0] }),
    })
  ).json()) as { entities: unknown };
  assert.ok(Array.isArray(pred.entities));
  ac.abort();
  assert.equal(await done, 0);
  assert.equal(err, '');
});

test('tokentune serve: bad timeout flags are refused before anything loads', async () => {
  const { main } = await import('../src/cli/main.js');
  let err = '';
  const code = await main(['serve', '--model', fixture.model, '--workers', '2', '--headers-timeout-ms', '60000'], {
    stdout: { write: () => true } as unknown as NodeJS.WritableStream,
    stderr: { write: (s: string) => ((err += s), true) } as NodeJS.WritableStream,
  });
  assert.equal(code, 2);
  assert.match(err, /--headers-timeout-ms \(60000\) must not exceed --body-timeout-ms \(30000\)/);
});
