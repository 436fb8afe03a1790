/**
 * `tokentune worker --model DIR --redis URL --stream NAME`: tags the stream's messages as one
 * consumer of a Redis Streams consumer group until SIGTERM/SIGINT (which finish the batch in
 * hand, write and acknowledge it, and exit 0; past --stop-grace-ms, or at a second signal, the
 * batch is left pending for another worker). See src/queue/worker.ts for the semantics.
 */
import type { AddressInfo } from 'node:net';
import { AGGREGATION_STRATEGIES, pipeline, type AggregationStrategy } from '../infer/index.js';
import {
  connectRedis,
  DEFAULT_RECORD_LIMITS,
  metricsServer,
  pipelineTagger,
  prometheusText,
  redactUrl,
  streamNames,
  StreamWorker,
} from '../queue/index.js';
import { parseArgs, CliArgsError } from './args.js';
import { formatFlagsHelp } from './help-format.js';

const FLAGS = {
  model: { type: 'string', help: 'Model folder (or hub id)', valueName: 'DIR' },
  redis: { type: 'string', default: 'redis://127.0.0.1:6379', help: 'Redis server', valueName: 'URL' },
  stream: { type: 'string', help: 'Input stream (tokentune enqueue writes it)', valueName: 'NAME' },
  group: { type: 'string', default: 'tokentune', help: 'Consumer group (created from the start of the stream if missing)' },
  consumer: {
    type: 'string',
    help: 'Consumer name (default HOST-PID); a restarted worker that keeps its name resumes its own pending messages first',
  },
  results: { type: 'string', help: 'Results stream (default STREAM:results)', valueName: 'NAME' },
  deadLetter: { type: 'string', help: 'Dead-letter stream (default STREAM:dead)', valueName: 'NAME' },
  batch: { type: 'int', default: 64, help: 'Messages tagged together (they share forward calls)' },
  batchWaitMs: { type: 'int', default: 10, help: 'How long a partial batch waits to fill' },
  claimIdleMs: { type: 'int', default: 60_000, help: 'Reclaim messages pending this long (their worker is taken to be dead)' },
  maxDeliveries: { type: 'int', default: 5, help: 'Deliveries before a message goes to the dead-letter stream' },
  maxRecordBytes: {
    type: 'int',
    default: DEFAULT_RECORD_LIMITS.maxRecordBytes,
    help: 'Largest message in bytes; larger ones go to the dead-letter stream unread',
  },
  maxRecordChars: {
    type: 'int',
    default: DEFAULT_RECORD_LIMITS.maxRecordChars,
    help: 'Most characters to tag in one record (text length, or words plus one each); more goes to the dead-letter stream',
  },
  stopGraceMs: {
    type: 'int',
    default: 10_000,
    help: 'After SIGTERM/SIGINT, how long the batch in hand may run before it is left pending for another worker',
  },
  aggregation: {
    type: 'string',
    alias: ['aggregation-strategy'],
    default: 'first',
    choices: AGGREGATION_STRATEGIES,
    help: 'How tokens become entities (as predict)',
  },
  ignoreLabels: { type: 'list', default: ['O'], help: 'Labels to leave out of the entities', valueName: 'L1,L2' },
  batchSize: { type: 'int', default: 16, help: 'Windows per forward call' },
  stride: { type: 'int', help: 'Tokens shared by the windows of a long text' },
  maxLength: { type: 'int', help: 'Longest model input (default: the model limit)' },
  metricsPort: { type: 'int', help: 'Serve counters as Prometheus text on GET /metrics at this port (0: any free port)' },
  metricsHost: { type: 'string', default: '127.0.0.1', help: 'Address of the metrics endpoint' },
  logEvery: { type: 'number', default: 0, help: 'Print the counters as a JSON line on stderr every S seconds (0: only at exit)' },
} as const;

const USAGE =
  'tokentune worker --model DIR --redis redis://HOST:PORT --stream NAME [--group G] [--consumer C] [--results STREAM] [--batch N]';

interface WorkerIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Stops the worker (tests); otherwise SIGINT/SIGTERM do. */
  signal?: AbortSignal;
}

