/**
 * `tokentune collect --redis URL --results NAME --expect N --out FILE`: waits for N results and
 * writes them in input order, in predict's jsonl format. Dead-lettered records make it exit 1
 * after writing the others, naming their indexes.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import { collectResults, connectRedis, streamNames } from '../queue/index.js';
import { parseArgs, CliArgsError } from './args.js';
import { formatFlagsHelp } from './help-format.js';
import type { CommandIO } from './io.js';

const FLAGS = {
  redis: { type: 'string', default: 'redis://127.0.0.1:6379', help: 'Redis server', valueName: 'URL' },
  stream: { type: 'string', help: 'Input stream: sets --results STREAM:results and --dead-letter STREAM:dead', valueName: 'NAME' },
  results: { type: 'string', help: "Results stream (the workers' --results)", valueName: 'NAME' },
  deadLetter: {
    type: 'string',
    help: 'Dead-letter stream (default STREAM:dead, or RESULTS with :results replaced by :dead)',
    valueName: 'NAME',
  },
  expect: { type: 'int', help: 'Records to wait for (the count enqueue printed)', valueName: 'N' },
  out: { type: 'string', alias: ['o'], help: 'Output file (default: standard output)', valueName: 'FILE' },
  timeout: { type: 'number', default: 0, help: 'Give up after S seconds without a new result (0: wait for ever)' },
} as const;

const USAGE = 'tokentune collect --redis redis://HOST:PORT --results NAME --expect N --out FILE';

export async function runCollect(argv: string[], io: CommandIO): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    io.stdout.write(formatFlagsHelp({ flags: FLAGS }, USAGE));
    return 0;
  }
  const v = a.values;
  if (!v.results && !v.stream) throw new CliArgsError('collect needs --results NAME (or --stream NAME)', '--results');
  if (v.expect === undefined) throw new CliArgsError('collect needs --expect N (enqueue prints it)', '--expect');
  if (v.expect < 0) throw new CliArgsError(`--expect must be >= 0, got ${v.expect}`, '--expect');
  if (!(v.timeout >= 0)) throw new CliArgsError(`--timeout must be >= 0 seconds, got ${v.timeout}`, '--timeout');
  const base = v.stream ?? (v.results!.endsWith(':results') ? v.results!.slice(0, -':results'.length) : v.results!);
  const names = streamNames(base, { results: v.results, dead: v.deadLetter });
  const redis = await connectRedis(v.redis);
  // Results are written in input order as they become writable, under a temporary name renamed
  // at the end: a failure never leaves half a file as OUT.
  const tmp = v.out ? `${v.out}.tmp-${process.pid}` : undefined;
  const out = tmp ? createWriteStream(tmp) : io.stdout;
  let got;
  try {
    got = await collectResults(redis, {
      results: names.results,
      dead: names.dead,
      expect: v.expect,
      idleTimeoutMs: v.timeout * 1000,
      write: async (line) => {
        if (!out.write(line)) await once(out, 'drain');
      },
    });
    if (tmp) {
      out.end();
      await finished(out as NodeJS.WritableStream);
      renameSync(tmp, v.out!);
    }
  } catch (e) {
    if (tmp) {
      (out as NodeJS.WritableStream & { destroy(): void }).destroy();
      rmSync(tmp, { force: true });
    }
    throw e;
  } finally {
    redis.disconnect();
  }
  const ok = v.expect - got.dead.length;
  io.stderr.write(
    `${ok} results${v.out ? ` -> ${v.out}` : ''}${
      got.dead.length
        ? `; ${got.dead.length} dead-lettered (${names.dead}): input ${got.dead
            .slice(0, 10)
            .map((d) => `${d.index} (${d.reason.slice(0, 120)})`)
            .join(', ')}${got.dead.length > 10 ? ', ...' : ''}`
        : ''
    }\n`,
  );
  return got.dead.length ? 1 : 0;
}
