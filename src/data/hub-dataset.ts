/**
 * Datasets by name, as run_ner.py's `load_dataset(dataset_name, dataset_config_name)` finds them:
 *  1. the repository's own data files (parquet, JSON/JSON lines, CSV/TSV): the README's `configs:`
 *     block maps config -> split -> files; without it, split names come from file and folder names
 *     (hub-dataset-files.ts);
 *  2. else the hub's auto-converted parquet branch (revision `refs/convert/parquet`), one folder per
 *     config — what script-built datasets such as conll2003 or wnut_17 are read from.
 * Files land in the huggingface_hub cache (HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN;
 * HF_HUB_OFFLINE / HF_DATASETS_OFFLINE for cache only), resumably, with progress, through
 * io/hub.ts. A local folder given as the name is read with the same file rules.
 * Tag ids become tag names through the dataset's ClassLabel names (README `dataset_info` or the
 * parquet `huggingface` metadata).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import type { FileMetaData } from 'hyparquet';
import { hfHubCacheDir, hubEndpoint, isOfflineEnv, isTruthyEnv, resolveToken, type Env } from '../io/hub-cache.js';
import {
  HubAuthError,
  HubError,
  HubHttpError,
  HubNetworkError,
  OfflineCacheMissError,
  redactSecrets,
  RepoNotFoundError,
  RevisionNotFoundError,
} from '../io/hub-errors.js';
import { hubSnapshotDownload, type SnapshotDownloadOptions } from '../io/hub.js';
import { DataFormatError } from './errors.js';
import { parseDatasetCard, defaultConfigName, type DatasetCard } from './hub-dataset-card.js';
import { csvColumns, readCsvRecords } from './hub-dataset-csv.js';
import {
  canonicalSplitName,
  dominantExtension,
  filesOfFormat,
  formatOfExtension,
  inferSplitPatterns,
  parquetExportConfigs,
  parquetExportSplits,
  resolveSplitPatterns,
  withDataExtension,
  type DataFileFormat,
  type SplitPatterns,
} from './hub-dataset-files.js';
import { readJsonl, TAG_FIELD_CANDIDATES, TOKEN_FIELD_CANDIDATES, type RecordOptions } from './jsonl.js';
import type { SplitName } from './splits.js';
import { classLabelNames, readParquet } from './parquet.js';
import { readTextFile } from './text-file.js';
import type { Dataset } from './types.js';

// ---------------------------------------------------------------------------------------------
// Errors: each says which of the usual causes it is and what to do about it.

export class HubDatasetError extends Error {
  constructor(
    message: string,
    readonly dataset: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'HubDatasetError';
  }
}

/** No such repository (or revision) on the hub, and no such local folder. */
export class DatasetNotFoundError extends HubDatasetError {
  override readonly name = 'DatasetNotFoundError';
}

/** The config asked for does not exist, or one must be chosen among several. */
export class DatasetConfigError extends HubDatasetError {
  override readonly name = 'DatasetConfigError';
  constructor(
    message: string,
    dataset: string,
    readonly configs: readonly string[],
    readonly requested: string | null,
  ) {
    super(message, dataset);
  }
}

/** Private or gated (HTTP 401/403). */
export class DatasetAccessError extends HubDatasetError {
  override readonly name = 'DatasetAccessError';
  constructor(
    message: string,
    dataset: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, dataset, options);
  }
}

/** The hub cannot be reached, or offline mode is on and the cache lacks the dataset. */
export class DatasetNetworkError extends HubDatasetError {
  override readonly name = 'DatasetNetworkError';
}

/** No token or tag column among the dataset's columns. */
export class DatasetColumnsError extends HubDatasetError {
  override readonly name = 'DatasetColumnsError';
  constructor(
    message: string,
    dataset: string,
    readonly columns: readonly string[],
  ) {
    super(message, dataset);
  }
}

/** The dataset has no data files tokentune can read, or none for train/validation/test. */
export class DatasetFilesError extends HubDatasetError {
  override readonly name = 'DatasetFilesError';
}

// ---------------------------------------------------------------------------------------------