export async function runWorker(argv: string[], io: WorkerIo): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    io.stdout.write(formatFlagsHelp({ flags: FLAGS }, USAGE));
    return 0;
  }
  const v = a.values;
  if (!v.model) throw new CliArgsError('worker needs --model DIR', '--model');
  if (!v.stream) throw new CliArgsError('worker needs --stream NAME (the stream tokentune enqueue writes)', '--stream');
  for (const [flag, value, min] of [
    ['--batch', v.batch, 1],
    ['--batch-wait-ms', v.batchWaitMs, 0],
    ['--claim-idle-ms', v.claimIdleMs, 0],
    ['--max-deliveries', v.maxDeliveries, 1],
    ['--max-record-bytes', v.maxRecordBytes, 1],
    ['--max-record-chars', v.maxRecordChars, 1],
    ['--stop-grace-ms', v.stopGraceMs, 0],
  ] as const) {
    if (value < min) throw new CliArgsError(`${flag} must be at least ${min}, got ${value}`, flag);
  }
  if (!(v.logEvery >= 0)) throw new CliArgsError(`--log-every must be >= 0 seconds, got ${v.logEvery}`, '--log-every');
  const pipe = await pipeline(v.model, { maxLength: v.maxLength, onWarning: (m) => io.stderr.write(`warning: ${m}\n`) });
  const redis = await connectRedis(v.redis);
  const names = streamNames(v.stream, { group: v.group, results: v.results, dead: v.deadLetter });
  const tagger = pipelineTagger(pipe, {
    aggregationStrategy: v.aggregation as AggregationStrategy,
    ignoreLabels: v.ignoreLabels,
    batchSize: v.batchSize,
    stride: v.stride,
  });
  const worker = new StreamWorker(redis, tagger, {
    names,
    consumer: v.consumer,
    batch: v.batch,
    batchWaitMs: v.batchWaitMs,
    claimIdleMs: v.claimIdleMs,
    maxDeliveries: v.maxDeliveries,
    maxRecordBytes: v.maxRecordBytes,
    maxRecordChars: v.maxRecordChars,
    stopGraceMs: v.stopGraceMs,
    log: (line) => io.stderr.write(`worker ${worker.consumer}: ${line}\n`),
  });
  const snapshot = async () => worker.counters.snapshot(await worker.queueDepth().catch(() => undefined));
  const metricsLine = async () => io.stderr.write(`metrics ${JSON.stringify({ consumer: worker.consumer, ...(await snapshot()) })}\n`);

  let metrics: ReturnType<typeof metricsServer> | undefined;
  if (v.metricsPort !== undefined) {
    metrics = metricsServer(async () => prometheusText(await snapshot(), worker.consumer));
    await new Promise<void>((resolve, reject) => {
      metrics!.once('error', (e: Error) => reject(new Error(`--metrics-port ${v.metricsPort}: cannot listen: ${e.message}`)));
      metrics!.listen(v.metricsPort, v.metricsHost, () => resolve());
    });
    io.stderr.write(`metrics on http://${v.metricsHost}:${(metrics.address() as AddressInfo).port}/metrics\n`);
  }
  const ticker = v.logEvery > 0 ? setInterval(() => void metricsLine(), v.logEvery * 1000) : undefined;
  // The first signal stops after the batch in hand (within --stop-grace-ms); a second stops now.
  const stop = () => worker.stop(worker.stopped);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (io.signal?.aborted) stop();
  else io.signal?.addEventListener('abort', stop);
  io.stdout.write(
    `worker ${worker.consumer} on ${redactUrl(v.redis)} stream ${names.stream} group ${names.group} -> ${names.results} (model ${pipe.name})\n`,
  );
  try {
    await worker.run();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    io.signal?.removeEventListener('abort', stop);
    if (ticker) clearInterval(ticker);
    await metricsLine().catch(() => {});
    metrics?.close();
    redis.disconnect();
  }
  io.stdout.write(`worker ${worker.consumer} stopped after ${worker.counters.processed} results\n`);
  return 0;
}
