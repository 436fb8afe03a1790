/**
 * Which files of a dataset repository hold which split, decided the way the `datasets` library
 * decides it (datasets/data_files.py), so `--dataset-name X` picks the same files as
 * `load_dataset("X")`:
 *  1. `data/{split}-00000-of-00001.*` shards (what `push_to_hub` writes);
 *  2. else a split keyword as a folder name (`train/`, `{config}/validation/`, `dev_data/`);
 *  3. else a split keyword in the file name (`train.jsonl`, `data/en-test.csv`);
 *  4. else every file is the train split.
 * Hidden files/folders (`.x`) and `__x` folders count only when the pattern names them, README.md
 * and similar are never data, and of the candidates only the most common format is kept.
 * Everything here is pure: it works on repo-relative paths ('a/b.parquet').
 */

/** The keywords of each canonical split, in datasets' order. */
export const SPLIT_KEYWORDS: Readonly<Record<'train' | 'validation' | 'test', readonly string[]>> = {
  train: ['train', 'training'],
  validation: ['validation', 'valid', 'dev', 'val'],
  test: ['test', 'testing', 'eval', 'evaluation'],
};
const CANONICAL_SPLITS = ['train', 'validation', 'test'] as const;
const SEP = '-._ 0-9';
const FILENAME_PATTERNS = ['**/{keyword}[{sep}]*', '**/*[{sep}]{keyword}[{sep}]*'];
const DIRNAME_PATTERNS = ['**/{keyword}/**', '**/{keyword}[{sep}]*/**', '**/*[{sep}]{keyword}/**', '**/*[{sep}]{keyword}[{sep}]*/**'];
export const SPLIT_PATTERN_SHARDED = 'data/{split}-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]*.*';
/** Never data files, whatever a pattern says (unless the pattern names them exactly). */
export const FILES_TO_IGNORE = [
  'README.md',
  'config.json',
  'dataset_info.json',
  'dataset_infos.json',
  'dummy_data.zip',
  'dataset_dict.json',
];
/** datasets' split-name rule. */
const SPLIT_NAME = /^\w+(\.\w+)*$/;

/** Split name -> glob patterns, in split order. */
export type SplitPatterns = [split: string, patterns: string[]][];

function keywordPatterns(bases: readonly string[]): SplitPatterns {
  return CANONICAL_SPLITS.map((split) => [
    split,
    SPLIT_KEYWORDS[split].flatMap((keyword) => bases.map((b) => b.replaceAll('{keyword}', keyword).replaceAll('{sep}', SEP))),
  ]);
}
export const DEFAULT_PATTERNS_SPLIT_IN_DIR_NAME = keywordPatterns(DIRNAME_PATTERNS);
export const DEFAULT_PATTERNS_SPLIT_IN_FILENAME = keywordPatterns(FILENAME_PATTERNS);

const regexCache = new Map<string, RegExp>();

/**
 * A data_files glob as a RegExp over repo-relative paths, with Python glob / fsspec (>= 2023.12)
 * meaning: `*` and `?` stay inside one path segment, a `**` segment spans any number of segments
 * (zero included), `[abc]` / `[!abc]` / `[a-z]` are character classes.
 */
export function dataFilesGlob(pattern: string): RegExp {
  const cached = regexCache.get(pattern);
  if (cached) return cached;
  const segs = pattern.split('/');
  let re = '';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') {
      re += last ? '.*' : '(?:[^/]*/)*';
      return;
    }
    re += segmentRegex(seg) + (last ? '' : '/');
  });
  const out = new RegExp(`^${re}$`, 's');
  if (regexCache.size < 512) regexCache.set(pattern, out);
  return out;
}

function segmentRegex(seg: string): string {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i]!;
    if (ch === '*') {
      while (seg[i + 1] === '*') i++; // '**' inside a segment acts as '*'
      re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = seg.indexOf(']', i + 2); // a ']' right after '[' (or '[!') is a member
      const close = seg[i + 1] === '!' ? seg.indexOf(']', i + 3) : end;
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let body = seg.slice(i + 1, close);
      let neg = '';
      if (body.startsWith('!')) {
        neg = '^';
        body = body.slice(1);
      }
      // Escape what is special inside a JS class but literal in a glob class ('-' keeps its range meaning).
      body = body.replace(/[\\\]^]/g, '\\$&');
      re += `(?!/)[${neg}${body}]`;
      i = close;
    } else re += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return re;
}

