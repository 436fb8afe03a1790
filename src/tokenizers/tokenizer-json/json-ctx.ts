/** Reading tokenizer.json values with errors that name the file and the JSON path. */
import { TokenizerFileError } from '../errors.js';

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
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      this.fail(`${path}.${key}`, `must be a non-negative integer, got ${JSON.stringify(v)}`);
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
    for (const k of Object.keys(o))
      if (k !== 'type' && !keys.includes(k)) this.fail(`${path}.${k}`, `option ${JSON.stringify(k)} is not supported by tokentune`);
  }

  /** A Split/Replace pattern: {"String": s} or {"Regex": r}. */
  pattern(v: unknown, path: string): { string: string } | { regex: string } {
    const o = this.obj(v, path);
    if (typeof o['String'] === 'string') return { string: o['String'] };
    if (typeof o['Regex'] === 'string') return { regex: o['Regex'] };
    this.fail(path, `must be {"String": ...} or {"Regex": ...}, got ${JSON.stringify(v)}`);
  }
}

/** A short JSON excerpt of `v` for an error: a huge or deeply nested value must not be stringified whole. */
export function show(v: unknown): string {
  if (v !== null && typeof v === 'object') return Array.isArray(v) ? `a list of ${v.length}` : 'an object';
  return (JSON.stringify(v) ?? String(v)).slice(0, 80);
}
