/**
 * The HTTP server: `POST /predict` (JSON in, entities out), `GET /health`, and `GET /` (the
 * highlighting page). Requests from concurrent clients are micro-batched into shared forward
 * calls. Every request is handled inside its own try/catch and every input limit answers with
 * a JSON reason, so no input can bring the server down. Who may call it (Content-Type, Host,
 * Origin) is checked in server-guards.ts; slow clients are bounded by header, body and idle
 * timeouts and a connection cap; a client that hangs up has its queued work dropped.
 */
import http from 'node:http';
import type net from 'node:net';
import { fromHfInferenceBody } from './hf-inference-body.js';
import { isAggregationStrategy, AGGREGATION_STRATEGIES, type AggregationStrategy } from './aggregation.js';
import { MicroBatcher, type BatchPredictor } from './batcher.js';
import { renderPage } from './page.js';
import type { TextRequest } from './pipeline.js';
import { checkJsonContentType, ClientGoneError, corsHeaders, hostAllowed, HttpError, isClientGone } from './server-guards.js';

export interface ServedPipeline extends BatchPredictor {
  readonly name: string;
  readonly labels: readonly string[];
  readonly maxLength: number;
  readonly forwardCalls?: number;
}

export interface ServerOptions {
  /** Largest request body in bytes (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Longest single text in characters (413 beyond). Default 100 000. */
  maxTextChars?: number;
  /** Most texts in one request (413 beyond). Default 256. */
  maxTexts?: number;
  /** Micro-batching: how long a request waits for others, and the texts that close a batch. */
  batchWaitMs?: number;
  maxBatchTexts?: number;
  /** Windows per forward call. Default 32. */
  forwardBatchSize?: number;
  /** Aggregation when a request names none. Default 'first' (words labelled by their first sub-token, as in training). */
  defaultAggregation?: AggregationStrategy;
  /** One line per failed request (5xx); default: nothing. Client disconnects are not failures. */
  log?: (line: string) => void;
  /** Names accepted in the Host header besides the address the client connected to ('name' or 'name:port'; '*': any). */
  allowedHosts?: readonly string[];
  /** Origins allowed to call the API from a browser (CORS); default none. '*': any. */
  corsOrigins?: readonly string[];
  /** Time to receive a request's headers (ms; 408 beyond). Default 10 000. */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (ms; 408 beyond). Default 30 000. */
  bodyTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open (ms). Default 5 000. */
  idleTimeoutMs?: number;
  /** Most open connections; more are closed at once. Default 256. */
  maxConnections?: number;
  /** Most open connections from one remote address, so one client cannot hold them all (slowloris). Default 32. */
  maxConnectionsPerClient?: number;
  /** Micro-batches run at once (the number of inference processes with `serve --workers N`). Default 1. */
  concurrency?: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The Inference API's per-model URL (`https://HOST/models/NAME`); NAME may hold slashes (org/model). */
const MODEL_PATH = /^\/models\/[^?#]+$/;

/** Headers that must appear once: Node keeps the first of two (or joins them), so a second could be read differently by a proxy in front. */
const SINGLE_HEADERS = new Set(['host', 'content-type', 'content-length', 'transfer-encoding', 'origin']);

function repeatedHeader(req: http.IncomingMessage): string | null {
  const seen = new Set<string>();
  const raw = req.rawHeaders;
  for (let k = 0; k < raw.length; k += 2) {
    const name = raw[k]!.toLowerCase();
    if (!SINGLE_HEADERS.has(name)) continue;
    if (seen.has(name)) return raw[k]!;
    seen.add(name);
  }
  return null;
}

/** The URL the client reached this server by (for errors that name the URL to use). */
function baseUrl(req: http.IncomingMessage): string {
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  return `http://${host.slice(0, 200)}`;
}

/** The Allow header of a 405 at `url`. */
function allowFor(url: string): string {
  const path = url.split('?')[0]!;
  if (path === '/') return 'GET, HEAD, POST';
  return path === '/predict' || MODEL_PATH.test(path) ? 'POST' : 'GET, HEAD';
}

/** The key per-client limits count by: the remote address (IPv4-mapped IPv6 as IPv4). */
function clientKey(address: string | undefined): string {
  return (address ?? '?').toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(data), 'Cache-Control': 'no-store', ...extra });
  res.end(data);
}

