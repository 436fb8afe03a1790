/** Reading tokenizer.json values with errors that name the file and the JSON path. */
import { TokenizerFileError } from '../errors.js';

export type Obj = Record<string, unknown>;

export class JsonCtx {
  constructor(readonly file: string) {}

  fail(path: string, problem: string): never {
    throw new TokenizerFileError(this.file, `${path}: ${problem}`);
  }

  obj(v: unknown, path: string): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, `must be a JSON object, got ${JSON.stringify(v)?.slice(0, 80)}`);
    return v as Obj;
  }

  str(o: Obj, key: string, path: string, dflt?: string): string {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string') this.fail(`${path}.${key}`, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  optStr(o: Obj, key: string, path: string): string | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') this.fail(`${path}.${key}`, `must be a string or null, got ${JSON.stringify(v)}`);
    return v;
  }

  bool(o: Obj, key: string, path: string, dflt?: boolean): boolean {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'boolean') this.fail(`${path}.${key}`, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  optBool(o: Obj, key: string, path: string): boolean | null {
    const v = o[key];
    if (v === undefined || v === null) return null;
    return this.bool(o, key, path);
  }

  int(o: Obj, key: string, path: string, dflt?: number): number {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail(`${path}.${key}`, `must be a non-negative integer, got ${JSON.stringify(v)}`);
    return v;
  }

  arr(o: Obj, key: string, path: string): unknown[] {
    const v = o[key];
    if (!Array.isArray(v)) this.fail(`${path}.${key}`, `must be a list, got ${JSON.stringify(v)?.slice(0, 80)}`);
    return v;
  }

  /** The "type" of a component, checked against what we support. */
  type(o: Obj, path: string, supported: readonly string[]): string {
    const t = o['type'];
    if (typeof t !== 'string' || !supported.includes(t)) {
      this.fail(`${path}.type`, `${JSON.stringify(t)} is not supported by tokentune (supported: ${supported.join(', ')})`);
    }
    return t;
  }

  /** Rejects keys we do not know, so an option is never silently ignored. */
  known(o: Obj, path: string, keys: readonly string[]): void {
    for (const k of Object.keys(o)) if (k !== 'type' && !keys.includes(k)) this.fail(`${path}.${k}`, `option ${JSON.stringify(k)} is not supported by tokentune`);
  }

  /** A Split/Replace pattern: {"String": s} or {"Regex": r}. */
  pattern(v: unknown, path: string): { string: string } | { regex: string } {
    const o = this.obj(v, path);
    if (typeof o['String'] === 'string') return { string: o['String'] };
    if (typeof o['Regex'] === 'string') return { regex: o['Regex'] };
    this.fail(path, `must be {"String": ...} or {"Regex": ...}, got ${JSON.stringify(v)}`);
  }
}

/**
 * An Oniguruma pattern (what the Rust library compiles) as a JavaScript regex. \s, \S, \w, \d
 * follow Unicode as Oniguruma does; unsupported syntax fails with the pattern named.
 */
export function compileOniguruma(src: string, ctx: JsonCtx, path: string): RegExp {
  const WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\' && i + 1 < src.length) {
      const n = src[i + 1]!;
      i++;
      if (n === 's') out += inClass ? WS : `[${WS}]`;
      else if (n === 'S') {
        if (inClass) ctx.fail(path, `\\S inside a character class is not supported in ${JSON.stringify(src)}`);
        out += `[^${WS}]`;
      } else if (n === 'd') out += '\\p{Nd}';
      else if (n === 'w') out += inClass ? '\\p{L}\\p{M}\\p{Nd}\\p{Pc}' : '[\\p{L}\\p{M}\\p{Nd}\\p{Pc}]';
      else if (n === 'p' || n === 'P') {
        // \p{L} / \pL
        if (src[i + 1] === '{') {
          const end = src.indexOf('}', i);
          out += `\\${n}${src.slice(i + 1, end + 1)}`;
          i = end;
        } else {
          out += `\\${n}{${src[i + 1]}}`;
          i++;
        }
      } else out += '\\' + n;
      continue;
    }
    if (ch === '[' && !inClass) inClass = true;
    else if (ch === ']' && inClass) inClass = false;
    out += ch;
  }
  try {
    return new RegExp(out, 'gu');
  } catch (e) {
    ctx.fail(path, `regex ${JSON.stringify(src)} cannot be compiled: ${(e as Error).message}`);
  }
}
