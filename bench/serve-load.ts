/**
 * Load test of `tokentune serve`'s HTTP path: a server in a child process (its own event loop,
 * as in production) with a small random BERT, and C concurrent keep-alive clients in this process
 * posting sentences to /predict until N requests are done or S seconds have passed.
 * Reports requests/s, latency percentiles, errors, and how the server micro-batched the requests.
 *
 * With --workers N the server runs inference in N child processes (`serve --workers N`).
 * Then /health is timed while one 1 MiB request (256 texts of 4,000 characters) runs.
 *
 * Run: node dist/bench/serve-load.js [--clients 32] [--requests 2000] [--seconds 20]
 *      [--hidden 128] [--layers 2] [--workers 0]
 *      npm run bench -- serve-load   (64 clients x 50 requests and /health during a 1 MiB batch, for --workers 0 and 2)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ServeLoadOptions {
  clients?: number;
  requests?: number;
  seconds?: number;
  hidden?: number;
  layers?: number;
  /** Inference processes (0: in the server's process). */
  workers?: number;
}

export interface ServeLoadResult {
  clients: number;
  requests: number;
  errors: number;
  /** First few error descriptions. */
  errorSamples: string[];
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  server: { batches: number; texts: number; forwardCalls: number };
  model: string;
  workers: number;
  /** /health latency while one 1 MiB request runs. */
  healthDuringBatch: { samples: number; p50: number; p99: number; max: number; batchSeconds: number };
}

const SENTENCES = [
  'EU rejects German call to boycott British lamb.',
  'Peter Blackburn',
  'BRUSSELS 1996-08-22',
  'The European Commission said on Thursday it disagreed with German advice to consumers to shun British lamb until scientists determine whether mad cow disease can be transmitted to sheep.',
  "Germany's representative to the European Union's veterinary committee Werner Zwingmann said on Wednesday consumers should buy sheepmeat from countries other than Britain until the scientific advice was clearer.",
  'Angela Merkel visited Paris with Emmanuel Macron.',
  'Apple is looking at buying a U.K. startup for $1 billion.',
  'San Francisco considers banning sidewalk delivery robots',
];

/** The child: builds a random model in a temporary folder and serves it on a free port. */
async function serveChild(hidden: number, layers: number, workers: number): Promise<void> {
  const { WordPieceTokenizer } = await import('../src/tokenizers/index.js');
  const { BertForTokenClassification, makeConfig, savePretrained } = await import('../src/models/index.js');
  const { pipeline, createServer, PredictorPool } = await import('../src/infer/index.js');
  const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
  const realVocab = resolve(root, '..', 'shared', 'models', 'bert-base-cased-vocab', 'vocab.txt');
  const tokenizer = existsSync(realVocab)
    ? WordPieceTokenizer.fromVocabFile(realVocab, { doLowerCase: false })
    : WordPieceTokenizer.fromTokens(
        [
          '[PAD]',
          '[UNK]',
          '[CLS]',
          '[SEP]',
          '[MASK]',
          ...new Set(
            SENTENCES.join(' ')
              .split(/[\s.,']+/)
              .filter(Boolean),
          ),
        ],
        { doLowerCase: false },
      );
  const labels = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
  const config = makeConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: hidden,
    num_hidden_layers: layers,
    num_attention_heads: Math.max(1, hidden / 64),
    intermediate_size: hidden * 4,
    max_position_embeddings: 512,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  const dir = mkdtempSync(join(tmpdir(), 'tt-serve-load-'));
  savePretrained(BertForTokenClassification.create(config, 5), dir, tokenizer);
  const name = `random-bert-${layers}x${hidden}`;
  const pipe = workers > 0 ? await PredictorPool.start({ model: dir, name, workers }) : await pipeline(dir, { name, onWarning: () => {} });
  rmSync(dir, { recursive: true, force: true });
  // The 64 load clients share one address, past the per-client connection cap meant for strangers.
  const server = createServer(pipe, {
    log: (l) => process.stderr.write(l + '\n'),
    concurrency: Math.max(1, workers),
    maxConnectionsPerClient: 256,
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port, model: pipe.name }));
  process.on('disconnect', () => {
    if (pipe instanceof PredictorPool) pipe.close();
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function postJson(agent: http.Agent, port: number, path: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** /health, sequentially every 10 ms, while one 1 MiB /predict runs. */
async function healthDuringBigBatch(port: number): Promise<ServeLoadResult['healthDuringBatch']> {
  const long = SENTENCES.join(' ').repeat(20).slice(0, 4000);
  const body = JSON.stringify({ texts: Array.from({ length: 256 }, (_, i) => `${i} ${long}`.slice(0, 4000)) });
  const agent = new http.Agent({ keepAlive: true });
  let finished = false;
  const t0 = performance.now();
  const big = postJson(agent, port, '/predict', body).then(
    (r) => ((finished = true), r.status === 200 ? null : new Error(`the 1 MiB request failed: HTTP ${r.status} ${r.text.slice(0, 200)}`)),
    (e: Error) => ((finished = true), new Error(`the 1 MiB request failed: ${e.message}`)),
  );
  const lat: number[] = [];
  await new Promise((r) => setTimeout(r, 20));
  while (!finished) {
    const s = performance.now();
    await getJson(port, '/health');
    if (!finished) lat.push(performance.now() - s);
    await new Promise((r) => setTimeout(r, 10));
  }
  const failed = await big;
  agent.destroy();
  if (failed) throw failed;
  lat.sort((a, b) => a - b);
  return {
    samples: lat.length,
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    max: lat[lat.length - 1] ?? NaN,
    batchSeconds: (performance.now() - t0) / 1000,
  };
}

function getJson(port: number, path: string): Promise<any> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      })
      .on('error', reject);
  });
}

