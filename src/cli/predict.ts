/**
 * `tokentune predict --model DIR (--text S | --file F)`: tags one text (a table, or JSON with
 * --json) or a whole file, streaming (txt, jsonl or conll in; jsonl or conll out).
 */
import { strictUtf8Stream } from '../data/strict-utf8-stream.js';
import { createReadStream, createWriteStream, renameSync, rmSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  AGGREGATION_STRATEGIES,
  detectInputFormat,
  INPUT_FORMATS,
  OUTPUT_FORMATS,
  pipeline,
  predictStream,
  type AggregationStrategy,
  type Entity,
  type InputFormat,
  type OutputFormat,
} from '../infer/index.js';
import { parseArgs, CliArgsError } from './args.js';
import { formatFlagsHelp } from './help-format.js';
import { detectPredictInput, outputFormatFor } from './predict-format.js';
import { checkInputPath } from './train-checks.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { printable } from '../util/printable.js';

const FLAGS = {
  model: { type: 'string', help: 'Model folder (or hub id)', valueName: 'DIR' },
  text: { type: 'string', help: 'Tag this text and print the entities', valueName: 'TEXT' },
  file: { type: 'string', help: "Tag every record of this file ('-': standard input)", valueName: 'FILE' },
  out: { type: 'string', alias: ['o'], help: 'Write results here (default: standard output)', valueName: 'OUT' },
  // 'first' by default: training labels a word's first sub-token only, so the other pieces' own
  // predictions are untrained and 'simple' would split words at them.
  aggregation: {
    type: 'string',
    alias: ['aggregation-strategy'],
    default: 'first',
    choices: AGGREGATION_STRATEGIES,
    help: 'How tokens become entities (HF aggregation_strategy)',
  },
  format: {
    type: 'string',
    choices: OUTPUT_FORMATS,
    help: "Output format (default: from --out's extension, else conll for conll input, else jsonl)",
  },
  inputFormat: {
    type: 'string',
    choices: INPUT_FORMATS,
    help: 'Input format (default: from the content: CoNLL columns, JSON lines or plain text)',
  },
  ignoreLabels: { type: 'list', default: ['O'], help: 'Labels to leave out of the entities', valueName: 'L1,L2' },
  batchSize: { type: 'int', default: 16, help: 'Windows per forward call' },
  stride: { type: 'int', help: 'Tokens shared by the windows of a long text (default: a quarter of the window)' },
  maxLength: { type: 'int', help: 'Longest model input, special tokens included (default: the model limit)' },
  json: { type: 'boolean', default: false, help: 'With --text: print JSON instead of a table' },
  progress: { type: 'boolean', help: 'Progress on stderr (default: when stderr is a terminal)' },
} as const;

const USAGE =
  'tokentune predict --model DIR (--text TEXT | --file FILE) [--out OUT] [--aggregation first|simple|average|max|none] [--format jsonl|conll]';

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Read for --file -; default process.stdin. */
  stdin?: NodeJS.ReadableStream;
}

