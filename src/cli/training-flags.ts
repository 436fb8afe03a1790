// parseTrainingArgs: TrainingArguments from code settings, config files and command-line flags.
// Precedence: defaults < config object < config files (in order) < CLI flags. Flags accept
// kebab-case, snake_case and camelCase; unknown names are errors with a did-you-mean.

import {
  cloneDefault,
  defaultTrainingArgs,
  resolveTrainingArgs,
  TrainingArgsError,
  type RawTrainingArguments,
  type TrainingArguments,
} from '../train/training-args.js';
import { findOption, TRAINING_OPTIONS, trainingOptionNames, type OptionSpec } from '../train/training-options.js';
import { toKebabCase, toSnakeCase } from '../util/option-names.js';
import { ArgvLexer, type FlagArity } from './argv-lexer.js';
import { ConfigFile, isConfigFilePath, loadConfigFile } from './config-file.js';
import { coerceOption, formatOptionValue, where, type ValueOrigin } from './option-values.js';
import { nearest } from './suggest.js';
import { isHarmless, UNSUPPORTED_BY_NAME } from './unsupported-options.js';

type Origin = ValueOrigin;

// A did-you-mean in the spelling the user typed (snake, kebab or camel).
type Style = 'snake' | 'kebab' | 'camel';
function styleOf(name: string): Style {
  if (name.includes('-')) return 'kebab';
  if (/[A-Z]/.test(name)) return 'camel';
  return 'snake';
}
function inStyle(snake: string, style: Style): string {
  if (style === 'kebab') return snake.replace(/_/g, '-');
  if (style === 'camel') return snake.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return snake;
}

function suggestionFor(rawName: string): string | null {
  const snake = toSnakeCase(rawName);
  const guess = nearest(snake, [...trainingOptionNames(), ...UNSUPPORTED_BY_NAME.keys()]);
  return guess === null ? null : inStyle(guess, styleOf(rawName));
}

export interface ParseTrainingArgsOptions {
  /** Flags after the command name, e.g. ['--learning-rate', '3e-5', 'config.yaml']. */
  argv?: readonly string[];
  /** Settings from code or an already loaded config file; flags override them. */
  config?: Readonly<Record<string, unknown>> | ConfigFile;
}

export interface ParsedTrainingArgs {
  args: TrainingArguments;
  /** Ignored settings and other non-fatal notes, one sentence each. */
  warnings: string[];
  /** `--help` / `-h` was given: nothing else on the line was parsed; args holds defaults (+ opts.config). */
  help: boolean;
  /** Config files read from argv (`--config FILE` or a positional .json/.yaml/.yml). */
  configFiles: string[];
  /**
   * --do-train, --do-eval or --do-predict was set (by a flag or a config file; do_eval implied by
   * eval_strategy does not count): the run does exactly what they say, as run_ner.py.
   */
  doFlagsGiven?: boolean;
}

interface RawEntry {
  value: unknown;
  origin: Origin;
}

/** Merges one flat mapping into `raw`, resolving names; unknown names are errors. */
function mergeMapping(
  source: Readonly<Record<string, unknown>>,
  raw: Map<keyof TrainingArguments, RawEntry>,
  warnings: string[],
  file?: ConfigFile,
): void {
  const seen = new Map<keyof TrainingArguments, string>();
  for (const [k, value] of Object.entries(source)) {
    const origin: Origin = file ? { file: file.path } : {};
    const line = file?.lineOf(k);
    if (line !== undefined) origin.line = line;
    const spec = findOption(k);
    if (spec) {
      const prev = seen.get(spec.key);
      if (prev !== undefined) {
        throw new TrainingArgsError(
          `${where(origin)}${spec.name} is given twice (as '${prev}' and '${k}')`,
          spec.name,
          origin.file,
          origin.line,
        );
      }
      seen.set(spec.key, k);
      raw.set(spec.key, { value, origin });
      continue;
    }
    handleUnsupportedOrUnknown(k, value, origin, warnings);
  }
}

function handleUnsupportedOrUnknown(name: string, value: unknown, origin: Origin, warnings: string[]): void {
  const snake = toSnakeCase(name.replace(/^-+/, ''));
  const u = UNSUPPORTED_BY_NAME.get(snake);
  if (u) {
    if (isHarmless(u, value)) return;
    const msg = `${where(origin)}${u.name} is not supported: ${u.reason}`;
    if (u.action === 'error') throw new TrainingArgsError(msg, u.name, origin.file, origin.line);
    warnings.push(msg);
    return;
  }
  const guess = suggestionFor(name.replace(/^-+/, ''));
  const dashes = name.match(/^-+/)?.[0] ?? '';
  const kind = dashes ? 'option' : 'key';
  throw new TrainingArgsError(
    `${where(origin)}unknown ${kind} '${name}'${guess ? `; did you mean '${dashes}${guess}'?` : ''}`,
    name,
    origin.file,
    origin.line,
  );
}

