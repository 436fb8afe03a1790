/**
 * `tokentune serve --model DIR [--port 8080] [--host 127.0.0.1]`: the HTTP server (POST /predict,
 * GET /health, GET / with the highlighting page) until SIGINT/SIGTERM.
 */
import type { AddressInfo } from 'node:net';
import {
  AGGREGATION_STRATEGIES,
  createServer,
  pipeline,
  PredictorPool,
  type AggregationStrategy,
  type ServedPipeline,
} from '../infer/index.js';
import { parseArgs, CliArgsError } from './args.js';
import { formatFlagsHelp } from './help-format.js';

const FLAGS = {
  model: { type: 'string', help: 'Model folder (or hub id)', valueName: 'DIR' },
  port: { type: 'int', default: 8080, help: 'TCP port (0: any free port)' },
  host: { type: 'string', default: '127.0.0.1', help: 'Address to listen on (0.0.0.0: every interface)' },
  aggregation: {
    type: 'string',
    alias: ['aggregation-strategy'],
    default: 'first',
    choices: AGGREGATION_STRATEGIES,
    help: 'Aggregation when a request names none (first: a word takes its first sub-token label, as training labels it)',
  },
  batchWaitMs: { type: 'number', default: 5, help: 'How long a request waits for others to share its forward call' },
  maxBatchTexts: { type: 'int', default: 32, help: 'Texts that close a micro-batch at once' },
  batchSize: { type: 'int', default: 32, help: 'Windows per forward call' },
  maxBodyBytes: { type: 'int', default: 1 << 20, help: 'Largest request body (413 beyond)' },
  maxTextChars: { type: 'int', default: 100_000, help: 'Longest text (413 beyond)' },
  maxLength: { type: 'int', help: 'Longest model input, special tokens included (default: the model limit)' },
  allowedHosts: {
    type: 'list',
    default: [],
    help: "Names accepted in the Host header besides the address connected to (and localhost on loopback): NAME or NAME:PORT; '*' accepts any (turns off the DNS-rebinding check)",
    valueName: 'H1,H2',
  },
  corsOrigin: {
    type: 'list',
    alias: ['cors-origins'],
    default: [],
    help: "Origins allowed to call the API from a browser page elsewhere (CORS), e.g. https://app.example; '*': any. Default: none",
    valueName: 'ORIGIN',
  },
  headersTimeoutMs: { type: 'int', default: 10_000, help: 'Time allowed to send the request headers (408 beyond)' },
  bodyTimeoutMs: { type: 'int', default: 30_000, help: 'Time allowed to send the whole request, body included (408 beyond)' },
  idleTimeoutMs: { type: 'int', default: 5000, help: 'How long an idle keep-alive connection stays open' },
  maxConnections: { type: 'int', default: 256, help: 'Most open connections; more are closed at once' },
  maxConnectionsPerClient: {
    type: 'int',
    default: 32,
    help: 'Most open connections from one client address (raise it behind a reverse proxy on one address)',
  },
  workers: {
    type: 'int',
    default: 0,
    help: 'Inference processes (0: in the server process). With N >= 1 the server only parses HTTP, so /health answers while a large batch runs; N batches run at once',
  },
} as const;

const USAGE = `tokentune serve --model DIR [--port 8080] [--host 127.0.0.1]

POST /predict (or POST / and POST /models/NAME, the Inference API's URLs) with a JSON body, one of:
  {"text": "Peter lives in Paris"}        -> {"entities": [entity, ...]}
  {"texts": ["text one", "text two"]}    -> {"results": [{"entities": [...]}, {"entities": [...]}]}
  {"inputs": "...", "parameters": {"aggregation_strategy": "simple"}}   -> [entity, ...]
  {"inputs": ["...", "..."], "parameters": {...}}                       -> [[entity, ...], [...]]
                                          (Hugging Face Inference's body and answer)
  optional: "aggregation_strategy": none|simple|first|average|max, "ignore_labels": ["O"]
An entity (as transformers' pipeline): {"entity_group": "PER", "score": 0.99, "word": "Peter",
  "start": 0, "end": 5}; with aggregation none: {"entity": "B-PER", "score", "index", "word", "start", "end"}.
Errors: {"error": "..."} with status 400 (bad body) or 413 (too large).
GET /health -> {"status": "ok", ...}; GET / -> a page that highlights the entities of a text.`;

