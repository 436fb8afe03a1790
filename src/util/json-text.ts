// JSON helpers for the files tokentune reads and writes (trainer_state.json, log.jsonl, training
// config files): error locations with line and column (V8's JSON.parse messages sometimes carry
// no position at all), and Python-compatible NaN / Infinity, which Python's json module writes
// into trainer_state.json (e.g. a NaN grad_norm).

export class JsonTextError extends Error {
  constructor(
    message: string,
    readonly file: string | undefined,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'JsonTextError';
  }
}

/** 1-based line and column of a UTF-16 offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const end = Math.max(0, Math.min(offset, text.length));
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * Finds the first syntax error in `text` by a small recursive-descent scan of the JSON grammar.
 * Returns null when the text is valid. `nonFinite` also admits NaN, Infinity and -Infinity.
 */
export function findJsonError(text: string, nonFinite = false): { offset: number; message: string } | null {
  let i = 0;
  const n = text.length;
  class Stop {
    constructor(
      readonly offset: number,
      readonly message: string,
    ) {}
  }
  const fail = (message: string, at = i): never => {
    throw new Stop(at, message);
  };
  const ws = (): void => {
    while (i < n) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else break;
    }
  };
  const describe = (): string => (i >= n ? 'end of input' : `'${text[i]}'`);
  const word = (w: string): boolean => {
    if (text.startsWith(w, i)) {
      i += w.length;
      return true;
    }
    return false;
  };
  const str = (): void => {
    const start = i;
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return;
      }
      if (c === 92) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in string');
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          fail('bad escape in string');
        }
        continue;
      }
      if (c < 0x20) fail('control character in string (use an escape)');
      i++;
    }
    fail('unterminated string', start);
  };
  const num = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '-' || m[0].length === 0) fail(`unexpected ${describe()}`);
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 1000) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a double-quoted property name, got ${describe()}`);
        str();
        ws();
        if (text[i] !== ':') fail(`expected ':' after property name, got ${describe()}`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}' after property value, got ${describe()}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']' after array element, got ${describe()}`);
      }
    }
    if (c === '"') return str();
    if (word('true') || word('false') || word('null')) return;
    if (nonFinite && (word('NaN') || word('Infinity') || word('-Infinity'))) return;
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    fail(`unexpected ${describe()}`);
  };
  try {
    value(0);
    ws();
    if (i < n) fail(`unexpected ${describe()} after the end of the JSON value`);
    return null;
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, message: e.message };
    throw e;
  }
}

// Sentinels chosen so that no real string value can collide with them in practice.
const NAN = '\u0000tokentune:NaN\u0000';
const POS_INF = '\u0000tokentune:+Inf\u0000';
const NEG_INF = '\u0000tokentune:-Inf\u0000';

/**
 * JSON.parse that also reads Python's NaN / Infinity / -Infinity and reports syntax errors as
 * `file:line:column: message`.
 */
export function parseJsonText(text: string, file?: string): unknown {
  const err = findJsonError(text, true);
  if (err) {
    const { line, column } = lineColumn(text, err.offset);
    throw new JsonTextError(`${file ?? '<json>'}:${line}:${column}: invalid JSON: ${err.message}`, file, line, column);
  }
  if (!/NaN|Infinity/.test(text)) return JSON.parse(text);
  // Replace the bare tokens (outside strings) by sentinel strings, then revive them.
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (text.startsWith('NaN', i)) {
      out += JSON.stringify(NAN);
      i += 3;
    } else if (text.startsWith('-Infinity', i)) {
      out += JSON.stringify(NEG_INF);
      i += 9;
    } else if (text.startsWith('Infinity', i)) {
      out += JSON.stringify(POS_INF);
      i += 8;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out, (_k, v: unknown) => (v === NAN ? NaN : v === POS_INF ? Infinity : v === NEG_INF ? -Infinity : v));
}

/**
 * JSON.stringify that writes NaN / Infinity as Python's json module does (JSON.stringify would
 * turn them into null and lose them), with sorted keys when asked (HF's trainer_state.json uses
 * sort_keys=True).
 */
export function stringifyJsonText(value: unknown, opts: { indent?: number; sortKeys?: boolean } = {}): string {
  const sortDeep = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortDeep);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      const keys = opts.sortKeys ? Object.keys(o).sort() : Object.keys(o);
      const r: Record<string, unknown> = {};
      for (const k of keys) r[k] = sortDeep(o[k]);
      return r;
    }
    return v;
  };
  let used = false;
  const text = JSON.stringify(
    sortDeep(value),
    (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) {
        used = true;
        return Number.isNaN(v) ? NAN : v > 0 ? POS_INF : NEG_INF;
      }
      return v;
    },
    opts.indent,
  );
  if (!used) return text;
  return text
    .split(JSON.stringify(NAN))
    .join('NaN')
    .split(JSON.stringify(POS_INF))
    .join('Infinity')
    .split(JSON.stringify(NEG_INF))
    .join('-Infinity');
}
