/**
 * Issue 21, the server: no request may end `tokentune serve` (every early-answer path of the body
 * reader, with and without --workers), one client holding hundreds of slow connections cannot take
 * it off the air (per-address connection cap + header time), SIGTERM to the process group under
 * --workers is a clean shutdown (no respawn, the request in flight answered, exit 0), and a
 * header that must be single (Host, Content-Type, ...) sent twice is a 400.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer, pipeline, type TokenClassificationPipeline } from '../src/infer/index.js';
import { makeQueueFixture } from './helpers/queue-model.js';

const BIN = fileURLToPath(new URL('../../bin/tokentune.js', import.meta.url));
let fixture: ReturnType<typeof makeQueueFixture>;
let pipe: TokenClassificationPipeline;

before(async () => {
  fixture = makeQueueFixture(40, { hidden: 32, layers: 1 });
  pipe = await pipeline(fixture.model, { onWarning: () => {} });
});
after(() => rmSync(fixture.dir, { recursive: true, force: true }));

interface Serve {
  child: ChildProcess;
  port: number;
  out: string;
  err: string;
  exit: Promise<{ code: number | null; signal: string | null }>;
}

/** `tokentune serve` as its own process (and process group), on a free port. */
async function serve(extra: string[]): Promise<Serve> {
  const child = spawn(process.execPath, [BIN, 'serve', '--model', fixture.model, '--port', '0', ...extra], {
    env: { ...process.env, TOKENTUNE_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const s: Serve = {
    child,
    port: 0,
    out: '',
    err: '',
    exit: new Promise((r) => child.once('exit', (code, signal) => r({ code, signal }))),
  };
  child.stdout!.on('data', (c: Buffer) => (s.out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (s.err += c.toString()));
  const t0 = Date.now();
  while (!/on http:\/\/127\.0\.0\.1:(\d+)\//.test(s.out)) {
    if (child.exitCode !== null || Date.now() - t0 > 30_000) throw new Error(`serve did not start: ${s.err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  s.port = Number(/on http:\/\/127\.0\.0\.1:(\d+)\//.exec(s.out)![1]);
  return s;
}

function stopServe(s: Serve): void {
  if (s.child.exitCode === null && s.child.signalCode === null) {
    try {
      process.kill(-s.child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** Sends raw bytes on a fresh connection; resolves with everything the server answered before closing (or after `ms`). */
function raw(port: number, chunks: (string | Buffer)[], o: { ms?: number; localAddress?: string; hangUp?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress: o.localAddress });
    let got = '';
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, o.ms ?? 5000);
    sock.on('data', (c) => (got += c.toString()));
    sock.on('close', done);
    sock.on('error', done);
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c);
      if (o.hangUp) setTimeout(() => sock.destroy(), 50);
    });
  });
}

function get(
  port: number,
  path: string,
  o: { localAddress?: string; method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path, method: o.method ?? 'GET', agent: false, localAddress: o.localAddress, headers: o.headers },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = text;
          }
          resolve({ status: res.statusCode!, json });
        });
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error(`${path}: no answer in 5 s`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

const head = (port: number, lines: string[]) => `${lines.join('\r\n')}\r\nHost: 127.0.0.1:${port}\r\n\r\n`;

for (const workers of ['0', '1']) {
  test(`serve --workers ${workers}: every early answer of the body reader (413, 415, 403, hang-up) leaves the server up`, {
    timeout: 90_000,
  }, async () => {
    const s = await serve(['--workers', workers, '--max-body-bytes', '1000', '--headers-timeout-ms', '1000', '--body-timeout-ms', '2000']);
    try {
      const p = s.port;
      const answers = await Promise.all([
        // Declared too large, headers only (the second case: died ~5 s later).
        raw(p, [head(p, ['POST /predict HTTP/1.1', 'Content-Type: application/json', 'Content-Length: 2000000'])]),
        // Declared too large, body streaming in.
        raw(p, [
          head(p, ['POST /predict HTTP/1.1', 'Content-Type: application/json', 'Content-Length: 2000000']),
          Buffer.alloc(50_000, 'a'),
        ]),
        // Undeclared (chunked), too large as it arrives.
        raw(p, [
          head(p, ['POST /predict HTTP/1.1', 'Content-Type: application/json', 'Transfer-Encoding: chunked']),
          `${(5000).toString(16)}\r\n${'a'.repeat(5000)}\r\n`,
        ]),
        // Refused before the body is read, body still pending.
        raw(p, [head(p, ['POST /predict HTTP/1.1', 'Content-Type: text/plain', 'Content-Length: 500'])]),
        raw(p, [`POST /predict HTTP/1.1\r\nHost: evil.example\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n`]),
        // Hang-ups mid-body, under and over the limit.
        raw(p, [head(p, ['POST /predict HTTP/1.1', 'Content-Type: application/json', 'Content-Length: 900']), '{"text": "'], {
          hangUp: true,
        }),
        raw(p, [head(p, ['POST /predict HTTP/1.1', 'Content-Type: application/json', 'Content-Length: 2000000']), 'x'], { hangUp: true }),
      ]);
      assert.match(answers[0]!, /^HTTP\/1\.1 413 .*request body is 2000000 bytes; the limit is 1000/s);
      assert.match(answers[1]!, /^HTTP\/1\.1 413/);
      assert.match(answers[2]!, /^HTTP\/1\.1 413 .*exceeds the limit of 1000 bytes/s);
      assert.match(answers[3]!, /^HTTP\/1\.1 415/);
      assert.match(answers[4]!, /^HTTP\/1\.1 403/);
      // Past every drain timer (2 s) and header timeout: the process is still there and answers.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal(s.child.exitCode, null, `serve exited: ${s.err}`);
      const h = await get(p, '/health');
      assert.equal(h.status, 200);
      const ok = await get(p, '/predict', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: fixture.texts[0] }),
      });
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.doesNotMatch(s.err, /ReferenceError|Error:/, s.err);
    } finally {
      stopServe(s);
    }
  });
}

test('serve --workers 2: SIGTERM to the process group answers the request in flight, respawns nothing and exits 0', {
  timeout: 90_000,
}, async () => {
  const s = await serve(['--workers', '2', '--max-text-chars', '1000000', '--max-body-bytes', '10000000']);
  try {
    const long = fixture.texts.join(' ');
    const body = JSON.stringify({ texts: Array.from({ length: 64 }, () => long) });
    const t0 = performance.now();
    const first = await get(s.port, '/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(first.status, 200);
    const ms = performance.now() - t0;
    const inFlight = get(s.port, '/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    // Signal once the request is surely inside an inference process (a third of its time).
    await new Promise((r) => setTimeout(r, Math.max(50, ms / 3)));
    process.kill(-s.child.pid!, 'SIGTERM');
    const r = await inFlight;
    assert.equal(r.status, 200, `the request in flight got ${r.status} ${JSON.stringify(r.json).slice(0, 300)}`);
    assert.equal(r.json.results.length, 64);
    const exit = await Promise.race([s.exit, new Promise<null>((res) => setTimeout(() => res(null), 20_000))]);
    assert.deepEqual(exit, { code: 0, signal: null }, `serve did not exit cleanly: ${s.err}`);
    assert.doesNotMatch(s.err, /starting another|exited/, s.err);
    assert.match(s.out, /server stopped/);
  } finally {
    stopServe(s);
  }
});

async function inProcess(
  opts: Parameters<typeof createServer>[1],
  fn: (port: number, server: http.Server) => Promise<void>,
): Promise<void> {
  const server = createServer(pipe, { batchWaitMs: 1, ...opts });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn((server.address() as AddressInfo).port, server);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

test('a destroyed connection stops counting against its address at once, not a loop turn later', { timeout: 30_000 }, async () => {
  await inProcess({ maxConnectionsPerClient: 4 }, async (port, server) => {
    const serverSide: net.Socket[] = [];
    server.on('connection', (s: net.Socket) => serverSide.push(s));
    const socks = Array.from({ length: 4 }, () => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
      s.on('error', () => {});
      return s;
    });
    try {
      while (serverSide.length < 4) await new Promise((r) => setTimeout(r, 10));
      // The server lets go of all four (as its header timeout does); the next connection from the
      // address is accepted in the same loop turn, before those sockets' 'close' events.
      const next = get(port, '/health', { localAddress: '127.0.0.1' });
      for (const s of serverSide.splice(0)) s.destroy();
      assert.equal((await next).status, 200);
    } finally {
      socks.forEach((s) => s.destroy());
    }
  });
});

test('slowloris: one address holding 300 slow connections leaves /health and other clients served', { timeout: 60_000 }, async () => {
  await inProcess({ headersTimeoutMs: 3000, bodyTimeoutMs: 6000 }, async (port, server) => {
    // 300 connections from 127.0.0.1 that send their headers one byte at a time and never read.
    const socks: net.Socket[] = [];
    const line = `GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `;
    for (let k = 0; k < 300; k++) {
      const sock = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
      sock.on('error', () => {});
      sock.on('connect', () => sock.write(line));
      socks.push(sock);
    }
    const drip = setInterval(() => socks.forEach((s) => s.writable && s.write('a')), 200);
    try {
      await new Promise((r) => setTimeout(r, 500));
      // Other clients: 10 health checks, each answered (within the 5 s request timeout of get()).
      for (let k = 0; k < 10; k++) {
        const h = await get(port, '/health', { localAddress: `127.0.0.${2 + (k % 3)}` });
        assert.equal(h.status, 200);
        if (k === 9) assert.ok(h.json.refused_connections >= 300 - 32, JSON.stringify(h.json));
      }
      // A request with a body from another client is served too.
      const p = await get(port, '/predict', {
        localAddress: '127.0.0.5',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: fixture.texts[1] }),
      });
      assert.equal(p.status, 200);
      // Header time bounds the slow ones that were let in: the server lets go of all of them,
      // though they never read its 408 (a socket merely half-closed would hold its slot forever).
      const t0 = Date.now();
      const held = () => new Promise<number>((r) => server.getConnections((_, n) => r(n)));
      while ((await held()) > 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await held(), 0, `after ${Date.now() - t0} ms`);
      // And the address is welcome again once its connections are gone.
      assert.equal((await get(port, '/health', { localAddress: '127.0.0.1' })).status, 200);
    } finally {
      clearInterval(drip);
      socks.forEach((s) => s.destroy());
    }
  });
});

test('the per-client cap counts per address and is a flag; 0 or negative is refused', async () => {
  await inProcess({ maxConnectionsPerClient: 2 }, async (port) => {
    const a = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    const b = net.connect({ port, host: '127.0.0.1', localAddress: '127.0.0.1' });
    await Promise.all([a, b].map((s) => new Promise((r) => s.once('connect', r))));
    await new Promise((r) => setTimeout(r, 100));
    const third = await raw(port, [head(port, ['GET /health HTTP/1.1'])], { ms: 2000, localAddress: '127.0.0.1' });
    assert.equal(third, '', 'a third connection from the same address is closed unanswered');
    assert.match(
      await raw(port, [head(port, ['GET /health HTTP/1.1', 'Connection: close'])], { localAddress: '127.0.0.2' }),
      /^HTTP\/1\.1 200/,
    );
    a.destroy();
    b.destroy();
  });
  assert.throws(() => createServer(pipe, { maxConnectionsPerClient: 0 }), /maxConnectionsPerClient must be a positive integer/);
});

test('a header that must be single (Host, Content-Type, Content-Length, Origin) sent twice is a 400', async () => {
  await inProcess({}, async (port) => {
    const h = `Host: 127.0.0.1:${port}`;
    const body = JSON.stringify({ text: 'Anna' });
    for (const [lines, name] of [
      [['GET /health HTTP/1.1', h, h], 'Host'],
      [['GET /health HTTP/1.1', h, 'host: evil.example'], 'host'],
      [
        ['POST /predict HTTP/1.1', h, 'Content-Type: application/json', 'Content-Type: text/plain', `Content-Length: ${body.length}`],
        'Content-Type',
      ],
      [
        [
          'POST /predict HTTP/1.1',
          h,
          'Origin: http://a.example',
          'Origin: http://b.example',
          'Content-Type: application/json',
          `Content-Length: ${body.length}`,
        ],
        'Origin',
      ],
    ] as const) {
      const r = await raw(port, [`${lines.join('\r\n')}\r\nConnection: close\r\n\r\n${lines[0].startsWith('POST') ? body : ''}`]);
      assert.match(r, /^HTTP\/1\.1 400 /, `${name}: ${r.slice(0, 200)}`);
      assert.match(r, new RegExp(`the ${name} header appears more than once`), r);
    }
    // Node itself refuses two different Content-Lengths; the answer is still a 400.
    assert.match(
      await raw(port, [
        `POST /predict HTTP/1.1\r\n${h}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`,
      ]),
      /^HTTP\/1\.1 400 /,
    );
    assert.match(await raw(port, [head(port, ['GET /health HTTP/1.1', 'Connection: close'])]), /^HTTP\/1\.1 200 /);
  });
});
