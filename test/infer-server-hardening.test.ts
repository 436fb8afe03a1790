/**
 * The server against hostile or careless clients: wrong Content-Type, a foreign Host (DNS
 * rebinding), foreign Origins (CORS only when configured), clients that hang up mid-request,
 * slow headers, slow bodies, idle keep-alive connections and a connection flood.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  createServer,
  type Entity,
  type RunOptions,
  type ServedPipeline,
  type ServerOptions,
  type TextRequest,
} from '../src/infer/index.js';

/** A model stand-in: 5 ms per text, honouring the abort signal between texts as the pipeline does between forward calls. */
class SlowPipe implements ServedPipeline {
  readonly name = 'slow';
  readonly labels = ['O', 'B-X'];
  readonly maxLength = 32;
  forwardCalls = 0;
  async predictMany(requests: readonly TextRequest[], run: RunOptions = {}): Promise<Entity[][]> {
    const out: Entity[][] = [];
    for (const r of requests) {
      run.signal?.throwIfAborted();
      await new Promise((res) => setTimeout(res, 5));
      this.forwardCalls++;
      out.push(r.text ? [{ entity: 'B-X', score: 1, index: 1, word: r.text, start: 0, end: r.text.length }] : []);
    }
    return out;
  }
}

interface Ctx {
  port: number;
  pipe: SlowPipe;
  logs: string[];
  server: http.Server;
}

async function withServer(opts: ServerOptions, fn: (c: Ctx) => Promise<void>): Promise<void> {
  const pipe = new SlowPipe();
  const logs: string[] = [];
  const server = createServer(pipe, { batchWaitMs: 1, maxTexts: 1000, log: (l) => logs.push(l), ...opts });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn({ port: (server.address() as AddressInfo).port, pipe, logs, server });
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: any;
}