export type HubOptions = Pick<
  SnapshotDownloadOptions,
  'cacheDir' | 'token' | 'endpoint' | 'offline' | 'onProgress' | 'maxRetries' | 'retryDelayMs' | 'timeoutMs' | 'env' | 'log'
>;

export interface LoadHubDatasetOptions extends HubOptions {
  /** Config (run_ner.py's dataset_config_name); default: the dataset's default config. */
  config?: string | null;
  /** Branch, tag or commit of the dataset repository (default 'main'). */
  revision?: string | null;
  /** Which of train/validation/test to load (default: all the dataset has). */
  splits?: readonly SplitName[];
  /** Column with the words (run_ner.py's text_column_name); default 'tokens' (or 'words'). */
  textColumn?: string | null;
  /** Column with the tags (label_column_name); default '{task}_tags', else ner_tags, pos_tags, chunk_tags, tags, labels. */
  labelColumn?: string | null;
  /** run_ner.py's task_name ('ner', 'pos', 'chunk'): prefers the column '{task}_tags'. */
  task?: string | null;
}

export interface HubDataset {
  /** Our splits; each Dataset's sentences come from the split's files in order. */
  splits: Partial<Record<SplitName, Dataset>>;
  /** ClassLabel names of the tag column (id order), or null when the tags are strings. */
  labelNames: string[] | null;
  tagColumn: string;
  tokensColumn: string;
  /** Local folder holding the files (a snapshot in the hub cache, or the local folder given). */
  cacheDir: string;
  /** The dataset name as given, the config used, and where the files came from. */
  name: string;
  config: string;
  origin: 'data-files' | 'parquet-export' | 'local-folder';
  /** Commit sha of the snapshot read (null for a local folder). */
  commit: string | null;
  /** Every split the config has (dataset split names), and the files each of ours came from. */
  availableSplits: string[];
  files: Partial<Record<SplitName, string[]>>;
}

const PARQUET_BRANCH = 'refs/convert/parquet';
const OUR_SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];
const LOCAL_FILES_HINT = 'give local files with --train-file / --validation-file / --test-file';

interface Ctx {
  name: string;
  env: Env;
  hub: HubOptions;
  offline: boolean;
  endpoint: string;
  token: string | undefined;
}

interface Snapshot {
  dir: string;
  commit: string | null;
  listing: string[];
}

/** What will be read: config, format and the dataset's split -> repo paths. */
interface Plan {
  config: string;
  format: DataFileFormat;
  splits: [string, string[]][];
  origin: HubDataset['origin'];
}

/**
 * Loads a dataset by hub name (or local folder) into our splits. Throws the HubDatasetError
 * subclasses above for the usual failures; reader errors (DataFormatError) name the cached file.
 */
export async function loadHubDataset(name: string, opts: LoadHubDatasetOptions = {}): Promise<HubDataset> {
  const env = opts.env ?? process.env;
  const token = resolveToken(opts.token, env);
  try {
    return await load(name, opts, env, token);
  } catch (e) {
    // Nothing leaving this function may carry the token, whichever layer built the message.
    if (e instanceof Error && token) {
      e.message = redactSecrets(e.message, token);
      if (e.stack) e.stack = redactSecrets(e.stack, token);
    }
    throw e;
  }
}