const isHiddenPart = (p: string): boolean => p.startsWith('.') && !/^\.+$/.test(p);

/** datasets' rule: hidden parts (and `__x` folders) of a match must be named by the pattern too. */
function requestedByPattern(path: string, pattern: string): boolean {
  const pathParts = path.split('/');
  const patParts = pattern.split('/');
  if (pathParts.filter(isHiddenPart).length !== patParts.filter(isHiddenPart).length) return false;
  const special = (parts: string[]) => parts.slice(0, -1).filter((p) => p.startsWith('__')).length;
  return special(pathParts) === special(patParts);
}

const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

/** Files of `listing` matching one pattern, as datasets' resolve_pattern (without the extension filter). */
export function resolvePattern(pattern: string, listing: readonly string[]): string[] {
  const re = dataFilesGlob(pattern);
  const ignore = new Set(FILES_TO_IGNORE);
  ignore.delete(basename(pattern));
  return listing.filter((f) => re.test(f) && !ignore.has(basename(f)) && requestedByPattern(f, pattern));
}

/** Files for each split's patterns (deduplicated, repo order kept per pattern). */
export function resolveSplitPatterns(patterns: SplitPatterns, listing: readonly string[]): [string, string[]][] {
  return patterns.map(([split, pats]) => {
    const seen = new Set<string>();
    for (const p of pats) for (const f of resolvePattern(p, listing)) seen.add(f);
    return [split, [...seen]];
  });
}

/**
 * The split -> patterns mapping datasets infers for a folder without a `configs:` block
 * (get_data_patterns). Returns null when nothing but ignored/hidden files is there.
 */
export function inferSplitPatterns(listing: readonly string[]): SplitPatterns | null {
  const shards = resolvePattern(SPLIT_PATTERN_SHARDED.replace('{split}', '*'), listing);
  if (shards.length > 0) {
    const splits = new Set<string>();
    for (const f of shards) {
      const m = /^data\/(.+)-\d{5}-of-\d{5}[^/]*$/.exec(f);
      if (m) splits.add(m[1]!);
    }
    const bad = [...splits].filter((s) => !SPLIT_NAME.test(s));
    if (bad.length > 0)
      throw new Error(`split names must match ${SPLIT_NAME.source}, got ${bad.map((b) => JSON.stringify(b)).join(', ')} in data/`);
    const ordered = [
      ...CANONICAL_SPLITS.filter((s) => splits.has(s)),
      ...[...splits].filter((s) => !(CANONICAL_SPLITS as readonly string[]).includes(s)).sort(),
    ];
    return ordered.map((s) => [s, [SPLIT_PATTERN_SHARDED.replace('{split}', s)]]);
  }
  for (const candidates of [DEFAULT_PATTERNS_SPLIT_IN_DIR_NAME, DEFAULT_PATTERNS_SPLIT_IN_FILENAME]) {
    const nonEmpty = candidates.filter(([, pats]) => pats.some((p) => resolvePattern(p, listing).length > 0));
    if (nonEmpty.length > 0) return nonEmpty.map(([s, p]) => [s, [...p]]);
  }
  return resolvePattern('**', listing).length > 0 ? [['train', ['**']]] : null;
}

/** Formats datasets can hold, by extension (compressed and archive forms are recognised to be refused). */
export type DataFileFormat = 'parquet' | 'json' | 'csv' | 'tsv';
const READABLE: Record<string, DataFileFormat> = { '.parquet': 'parquet', '.json': 'json', '.jsonl': 'json', '.csv': 'csv', '.tsv': 'tsv' };
/** Extensions datasets would consider data (so a repo of .arrow or .txt files is explained, not skipped). */
const ALLOWED_EXTENSIONS = new Set([
  '.parquet',
  '.json',
  '.jsonl',
  '.csv',
  '.tsv',
  '.arrow',
  '.txt',
  '.zip',
  '.tar',
  '.gz',
  '.tgz',
  '.xz',
  '.bz2',
  '.zst',
  '.lz4',
  '.7z',
]);