interface ServeIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Stops the server (tests); otherwise SIGINT/SIGTERM do. */
  signal?: AbortSignal;
}

export async function runServe(argv: string[], io: ServeIo): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    io.stdout.write(formatFlagsHelp({ flags: FLAGS }, USAGE));
    return 0;
  }
  const v = a.values;
  if (!v.model) throw new CliArgsError('serve needs --model DIR', '--model');
  if (v.port < 0 || v.port > 65535) throw new CliArgsError(`--port: ${v.port} is not a TCP port (0-65535)`, '--port');
  if (v.workers < 0) throw new CliArgsError(`--workers must be >= 0, got ${v.workers}`, '--workers');
  for (const [flag, value] of [
    ['--headers-timeout-ms', v.headersTimeoutMs],
    ['--body-timeout-ms', v.bodyTimeoutMs],
    ['--idle-timeout-ms', v.idleTimeoutMs],
    ['--max-connections', v.maxConnections],
    ['--max-connections-per-client', v.maxConnectionsPerClient],
  ] as const) {
    if (value < 1) throw new CliArgsError(`${flag} must be at least 1, got ${value}`, flag);
  }
  if (v.headersTimeoutMs > v.bodyTimeoutMs)
    throw new CliArgsError(
      `--headers-timeout-ms (${v.headersTimeoutMs}) must not exceed --body-timeout-ms (${v.bodyTimeoutMs}): the body timeout counts from the start of the request`,
      '--headers-timeout-ms',
    );
  const onWarning = (m: string) => io.stderr.write(`warning: ${m}\n`);
  const pool =
    v.workers > 0
      ? await PredictorPool.start({
          model: v.model,
          maxLength: v.maxLength,
          workers: v.workers,
          onWarning,
          onExit: (l) => io.stderr.write(`error: ${l}\n`),
        })
      : undefined;
  const pipe: ServedPipeline = pool ?? (await pipeline(v.model, { maxLength: v.maxLength, onWarning }));
  let server: ReturnType<typeof createServer>;
  try {
    server = createServer(pipe, {
      concurrency: Math.max(1, v.workers),
      defaultAggregation: v.aggregation as AggregationStrategy,
      batchWaitMs: v.batchWaitMs,
      maxBatchTexts: v.maxBatchTexts,
      forwardBatchSize: v.batchSize,
      maxBodyBytes: v.maxBodyBytes,
      maxTextChars: v.maxTextChars,
      allowedHosts: v.allowedHosts,
      corsOrigins: v.corsOrigin,
      headersTimeoutMs: v.headersTimeoutMs,
      bodyTimeoutMs: v.bodyTimeoutMs,
      idleTimeoutMs: v.idleTimeoutMs,
      maxConnections: v.maxConnections,
      maxConnectionsPerClient: v.maxConnectionsPerClient,
      log: (line) => io.stderr.write(`error: ${line}\n`),
    });
  } catch (e) {
    pool?.close(); // the inference processes would keep this process alive
    throw e;
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => (
      pool?.close(),
      reject(new Error(`cannot listen on ${v.host}:${v.port}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.message}`))
    );
    server.once('error', onError);
    server.listen(v.port, v.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { address, port } = server.address() as AddressInfo;
  const shown = address.includes(':') ? `[${address}]` : address;
  io.stdout.write(
    `serving ${pipe.name} (${pipe.labels.length} labels) on http://${shown}:${port}/  (POST /predict, GET /health)${pool ? ` with ${v.workers} inference process${v.workers > 1 ? 'es' : ''}` : ''}\n`,
  );

  // Shutdown: stop accepting, let the requests in flight finish (bounded by the body timeout plus
  // a grace for their inference), then stop the inference processes. SIGTERM sent to the whole
  // process group reaches them too: they ignore it and leave their lifetime to this process.
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      pool?.stopRespawning();
      const force = setTimeout(() => server.closeAllConnections(), v.bodyTimeoutMs + 30_000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        pool?.close();
        resolve();
      });
      server.closeIdleConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop);
  });
  io.stdout.write('server stopped\n');
  return 0;
}