async function load(name: string, opts: LoadHubDatasetOptions, env: Env, token: string | undefined): Promise<HubDataset> {
  if (typeof name !== 'string' || name.trim() === '') throw new DatasetNotFoundError('no dataset name given', String(name));
  const hub: HubOptions = {};
  for (const k of ['cacheDir', 'token', 'endpoint', 'onProgress', 'maxRetries', 'retryDelayMs', 'timeoutMs', 'log'] as const) {
    if (opts[k] !== undefined) (hub as Record<string, unknown>)[k] = opts[k];
  }
  hub.env = env;
  const ctx: Ctx = {
    name,
    env,
    hub,
    token,
    offline: opts.offline ?? (isTruthyEnv(env.HF_DATASETS_OFFLINE) || isOfflineEnv(env)),
    endpoint: hubEndpoint(env, opts.endpoint),
  };
  const wanted = opts.splits ?? OUR_SPLITS;
  const config = opts.config ?? null;

  if (existsSync(name) && statSync(name).isDirectory()) {
    const listing = listFolder(name);
    const card = readCard(name, listing);
    const plan = planFromDataFiles(ctx, listing, card, config, 'local-folder');
    if (!plan)
      throw new DatasetFilesError(
        `${name}: no data files tokentune can read (parquet, json, jsonl, csv, tsv) in this folder; ${LOCAL_FILES_HINT}`,
        name,
      );
    if ('unsupported' in plan) throw unsupportedFormat(ctx, plan.unsupported, plan.files, false);
    return readPlan(ctx, { dir: name, commit: null, listing }, card, plan, wanted, opts);
  }
  if (/^[.~/\\]/.test(name) || name.split('/').length > 2) {
    throw new DatasetNotFoundError(
      `dataset '${name}' is neither a local folder (no such directory) nor a hub dataset name ('name' or 'owner/name')`,
      name,
    );
  }

  const revision = opts.revision ?? 'main';
  const main = await openSnapshot(ctx, revision, config);
  const card = readCard(main.dir, main.listing);
  const plan = planFromDataFiles(ctx, main.listing, card, config, 'data-files');
  if (plan && !('unsupported' in plan)) return readPlan(ctx, main, card, plan, wanted, opts);

  // No readable data files of its own: the hub's parquet conversion (main only, as datasets does).
  let exported: Snapshot | null = null;
  if (revision === 'main') {
    try {
      exported = await openSnapshot(ctx, PARQUET_BRANCH, config);
    } catch (e) {
      if (!(e instanceof DatasetNotFoundError && e.cause instanceof RevisionNotFoundError)) throw e;
    }
  }
  if (exported) {
    const fromExport = planFromParquetExport(ctx, exported.listing, config);
    if (fromExport) return readPlan(ctx, exported, card, fromExport, wanted, opts);
  }
  if (plan && 'unsupported' in plan) throw unsupportedFormat(ctx, plan.unsupported, plan.files, revision === 'main');
  const scripts = main.listing.filter((f) => f.endsWith('.py'));
  const shown = main.listing.length > 0 ? main.listing.slice(0, 20).join(', ') + (main.listing.length > 20 ? ', ...' : '') : 'none';
  throw new DatasetFilesError(
    `dataset '${name}' has no data files tokentune can read (parquet, json, jsonl, csv, tsv) at revision '${revision}'` +
      `${scripts.length ? ` (it is built by a loading script, ${scripts.join(', ')}, which tokentune cannot run)` : ''}` +
      `${revision === 'main' ? ` and no auto-converted parquet export (${PARQUET_BRANCH})` : ''}; files in the repository: ${shown}. ` +
      capitalize(LOCAL_FILES_HINT),
    name,
  );
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function unsupportedFormat(ctx: Ctx, ext: string, files: string[], exportChecked: boolean): DatasetFilesError {
  return new DatasetFilesError(
    `dataset '${ctx.name}' stores its data as ${ext} files (${files.slice(0, 5).join(', ')}${files.length > 5 ? ', ...' : ''}), ` +
      `which tokentune cannot read (it reads parquet, json, jsonl, csv and tsv)${exportChecked ? ', and has no parquet export' : ''}; ${LOCAL_FILES_HINT}`,
    ctx.name,
  );
}

/** Every file under a folder, as '/'-separated relative paths, sorted. */
function listFolder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 32) return;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      let st;
      try {
        st = statSync(full);
      } catch {
        continue;
      } // a dangling link in the cache
      if (st.isDirectory()) walk(full, depth + 1);
      else if (st.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  };
  walk(dir, 0);
  return out.sort();
}

function readCard(dir: string, listing: readonly string[]): DatasetCard {
  if (!listing.includes('README.md')) return { configs: [], features: new Map() };
  const path = join(dir, 'README.md');
  if (!existsSync(path)) return { configs: [], features: new Map() };
  return parseDatasetCard(readTextFile(path), path);
}

