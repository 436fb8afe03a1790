// One raw setting (a flag's string or a config file's value) coerced to its option's type, with
// errors that name the file, line and option.

import { TrainingArgsError } from '../train/training-args.js';
import { NULLABLE_BOOLS, type OptionSpec } from '../train/training-options.js';
import { hfBoolWord } from './argv-lexer.js';

/** Where a value came from, for error messages: a config file and line, or nothing (a flag). */
export interface ValueOrigin {
  file?: string;
  line?: number;
}
type Origin = ValueOrigin;

/** `file:line: ` (or `file: `) before a message about a config file's value; nothing for a flag. */
export function where(o: Origin): string {
  if (o.file !== undefined) return o.line !== undefined ? `${o.file}:${o.line}: ` : `${o.file}: `;
  return '';
}

function shown(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === undefined) return 'nothing';
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function isNullWord(v: unknown): boolean {
  return v === null || (typeof v === 'string' && /^(none|null)$/i.test(v.trim()));
}

function coerceNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) return Number(v);
  return null;
}

function coerceBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v === 'string') return hfBoolWord(v);
  return null;
}

/** Coerces one raw value (from a flag string or a parsed config file) to the option's type. */
export function coerceOption(spec: OptionSpec, value: unknown, origin?: ValueOrigin): unknown {
  const fail = (expected: string): never => {
    throw new TrainingArgsError(
      `${origin ? where(origin) : ''}${spec.name}: expected ${expected}, got ${shown(value)}`,
      spec.name,
      origin?.file,
      origin?.line,
    );
  };
  const t = spec.type;
  const nullable = ('nullable' in t && t.nullable === true) || NULLABLE_BOOLS.has(spec.key);
  if (nullable && isNullWord(value)) return null;
  switch (t.kind) {
    case 'bool': {
      const b = coerceBool(value);
      return b === null ? fail('true or false') : b;
    }
    case 'int': {
      const n = coerceNumber(value);
      if (n === null) return fail(nullable ? 'an integer or none' : 'an integer');
      if (!Number.isSafeInteger(n)) return fail('an integer');
      if (t.min !== undefined && n < t.min) return fail(`an integer >= ${t.min}`);
      return n;
    }
    case 'float': {
      const n = coerceNumber(value);
      if (n === null) return fail('a number');
      const lo = t.min;
      if (lo !== undefined && (t.minExclusive ? n <= lo : n < lo)) return fail(`a number ${t.minExclusive ? '>' : '>='} ${lo}`);
      if (t.max !== undefined && n > t.max) return fail(`a number <= ${t.max}`);
      return n;
    }
    case 'string': {
      if (typeof value === 'string') return value;
      // HF's own label_names is a list of input keys (['labels']); tokentune's is a file of tag names.
      if (spec.key === 'labelNames' && Array.isArray(value)) return null;
      // HF's training_args.json holds report_to as a list (["tensorboard"], [] for none).
      if (spec.key === 'reportTo' && Array.isArray(value) && value.every((x) => typeof x === 'string'))
        return value.length ? value.join(',') : 'none';
      // YAML turns `dataset_name: 2024` into a number; a name is still meant.
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      return fail('a string');
    }
    case 'enum': {
      if (typeof value === 'string' && t.values.includes(value)) return value;
      if (typeof value === 'string' && t.values.includes(value.toLowerCase())) return value.toLowerCase();
      return fail(`one of ${t.values.map((x) => `'${x}'`).join(', ')}`);
    }
    case 'steps': {
      const n = coerceNumber(value);
      if (n === null) return fail('a number of steps');
      if (n === 0 && t.allowZero) return 0;
      if (!(n > 0)) return fail(`a number of steps ${t.allowZero ? '>= 0' : '> 0'} (or a ratio in (0, 1))`);
      if (n >= 1 && !Number.isSafeInteger(n)) return fail('an integer number of steps (or a ratio in (0, 1))');
      return n;
    }
    case 'resume': {
      if (value === null || value === undefined) return null;
      const b = value === true || value === false ? value : typeof value === 'string' ? coerceBool(value) : null;
      if (b !== null) return b ? true : null;
      if (isNullWord(value)) return null;
      if (typeof value === 'string' && value.length > 0) return value;
      return fail('a checkpoint folder, true or none');
    }
    case 'classWeights': {
      if (isNullWord(value)) return null;
      if (value === 'balanced') return 'balanced';
      let list: unknown = value;
      if (typeof value === 'string') {
        const s = value.trim();
        list = s.startsWith('[')
          ? (() => {
              try {
                return JSON.parse(s) as unknown;
              } catch {
                return fail("'balanced' or a list of numbers");
              }
            })()
          : s.split(',');
      }
      if (!Array.isArray(list) || list.length === 0) return fail("'balanced' or a list of numbers");
      const out = list.map((x) => coerceNumber(typeof x === 'string' ? x.trim() : x));
      if (out.some((x) => x === null || x < 0)) return fail("'balanced' or a list of numbers >= 0");
      return out as number[];
    }
  }
}

export function formatOptionValue(v: unknown): string {
  if (v === null) return 'none';
  if (Array.isArray(v)) return v.join(',');
  return String(v);
}
