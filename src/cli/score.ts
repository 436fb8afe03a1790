// `tokentune score FILE`: scores a conlleval-style file (gold and predicted tag in the last two
// columns) and prints conlleval's report, so it can replace `conlleval < FILE`. Also offers
// seqeval's strict mode, token-level scoring for flat tag sets, seqeval's table and JSON.

import { decodeTextBytes, readTextFile } from '../data/text-file.js';
import { printable } from '../util/printable.js';
import { goldColumnProblem } from './score-columns.js';
import { DataFormatError } from '../data/errors.js';
import {
  ConllFormatError,
  MetricsInputError,
  autoDetectScheme,
  classificationReport,
  conllevalCount,
  conllevalCountsFromTypeCounts,
  conllevalToJson,
  defaultModeCounts,
  detectLevel,
  formatClassificationReport,
  formatConllevalReport,
  isSchemeName,
  parseConllevalText,
  SCHEMES,
  strictModeCounts,
  toConllevalRows,
  type ConllInput,
  type ConllevalCounts,
  type Level,
  type SchemeName,
} from '../metrics/index.js';
import { excerpt } from '../io/errors.js';

interface Writable {
  write(chunk: string): unknown;
}

export interface ScoreIo {
  stdout: Writable;
  stderr: Writable;
  /** Read when FILE is '-'; defaults to process.stdin. */
  stdin?: AsyncIterable<string | Uint8Array>;
}

export const SCORE_USAGE = `Usage: tokentune score FILE [options]

Scores a conlleval-style file: one token per line, the last two columns are the gold and the
predicted tag, blank lines separate sentences, -DOCSTART- lines are skipped. FILE '-' reads
standard input. Prints conlleval's report unless told otherwise.

Options:
  --mode default|strict   default: conlleval's chunking (seqeval's default mode);
                          strict: only chunks well formed in --scheme count (seqeval strict)
  --scheme NAME           ${SCHEMES.join(', ')} (strict mode; detected from the gold tags if omitted)
  --suffix                tags carry the chunk letter last (PER-B)
  --level auto|entity|token
                          token: every token is its own unit (POS tags; conlleval -r);
                          auto (default): token when no tag has a B-/I-/E-/S-/L-/U- prefix
  -r, --raw               same as --level token
  -d, --delimiter D       column separator (default: runs of spaces and tabs)
  --digits N              decimals in the report (default 2; 4 with --seqeval)
  --json                  print the numbers as JSON
  --seqeval               print seqeval's classification_report table instead
  -h, --help              show this help
`;

class UsageError extends Error {}

interface ScoreArgs {
  file: string;
  mode: 'default' | 'strict';
  scheme: SchemeName | undefined;
  suffix: boolean;
  level: 'auto' | Level;
  delimiter: string | undefined;
  digits: number | undefined;
  json: boolean;
  seqeval: boolean;
  help: boolean;
}

const VALUE_FLAGS: Readonly<Record<string, string>> = {
  '--mode': 'mode',
  '--scheme': 'scheme',
  '--level': 'level',
  '--delimiter': 'delimiter',
  '-d': 'delimiter',
  '--digits': 'digits',
};

function parseScoreArgs(argv: readonly string[]): ScoreArgs {
  const args: ScoreArgs = {
    file: '',
    mode: 'default',
    scheme: undefined,
    suffix: false,
    level: 'auto',
    delimiter: undefined,
    digits: undefined,
    json: false,
    seqeval: false,
    help: false,
  };
  const positionals: string[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (onlyPositionals || token === '-' || !token.startsWith('-')) {
      positionals.push(token);
      continue;
    }
    if (token === '--') {
      onlyPositionals = true;
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq >= 0 ? token.slice(0, eq) : token;
    const key = VALUE_FLAGS[name];
    if (key !== undefined) {
      let value: string | undefined;
      if (eq >= 0) value = token.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      setValue(args, key, value, name);
      continue;
    }
    if (eq >= 0) throw new UsageError(`${name} takes no value`);
    switch (name) {
      case '--json':
        args.json = true;
        break;
      case '--seqeval':
        args.seqeval = true;
        break;
      case '--suffix':
        args.suffix = true;
        break;
      case '-r':
      case '--raw':
        args.level = 'token';
        break;
      case '-h':
      case '--help':
        args.help = true;
        break;
      default:
        throw new UsageError(`unknown option ${name}`);
    }
  }
  if (args.help) return args;
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'missing FILE' : `expected one FILE, got ${positionals.length}`);
  }
  args.file = positionals[0]!;
  if (args.json && args.seqeval) throw new UsageError('--json and --seqeval cannot be combined');
  if (args.scheme !== undefined && args.mode !== 'strict') {
    throw new UsageError('--scheme only applies with --mode strict');
  }
  return args;
}