function request(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode!, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const predict = (port: number, body: unknown, headers: Record<string, string> = JSON_HEADERS) =>
  request(port, 'POST', '/predict', headers, JSON.stringify(body));

test('POST /predict needs Content-Type application/json (UTF-8): cross-site simple POSTs are refused unrun', async () => {
  await withServer({}, async ({ port, pipe }) => {
    for (const [type, why] of [
      [undefined, /missing Content-Type/],
      ['text/plain', /Content-Type is "text\/plain"; send the header 'Content-Type: application\/json'/],
      ['application/x-www-form-urlencoded', /Content-Type is/],
      ['multipart/form-data; boundary=x', /Content-Type is/],
      ['application/json; charset=latin1', /charset "latin1" is not supported/],
    ] as const) {
      const r = await predict(port, { text: 'Anna' }, type ? { 'content-type': type } : {});
      assert.equal(r.status, 415, String(type));
      assert.match(r.json.error, why);
    }
    assert.equal(pipe.forwardCalls, 0, 'nothing refused reached the model');
    const ok = await predict(port, { text: 'Anna' }, { 'content-type': 'Application/JSON; charset="UTF-8"' });
    assert.equal(ok.status, 200);
    assert.equal(pipe.forwardCalls, 1);
  });
});

test('Host must name the server as reached (DNS rebinding), or be allow-listed', async () => {
  await withServer({}, async ({ port, pipe }) => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1:${port + 1}`, 'a b']) {
      for (const [method, path] of [
        ['GET', '/health'],
        ['GET', '/'],
        ['POST', '/predict'],
      ] as const) {
        const r = await request(port, method, path, { ...JSON_HEADERS, host }, method === 'POST' ? '{"text":"x"}' : undefined);
        assert.equal(r.status, 403, `${host} ${path}`);
        assert.match(r.json.error, /does not name this server; .*--allowed-hosts NAME/);
      }
    }
    assert.equal(pipe.forwardCalls, 0);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      assert.equal((await request(port, 'GET', '/health', { host })).status, 200, host);
    }
  });
  await withServer({ allowedHosts: ['tagger.internal', `api.example:8443`] }, async ({ port }) => {
    assert.equal((await request(port, 'GET', '/health', { host: 'tagger.internal:1234' })).status, 200);
    assert.equal((await request(port, 'GET', '/health', { host: 'api.example:8443' })).status, 200);
    assert.equal((await request(port, 'GET', '/health', { host: 'api.example:9000' })).status, 403);
  });
  await withServer({ allowedHosts: ['*'] }, async ({ port }) => {
    assert.equal((await request(port, 'GET', '/health', { host: 'anything.example' })).status, 200);
  });
});

test('CORS: no headers and foreign origins refused by default; named origins get preflight and headers', async () => {
  await withServer({}, async ({ port, pipe }) => {
    const health = await request(port, 'GET', '/health', { origin: 'http://other.example' });
    assert.equal(health.status, 403, 'a foreign origin is refused on every endpoint');
    assert.equal(health.headers['access-control-allow-origin'], undefined);
    const foreign = await predict(port, { text: 'a' }, { ...JSON_HEADERS, origin: 'http://other.example' });
    assert.equal(foreign.status, 403);
    assert.match(foreign.json.error, /cross-origin request from "http:\/\/other\.example" refused; .*--cors-origin/);
    assert.equal(pipe.forwardCalls, 0);
    const same = await predict(port, { text: 'a' }, { ...JSON_HEADERS, origin: `http://127.0.0.1:${port}` });
    assert.equal(same.status, 200, 'the page itself (same origin) may POST');
    const preflight = await request(port, 'OPTIONS', '/predict', {
      origin: 'http://other.example',
      'access-control-request-method': 'POST',
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers['access-control-allow-origin'], undefined);
  });
  await withServer({ corsOrigins: ['http://app.example'] }, async ({ port }) => {
    const pre = await request(port, 'OPTIONS', '/predict', {
      origin: 'http://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'http://app.example');
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
    assert.match(String(pre.headers['access-control-allow-headers']), /Content-Type/i);
    assert.equal(pre.headers.vary, 'Origin');
    const r = await predict(port, { text: 'a' }, { ...JSON_HEADERS, origin: 'http://app.example' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'http://app.example');
    assert.equal((await predict(port, { text: 'a' }, { ...JSON_HEADERS, origin: 'http://evil.example' })).status, 403);
  });
});

test('a client that hangs up: not logged as an error, its running and queued work dropped, the next request fast', async () => {
  await withServer({ maxBatchTexts: 1000 }, async ({ port, pipe, logs }) => {
    const texts = Array.from({ length: 200 }, (_, i) => `t${i}`); // 200 x 5 ms = 1 s of work
    const hangUp = (ms: number) =>
      new Promise<void>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/predict', headers: JSON_HEADERS, agent: false });
        req.on('error', () => resolve());
        req.end(JSON.stringify({ texts }));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, ms);
      });
    await Promise.all([hangUp(60), hangUp(80)]); // the first runs, the second waits behind it
    await new Promise((r) => setTimeout(r, 50));
    const calls = pipe.forwardCalls;
    assert.ok(calls < 60, `the abandoned batch stopped early (${calls} of 400 texts run)`);
    const t0 = performance.now();
    const r = await predict(port, { text: 'Anna' });
    const ms = performance.now() - t0;
    assert.equal(r.status, 200);
    assert.ok(ms < 500, `the next request took ${ms.toFixed(0)} ms`);
    const h = await request(port, 'GET', '/health');
    assert.equal(h.json.errors, 0);
    assert.equal(h.json.disconnects, 2);
    assert.ok(h.json.cancelled_texts >= 200, `cancelled ${h.json.cancelled_texts}`);
    assert.deepEqual(logs, [], 'no stack traces for disconnects');
  });
});

/** A raw socket; resolves with what the server sent when it closes. */
function rawUntilClose(port: number, send: string, keep = false): { done: Promise<{ text: string; ms: number }>; socket: net.Socket } {
  const socket = net.connect(port, '127.0.0.1');
  const t0 = performance.now();
  let text = '';
  socket.on('data', (c) => (text += c));
  socket.on('error', () => {});
  if (send) socket.write(send);
  void keep;
  return { socket, done: new Promise((r) => socket.on('close', () => r({ text, ms: performance.now() - t0 }))) };
}

test('slow headers, slow bodies and idle keep-alive connections are closed on time', async () => {
  await withServer({ headersTimeoutMs: 200, bodyTimeoutMs: 400, idleTimeoutMs: 200 }, async ({ port, logs }) => {
    const head = rawUntilClose(port, 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // never finishes its headers
    const body = rawUntilClose(
      port,
      `POST /predict HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"text":`,
    );
    const idle = rawUntilClose(port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    const [h, b, i] = await Promise.all([head.done, body.done, idle.done]);
    assert.match(h.text, /^HTTP\/1\.1 408/);
    assert.ok(h.ms < 1500, `slow headers closed after ${h.ms.toFixed(0)} ms`);
    assert.match(b.text, /^HTTP\/1\.1 408/);
    assert.ok(b.ms >= 350 && b.ms < 2000, `slow body closed after ${b.ms.toFixed(0)} ms`);
    assert.match(i.text, /^HTTP\/1\.1 200/);
    assert.ok(i.ms < 1500, `idle keep-alive closed after ${i.ms.toFixed(0)} ms`);
    assert.deepEqual(logs, []);
  });
});

test('connections beyond maxConnections are closed at once and counted', async () => {
  await withServer({ maxConnections: 3 }, async ({ port, server }) => {
    const held = [0, 1, 2].map(() => rawUntilClose(port, ''));
    await Promise.all(held.map((h) => new Promise((r) => h.socket.once('connect', r))));
    await new Promise((r) => setTimeout(r, 50));
    const extra = rawUntilClose(port, `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    const e = await extra.done;
    assert.equal(e.text, '', 'the fourth connection is closed unanswered');
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.done));
    await new Promise((r) => setTimeout(r, 50));
    const r = await request(port, 'GET', '/health');
    assert.equal(r.status, 200);
    assert.ok(r.json.dropped_connections >= 1);
    void server;
  });
});