// ---------------------------------------------------------------------------------------------
// Talking to the hub

/**
 * The snapshot of one revision: its file listing and README.md. The listing is taken from the
 * file filter io/hub.ts calls for every file of the revision; when the snapshot comes from the
 * cache (offline, or the hub unreachable) the filter is not called and the cached files are listed.
 */
async function openSnapshot(ctx: Ctx, revision: string, config: string | null): Promise<Snapshot> {
  const listed: string[] = [];
  let dir: string;
  try {
    dir = await hubSnapshotDownload(ctx.name, {
      ...ctx.hub,
      repoType: 'dataset',
      revision,
      offline: ctx.offline,
      onProgress: false,
      files: (f) => {
        listed.push(f);
        return f === 'README.md';
      },
    });
  } catch (e) {
    throw hubFailure(ctx, e, revision, config);
  }
  return { dir, commit: basename(dir), listing: listed.length > 0 ? listed : listFolder(dir) };
}

async function fetchFiles(ctx: Ctx, snap: Snapshot, files: string[], config: string): Promise<void> {
  if (snap.commit === null) return; // local folder
  try {
    await hubSnapshotDownload(ctx.name, { ...ctx.hub, repoType: 'dataset', revision: snap.commit, offline: ctx.offline, files });
  } catch (e) {
    throw hubFailure(ctx, e, snap.commit, config);
  }
}

function offlineVariable(env: Env): string | null {
  if (isTruthyEnv(env.HF_DATASETS_OFFLINE)) return 'HF_DATASETS_OFFLINE';
  if (isTruthyEnv(env.HF_HUB_OFFLINE)) return 'HF_HUB_OFFLINE';
  if (isTruthyEnv(env.TRANSFORMERS_OFFLINE)) return 'TRANSFORMERS_OFFLINE';
  return null; // the `offline` option
}

/** A hub client error, restated for a dataset with what to do about it. */
function hubFailure(ctx: Ctx, e: unknown, revision: string, config: string | null): Error {
  const what = `dataset '${ctx.name}'${config ? ` (config '${config}')` : ''}`;
  const page = `${ctx.endpoint}/datasets/${ctx.name}`;
  const cache = ctx.hub.cacheDir ?? hfHubCacheDir(ctx.env);
  if (e instanceof RepoNotFoundError) {
    return new DatasetNotFoundError(
      `${what} not found on the hub (${page} does not exist): check the spelling (hub datasets are 'name' or 'owner/name', ` +
        `e.g. 'eriktks/conll2003'); if it is private, set HF_TOKEN to an access token that can read it; or ${LOCAL_FILES_HINT}`,
      ctx.name,
      { cause: e },
    );
  }
  if (e instanceof RevisionNotFoundError) {
    return new DatasetNotFoundError(`${what} has no revision '${revision}' (branch, tag or commit) on the hub`, ctx.name, { cause: e });
  }
  if (e instanceof HubAuthError) {
    const msg =
      e.status === 403
        ? `${what} is gated or private (HTTP 403): request access at ${page} while logged in, then set HF_TOKEN to an access token of that account with read access`
        : ctx.token
          ? `the hub refused the access token for ${what} (HTTP 401): check that HF_TOKEN holds a valid token with read access to ${page}`
          : `${what} is private or does not exist (HTTP 401): if you can see it at ${page}, set HF_TOKEN to an access token with read access`;
    return new DatasetAccessError(msg, ctx.name, e.status, { cause: e });
  }
  if (e instanceof OfflineCacheMissError) {
    const v = offlineVariable(ctx.env);
    return new DatasetNetworkError(
      `${v ? `${v} is set` : 'offline mode is on'} and ${what} at revision '${revision}' is not in the cache (${cache}): ` +
        `run once with network access${v ? ` (unset ${v})` : ''} to download it, or ${LOCAL_FILES_HINT}`,
      ctx.name,
      { cause: e },
    );
  }
  if (e instanceof HubNetworkError) {
    // io/hub.ts's advice names model folders; keep only what happened.
    const detail = e.message.replace(/[.;]?\s*if you are offline\b.*$/is, '');
    return new DatasetNetworkError(
      `cannot load ${what} from ${ctx.endpoint}: ${detail}. To work offline, set HF_HUB_OFFLINE=1 (or HF_DATASETS_OFFLINE=1) ` +
        `to use a copy already in the cache (${cache}), or ${LOCAL_FILES_HINT}`,
      ctx.name,
      { cause: e },
    );
  }
  if (e instanceof HubHttpError) return new HubDatasetError(`cannot load ${what}: ${e.message}`, ctx.name, { cause: e });
  if (e instanceof HubError && /invalid repository id/.test(e.message)) {
    return new DatasetNotFoundError(`'${ctx.name}' is not a hub dataset name and no such local folder exists: ${e.message}`, ctx.name, {
      cause: e,
    });
  }
  return e instanceof Error ? e : new Error(String(e));
}