export async function runPredict(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    io.stdout.write(formatFlagsHelp({ flags: FLAGS }, USAGE));
    return 0;
  }
  const v = a.values;
  if (!v.model) throw new CliArgsError('predict needs --model DIR', '--model');
  if ((v.text === undefined) === (v.file === undefined))
    throw new CliArgsError('predict needs exactly one of --text TEXT or --file FILE', v.text === undefined ? '--text' : '--file');
  const strategy = v.aggregation as AggregationStrategy;
  if (v.file !== undefined && v.file !== '-') checkInputPath('--file', v.file);
  if (/^[.~/]/.test(v.model) && !existsSync(v.model))
    throw new CliArgsError(
      `--model ${v.model}: no such folder; give the folder a model was saved to (tokentune train --output-dir)`,
      '--model',
    );
  if (existsSync(v.model) && !existsSync(join(v.model, 'config.json')))
    throw new CliArgsError(
      `--model ${v.model}: no config.json in that folder; give the folder a model was saved to (tokentune train --output-dir)`,
      '--model',
    );
  const pipe = await pipeline(v.model, {
    batchSize: v.batchSize,
    stride: v.stride,
    maxLength: v.maxLength,
    onWarning: (m) => io.stderr.write(`warning: ${m}\n`),
  });

  if (v.text !== undefined) {
    const entities = await pipe.predict(v.text, { aggregationStrategy: strategy, ignoreLabels: v.ignoreLabels });
    const out = v.out ? createWriteStream(v.out) : io.stdout;
    out.write(v.json ? jsonForTerminal(entities) + '\n' : formatEntityTable(v.text, entities));
    if (v.out) {
      out.end();
      await finished(out as NodeJS.WritableStream & NodeJS.ReadableStream);
    }
    return 0;
  }

  const file = v.file!;
  const byName = v.inputFormat === undefined && file !== '-' ? detectInputFormat(file) : null;
  // A .txt is told apart by its content: a CoNLL column file named .txt is still columns.
  const sniffed = byName === 'txt' ? detectPredictInput(file, pipe.labels) : byName;
  const inputFormat = (v.inputFormat as InputFormat | undefined) ?? (file === '-' ? 'txt' : sniffed!);
  // The output's name wins (x.conll gets CoNLL), then the input's kind.
  const outputFormat = (v.format as OutputFormat | undefined) ?? outputFormatFor(v.out) ?? (inputFormat === 'conll' ? 'conll' : 'jsonl');
  if (byName !== null && sniffed !== byName)
    io.stderr.write(
      `reading ${file} as ${inputFormat === 'conll' ? 'CoNLL columns (one token per line)' : inputFormat === 'jsonl' ? 'JSON lines' : 'plain text (one text per line)'}, writing ${outputFormat}; --input-format / --format to change\n`,
    );
  // One text rule everywhere: invalid UTF-8 is an error naming the line, never replaced silently.
  const input = strictUtf8Stream(
    file === '-' ? ((io.stdin ?? process.stdin) as Readable) : createReadStream(file),
    file === '-' ? 'stdin' : file,
  );
  const showProgress = v.progress ?? Boolean((io.stderr as { isTTY?: boolean }).isTTY);
  const t0 = Date.now();
  const onProgress = showProgress
    ? (n: number) => {
        const s = (Date.now() - t0) / 1000;
        io.stderr.write(`\r${n} records, ${(n / Math.max(s, 1e-3)).toFixed(1)}/s, ${s.toFixed(1)} s`);
      }
    : undefined;
  const opts = {
    inputFormat,
    outputFormat,
    aggregationStrategy: strategy,
    ignoreLabels: v.ignoreLabels,
    batchSize: v.batchSize,
    stride: v.stride,
    source: file === '-' ? 'stdin' : file,
    onProgress,
  };

  if (!v.out) {
    await predictStream(pipe, input, io.stdout as NodeJS.WritableStream & import('node:stream').Writable, opts);
    if (showProgress) io.stderr.write('\n');
    return 0;
  }
  // Written under a temporary name and renamed at the end: a failure never leaves half a file as OUT.
  const tmp = `${v.out}.tmp-${process.pid}`;
  const out = createWriteStream(tmp);
  try {
    const n = await predictStream(pipe, input, out, opts);
    out.end();
    await finished(out);
    renameSync(tmp, v.out);
    if (showProgress) io.stderr.write('\n');
    io.stderr.write(`${n} records tagged -> ${v.out}\n`);
  } catch (e) {
    out.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
  return 0;
}

/** label, score, span and the text of each entity, aligned. */
export function formatEntityTable(text: string, entities: readonly Entity[]): string {
  if (entities.length === 0) return '(no entities)\n';
  const rows = entities.map((e) => [
    // Labels come from the model's config.json: control characters are escaped, never sent raw.
    printable('entity_group' in e ? e.entity_group : e.entity),
    e.score.toFixed(4),
    String(e.start),
    String(e.end),
    printable(JSON.stringify(text.slice(e.start, e.end)).slice(1, -1)),
  ]);
  const head = ['entity', 'score', 'start', 'end', 'text'];
  const w = head.map((h, c) => rows.reduce((m, r) => Math.max(m, r[c]!.length), h.length));
  const fmt = (r: string[]) =>
    r.map((x, c) => (c === 1 || c === 2 || c === 3 ? x.padStart(w[c]!) : c === 4 ? x : x.padEnd(w[c]!))).join('  ') + '\n';
  return fmt(head) + rows.map(fmt).join('');
}

/** JSON with C1 controls and DEL escaped too (JSON.stringify escapes only C0): still valid JSON, inert on a terminal. */
export function jsonForTerminal(v: unknown): string {
  // eslint-disable-next-line no-control-regex
  return JSON.stringify(v, null, 2).replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
