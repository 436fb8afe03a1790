/**
 * CSV/TSV data files of hub datasets. A token-classification CSV keeps each list in one cell,
 * written either as JSON (`["EU", "rejects"]`) or as Python's repr (`['EU', 'rejects']`,
 * what pandas' to_csv writes for a list column); both are read back here.
 */
import { DataFormatError } from './errors.js';
import { RecordReader, type RecordOptions } from './jsonl.js';
import { readTextFile } from './text-file.js';
import type { Dataset } from './types.js';

export interface CsvTable {
  header: string[];
  /** Data rows with the 1-based line each starts on. */
  rows: { cells: string[]; line: number }[];
}

/**
 * RFC 4180 CSV (the dialect Python's csv module writes): fields separated by `delimiter`, records
 * by LF or CRLF; a field in double quotes may hold delimiters, newlines and `""` for a quote. A
 * quote inside an unquoted field is kept as a character. Blank lines are skipped.
 */
export function parseCsv(text: string, source: string, delimiter = ','): CsvTable {
  const records: { cells: string[]; line: number }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const cells: string[] = [];
    let blank = true;
    for (;;) {
      let cell = '';
      if (text[i] === '"') {
        blank = false;
        const openLine = line;
        i++;
        for (;;) {
          if (i >= n) throw new DataFormatError(source, openLine, 'unterminated quoted field (a " opened here is never closed)');
          const ch = text[i]!;
          if (ch === '"') {
            if (text[i + 1] === '"') {
              cell += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (ch === '\n') line++;
          cell += ch;
          i++;
        }
        // Text after the closing quote up to the delimiter is appended, as Python's csv does.
        while (i < n && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') cell += text[i++];
      } else {
        while (i < n && text[i] !== delimiter && text[i] !== '\n' && !(text[i] === '\r' && text[i + 1] === '\n')) cell += text[i++];
        if (cell.length > 0) blank = false;
      }
      cells.push(cell);
      if (i < n && text[i] === delimiter) {
        blank = false;
        i++;
        continue;
      }
      break;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') {
      i++;
      line++;
    }
    if (!blank) records.push({ cells, line: startLine });
  }
  if (records.length === 0) throw new DataFormatError(source, 0, 'no header row: the file is empty');
  const [head, ...rows] = records;
  const header = head!.cells;
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h)) throw new DataFormatError(source, head!.line, `column ${JSON.stringify(h)} appears twice in the header`);
    seen.add(h);
  }
  for (const r of rows) {
    if (r.cells.length !== header.length) {
      throw new DataFormatError(source, r.line, `${r.cells.length} fields but the header has ${header.length} (${header.join(', ')})`);
    }
  }
  return { header, rows };
}

/**
 * A list cell: JSON (`["a", 1]`) or a Python literal (`['a', "b", 1]`, escapes as Python writes
 * them). Elements are strings or integers. Errors say where in the cell parsing stopped.
 */
export function parseListCell(cell: string): (string | number)[] {
  const s = cell.trim();
  if (s.startsWith('[')) {
    try {
      const v = JSON.parse(s) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isInteger(x))))
        return v as (string | number)[];
    } catch {
      /* not JSON: try Python's repr below */
    }
  }
  return new PyListParser(s).list();
}

class PyListParser {
  private i = 0;
  constructor(private readonly s: string) {}

  private fail(problem: string): never {
    throw new Error(
      `not a list of strings or integers (${problem} at character ${this.i + 1} of ${JSON.stringify(this.s.length > 60 ? `${this.s.slice(0, 60)}...` : this.s)})`,
    );
  }

  private ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  list(): (string | number)[] {
    this.ws();
    if (this.s[this.i] !== '[') this.fail("expected '['");
    this.i++;
    const out: (string | number)[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
    } else {
      for (;;) {
        this.ws();
        out.push(this.item());
        this.ws();
        const c = this.s[this.i];
        if (c === ',') {
          this.i++;
          this.ws();
          if (this.s[this.i] === ']') {
            // Python allows a trailing comma
            this.i++;
            break;
          }
          continue;
        }
        if (c === ']') {
          this.i++;
          break;
        }
        this.fail("expected ',' or ']'");
      }
    }
    this.ws();
    if (this.i !== this.s.length) this.fail('unexpected text after the list');
    return out;
  }

  private item(): string | number {
    const c = this.s[this.i];
    if (c === "'" || c === '"') return this.str(c);
    const m = /^[-+]?\d+/.exec(this.s.slice(this.i));
    if (m) {
      this.i += m[0].length;
      return Number(m[0]);
    }
    return this.fail('expected a quoted string or an integer');
  }

  private str(q: string): string {
    this.i++;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated string');
      const c = this.s[this.i++]!;
      if (c === q) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      switch (e) {
        case undefined:
          this.fail('unterminated string');
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case '0':
          out += '\0';
          break;
        case 'a':
          out += '\x07';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
          out += this.hex(2);
          break;
        case 'u':
          out += this.hex(4);
          break;
        case 'U':
          out += this.hex(8);
          break;
        case '\\':
        case "'":
        case '"':
          out += e;
          break;
        default:
          out += `\\${e}`; // Python keeps unknown escapes as written
      }
    }
  }

  private hex(len: number): string {
    const h = this.s.slice(this.i, this.i + len);
    if (h.length !== len || !/^[0-9a-fA-F]+$/.test(h)) this.fail(`bad \\${len === 2 ? 'x' : len === 4 ? 'u' : 'U'} escape`);
    const cp = parseInt(h, 16);
    if (cp > 0x10ffff) this.fail('escape beyond U+10FFFF');
    this.i += len;
    return String.fromCodePoint(cp);
  }
}

/** Column names of a CSV/TSV file (its header). */
export function csvColumns(path: string, delimiter = ','): string[] {
  return parseCsv(readTextFile(path), path, delimiter).header;
}

/** Reads a CSV/TSV file whose token and tag columns hold lists (see parseListCell). */
export function readCsvRecords(path: string, opts: RecordOptions & { tokensField: string; tagsField: string }, delimiter = ','): Dataset {
  const { header, rows } = parseCsv(readTextFile(path), path, delimiter);
  const tokIdx = header.indexOf(opts.tokensField);
  const tagIdx = header.indexOf(opts.tagsField);
  for (const [field, idx] of [
    [opts.tokensField, tokIdx],
    [opts.tagsField, tagIdx],
  ] as const) {
    if (idx < 0) throw new DataFormatError(path, 1, `no column ${JSON.stringify(field)}; the columns are ${header.join(', ')}`);
  }
  if (rows.length === 0) throw new DataFormatError(path, 0, 'no records found');
  const reader = new RecordReader(path, opts, 'line');
  for (const r of rows) {
    const rec: Record<string, unknown> = {};
    for (const [field, idx] of [
      [opts.tokensField, tokIdx],
      [opts.tagsField, tagIdx],
    ] as const) {
      try {
        rec[field] = parseListCell(r.cells[idx]!);
      } catch (e) {
        throw new DataFormatError(path, r.line, `column ${JSON.stringify(field)}: ${(e as Error).message}`);
      }
    }
    reader.add(rec, r.line);
  }
  return reader.finish();
}
