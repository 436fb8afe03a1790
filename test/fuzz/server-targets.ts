/**
 * Fuzz targets for the network-facing surfaces: the HTTP server, driven by a raw-socket client
 * with structure-aware requests (any method, path, duplicated or contradictory headers, declared
 * and actual body sizes, chunked bodies, JSON and Inference API bodies, truncation), and the
 * queue worker's message parsing (any field list, any record, past every bound). A finding is
 * a 5xx, a server that stops answering /health, a thrown error, or an input past the budget.
 */
import fc from 'fast-check';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer, pipeline } from '../../src/infer/index.js';
import { parseMessage, type RecordLimits } from '../../src/queue/worker.js';
import { makeQueueFixture } from '../helpers/queue-model.js';
import type { Target } from './targets.js';

let served: Promise<{ port: number; server: http.Server }> | undefined;

/** One server for every input (a tiny real model), with short timeouts so a truncated request ends within the budget. */
function server(): Promise<{ port: number; server: http.Server }> {
  served ??= (async () => {
    const fixture = makeQueueFixture(5);
    const pipe = await pipeline(fixture.model, { onWarning: () => {} });
    const s = createServer(pipe, {
      batchWaitMs: 1,
      maxBodyBytes: 4096,
      maxTextChars: 2000,
      maxTexts: 8,
      headersTimeoutMs: 200,
      bodyTimeoutMs: 400,
      idleTimeoutMs: 200,
      maxConnectionsPerClient: 64,
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    s.unref();
    return { port: (s.address() as AddressInfo).port, server: s };
  })();
  return served;
}

/** Sends `bytes`, half-closes, and returns what came back before the server closed (at most `ms`). */
function exchange(port: number, bytes: Buffer, ms: number): Promise<{ reply: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let reply = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      sock.destroy();
    }, ms);
    sock.on('data', (c) => (reply += c.toString('latin1')));
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ reply, timedOut });
    });
    sock.on('connect', () => sock.end(bytes));
  });
}

const token = fc.stringMatching(/^[A-Za-z-]{1,12}$/);
const bodies = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        text: fc.oneof(fc.string({ maxLength: 60 }), fc.integer()),
        aggregation_strategy: fc.constantFrom('none', 'simple', 'first', 'average', 'max', 'bogus'),
        ignore_labels: fc.oneof(fc.constant(['O']), fc.anything({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.record({ texts: fc.array(fc.string({ maxLength: 30 }), { maxLength: 10 }) }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        inputs: fc.oneof(fc.string({ maxLength: 60 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 4 }), fc.constant(null)),
        parameters: fc.option(
          fc.dictionary(fc.constantFrom('aggregation_strategy', 'ignore_labels', 'stride', 'top_k'), fc.jsonValue({ maxDepth: 1 })),
        ),
      },
      { requiredKeys: ['inputs'] },
    )
    .map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 5000 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
);

/** A request as bytes: request line, headers (some doubled or contradicting), body framing and a possible cut. */
const httpRequest = fc.record({
  method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'DELETE', 'PATCH', 'BREW', ''),
  path: fc.oneof(
    fc.constantFrom(
      '/',
      '/predict',
      '/health',
      '/index.html',
      '/favicon.ico',
      '/models/x',
      '/models/org/name',
      '/models/',
      '//predict',
      '/predict?x=1',
      '*',
      'http://evil.example/predict',
      '/%',
      '/../etc/passwd',
    ),
    fc.string({ maxLength: 40 }).map((s) => '/' + s),
  ),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9'),
  hosts: fc.array(fc.constantFrom('HOST', 'localhost', 'evil.example', '', '[::1]', '127.0.0.1:1'), { maxLength: 3 }),
  type: fc.option(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'multipart/form-data',
      '',
    ),
    { nil: undefined },
  ),
  typeTwice: fc.boolean(),
  origin: fc.option(fc.constantFrom('http://evil.example', 'null', 'http://HOST'), { nil: undefined }),
  framing: fc.constantFrom('length', 'length', 'chunked', 'none', 'both', 'wrong-length', 'huge-length', 'two-lengths'),
  extra: fc.array(fc.tuple(token, fc.string({ maxLength: 40 })), { maxLength: 4 }),
  body: bodies,
  cut: fc.option(fc.nat(), { nil: undefined }),
  keepAlive: fc.boolean(),
});

type HttpRequest = typeof httpRequest extends fc.Arbitrary<infer T> ? T : never;