/**
 * Reads the body up to `limit` bytes; more is a 413 (the rest is discarded, the connection closed).
 * Every listener is attached after the state it reads exists, so no early return can leave one
 * that throws later (a throw in an event listener would end the process).
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new HttpError(413, `request body is ${declared} bytes; the limit is ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const settle = (f: () => void) => {
      if (done) return;
      done = true;
      f();
    };
    req.on('close', () => settle(() => reject(new ClientGoneError())));
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        settle(() => reject(new HttpError(413, `request body exceeds the limit of ${limit} bytes`)));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => settle(() => resolve(Buffer.concat(chunks))));
    req.on('error', (e) => settle(() => reject(e)));
  });
}

/**
 * After a 413 the client may still be sending: read and drop the rest so it sees the answer
 * (closing at once would reset the connection under it), but only up to a bound in bytes and time.
 */
function discardRest(req: http.IncomingMessage, limit: number, ms: number): void {
  if (req.readableEnded) return;
  let dropped = 0;
  const cap = 4 * limit;
  const timer = setTimeout(() => req.destroy(), ms);
  timer.unref();
  req.on('data', (c: Buffer) => {
    dropped += c.length;
    if (dropped > cap) req.destroy();
  });
  req.on('close', () => clearTimeout(timer));
  req.resume();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Validates a /predict body into text requests; `single` says whether the answer is one list. */
function parsePredictBody(
  buf: Buffer,
  o: Required<Pick<ServerOptions, 'maxTextChars' | 'maxTexts' | 'defaultAggregation'>>,
): { requests: TextRequest[]; single: boolean; hf: boolean } {
  let raw: string;
  try {
    raw = utf8.decode(buf);
  } catch {
    throw new HttpError(400, 'request body is not valid UTF-8');
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (e) {
    throw new HttpError(400, `malformed JSON: ${(e as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'expected a JSON object: {"text": "..."} or {"texts": ["...", ...]}');
  }
  let b: Record<string, unknown>;
  // Hugging Face Inference's body gets its answer shape too: a list of entities (a list of lists for a list of inputs).
  const hf = 'inputs' in body;
  try {
    b = fromHfInferenceBody(body as Record<string, unknown>);
  } catch (e) {
    throw new HttpError(400, (e as Error).message);
  }
  const strategy = b.aggregation_strategy ?? o.defaultAggregation;
  if (!isAggregationStrategy(strategy)) {
    throw new HttpError(400, `aggregation_strategy must be one of ${AGGREGATION_STRATEGIES.join(', ')}, got ${JSON.stringify(strategy)}`);
  }
  let ignoreLabels: string[] | undefined;
  if (b.ignore_labels !== undefined) {
    if (!Array.isArray(b.ignore_labels) || !b.ignore_labels.every((l) => typeof l === 'string')) {
      throw new HttpError(400, 'ignore_labels must be a list of strings');
    }
    ignoreLabels = b.ignore_labels as string[];
  }
  const hasText = 'text' in b;
  const hasTexts = 'texts' in b;
  if (hasText === hasTexts)
    throw new HttpError(
      400,
      hasText ? 'give "text" or "texts", not both' : 'missing field: expected {"text": "..."} or {"texts": ["...", ...]}',
    );
  const texts: unknown[] = hasText ? [b.text] : Array.isArray(b.texts) ? b.texts : [];
  if (hasTexts && !Array.isArray(b.texts)) throw new HttpError(400, '"texts" must be a list of strings');
  if (texts.length > o.maxTexts) throw new HttpError(413, `${texts.length} texts in one request; the limit is ${o.maxTexts}`);
  texts.forEach((t, i) => {
    const where = hasText ? '"text"' : `"texts"[${i}]`;
    if (typeof t !== 'string') throw new HttpError(400, `${where} must be a string, got ${t === null ? 'null' : typeof t}`);
    if (t.length > o.maxTextChars) throw new HttpError(413, `${where} has ${t.length} characters; the limit is ${o.maxTextChars}`);
  });
  return { requests: (texts as string[]).map((text) => ({ text, aggregationStrategy: strategy, ignoreLabels })), single: hasText, hf };
}

/** An http.Server for `pipe` (call .listen yourself; port 0 picks a free one). */
export function createServer(pipe: ServedPipeline, opts: ServerOptions = {}): http.Server {
  const o = {
    maxBodyBytes: opts.maxBodyBytes ?? 1 << 20,
    maxTextChars: opts.maxTextChars ?? 100_000,
    maxTexts: opts.maxTexts ?? 256,
    defaultAggregation: opts.defaultAggregation ?? 'first',
  };
  if (!isAggregationStrategy(o.defaultAggregation))
    throw new RangeError(`defaultAggregation: ${String(o.defaultAggregation)} is not a strategy`);
  const batcher = new MicroBatcher(pipe, {
    maxWaitMs: opts.batchWaitMs ?? 5,
    maxBatchTexts: opts.maxBatchTexts ?? 32,
    run: { batchSize: opts.forwardBatchSize ?? 32 },
    concurrency: opts.concurrency,
  });
  const page = renderPage({ name: pipe.name, labels: pipe.labels, defaultAggregation: o.defaultAggregation, maxTextChars: o.maxTextChars });
  const started = Date.now();
  const counts = { requests: 0, errors: 0, disconnects: 0, dropped_connections: 0, refused_connections: 0 };
  const policy = { allowedHosts: opts.allowedHosts, corsOrigins: opts.corsOrigins };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, gone: AbortSignal): Promise<void> {
    counts.requests++;
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      throw new HttpError(400, `cannot parse the request target ${JSON.stringify(req.url)}`);
    }
    const twice = repeatedHeader(req);
    if (twice) throw new HttpError(400, `the ${twice} header appears more than once; send it once`);
    if (!hostAllowed(req, policy)) {
      throw new HttpError(
        403,
        `the Host header ${JSON.stringify((req.headers.host ?? '(none)').slice(0, 100))} does not name this server; if it is one of its names, start it with --allowed-hosts NAME`,
      );
    }
    const cors = corsHeaders(req, policy);
    if (cors === null) {
      throw new HttpError(
        403,
        `cross-origin request from ${JSON.stringify(String(req.headers.origin).slice(0, 100))} refused; to allow it, start the server with --cors-origin ORIGIN`,
      );
    }
    for (const [k, v] of Object.entries(cors)) res.setHeader(k, v);
    if (req.method === 'OPTIONS' && cors['Access-Control-Allow-Origin']) {
      // A CORS preflight from an allowed origin.
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, GET, HEAD',
        'Access-Control-Allow-Headers': 'Content-Type',
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    // POST /predict, and the Inference API's URLs: the endpoint root and /models/NAME (any name: one model is served).
    if (path === '/predict' || (req.method === 'POST' && (path === '/' || MODEL_PATH.test(path)))) {
      if (req.method !== 'POST') throw new HttpError(405, `use POST ${baseUrl(req)}/predict with a JSON body`);
      checkJsonContentType(req);
      const { requests, single, hf } = parsePredictBody(await readBody(req, o.maxBodyBytes), o);
      const results = await batcher.submit(requests, gone);
      if (hf) sendJson(res, 200, single ? results[0] : results);
      else sendJson(res, 200, single ? { entities: results[0] } : { results: results.map((entities) => ({ entities })) });
      return;
    }
    if (path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `use GET ${baseUrl(req)}/health`);
      sendJson(res, 200, {
        status: 'ok',
        model: pipe.name,
        labels: pipe.labels,
        max_length: pipe.maxLength,
        uptime_s: Math.round((Date.now() - started) / 100) / 10,
        requests: counts.requests,
        errors: counts.errors,
        disconnects: counts.disconnects,
        dropped_connections: counts.dropped_connections,
        batches: batcher.batches,
        texts: batcher.texts,
        cancelled_texts: batcher.cancelled,
        forward_calls: pipe.forwardCalls,
        refused_connections: counts.refused_connections,
        ...(opts.concurrency && opts.concurrency > 1 ? { inference_processes: opts.concurrency } : {}),
      });
      return;
    }
    if (path === '/' || path === '/index.html') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new HttpError(
          405,
          `use GET ${baseUrl(req)}/ for the page, or POST ${baseUrl(req)}/predict (or POST ${baseUrl(req)}/ with an Inference API body) to tag text`,
        );
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(page.html),
        'Content-Security-Policy': page.csp,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      });
      res.end(req.method === 'HEAD' ? undefined : page.html);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'Cache-Control': 'max-age=86400' });
      res.end();
      return;
    }
    if (MODEL_PATH.test(path))
      throw new HttpError(405, `use POST ${baseUrl(req)}${path} (or POST ${baseUrl(req)}/predict) with a JSON body`);
    const base = baseUrl(req);
    throw new HttpError(
      404,
      `no such endpoint: ${req.method} ${path.slice(0, 200)} (try POST ${base}/predict, GET ${base}/health, GET ${base}/)`,
    );
  }

  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const requestTimeout = opts.bodyTimeoutMs ?? 30_000;
  const perClient = opts.maxConnectionsPerClient ?? 32;
  for (const [name, v] of [
    ['headersTimeoutMs', headersTimeout],
    ['bodyTimeoutMs', requestTimeout],
    ['idleTimeoutMs', opts.idleTimeoutMs ?? 5000],
    ['maxConnections', opts.maxConnections ?? 256],
    ['maxConnectionsPerClient', perClient],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (headersTimeout > requestTimeout)
    throw new RangeError(
      `headersTimeoutMs (${headersTimeout}) must not exceed bodyTimeoutMs (${requestTimeout}): the body timeout counts from the start of the request`,
    );
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: opts.idleTimeoutMs ?? 5000,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      const hangup = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) hangup.abort(new ClientGoneError());
      });
      handle(req, res, hangup.signal).catch((err: unknown) => {
        if (hangup.signal.aborted || isClientGone(err)) {
          // The client left: not a server fault, nothing to answer; its queued work was dropped.
          counts.disconnects++;
          res.destroy();
          return;
        }
        counts.errors++;
        const status = err instanceof HttpError ? err.status : 500;
        if (status >= 500) opts.log?.(`${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const extra: Record<string, string> = err instanceof HttpError ? { ...err.headers } : {};
        if (status === 405) extra.Allow = allowFor(req.url ?? '/');
        if (status === 413 || ((status === 415 || status === 403) && !req.readableEnded)) {
          extra.Connection = 'close';
          discardRest(req, o.maxBodyBytes, Math.min(5000, requestTimeout));
        }
        const message = status >= 500 ? `internal error: ${(err as Error)?.message ?? String(err)}` : (err as Error).message;
        try {
          sendJson(res, status, { error: message }, extra);
        } catch {
          res.destroy();
        }
      });
    },
  );
  // Unparseable HTTP (bad request line, oversized headers) and slow clients (header or body
  // timeout): answer 400 or 408 and close; never crash.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const inFlight = (socket as { _httpMessage?: http.ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const body = JSON.stringify({
      error: timeout
        ? `request not received within the time limit (headers ${headersTimeout} ms, whole request ${requestTimeout} ms)`
        : `bad HTTP request: ${err.code ?? err.message}`,
    });
    socket.end(
      `HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // A client that never reads would keep the half-closed socket (and its slot) forever.
    const t = setTimeout(() => socket.destroy(), 1000);
    t.unref();
    socket.once('close', () => clearTimeout(t));
  });
  server.maxConnections = opts.maxConnections ?? 256;
  server.on('drop', () => counts.dropped_connections++);
  // One remote address may hold at most `perClient` connections: past that, new ones are closed
  // at once, so a client that opens hundreds of slow connections cannot take the server off the air.
  // A socket counts until it is destroyed, not until its 'close' event: that comes a loop turn
  // later, after connections accepted in between (which server.getConnections() no longer counts
  // it against) would have been refused.
  const open = new Map<string, Set<net.Socket>>();
  server.on('connection', (socket: net.Socket) => {
    const who = clientKey(socket.remoteAddress);
    const mine = open.get(who) ?? new Set<net.Socket>();
    for (const s of mine) if (s.destroyed) mine.delete(s);
    if (mine.size >= perClient) {
      counts.refused_connections++;
      socket.destroy();
      return;
    }
    open.set(who, mine);
    mine.add(socket);
    socket.once('close', () => {
      mine.delete(socket);
      if (mine.size === 0 && open.get(who) === mine) open.delete(who);
    });
  });
  server.on('close', () => batcher.close());
  return server;
}
