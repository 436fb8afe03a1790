import { DataFormatError } from './errors.js';
import { TagChecker } from './tag-check.js';
import { forEachLine, readTextFile } from './text-file.js';
import type { Dataset, Sentence, TagCheckOptions } from './types.js';

export interface ConllOptions extends TagCheckOptions {
  /** Column holding the word; negative counts from the end. Default 0. */
  tokenColumn?: number;
  /** Column holding the tag; negative counts from the end. Default -1 (last). */
  tagColumn?: number;
  /**
   * 'auto' (default): tab-separated if the first data line contains a TAB, else runs of spaces.
   * 'tab' splits on every TAB (words may then contain spaces); 'space' on runs of blanks.
   */
  separator?: 'auto' | 'tab' | 'space';
}

const DOCSTART = '-DOCSTART-';

/** Reads a CoNLL-style column file (CoNLL-2003, WNUT-17, 2-column token/tag files). */
export function readConll(path: string, opts: ConllOptions = {}): Dataset {
  return parseConll(readTextFile(path), path, opts);
}

/**
 * Parses CoNLL column text. Sentences are separated by empty or whitespace-only lines (WNUT-17's
 * train file uses a line holding one TAB); `-DOCSTART-` lines are document markers, not words,
 * and also end a sentence. CRLF endings are accepted and a last sentence without a trailing
 * blank line is kept. Every data line must have the same number of columns.
 */
export function parseConll(text: string, source: string, opts: ConllOptions = {}): Dataset {
  const checker = new TagChecker(source, opts);
  const sentences: Sentence[] = [];
  let tokens: string[] = [];
  let tags: string[] = [];
  let startLine = 0;
  let separator: 'tab' | 'space' | null = opts.separator && opts.separator !== 'auto' ? opts.separator : null;
  let columns = -1;
  let columnsLine = 0;
  let tokenCol = 0;
  let tagCol = 0;

  const flush = (): void => {
    if (tokens.length > 0) sentences.push({ tokens, tags, line: startLine });
    tokens = [];
    tags = [];
  };

  forEachLine(text, (line, lineNo) => {
    if (isBlank(line)) {
      flush();
      return;
    }
    separator ??= line.includes('\t') ? 'tab' : 'space';
    const fields = separator === 'tab' ? line.split('\t') : splitBlanks(line);
    if (fields[0] === DOCSTART) {
      flush();
      return;
    }
    if (columns < 0) {
      columns = fields.length;
      columnsLine = lineNo;
      tokenCol = resolveColumn(opts.tokenColumn ?? 0, columns, 'tokenColumn', source, lineNo);
      tagCol = resolveColumn(opts.tagColumn ?? -1, columns, 'tagColumn', source, lineNo);
      if (tokenCol === tagCol) {
        throw new DataFormatError(source, lineNo, `tokenColumn and tagColumn both point at column ${tokenCol} of ${columns}`);
      }
    } else if (fields.length !== columns) {
      throw new DataFormatError(
        source,
        lineNo,
        `expected ${columns} ${separator === 'tab' ? 'tab' : 'space'}-separated columns (as on line ${columnsLine}) but found ${fields.length}`,
      );
    }
    const token = fields[tokenCol]!;
    if (token.length === 0) throw new DataFormatError(source, lineNo, 'empty token');
    if (tokens.length === 0) startLine = lineNo;
    tokens.push(token);
    tags.push(checker.check(fields[tagCol]!.trim(), lineNo));
  });
  flush();
  if (sentences.length === 0) throw new DataFormatError(source, 0, 'no sentences found (only blank or -DOCSTART- lines)');
  checker.finish();
  return { sentences, source, warnings: checker.warnings };
}

/** Fields separated by runs of spaces/TABs, ignoring leading and trailing blanks (faster than a regex split). */
function splitBlanks(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    let c = line.charCodeAt(i);
    while (i < n && (c === 32 || c === 9)) c = line.charCodeAt(++i);
    if (i >= n) break;
    const start = i;
    while (i < n && c !== 32 && c !== 9) c = line.charCodeAt(++i);
    out.push(line.slice(start, i));
  }
  return out;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xa0 && c !== 0xfeff) return false;
  }
  return true;
}

function resolveColumn(col: number, columns: number, name: string, source: string, line: number): number {
  const idx = col < 0 ? columns + col : col;
  if (!Number.isInteger(col) || idx < 0 || idx >= columns) {
    throw new DataFormatError(source, line, `${name}=${col} is out of range for a line with ${columns} columns`);
  }
  return idx;
}

/** Writes sentences as CoNLL text (`token<sep>tag`, blank line between sentences). */
export function formatConll(
  sentences: readonly { tokens: readonly string[]; tags: readonly string[] }[],
  separator: '\t' | ' ' = ' ',
): string {
  const parts: string[] = [];
  for (const s of sentences) {
    for (let i = 0; i < s.tokens.length; i++) parts.push(`${s.tokens[i]}${separator}${s.tags[i]}\n`);
    parts.push('\n');
  }
  return parts.join('');
}
