// Small, dependency-free command-line flag parsing for tokentune's commands (parseArgs, on the one
// argv lexer of argv-lexer.ts, which also reads the train/distill flags in training-flags.ts).
// Accepts `--flag value`, `--flag=value`, `--flag` / `--no-flag` for booleans, `-x` short aliases,
// positionals, and `--` (everything after it is positional). `--snake_case`, `--kebab-case` and
// `--camelCase` spellings of a flag are the same flag, because users copy HF commands that use
// snake_case. Unknown flags are errors that suggest the nearest known flag.

import { toKebabCase } from '../util/option-names.js';
import { ArgvLexer, hfBoolWord } from './argv-lexer.js';
import { nearest } from './suggest.js';

export { splitFlag } from './argv-lexer.js';

export type FlagType = 'string' | 'number' | 'int' | 'boolean' | 'list';

export interface FlagSpec {
  type: FlagType;
  /** Other spellings: single letters become `-x`, longer ones `--name`. */
  alias?: readonly string[];
  default?: string | number | boolean | readonly string[];
  help?: string;
  /** Shown in help after the flag, e.g. `--port <PORT>`. */
  valueName?: string;
  /** For 'string': the accepted values. */
  choices?: readonly string[];
}

export interface PositionalSpec {
  name: string;
  required?: boolean;
  /** Takes all remaining positionals (must be last). */
  variadic?: boolean;
  help?: string;
}

export interface ArgsSpec {
  flags: Readonly<Record<string, FlagSpec>>;
  positionals?: readonly PositionalSpec[];
}

type ValueOf<S extends FlagSpec> = S['type'] extends 'boolean'
  ? boolean
  : S['type'] extends 'number' | 'int'
    ? number
    : S['type'] extends 'list'
      ? string[]
      : string;

export type FlagValues<F extends Readonly<Record<string, FlagSpec>>> = {
  [K in keyof F]: F[K] extends { default: unknown } ? ValueOf<F[K]> : ValueOf<F[K]> | undefined;
};

export interface ParsedArgs<F extends Readonly<Record<string, FlagSpec>>> {
  values: FlagValues<F>;
  positionals: string[];
  /** Keyed by PositionalSpec.name; variadic ones hold string[]. */
  named: Record<string, string | string[] | undefined>;
  help: boolean;
}

export class CliArgsError extends Error {
  constructor(
    message: string,
    readonly flag?: string,
  ) {
    super(message);
    this.name = 'CliArgsError';
  }
}

/** `maxLength`, `max_length`, `max-length`, `MAX-LENGTH` -> `max-length`. */
export const canonicalFlagName: (name: string) => string = toKebabCase;

/** HF's string_to_bool vocabulary (plus on/off); null when the word is not a boolean. */
export function parseBoolWord(word: string): boolean | null {
  const w = word.trim().toLowerCase();
  if (w === 'on') return true;
  if (w === 'off') return false;
  return hfBoolWord(w);
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Strict decimal number parsing: rejects '', '0x10', '1e', '12abc' that Number() or parseFloat accept. */
export function parseNumberWord(word: string): number | null {
  const w = word.trim();
  if (!NUMBER_RE.test(w)) return null;
  const n = Number(w);
  return Number.isFinite(n) ? n : null;
}

function display(flagKey: string): string {
  return `--${canonicalFlagName(flagKey)}`;
}

function coerce(flagKey: string, spec: FlagSpec, raw: string): string | number {
  const flag = display(flagKey);
  if (spec.type === 'number' || spec.type === 'int') {
    const n = parseNumberWord(raw);
    if (n === null) throw new CliArgsError(`${flag}: expected a number, got '${raw}'`, flag);
    if (spec.type === 'int' && !Number.isInteger(n)) throw new CliArgsError(`${flag}: expected an integer, got '${raw}'`, flag);
    return n;
  }
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new CliArgsError(`${flag}: expected one of ${spec.choices.map((c) => `'${c}'`).join(', ')}, got '${raw}'`, flag);
  }
  return raw;
}

/** Parses argv (without the node binary, script and command name) against `spec`. */
export function parseArgs<const F extends Readonly<Record<string, FlagSpec>>>(
  argv: readonly string[],
  spec: { flags: F; positionals?: readonly PositionalSpec[] },
): ParsedArgs<F> {
  const byName = new Map<string, string>(); // canonical long name or short letter -> flag key
  const register = (name: string, key: string): void => {
    const canon = name.length === 1 ? name : canonicalFlagName(name);
    if (byName.has(canon)) throw new Error(`args spec: flag name '${name}' is used twice`);
    byName.set(canon, key);
  };
  for (const [key, f] of Object.entries(spec.flags)) {
    register(key, key);
    for (const a of f.alias ?? []) register(a, key);
  }

  const values: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(spec.flags)) {
    if (f.default !== undefined) values[key] = Array.isArray(f.default) ? [...f.default] : f.default;
  }
  const listSeen = new Set<string>();
  const positionals: string[] = [];
  let help = false;

  const lex = new ArgvLexer(argv, true);
  for (let t = lex.next(); t; t = lex.next()) {
    if (t.kind === 'positional') {
      positionals.push(t.token);
      continue;
    }
    const token = t.token;
    const canon = t.short && t.name.length === 1 ? t.name : canonicalFlagName(t.name);
    let key = byName.get(canon);
    let negated = false;
    if (key === undefined && canon.startsWith('no-')) {
      const k = byName.get(canon.slice(3));
      if (k !== undefined && spec.flags[k]!.type === 'boolean') {
        key = k;
        negated = true;
      }
    }
    if (key === undefined) {
      if (canon === 'help' || canon === 'h') {
        help = true;
        continue;
      }
      const known = [...byName.keys()].filter((n) => n.length > 1).map((n) => `--${n}`);
      const guess = nearest(`--${canon}`, known);
      throw new CliArgsError(`unknown option '${token.split('=')[0]}'${guess ? `; did you mean '${guess}'?` : ''}`, token);
    }
    const f = spec.flags[key]!;
    if (f.type === 'boolean') {
      if (t.value !== undefined) {
        const b = parseBoolWord(t.value);
        if (b === null) throw new CliArgsError(`${display(key)}: expected true or false, got '${t.value}'`, display(key));
        values[key] = negated ? !b : b;
      } else {
        values[key] = !negated;
      }
      continue;
    }
    const flagKey = key;
    const raw = t.value ?? lex.takeValue('required', () => new CliArgsError(`${display(flagKey)}: expected a value`, display(flagKey)));
    if (f.type === 'list') {
      // The first occurrence replaces the default; later ones append.
      const prev = listSeen.has(key) ? (values[key] as string[]) : [];
      listSeen.add(key);
      values[key] = [...prev, ...raw.split(',').filter((s) => s.length > 0)];
    } else {
      values[key] = coerce(key, f, raw);
    }
  }

  const named: Record<string, string | string[] | undefined> = {};
  const pspecs = spec.positionals;
  if (pspecs && !help) {
    let p = 0;
    for (const ps of pspecs) {
      if (ps.variadic) {
        named[ps.name] = positionals.slice(p);
        if (ps.required && p >= positionals.length) throw new CliArgsError(`missing argument <${ps.name}>`);
        p = positionals.length;
      } else {
        if (p >= positionals.length) {
          if (ps.required) throw new CliArgsError(`missing argument <${ps.name}>`);
          named[ps.name] = undefined;
        } else {
          named[ps.name] = positionals[p++];
        }
      }
    }
    if (p < positionals.length) throw new CliArgsError(`unexpected argument '${positionals[p]}'`);
  }

  return { values: values as FlagValues<F>, positionals, named, help };
}