function arityOf(spec: OptionSpec): FlagArity {
  if (spec.type.kind === 'bool') return 'bool-word';
  if (spec.type.kind === 'resume') return 'optional';
  return 'required';
}

export function parseTrainingArgs(opts: ParseTrainingArgsOptions = {}): ParsedTrainingArgs {
  const warnings: string[] = [];
  const configFiles: string[] = [];
  const raw = new Map<keyof TrainingArguments, RawEntry>();
  if (opts.config instanceof ConfigFile) mergeMapping(opts.config.values, raw, warnings, opts.config);
  else if (opts.config) mergeMapping(opts.config, raw, warnings);

  const argv = opts.argv ?? [];
  // --help wins over everything else on the line, even over flags that would be errors.
  if (argv.some((t) => t === '-h' || t === '--help')) {
    const values: Record<string, unknown> = {};
    for (const spec of TRAINING_OPTIONS) {
      const entry = raw.get(spec.key);
      values[spec.key] = entry === undefined ? cloneDefault(spec.default) : coerceOption(spec, entry.value, entry.origin);
    }
    return { args: resolveTrainingArgs(values as unknown as RawTrainingArguments, [], false), warnings, help: true, configFiles };
  }

  // Lex argv first: config files named in argv apply before any flag, wherever they appear.
  const flags: RawEntry[] = [];
  const flagKeys: (keyof TrainingArguments)[] = [];
  const lex = new ArgvLexer(argv, false);
  for (let t = lex.next(); t; t = lex.next()) {
    if (t.kind === 'positional') {
      if (isConfigFilePath(t.token)) {
        configFiles.push(t.token);
        continue;
      }
      throw new TrainingArgsError(`unexpected argument '${t.token}' (flags start with --; a config file must end in .json, .yaml or .yml)`);
    }
    const { name, value: inline } = t;
    const origin: Origin = {};
    const missing = (): Error => new TrainingArgsError(`--${name}: expected a value`, toSnakeCase(name));

    if (toSnakeCase(name) === 'config' || toSnakeCase(name) === 'config_file') {
      configFiles.push(inline ?? lex.takeValue('required', missing));
      continue;
    }
    let spec = findOption(name);
    let negated = false;
    if (!spec) {
      const snake = toSnakeCase(name);
      const positive = snake.startsWith('no_') ? findOption(snake.slice(3)) : undefined;
      if (positive && positive.type.kind === 'bool') {
        spec = positive;
        negated = true;
      }
    }
    if (!spec) {
      const u = UNSUPPORTED_BY_NAME.get(toSnakeCase(name));
      const value: unknown = inline ?? lex.takeValue(u ? (u.takesValue ? 'required' : 'bool-word') : 'none', missing) ?? true;
      handleUnsupportedOrUnknown(`--${name}`, value, origin, warnings);
      continue;
    }
    // A bare boolean flag means true; `--do_train true` is how HF's argparse spells it.
    let value: unknown = inline ?? lex.takeValue(arityOf(spec), missing, (next) => !isConfigFilePath(next)) ?? true;
    if (negated) {
      const b = coerceOption(spec, value, origin) as boolean | null;
      value = b === null ? null : !b;
    }
    flags.push({ value, origin });
    flagKeys.push(spec.key);
  }

  for (const file of configFiles) {
    const cf = loadConfigFile(file);
    mergeMapping(cf.values, raw, warnings, cf);
  }
  flags.forEach((entry, j) => raw.set(flagKeys[j]!, entry));

  const values: Record<string, unknown> = {};
  for (const spec of TRAINING_OPTIONS) {
    const entry = raw.get(spec.key);
    values[spec.key] = entry === undefined ? cloneDefault(spec.default) : coerceOption(spec, entry.value, entry.origin);
  }
  // Before resolveArgs sets do_eval from eval_strategy: run_ner.py's modes are what the user named.
  const doFlagsGiven = Boolean(values.doTrain || values.doEval || values.doPredict);
  return {
    args: resolveTrainingArgs(values as unknown as RawTrainingArguments, warnings, true),
    warnings,
    help: false,
    configFiles,
    doFlagsGiven,
  };
}

/**
 * Flags that reproduce `args` through parseTrainingArgs (only values that differ from the
 * defaults, unless `all`). Always `--name=value` so values starting with '-' stay values.
 */
export function formatTrainingArgs(args: TrainingArguments, opts: { all?: boolean } = {}): string[] {
  const defaults = defaultTrainingArgs();
  const out: string[] = [];
  for (const spec of TRAINING_OPTIONS) {
    const v = args[spec.key];
    if (!opts.all && sameValue(v, defaults[spec.key])) continue;
    const flag = `--${toKebabCase(spec.name)}`;
    if (spec.type.kind === 'bool' && v !== null) out.push(v ? flag : `--no-${toKebabCase(spec.name)}`);
    else out.push(`${flag}=${formatOptionValue(v)}`);
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return a === b;
}
