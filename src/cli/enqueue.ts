/** `tokentune enqueue --redis URL --stream NAME --file FILE`: one message per record of a txt/jsonl/conll file. */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { detectInputFormat, INPUT_FORMATS, type InputFormat } from '../infer/index.js';
import { connectRedis, DEFAULT_RECORD_LIMITS, enqueueRecords } from '../queue/index.js';
import { parseArgs, CliArgsError } from './args.js';
import { formatFlagsHelp } from './help-format.js';
import type { CommandIO } from './io.js';

const FLAGS = {
  redis: { type: 'string', default: 'redis://127.0.0.1:6379', help: 'Redis server', valueName: 'URL' },
  stream: { type: 'string', help: 'Stream to append to', valueName: 'NAME' },
  file: { type: 'string', help: "Records to send ('-': standard input)", valueName: 'FILE' },
  inputFormat: { type: 'string', choices: INPUT_FORMATS, help: 'Input format (default: from the file extension)' },
  maxRecordBytes: {
    type: 'int',
    default: DEFAULT_RECORD_LIMITS.maxRecordBytes,
    help: "Largest record as a message (the workers' --max-record-bytes); a larger one is an error naming its line",
  },
} as const;

const USAGE = 'tokentune enqueue --redis redis://HOST:PORT --stream NAME --file FILE';

export async function runEnqueue(argv: string[], io: CommandIO & { stdin?: NodeJS.ReadableStream }): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    io.stdout.write(formatFlagsHelp({ flags: FLAGS }, USAGE));
    return 0;
  }
  const v = a.values;
  if (!v.stream) throw new CliArgsError('enqueue needs --stream NAME', '--stream');
  if (!v.file) throw new CliArgsError('enqueue needs --file FILE', '--file');
  if (v.maxRecordBytes < 1) throw new CliArgsError(`--max-record-bytes must be at least 1, got ${v.maxRecordBytes}`, '--max-record-bytes');
  const format = (v.inputFormat as InputFormat | undefined) ?? (v.file === '-' ? 'txt' : detectInputFormat(v.file));
  const input = v.file === '-' ? ((io.stdin ?? process.stdin) as Readable) : createReadStream(v.file, { encoding: 'utf8' });
  const opened = new Promise<void>((resolve, reject) => {
    if (v.file === '-') return resolve();
    input.once('open', () => resolve());
    input.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`${v.file}: cannot read (${e.code ?? e.message})`)));
  });
  await opened;
  const redis = await connectRedis(v.redis);
  try {
    const n = await enqueueRecords(redis, v.stream, input, {
      format,
      source: v.file === '-' ? 'stdin' : v.file,
      maxRecordBytes: v.maxRecordBytes,
    });
    io.stdout.write(`${n} records enqueued on ${v.stream} (input indexes 0..${n - 1}); collect them with --expect ${n}\n`);
  } finally {
    redis.disconnect();
  }
  return 0;
}