// ---------------------------------------------------------------------------------------------
// Choosing files

function configError(ctx: Ctx, configs: string[], requested: string | null): DatasetConfigError {
  const list = configs.map((c) => `'${c}'`).join(', ');
  const msg =
    requested === null
      ? `dataset '${ctx.name}' has several configs and none is the default: choose one with --dataset-config-name (dataset_config_name): ${list}`
      : `dataset '${ctx.name}' has no config '${requested}'; its configs are: ${list} (set --dataset-config-name to one of them)`;
  return new DatasetConfigError(msg, ctx.name, configs, requested);
}

/** Paths under `base` (a config's data_dir), relative to it. */
function underFolder(listing: readonly string[], base: string): string[] {
  return base ? listing.filter((f) => f.startsWith(`${base}/`)).map((f) => f.slice(base.length + 1)) : [...listing];
}

/** Splits -> files from the repository's own data files; null when it has none tokentune could read. */
function planFromDataFiles(
  ctx: Ctx,
  listing: readonly string[],
  card: DatasetCard,
  requested: string | null,
  origin: 'data-files' | 'local-folder',
): Plan | { unsupported: string; files: string[] } | null {
  let config = 'default';
  let patterns: SplitPatterns | null;
  let base = '';
  if (card.configs.length > 0) {
    const names = card.configs.map((c) => c.name);
    const chosen = requested ?? defaultConfigName(card.configs);
    if (chosen === null) throw configError(ctx, names, null);
    const c = card.configs.find((x) => x.name === chosen);
    if (!c) throw configError(ctx, names, chosen);
    config = c.name;
    base = c.dataDir;
    patterns = c.dataFiles ?? inferSplitPatterns(underFolder(listing, base));
    if (!patterns)
      throw new DatasetFilesError(`dataset '${ctx.name}', config '${config}': no data files${base ? ` under '${base}/'` : ''}`, ctx.name);
  } else {
    patterns = inferSplitPatterns(listing);
  }
  if (!patterns) return null;
  const resolved = resolveSplitPatterns(patterns, underFolder(listing, base)).map(([s, fs]): [string, string[]] => [
    s,
    withDataExtension(fs).map((f) => (base ? `${base}/${f}` : f)),
  ]);
  const all = resolved.flatMap(([, f]) => f);
  if (all.length === 0) {
    if (card.configs.length > 0) {
      throw new DatasetFilesError(
        `dataset '${ctx.name}', config '${config}': its data_files patterns (${patterns.map(([s, p]) => `${s}: ${p.join(', ')}`).join('; ')}) match no data file`,
        ctx.name,
      );
    }
    return null;
  }
  const ext = dominantExtension(all)!;
  const format = formatOfExtension(ext);
  if (!format) return { unsupported: ext, files: all };
  // Readable files of its own and no `configs:` block: the only config is 'default' (as datasets).
  if (card.configs.length === 0 && requested !== null && requested !== 'default') throw configError(ctx, ['default'], requested);
  const splits = resolved.map(([s, fs]): [string, string[]] => [s, filesOfFormat(fs, format)]).filter(([, fs]) => fs.length > 0);
  return { config, format, splits, origin };
}