export async function runServeLoad(opts: ServeLoadOptions = {}): Promise<ServeLoadResult> {
  const clients = opts.clients ?? 32;
  const total = opts.requests ?? 2000;
  const seconds = opts.seconds ?? 20;
  const workers = opts.workers ?? 0;
  const child: ChildProcess = fork(
    fileURLToPath(import.meta.url),
    ['--serve-child', String(opts.hidden ?? 128), String(opts.layers ?? 2), String(workers)],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  try {
    const { port, model } = await new Promise<{ port: number; model: string }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { port: number; model: string }));
      child.once('exit', (code) => reject(new Error(`the server process exited (${code}) before listening`)));
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    const latencies: number[] = [];
    const errorSamples: string[] = [];
    let errors = 0;
    let issued = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    const client = async (c: number) => {
      while (issued < total && performance.now() < deadline) {
        const k = issued++;
        const body = JSON.stringify({ text: SENTENCES[(k + c) % SENTENCES.length] });
        const s = performance.now();
        try {
          const r = await postJson(agent, port, '/predict', body);
          const ok = r.status === 200 && Array.isArray(JSON.parse(r.text).entities);
          if (!ok) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 120)}`);
          latencies.push(performance.now() - s);
        } catch (e) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push((e as Error).message);
        }
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
    const elapsed = (performance.now() - t0) / 1000;
    agent.destroy();
    const health = await getJson(port, '/health');
    latencies.sort((a, b) => a - b);
    const healthDuringBatch = await healthDuringBigBatch(port);
    return {
      clients,
      requests: latencies.length + errors,
      errors,
      errorSamples,
      seconds: elapsed,
      requestsPerSecond: latencies.length / elapsed,
      latencyMs: {
        p50: percentile(latencies, 50),
        p90: percentile(latencies, 90),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1] ?? NaN,
      },
      server: { batches: health.batches, texts: health.texts, forwardCalls: health.forward_calls },
      model,
      workers,
      healthDuringBatch,
    };
  } finally {
    child.disconnect?.();
    child.kill();
  }
}

export function formatServeLoad(r: ServeLoadResult): string {
  const f = (x: number) => x.toFixed(1);
  return (
    [
      `serve load: ${r.clients} keep-alive clients, model ${r.model}, ${r.workers ? `${r.workers} inference processes` : 'inference in the server process'}`,
      `${r.requests} requests in ${f(r.seconds)} s: ${f(r.requestsPerSecond)} req/s, ${r.errors} errors${r.errorSamples.length ? ` (${r.errorSamples.join('; ')})` : ''}`,
      `latency ms: p50 ${f(r.latencyMs.p50)}, p90 ${f(r.latencyMs.p90)}, p99 ${f(r.latencyMs.p99)}, max ${f(r.latencyMs.max)}`,
      `server: ${r.server.texts} texts in ${r.server.batches} micro-batches (${f(r.server.texts / Math.max(1, r.server.batches))} per batch), ${r.server.forwardCalls} forward calls`,
      `/health during a 1 MiB request (${f(r.healthDuringBatch.batchSeconds)} s): ${r.healthDuringBatch.samples} probes, p50 ${f(r.healthDuringBatch.p50)} ms, p99 ${f(r.healthDuringBatch.p99)} ms, max ${f(r.healthDuringBatch.max)} ms`,
    ].join('\n') + '\n'
  );
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `npm run bench -- serve-load`: 64 clients x 50 requests, in process and with 2 inference processes. */
export async function runServeLoadBench(): Promise<void> {
  for (const workers of [0, 2]) {
    process.stdout.write(formatServeLoad(await runServeLoad({ clients: 64, requests: 64 * 50, seconds: 120, workers })) + '\n');
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] === '--serve-child') {
    await serveChild(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5] ?? 0));
  } else {
    const r = await runServeLoad({
      clients: flag('clients', 32),
      requests: flag('requests', 2000),
      seconds: flag('seconds', 20),
      hidden: flag('hidden', 128),
      layers: flag('layers', 2),
      workers: flag('workers', 0),
    });
    process.stdout.write(formatServeLoad(r));
    if (r.errors > 0) process.exitCode = 1;
  }
}
