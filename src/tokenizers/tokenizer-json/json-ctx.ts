/** Reading tokenizer.json values with errors that name the file and the JSON path. */
import { TokenizerFileError } from '../errors.js';
import { rangesToClass } from '../ranges.js';
import { ONIG_SPACE, ONIG_WORD } from '../rust-class-bases.js';
import { ONIG_UNASSIGNED } from '../unicode-exceptions.js';
import { backtrackingProblem } from './regex-safety.js';

export type Obj = Record<string, unknown>;

/** Deepest nesting of Sequence normalizers / pre-tokenizers / decoders / processors accepted. */
const MAX_SEQUENCE_DEPTH = 64;

export class JsonCtx {
  constructor(readonly file: string) {}

  fail(path: string, problem: string): never {
    throw new TokenizerFileError(this.file, `${path}: ${problem}`);
  }

  /** The list of a Sequence component; nesting is bounded (Rust's serde stops at 128) so no stack overflows. */
  sequence(o: Obj, key: string, path: string): unknown[] {
    let depth = 0;
    for (let i = path.indexOf('s['); i >= 0; i = path.indexOf('s[', i + 2)) depth++;
    if (depth >= MAX_SEQUENCE_DEPTH) this.fail(path, `Sequence nested more than ${MAX_SEQUENCE_DEPTH} deep`);
    return this.arr(o, key, path);
  }

  obj(v: unknown, path: string): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(path, `must be a JSON object, got ${show(v)}`);
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
    if (!Array.isArray(v)) this.fail(`${path}.${key}`, `must be a list, got ${show(v)}`);
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

/** Oniguruma's class for a \p{name}: ICU's, without the code points Oniguruma's older tables leave unassigned. */
const UNASSIGNED = `[${rangesToClass(ONIG_UNASSIGNED)}]`;
function onigProperty(name: string, negated: boolean): string {
  // The "unassigned" properties gain those code points instead.
  const cls = ['Cn', 'Unassigned', 'C', 'Other'].includes(name) ? `[\\p{${name}}${UNASSIGNED}]` : `[\\p{${name}}--${UNASSIGNED}]`;
  return negated ? `[^${cls}]` : cls;
}

const SYNTAX_PUNCT = new Set('()[]{}/-\\|&!#%,:;<=>@`~^$.*+?');

/**
 * An Oniguruma pattern (what the Rust library compiles: Split, Replace, ByteLevel) as a JavaScript
 * regex with the `v` flag. \s, \w, \d and \p{..} follow Oniguruma's Unicode tables (older than
 * Node's: see unicode-exceptions.ts), `.` excludes only \n; unsupported syntax fails with the
 * pattern named.
 */
export function compileOniguruma(src: string, ctx: JsonCtx, path: string): RegExp {
  const unsupported = (what: string): never => ctx.fail(path, `${what} is not supported in ${JSON.stringify(src)}`);
  // JavaScript's engine backtracks with no timeout: refuse the shapes that blow up (regex-safety.ts).
  const risk = backtrackingProblem(src);
  if (risk !== null) ctx.fail(path, `regex ${JSON.stringify(src.slice(0, 200))} ${risk}; it could take exponential time on some texts, so it is refused`);
  let out = '';
  let depth = 0; // character class nesting
  let atom = false; // inside a class: the previous item can start a range
  const openClass = (i: number): number => {
    depth++;
    out += '[';
    atom = false;
    if (src[i + 1] === '^') { out += '^'; i++; }
    if (src[i + 1] === ':') unsupported('a POSIX bracket expression');
    return i;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\' && i + 1 < src.length) {
      const n = src[++i]!;
      if (n === 's') out += `[${ONIG_SPACE}]`;
      else if (n === 'S') out += `[^${ONIG_SPACE}]`;
      else if (n === 'd' || n === 'D') out += onigProperty('Nd', n === 'D');
      else if (n === 'w' || n === 'W') {
        const word = `[[${ONIG_WORD}]--${UNASSIGNED}]`;
        out += n === 'W' ? `[^${word}]` : word;
      } else if (n === 'p' || n === 'P') {
        let name: string;
        if (src[i + 1] === '{') {
          const end = src.indexOf('}', i);
          if (end < 0) unsupported('an unterminated \\p{');
          name = src.slice(i + 2, end);
          i = end;
        } else name = src[++i] ?? '';
        const caret = name.startsWith('^');
        out += onigProperty(caret ? name.slice(1) : name, (n === 'P') !== caret);
      } else if (n === 'A') out += depth ? unsupported('\\A in a character class') : '(?<![^])';
      else if (n === 'z') out += depth ? unsupported('\\z in a character class') : '(?![^])';
      else if (n === 'h') out += depth ? '0-9a-fA-F' : '[0-9a-fA-F]';
      else if (SYNTAX_PUNCT.has(n) || n === "'" || n === '"' || n === '_' || n === ' ') out += `\\u{${n.charCodeAt(0).toString(16)}}`;
      else out += '\\' + n; // \t \n \xHH \uHHHH \b ... (anything JS rejects fails below)
      atom = depth > 0;
      continue;
    }
    if (depth === 0) {
      if (ch === '[') i = openClass(i);
      else if (ch === '.') out += '[^\\n]';
      else out += ch;
      continue;
    }
    if (ch === '[') i = openClass(i);
    else if (ch === ']') { depth--; out += ']'; atom = depth > 0; }
    else if (ch === '&' && src[i + 1] === '&') unsupported('class intersection (&&)');
    else if (ch === '-' && atom && src[i + 1] !== ']' && i + 1 < src.length) { out += '-'; atom = false; }
    else { out += SYNTAX_PUNCT.has(ch) ? '\\' + ch : ch; atom = true; }
  }
  try {
    return new RegExp(out, 'gv');
  } catch (e) {
    ctx.fail(path, `regex ${JSON.stringify(src)} cannot be compiled: ${(e as Error).message}`);
  }
}

/** A short JSON excerpt of `v` for an error: a huge or deeply nested value must not be stringified whole. */
export function show(v: unknown): string {
  if (v !== null && typeof v === 'object') return Array.isArray(v) ? `a list of ${v.length}` : 'an object';
  return (JSON.stringify(v) ?? String(v)).slice(0, 80);
}
