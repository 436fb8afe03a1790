/** The train / validation / test splits: which file is which split in a folder, and reading them. */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { DataFormatError } from './errors.js';
import { EXT_FORMAT, readDataFile, type ReadOptions } from './read-data-file.js';
import type { Dataset } from './types.js';

export type SplitName = 'train' | 'validation' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'validation', 'test'];

export type SplitPaths = Partial<Record<SplitName, string>>;
export type Splits = Partial<Record<SplitName, Dataset>>;

/**
 * Which split a file name denotes, or null. Name parts split at `.`, `_`, `-`: a part
 * containing `train` is train; `dev`/`valid`/`validation`/`val` (or ending in `dev`) and
 * CoNLL-2003's `testa` are validation; `test`... and `testb` are test.
 */
export function splitOfFileName(name: string): SplitName | null {
  const parts = basename(name)
    .toLowerCase()
    .split(/[._\-\s]+/);
  for (const p of parts) if (p.includes('train')) return 'train';
  for (const p of parts) if (p === 'valid' || p === 'validation' || p === 'val' || p === 'testa' || p.endsWith('dev')) return 'validation';
  for (const p of parts) if (p.startsWith('test')) return 'test';
  return null;
}

/** Extensions that are never data, even when the name contains a split word (README-test.md). */
const NOT_DATA_EXT = new Set([
  '.md',
  '.py',
  '.sh',
  '.js',
  '.ts',
  '.log',
  '.yaml',
  '.yml',
  '.cfg',
  '.ini',
  '.toml',
  '.gz',
  '.zip',
  '.tar',
  '.bz2',
  '.xz',
  '.pdf',
  '.html',
  '.lock',
]);

/**
 * Finds the split files in a folder. A file counts if its extension is a data extension
 * (.txt .conll .iob .iob2 .bio .tsv .conllu .jsonl .json .parquet), or if one of its dot-separated
 * name parts is exactly a split word and its extension is not a known non-data one (CoNLL-2003's
 * `eng.train`/`eng.testa`/`eng.testb`, WNUT-17's `emerging.test.annotated`). Two candidates for
 * one split is an error naming both, never a silent pick.
 */
export function findSplitFiles(folder: string): SplitPaths {
  let names: string[];
  try {
    names = readdirSync(folder).sort();
  } catch (e) {
    throw new DataFormatError(folder, 0, `cannot list folder: ${(e as Error).message}`);
  }
  const found: Partial<Record<SplitName, string[]>> = {};
  for (const name of names) {
    const full = join(folder, name);
    if (!statSync(full).isFile()) continue;
    const ext = extname(name).toLowerCase();
    const splitPart = name
      .toLowerCase()
      .split('.')
      .slice(1)
      .some((p) => /^(train|dev|valid|validation|testa|testb|test)$/.test(p));
    if (!(ext in EXT_FORMAT) && !(splitPart && !NOT_DATA_EXT.has(ext))) continue;
    const split = splitOfFileName(name);
    if (split) (found[split] ??= []).push(full);
  }
  const out: SplitPaths = {};
  for (const split of SPLIT_NAMES) {
    const files = found[split];
    if (!files) continue;
    if (files.length > 1)
      throw new DataFormatError(
        folder,
        0,
        `several files look like the ${split} split: ${files.map((f) => basename(f)).join(', ')}; pass the paths explicitly`,
      );
    out[split] = files[0]!;
  }
  if (Object.keys(out).length === 0)
    throw new DataFormatError(
      folder,
      0,
      'no train/dev/test data files found (expected names like train.txt, dev.conll, test.jsonl, eng.train)',
    );
  return out;
}

/** Reads the splits given as paths, or found in a folder by `findSplitFiles`. */
export async function loadSplits(spec: SplitPaths | string, opts: ReadOptions = {}): Promise<Splits> {
  const paths = typeof spec === 'string' ? findSplitFiles(spec) : spec;
  const out: Splits = {};
  for (const split of SPLIT_NAMES) {
    const p = paths[split];
    if (p !== undefined) out[split] = await readDataFile(p, opts);
  }
  return out;
}