function requestBytes(r: HttpRequest, host: string): Buffer {
  const body = Buffer.from(r.body, 'utf8');
  const lines = [`${r.method} ${r.path} ${r.version}`];
  for (const h of r.hosts) lines.push(`Host: ${h.replace('HOST', host)}`);
  if (r.type !== undefined) lines.push(`Content-Type: ${r.type}`);
  if (r.type !== undefined && r.typeTwice) lines.push('Content-Type: text/plain');
  if (r.origin) lines.push(`Origin: ${r.origin.replace('HOST', host)}`);
  for (const [k, v] of r.extra) lines.push(`${k}: ${v.replace(/[\r\n]/g, ' ')}`);
  if (!r.keepAlive) lines.push('Connection: close');
  let payload: Buffer = body;
  if (r.framing === 'length' || r.framing === 'both') lines.push(`Content-Length: ${body.length}`);
  if (r.framing === 'wrong-length') lines.push(`Content-Length: ${body.length + 7}`);
  if (r.framing === 'huge-length') lines.push('Content-Length: 2000000');
  if (r.framing === 'two-lengths') lines.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`);
  if (r.framing === 'chunked' || r.framing === 'both') {
    lines.push('Transfer-Encoding: chunked');
    payload = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  }
  const all = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), payload]);
  return r.cut === undefined ? all : all.subarray(0, r.cut % (all.length + 1));
}

async function healthy(port: number): Promise<void> {
  const { reply } = await exchange(port, Buffer.from(`GET /health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`), 900);
  if (!reply.startsWith('HTTP/1.1 200')) throw new Error(`the server stopped answering /health: ${JSON.stringify(reply.slice(0, 200))}`);
}

/** A record's JSON: valid ones, mutations of their shape, and sizes past each bound. */
const record = fc.oneof(
  fc
    .record(
      {
        kind: fc.constantFrom('text', 'words', 'conll', 'passthrough', 'bogus', '__proto__'),
        text: fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.constant(null)),
        words: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 20 }), fc.array(fc.anything({ maxDepth: 0 }), { maxLength: 3 })),
        lines: fc.array(fc.string({ maxLength: 8 }), { maxLength: 20 }),
        line: fc.string({ maxLength: 20 }),
        json: fc.oneof(fc.constant(undefined), fc.constant(null), fc.object({ maxDepth: 1 }), fc.constant([])),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 60 }),
  fc
    .tuple(fc.constantFrom('text', 'words'), fc.integer({ min: 0, max: 150_000 }))
    .map(([k, n]) =>
      k === 'text'
        ? JSON.stringify({ kind: 'text', text: 'ab'.repeat(n) })
        : JSON.stringify({ kind: 'words', words: Array.from({ length: 2 * n }, () => 'w') }),
    ),
  fc.integer({ min: 0, max: 40 }).map((n) => '['.repeat(n * 1000)), // deep nesting
);

const queueMessage = fc.oneof(
  fc
    .tuple(
      fc.option(fc.oneof(fc.nat().map(String), fc.string({ maxLength: 12 })), { nil: undefined }),
      fc.option(record, { nil: undefined }),
      fc.array(fc.string({ maxLength: 10 }), { maxLength: 6 }),
    )
    .map(([i, rec, extra]) => {
      const f: string[] = [];
      if (i !== undefined) f.push('i', i);
      if (rec !== undefined) f.push('rec', rec);
      return [...f, ...extra];
    }),
  fc.tuple(fc.integer({ min: 0, max: 2 ** 31 }), fc.string({ maxLength: 40 })), // a size withheld by READ_BOUNDED, and its "i"
);

const LIMITS: RecordLimits = { maxRecordBytes: 1 << 20, maxRecordChars: 100_000 };

/** The targets, once the server they drive is up (its start is not an input's time). */
export async function serverTargets(): Promise<Target[]> {
  await server();
  return [
    {
      name: 'http-server',
      refusals: [],
      arb: httpRequest,
      run: async (input) => {
        const { port } = await server();
        const r = input as HttpRequest;
        const { reply } = await exchange(port, requestBytes(r, `127.0.0.1:${port}`), 900);
        const status = /^HTTP\/1\.[01] (\d{3}) /.exec(reply)?.[1];
        if (status !== undefined && Number(status) >= 500)
          throw new Error(`${status} for ${JSON.stringify(r).slice(0, 500)}: ${reply.slice(0, 500)}`);
        await healthy(port);
      },
    },
    {
      name: 'queue-record',
      refusals: [],
      arb: queueMessage,
      run: (input) => {
        const m =
          Array.isArray(input) && typeof input[0] === 'number'
            ? parseMessage('1-0', input[0], LIMITS, input[1] as string)
            : parseMessage('1-0', input as string[], LIMITS);
        if ((m.record === undefined) === (m.malformed === undefined))
          throw new Error(`neither a record nor a reason: ${JSON.stringify(m).slice(0, 300)}`);
        if (m.malformed !== undefined && m.malformed.length > 1000) throw new Error(`a reason of ${m.malformed.length} chars`);
        if (m.record !== undefined && m.chars > LIMITS.maxRecordChars)
          throw new Error(`a record over the bound was accepted (${m.chars} chars)`);
      },
    },
  ];
}