function planFromParquetExport(ctx: Ctx, listing: readonly string[], requested: string | null): Plan | null {
  const configs = parquetExportConfigs(listing);
  if (configs.length === 0) return null;
  const chosen = requested ?? (configs.includes('default') ? 'default' : configs.length === 1 ? configs[0]! : null);
  if (chosen === null) throw configError(ctx, configs, null);
  if (!configs.includes(chosen)) throw configError(ctx, configs, chosen);
  return { config: chosen, format: 'parquet', splits: parquetExportSplits(listing, chosen), origin: 'parquet-export' };
}

// ---------------------------------------------------------------------------------------------
// Reading

async function parquetMeta(path: string): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(await asyncBufferFromFile(path));
  } catch (e) {
    throw new DataFormatError(path, 0, `not a readable parquet file: ${(e as Error).message}`);
  }
}

/** Root columns of a parquet schema (a flattened pre-order tree). */
function parquetColumns(meta: FileMetaData): string[] {
  const schema = meta.schema;
  const names: string[] = [];
  const skip = (i: number): number => {
    let j = i + 1;
    const kids = schema[i]?.num_children ?? 0;
    for (let k = 0; k < kids && j < schema.length; k++) j = skip(j);
    return j;
  };
  let i = 1;
  for (let c = 0; c < (schema[0]?.num_children ?? 0) && i < schema.length; c++) {
    names.push(schema[i]!.name);
    i = skip(i);
  }
  return names;
}

/** Keys of the first record of a JSON / JSON lines file. */
function jsonColumns(path: string): string[] {
  const text = readTextFile(path);
  let first: unknown;
  const t = text.trimStart();
  try {
    const nl = t.indexOf('\n');
    first = t.startsWith('[') ? (JSON.parse(t) as unknown[])[0] : JSON.parse(nl < 0 ? t : t.slice(0, nl));
  } catch (e) {
    throw new DataFormatError(path, 1, `invalid JSON: ${(e as Error).message}`);
  }
  if (first === null || typeof first !== 'object' || Array.isArray(first))
    throw new DataFormatError(path, 1, 'expected JSON objects (one per line, or an array of them)');
  return Object.keys(first);
}

async function columnsOf(path: string, format: DataFileFormat): Promise<string[]> {
  if (format === 'parquet') return parquetColumns(await parquetMeta(path));
  if (format === 'json') return jsonColumns(path);
  return csvColumns(path, format === 'tsv' ? '\t' : ',');
}

/** run_ner.py's column choice, by name only (never a column picked by position). */
function chooseColumns(ctx: Ctx, columns: string[], where: string, opts: LoadHubDatasetOptions): { tokens: string; tags: string } {
  const listed = columns.join(', ');
  const pick = (given: string | null | undefined, candidates: readonly string[], kind: string, flag: string): string => {
    if (given) {
      if (columns.includes(given)) return given;
      throw new DatasetColumnsError(`${where} has no column '${given}' (${flag}); its columns are: ${listed}`, ctx.name, columns);
    }
    const found = candidates.find((c) => columns.includes(c));
    if (found) return found;
    throw new DatasetColumnsError(
      `${where} has no ${kind} column (looked for ${candidates.map((c) => `'${c}'`).join(', ')}); its columns are: ${listed}. ` +
        `Name the right one with ${flag}`,
      ctx.name,
      columns,
    );
  };
  const tokens = pick(opts.textColumn, TOKEN_FIELD_CANDIDATES, 'token', '--text-column-name');
  const task = opts.task ? [`${opts.task}_tags`] : [];
  const tags = pick(opts.labelColumn, [...new Set([...task, ...TAG_FIELD_CANDIDATES])], 'tag', '--label-column-name');
  return { tokens, tags };
}