function suffixes(path: string): string[] {
  return basename(path)
    .split('.')
    .slice(1)
    .map((s) => `.${s.toLowerCase()}`);
}

/** Keep files with an extension datasets would consider data. */
export function withDataExtension(files: readonly string[]): string[] {
  return files.filter((f) => suffixes(f).some((s) => ALLOWED_EXTENSIONS.has(s)));
}

/**
 * The extension that decides the reader, as datasets' infer_module_for_data_files_list: the most
 * common suffix over all files (ties: .parquet first, then alphabetical).
 */
export function dominantExtension(files: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const f of files) for (const s of suffixes(f)) if (ALLOWED_EXTENSIONS.has(s)) counts.set(s, (counts.get(s) ?? 0) + 1);
  const sorted = [...counts].sort(
    (a, b) => b[1] - a[1] || (a[0] === '.parquet' ? -1 : b[0] === '.parquet' ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
  );
  return sorted[0]?.[0] ?? null;
}

/** The reader for an extension, or null if tokentune cannot read it. `.json`/`.jsonl` share one. */
export function formatOfExtension(ext: string): DataFileFormat | null {
  return READABLE[ext] ?? null;
}

/** Files whose name has the extension of `format` (datasets' DataFilesList.filter). */
export function filesOfFormat(files: readonly string[], format: DataFileFormat): string[] {
  const exts = Object.entries(READABLE)
    .filter(([, f]) => f === format)
    .map(([e]) => e);
  return files.filter((f) => suffixes(f).some((s) => exts.includes(s)));
}

/** Our three splits from the dataset's split names: exact names first, then common aliases. */
export function canonicalSplitName(names: readonly string[], wanted: 'train' | 'validation' | 'test'): string | undefined {
  if (names.includes(wanted)) return wanted;
  const aliases = { train: ['training'], validation: ['dev', 'valid', 'val'], test: ['testing'] }[wanted];
  return aliases.find((a) => names.includes(a)) ?? names.find((n) => n === `partial-${wanted}`);
}

/**
 * Splits in the hub's auto-converted parquet branch (refs/convert/parquet) for one config folder:
 * `{config}/{split}/0000.parquet` (also `partial-{split}/`), or the older
 * `{config}/{name}-{split}.parquet` / `{config}/{name}-{split}-00000-of-00002.parquet`.
 */
export function parquetExportSplits(listing: readonly string[], config: string): [string, string[]][] {
  const out = new Map<string, string[]>();
  const prefix = `${config}/`;
  for (const f of listing) {
    if (!f.startsWith(prefix) || !f.toLowerCase().endsWith('.parquet')) continue;
    const rest = f.slice(prefix.length).split('/');
    let split: string | undefined;
    if (rest.length === 2) split = rest[0];
    else if (rest.length === 1) {
      const stem = rest[0]!.slice(0, -'.parquet'.length).replace(/-\d{5}-of-\d{5}$/, '');
      const dash = stem.lastIndexOf('-');
      split = dash >= 0 ? stem.slice(dash + 1) : undefined;
    }
    if (!split || !SPLIT_NAME.test(split.replace(/^partial-/, ''))) continue;
    (out.get(split) ?? out.set(split, []).get(split)!).push(f);
  }
  for (const files of out.values()) files.sort();
  return [...out];
}

/** Config folders of the parquet branch (top-level folders holding parquet files), sorted. */
export function parquetExportConfigs(listing: readonly string[]): string[] {
  const configs = new Set<string>();
  for (const f of listing) {
    const slash = f.indexOf('/');
    if (slash > 0 && f.toLowerCase().endsWith('.parquet') && !isHiddenPart(f.slice(0, slash))) configs.add(f.slice(0, slash));
  }
  return [...configs].sort();
}