function setValue(args: ScoreArgs, key: string, value: string, flag: string): void {
  switch (key) {
    case 'mode':
      if (value !== 'default' && value !== 'strict') throw new UsageError(`${flag} must be default or strict, got '${value}'`);
      args.mode = value;
      return;
    case 'scheme': {
      const upper = value.toUpperCase();
      if (!isSchemeName(upper)) throw new UsageError(`${flag} must be one of ${SCHEMES.join(', ')}, got '${value}'`);
      args.scheme = upper;
      return;
    }
    case 'level':
      if (value !== 'auto' && value !== 'entity' && value !== 'token') {
        throw new UsageError(`${flag} must be auto, entity or token, got '${value}'`);
      }
      args.level = value;
      return;
    case 'delimiter':
      if (value === '') throw new UsageError(`${flag} must not be empty`);
      args.delimiter = value === '\\t' ? '\t' : value;
      return;
    case 'digits': {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n > 20) throw new UsageError(`${flag} must be an integer from 0 to 20, got '${value}'`);
      args.digits = n;
      return;
    }
  }
}

/** Same rules as the training data readers: strict UTF-8, no NUL bytes, no CR-only line endings. */
async function readInput(file: string, io: ScoreIo): Promise<string> {
  if (file !== '-') return readTextFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin ?? process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  return decodeTextBytes(Buffer.concat(chunks), '<stdin>');
}

/** conlleval-shaped counts for the chosen mode and level. */
function scoreCounts(input: ConllInput, args: ScoreArgs, level: Level): { counts: ConllevalCounts; scheme: SchemeName | null } {
  const rows = toConllevalRows(input);
  if (level === 'token') return { counts: conllevalCount(rows, { raw: true }), scheme: null };
  if (args.mode === 'default' && !args.suffix) return { counts: conllevalCount(rows), scheme: null };
  // Token totals are conlleval's either way; only the chunk counts change.
  const tokens = conllevalCount(rows);
  if (args.mode === 'default') {
    return { counts: conllevalCountsFromTypeCounts(defaultModeCounts(input.gold, input.pred, true), tokens), scheme: null };
  }
  const scheme = args.scheme ?? autoDetectScheme(input.gold, args.suffix);
  return { counts: conllevalCountsFromTypeCounts(strictModeCounts(input.gold, input.pred, scheme, args.suffix), tokens), scheme };
}

/** Points a tag-level error at the file line it came from. */
function locate(err: MetricsInputError, input: ConllInput, file: string): string {
  const { sentence, position } = err;
  if (sentence !== undefined && position !== undefined) {
    const line = input.lines[sentence]?.[position];
    if (line !== undefined) {
      const what = err.message.replace(/^sentence \d+, token \d+: /, '');
      return `${file}:${line}: ${excerpt(what)}`;
    }
  }
  return `${file}: ${excerpt(err.message)}`;
}

/**
 * Runs `tokentune score` with the arguments after the command name. Returns the exit code:
 * 0 scored, 1 unreadable or malformed input, 2 bad usage.
 */
export async function runScore(argv: string[], io: ScoreIo): Promise<number> {
  // Tags and types come from the file: never let its control bytes reach the terminal raw.
  const raw = io;
  io = { ...io, stdout: printableWriter(raw.stdout), stderr: printableWriter(raw.stderr) };
  let args: ScoreArgs;
  try {
    args = parseScoreArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`tokentune score: ${err.message}\n\n${SCORE_USAGE}`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    io.stdout.write(SCORE_USAGE);
    return 0;
  }

  const fileName = args.file === '-' ? '<stdin>' : args.file;
  let text: string;
  try {
    text = await readInput(args.file, io);
  } catch (err) {
    io.stderr.write(
      err instanceof DataFormatError
        ? `tokentune score: ${err.message}\n`
        : `tokentune score: cannot read ${fileName}: ${(err as Error).message}\n`,
    );
    return 1;
  }

  let input: ConllInput;
  try {
    input = parseConllevalText(text, { file: fileName, delimiter: args.delimiter });
  } catch (err) {
    if (err instanceof ConllFormatError) {
      io.stderr.write(`tokentune score: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const columns = goldColumnProblem(input, fileName);
  if (columns) {
    io.stderr.write(`tokentune score: ${columns}\n`);
    return 1;
  }

  try {
    const level: Level = args.level === 'auto' ? detectLevel([input.gold, input.pred], args.suffix) : args.level;
    if (args.seqeval) {
      const report = classificationReport(input.gold, input.pred, {
        mode: args.mode,
        scheme: args.scheme,
        suffix: args.suffix,
        level,
      });
      io.stdout.write(formatClassificationReport(report, args.digits ?? 4));
      return 0;
    }
    const { counts, scheme } = scoreCounts(input, args, level);
    if (args.json) {
      const json = { file: fileName, mode: args.mode, scheme, level, ...conllevalToJson(counts) };
      io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    } else {
      io.stdout.write(formatConllevalReport(counts, { digits: args.digits ?? 2 }));
    }
    return 0;
  } catch (err) {
    if (err instanceof MetricsInputError) {
      io.stderr.write(`tokentune score: ${locate(err, input, fileName)}\n`);
      return 1;
    }
    throw err;
  }
}

function printableWriter(w: Writable): Writable {
  return { write: (s: string) => w.write(printable(s)) };
}
