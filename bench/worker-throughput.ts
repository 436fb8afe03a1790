/**
 * Throughput of `tokentune worker` over Redis Streams: sentences/s with 1, 2 and 4 worker
 * processes (one kernel thread each) against single-process `predict` on the same file in the
 * same run (the file tagged by predictStream in this process, all cores). Timed from the first
 * enqueue to the last collected result, with the workers already started (model loaded).
 * Needs redis-server (apt-get install redis-server); a throwaway instance is started on a free port.
 *
 * Run: npm run bench -- worker   (BENCH_WORKER_SENTENCES=4000, BENCH_WORKER_HIDDEN=128, BENCH_WORKER_LAYERS=2, BENCH_WORKER_COUNTS=1,2,4)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pipeline, predictStream } from '../src/infer/index.js';
import { collectResults, connectRedis, enqueueRecords, streamNames } from '../src/queue/index.js';
import { makeQueueFixture } from '../test/helpers/queue-model.js';
import { NO_REDIS, redisServerPath, startRedis } from '../test/helpers/redis-server.js';

const BIN = fileURLToPath(new URL('../../bin/tokentune.js', import.meta.url));

interface Worker {
  child: ChildProcess;
  err: string;
}

function startWorker(url: string, model: string, stream: string, name: string): Promise<Worker> {
  const child = spawn(
    process.execPath,
    [BIN, 'worker', '--model', model, '--redis', url, '--stream', stream, '--consumer', name, '--batch', '64'],
    { env: { ...process.env, TOKENTUNE_THREADS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const w: Worker = { child, err: '' };
  child.stderr!.on('data', (c: Buffer) => (w.err += c.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(' on redis://')) resolve(w);
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before starting`)));
  });
}

export async function runWorkerBench(): Promise<void> {
  if (!redisServerPath()) {
    console.log(`skipped: ${NO_REDIS}`);
    return;
  }
  const n = Number(process.env.BENCH_WORKER_SENTENCES ?? 4000);
  const hidden = Number(process.env.BENCH_WORKER_HIDDEN ?? 128);
  const layers = Number(process.env.BENCH_WORKER_LAYERS ?? 2);
  const counts = (process.env.BENCH_WORKER_COUNTS ?? '1,2,4').split(',').map(Number);
  const fx = makeQueueFixture(n, { hidden, layers });
  const redisServer = await startRedis();
  const redis = await connectRedis(redisServer.url);
  console.log(
    `${n} sentences (demo corpus, ${(fx.texts.join(' ').split(' ').length / n).toFixed(1)} words each), random BERT ${layers} layers x ${hidden}; ${cpus().length} cores; loadavg before ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  try {
    const pipe = await pipeline(fx.model, { onWarning: () => {} });
    const sink = () => new Writable({ write: (_c, _e, cb) => cb() });
    await predictStream(pipe, createReadStream(fx.input, 'utf8'), sink(), { inputFormat: 'txt', outputFormat: 'jsonl' }); // warm-up
    let t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await predictStream(pipe, createReadStream(fx.input, 'utf8'), sink(), {
      inputFormat: 'txt',
      outputFormat: 'jsonl',
      aggregationStrategy: 'first',
    });
    const ref = n / ((performance.now() - t0) / 1000);
    const cpu = process.cpuUsage(cpu0);
    const refCpu = n / ((cpu.user + cpu.system) / 1e6);
    const rows: string[] = [`| predict, 1 process (all cores) | ${ref.toFixed(0)} | 1.00x | ${refCpu.toFixed(0)} |`];
    console.log(rows[0]);
    for (const w of counts) {
      const stream = `bench-${w}`;
      const workers = await Promise.all(Array.from({ length: w }, (_, k) => startWorker(redisServer.url, fx.model, stream, `w${k}`)));
      t0 = performance.now();
      const sent = await enqueueRecords(redis, stream, createReadStream(fx.input, 'utf8'), { format: 'txt' });
      const names = streamNames(stream);
      const got = await collectResults(redis, { results: names.results, dead: names.dead, expect: sent });
      const rate = n / ((performance.now() - t0) / 1000);
      if (got.dead.length) throw new Error(`${got.dead.length} dead letters`);
      await Promise.all(workers.map((x) => new Promise((r) => (x.child.once('exit', r), x.child.kill('SIGTERM')))));
      // CPU the workers spent after loading the model (their exit metrics line).
      const cpuS = workers.reduce((sum, x) => {
        const line = x.err
          .split('\n')
          .filter((l) => l.startsWith('metrics '))
          .pop();
        return sum + (line ? (JSON.parse(line.slice(8)) as { cpu_s: number }).cpu_s : NaN);
      }, 0);
      const row = `| ${w} worker${w > 1 ? 's' : ''} (1 thread each) | ${rate.toFixed(0)} | ${(rate / ref).toFixed(2)}x | ${(n / cpuS).toFixed(0)} |`;
      rows.push(row);
      console.log(row);
    }
    console.log(
      `\n| setup | sentences/s | vs predict | sentences per CPU-second |\n|---|---|---|---|\n${rows.join('\n')}\nloadavg after ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    redis.disconnect();
    await redisServer.stop();
    rmSync(fx.dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runWorkerBench();