async function readPlan(
  ctx: Ctx,
  snap: Snapshot,
  card: DatasetCard,
  plan: Plan,
  wanted: readonly SplitName[],
  opts: LoadHubDatasetOptions,
): Promise<HubDataset> {
  const names = plan.splits.map(([s]) => s);
  const chosen: [SplitName, string, string[]][] = [];
  for (const ours of wanted) {
    const theirs = canonicalSplitName(names, ours);
    if (theirs !== undefined && !chosen.some(([, t]) => t === theirs))
      chosen.push([ours, theirs, plan.splits.find(([s]) => s === theirs)![1]]);
  }
  const where = `dataset '${ctx.name}' (config '${plan.config}')`;
  if (chosen.length === 0) {
    throw new DatasetFilesError(
      `${where} has the splits ${names.map((n) => `'${n}'`).join(', ') || '(none)'} but none of ${wanted.join(', ')}`,
      ctx.name,
    );
  }
  await fetchFiles(
    ctx,
    snap,
    chosen.flatMap(([, , f]) => f),
    plan.config,
  );
  const local = (f: string): string => join(snap.dir, ...f.split('/'));

  const firstFile = local(chosen[0]![2][0]!);
  const columns = await columnsOf(firstFile, plan.format);
  const { tokens, tags } = chooseColumns(ctx, columns, `${where}, file ${chosen[0]![2][0]}`, opts);

  // ClassLabel names: the card's dataset_info for this config, else the parquet files' own metadata.
  const features =
    card.features.get(plan.config) ??
    (card.features.size === 1 && plan.origin !== 'parquet-export' ? [...card.features.values()][0] : undefined);
  let labelNames = features?.find((f) => f.name === tags)?.classLabelNames ?? null;
  const fromCard = labelNames !== null;
  const checkPrefixes = !(tags === 'pos_tags' || opts.task === 'pos');
  const splits: Partial<Record<SplitName, Dataset>> = {};
  const files: Partial<Record<SplitName, string[]>> = {};
  for (const [ours, theirs, repoFiles] of chosen) {
    const parts: Dataset[] = [];
    for (const f of repoFiles) {
      const path = local(f);
      if (plan.format === 'parquet' && !fromCard) {
        const names = classLabelNames(await parquetMeta(path), tags, path);
        if (labelNames === null) labelNames = names;
        else if (names !== null && !sameList(names, labelNames)) {
          throw new DataFormatError(
            path,
            0,
            `the ClassLabel names of '${tags}' (${names.join(', ')}) differ from those of the dataset's other files (${labelNames.join(', ')})`,
          );
        }
      }
      const ro: RecordOptions = { tokensField: tokens, tagsField: tags, checkPrefixes, ...(labelNames ? { labelNames } : {}) };
      try {
        parts.push(await readOne(path, plan.format, ro));
      } catch (e) {
        if (labelNames === null && e instanceof DataFormatError && /no label names are known/.test(e.problem)) {
          throw new DatasetFilesError(
            `${where}: the tag column '${tags}' holds integer ids, but neither README.md (dataset_info features) nor the data ` +
              `files give their ClassLabel names, so they cannot be turned into tags (first at ${e.message.split(': tag ')[0]})`,
            ctx.name,
          );
        }
        throw e;
      }
    }
    splits[ours] = {
      sentences: parts.flatMap((p) => p.sentences),
      source: `${ctx.name} (${plan.config}) ${theirs}`,
      warnings: parts.flatMap((p) => p.warnings),
    };
    files[ours] = repoFiles;
  }
  return {
    splits,
    labelNames,
    tagColumn: tags,
    tokensColumn: tokens,
    cacheDir: snap.dir,
    name: ctx.name,
    config: plan.config,
    origin: plan.origin,
    commit: snap.commit,
    availableSplits: names,
    files,
  };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

async function readOne(path: string, format: DataFileFormat, ro: RecordOptions): Promise<Dataset> {
  const fields = { tokensField: ro.tokensField!, tagsField: ro.tagsField! };
  switch (format) {
    case 'parquet':
      return readParquet(path, ro);
    case 'json':
      return readJsonl(path, ro);
    case 'csv':
      return readCsvRecords(path, { ...ro, ...fields }, ',');
    case 'tsv':
      return readCsvRecords(path, { ...ro, ...fields }, '\t');
  }
}
