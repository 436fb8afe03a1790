/** Reading one data file of any supported format: the format sniffed from its content, then its extension. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { readConll } from './conll.js';
import type { ConllOptions } from './conll.js';
import { readConllu } from './conllu.js';
import type { ConlluOptions } from './conllu.js';
import { DataFormatError } from './errors.js';
import { readJsonl } from './jsonl.js';
import type { RecordOptions } from './jsonl.js';
import { readParquet } from './parquet.js';
import type { Dataset } from './types.js';
import { csvColumns, readCsvRecords } from './hub-dataset-csv.js';

/** A local CSV (as datasets' to_csv writes it: list cells), with run_ner.py's default column names. */
function readCsvFile(path: string, opts: ReadOptions): Dataset {
  const cols = csvColumns(path);
  const pick = (given: string | undefined, names: string[], what: string, flag: string): string => {
    const f = given ?? names.find((n) => cols.includes(n));
    if (!f)
      throw new DataFormatError(
        path,
        1,
        `no ${what} column (looked for ${names.join(', ')}); the columns are ${cols.join(', ')}: name it with ${flag}`,
      );
    return f;
  };
  const tokensField = pick(opts.tokensField, ['tokens', 'words'], 'word', '--text-column-name');
  const tagsField = pick(opts.tagsField, ['ner_tags', 'pos_tags', 'chunk_tags', 'tags', 'labels'], 'tag', '--label-column-name');
  return readCsvRecords(path, { ...opts, tokensField, tagsField });
}

export type DataFormat = 'conll' | 'conllu' | 'jsonl' | 'parquet' | 'csv';

/** Options for any reader; each reader uses the fields it knows. */
export type ReadOptions = ConllOptions & ConlluOptions & RecordOptions & { format?: DataFormat };

/** The format each data extension names; also what `findSplitFiles` takes for a data file. */
export const EXT_FORMAT: Record<string, DataFormat | undefined> = {
  '.conllu': 'conllu',
  '.jsonl': 'jsonl',
  '.json': 'jsonl',
  '.parquet': 'parquet',
  '.csv': 'csv',
  '.txt': 'conll',
  '.conll': 'conll',
  '.iob': 'conll',
  '.iob2': 'conll',
  '.bio': 'conll',
  '.tsv': 'conll',
};

/**
 * Chooses the reader: parquet by its `PAR1` magic, `.conllu` by extension, JSON by a leading
 * `{` or `[`, a CoNLL-U shape (10 TAB fields with an integer id) for other text files, else CoNLL.
 * The content wins over a misleading extension, so a `.txt` holding JSON lines still reads.
 */
export function detectFormat(path: string): DataFormat {
  const head = readHead(path, 4096);
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) return 'parquet';
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return 'parquet'; // let the parquet reader explain what is wrong
  if (ext === '.conllu') return 'conllu';
  if (ext === '.csv') return 'csv';
  const text = new TextDecoder('utf-8').decode(head).replace(/^\uFEFF/, '');
  // `{"` / `[{` rather than a bare `{` or `[`, which are also plausible CoNLL tokens.
  if (/^\s*(\{\s*["}]|\[\s*[{\]])/.test(text)) return 'jsonl';
  // A .json/.jsonl name is trusted over a CoNLL guess: the JSON reader then says what is wrong
  // (an array per line, say) instead of the file being read as one-column CoNLL.
  if (EXT_FORMAT[ext] === 'jsonl') return 'jsonl';
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = line.replace(/\r$/, '').split('\t');
    return fields.length === 10 && /^\d+([-.]\d+)?$/.test(fields[0]!) ? 'conllu' : 'conll';
  }
  return EXT_FORMAT[ext] ?? 'conll';
}

function readHead(path: string, n: number): Uint8Array {
  let fd: number;
  try {
    if (statSync(path).isDirectory())
      throw new DataFormatError(path, 0, 'is a folder, expected a data file (give the folder as the data folder, or name a file in it)');
    fd = openSync(path, 'r');
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw new DataFormatError(path, 0, `cannot read file: ${(e as Error).message}`);
  }
  try {
    const buf = new Uint8Array(n);
    // Positionless read: a FIFO or character device cannot seek.
    let got: number;
    try {
      got = readSync(fd, buf, 0, n, null);
    } catch (e) {
      throw new DataFormatError(path, 0, `cannot read file: ${(e as Error).message}`);
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Reads one data file with the reader its format calls for. */
export async function readDataFile(path: string, opts: ReadOptions = {}): Promise<Dataset> {
  const format = opts.format ?? detectFormat(path);
  switch (format) {
    case 'conll':
      return readConll(path, opts);
    case 'conllu':
      return readConllu(path, opts);
    case 'jsonl':
      return readJsonl(path, opts);
    case 'parquet':
      return readParquet(path, opts);
    case 'csv':
      return readCsvFile(path, opts);
  }
}
