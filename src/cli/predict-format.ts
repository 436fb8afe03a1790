/**
 * Which format `predict --file` reads and writes when not told: the content decides the input
 * (a CoNLL column file named .txt is still a column file, and reading it as plain text would tag
 * `B-LOC` as a word), the output file's name decides the output.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import type { InputFormat, OutputFormat } from '../infer/index.js';

const TAG = /^(O|[BIESLU][-_].+|.+[-_][BIESLU])$/;
const CONLL_OUT = new Set(['.conll', '.conll03', '.bio', '.iob', '.iob2', '.tsv', '.txt']);
const JSONL_OUT = new Set(['.jsonl', '.ndjson', '.json']);

function head(path: string, bytes = 8192): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    // Drop a last line cut in the middle.
    const text = buf
      .subarray(0, n)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return n === bytes ? text.slice(0, Math.max(0, text.lastIndexOf('\n'))) : text;
  } finally {
    closeSync(fd);
  }
}

/**
 * JSON lines when records start with `{`; CoNLL when every non-blank line of the head is a token
 * with a tag-like last column (or -DOCSTART-), or when blank lines separate one-word lines; else
 * plain text (one text per line).
 */
export function sniffInputFormat(text: string, labels: readonly string[] = []): InputFormat {
  const lines = text.split(/\r?\n/);
  const nonBlank = lines.filter((l) => l.trim() !== '');
  if (nonBlank.length === 0) return 'txt';
  if (/^\s*\{/.test(nonBlank[0]!)) return 'jsonl';
  if (nonBlank.some((l) => l.startsWith('-DOCSTART-'))) return 'conll';
  const known = new Set(labels);
  const tagged = nonBlank.filter((l) => {
    const cols = l.includes('\t') ? l.split('\t') : l.trim().split(/ +/);
    const last = cols[cols.length - 1]!.trim();
    return cols.length >= 2 && cols.length <= 12 && (known.has(last) || TAG.test(last));
  });
  if (tagged.length === nonBlank.length) return 'conll';
  // Untagged column files: one token per line, sentences separated by blank lines.
  const oneWord = nonBlank.every((l) => !/\s/.test(l.trim()));
  if (oneWord && lines.some((l) => l.trim() === '') && nonBlank.length > lines.filter((l) => l.trim() === '').length) return 'conll';
  return 'txt';
}

export function detectPredictInput(path: string, labels: readonly string[]): InputFormat {
  return sniffInputFormat(head(path), labels);
}

/** From --out's extension; null when it does not say. */
export function outputFormatFor(out: string | undefined): OutputFormat | null {
  if (!out) return null;
  const ext = extname(out).toLowerCase();
  if (JSONL_OUT.has(ext)) return 'jsonl';
  if (CONLL_OUT.has(ext)) return 'conll';
  return null;
}
