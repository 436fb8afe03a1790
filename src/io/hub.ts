/**
 * Download a repository snapshot from the Hugging Face hub into the standard cache
 * (see hub-cache.ts), following huggingface_hub's protocol:
 *  1. GET  {endpoint}/api/{models|datasets}/{repo}/revision/{rev} -> commit sha + file list
 *  2. HEAD {endpoint}/[datasets/]{repo}/resolve/{sha}/{file}      -> ETag (X-Linked-Etag for LFS),
 *     size (X-Linked-Size / Content-Length); a redirect to a CDN is not followed for HEAD
 *  3. GET the file (following redirects; the token never leaves the hub's origin) into
 *     blobs/<etag>.incomplete, resuming with Range after interruptions, then rename to blobs/<etag>
 *     and link snapshots/<sha>/<file> to it.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { dirname, join, relative } from 'node:path';
import {
  cachedSnapshotDir,
  hfHubCacheDir,
  hubEndpoint,
  isCommitHash,
  isOfflineEnv,
  repoFolderName,
  resolveToken,
  validateRepoFilePath,
  validateRepoId,
  validateRevision,
  writeRef,
  type Env,
  type RepoType,
} from './hub-cache.js';
import {
  DownloadIntegrityError,
  EntryNotFoundError,
  HubAuthError,
  HubError,
  HubHttpError,
  HubNetworkError,
  OfflineCacheMissError,
  redactSecrets,
  RepoNotFoundError,
  RevisionNotFoundError,
} from './hub-errors.js';
import { hubRequest, readBody } from './hub-http.js';
import { createTerminalProgress, type DownloadProgress } from './progress.js';

export type { DownloadProgress } from './progress.js';
export type { RepoType } from './hub-cache.js';

export interface SnapshotDownloadOptions {
  /** 'model' (default) or 'dataset'. */
  repoType?: RepoType;
  /** Branch, tag or commit sha (default 'main'). */
  revision?: string;
  /**
   * Which files: repo paths and/or fnmatch-style globs ('*.json'), or a predicate. Default: all.
   * As with huggingface_hub's allow_patterns, listed names the repo does not have are skipped.
   */
  files?: string[] | ((path: string) => boolean);
  /**
   * Files that may be missing: one the revision lists but the hub answers 404 for (a race with a
   * push) is left out instead of failing the download. Any other error still fails it.
   */
  optional?: (path: string) => boolean;
  /** Cache root (default $HF_HUB_CACHE or $HF_HOME/hub). */
  cacheDir?: string;
  /** Access token; default HF_TOKEN / HUGGING_FACE_HUB_TOKEN / $HF_HOME/token. `false`: send none. */
  token?: string | false;
  /** Hub URL (default $HF_ENDPOINT or https://huggingface.co). */
  endpoint?: string;
  /** Use the cache only (default: HF_HUB_OFFLINE). */
  offline?: boolean;
  /** Progress callback; default draws a bar when stderr is a TTY; `false` for none. */
  onProgress?: ((p: DownloadProgress) => void) | false;
  /** Transfer attempts after the first (default 5); each resumes where the last stopped. */
  maxRetries?: number;
  /** First retry delay, doubling each time (default 500 ms). */
  retryDelayMs?: number;
  /** Idle-socket timeout per request (default 30 s). */
  timeoutMs?: number;
  /** Environment to read HF_* variables from (default process.env). */
  env?: Env;
  /** Where warnings go (default stderr). Never receives the token. */
  log?: (message: string) => void;
}

interface RevisionInfo {
  sha: string;
  files: string[];
}

interface Ctx {
  repoId: string;
  repoType: RepoType;
  revision: string;
  endpoint: string;
  authOrigin: string;
  token?: string;
  timeoutMs: number;
}

const repoPrefix = (t: RepoType): string => (t === 'dataset' ? 'datasets/' : '');
const repoLabel = (c: Ctx): string => `${c.repoType === 'dataset' ? 'dataset' : 'repository'} '${c.repoId}'`;

/** URL of a file in a repo at a revision, as huggingface_hub's hf_hub_url builds it. */
export function hubFileUrl(repoId: string, file: string, opts: { repoType?: RepoType; revision?: string; endpoint?: string } = {}): string {
  const rev = encodeURIComponent(opts.revision ?? 'main');
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${hubEndpoint(process.env, opts.endpoint)}/${repoPrefix(opts.repoType ?? 'model')}${repoId}/resolve/${rev}/${path}`;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Map an HTTP failure to an error that tells the user what to do. */
function statusError(status: number, h: IncomingHttpHeaders, c: Ctx, file?: string): HubError {
  const code = header(h, 'x-error-code');
  const what = repoLabel(c);
  const page = `${c.endpoint}/${repoPrefix(c.repoType)}${c.repoId}`;
  if (code === 'GatedRepo') {
    return new HubAuthError(
      `${what} is gated: accept its conditions at ${page} while logged in, then set HF_TOKEN to an access token of that account`,
      status,
    );
  }
  if (code === 'RevisionNotFound') return new RevisionNotFoundError(`revision '${c.revision}' not found in ${what}`);
  if (code === 'EntryNotFound' || (status === 404 && file !== undefined && code !== 'RepoNotFound')) {
    return new EntryNotFoundError(`file '${file}' not found in ${what} at revision '${c.revision}'`);
  }
  if (status === 404) return new RepoNotFoundError(`${what} not found (or private: set HF_TOKEN)`);
  if (status === 401) {
    return new HubAuthError(
      c.token
        ? `the hub rejected the access token for ${what} (HTTP 401): check that HF_TOKEN is valid and has read access`
        : `${what} not found or requires authentication (HTTP 401; private or gated repository): set HF_TOKEN to an access token`,
      401,
    );
  }
  if (status === 403) {
    return new HubAuthError(
      `access to ${what} denied (HTTP 403): it is private or gated — request access at ${page} and set HF_TOKEN to a token with read access`,
      403,
    );
  }
  if (status === 429)
    return new HubHttpError(`the hub is rate-limiting requests (HTTP 429) for ${what}; wait and retry, or set HF_TOKEN`, status);
  return new HubHttpError(`unexpected HTTP ${status} from ${c.endpoint} for ${what}${file ? ` file '${file}'` : ''}`, status);
}

async function fetchRevisionInfo(c: Ctx): Promise<RevisionInfo> {
  const url = `${c.endpoint}/api/${c.repoType}s/${c.repoId}/revision/${encodeURIComponent(c.revision)}`;
  const { res, status } = await hubRequest(url, {
    method: 'GET',
    token: c.token,
    authOrigin: c.authOrigin,
    redirects: 'all',
    timeoutMs: c.timeoutMs,
  });
  if (status !== 200) {
    res.resume();
    throw statusError(status, res.headers, c);
  }
  const text = await readBody(res);
  let json: { sha?: unknown; siblings?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new HubError(`the hub's revision info for ${repoLabel(c)} is not valid JSON`);
  }
  if (typeof json?.sha !== 'string' || !isCommitHash(json.sha)) {
    throw new HubError(`the hub's revision info for ${repoLabel(c)} has no valid commit sha`);
  }
  if (!Array.isArray(json.siblings)) throw new HubError(`the hub's revision info for ${repoLabel(c)} has no file list ("siblings")`);
  const files = json.siblings.map((s: unknown) => {
    const name = (s as { rfilename?: unknown } | null)?.rfilename;
    validateRepoFilePath(name as string);
    return name as string;
  });
  return { sha: json.sha, files };
}

const isGlob = (p: string): boolean => /[*?[]/.test(p);

/** fnmatch-style pattern ('*' also crosses '/', as huggingface_hub's allow_patterns do). */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Like huggingface_hub's allow_patterns: names and globs select files; a name the repo lacks is
 * skipped (callers list optional files such as tokenizer.json or a shard index).
 */
function selectFiles(all: string[], files: SnapshotDownloadOptions['files']): string[] {
  if (files === undefined) return all;
  if (typeof files === 'function') return all.filter((f) => files(f));
  const exact = new Set(files.filter((p) => !isGlob(p)));
  const globs = files.filter(isGlob).map(globToRegExp);
  return all.filter((f) => exact.has(f) || globs.some((re) => re.test(f))); // repo order
}

interface FileMeta {
  file: string;
  etag: string;
  size: number;
  url: string;
}

async function headFile(c: Ctx, sha: string, file: string): Promise<FileMeta> {
  const url = hubFileUrl(c.repoId, file, { repoType: c.repoType, revision: sha, endpoint: c.endpoint });
  const r = await hubRequest(url, {
    method: 'HEAD',
    token: c.token,
    authOrigin: c.authOrigin,
    redirects: 'relative',
    timeoutMs: c.timeoutMs,
    headers: { 'accept-encoding': 'identity' },
  });
  r.res.resume();
  if (r.status >= 400 || r.status < 200) throw statusError(r.status, r.res.headers, c, file);
  const raw = header(r.res.headers, 'x-linked-etag') ?? header(r.res.headers, 'etag');
  if (!raw) throw new HubError(`the hub sent no ETag for '${file}' of ${repoLabel(c)}; cannot cache it`);
  const etag = raw.replace(/^W\//, '').replace(/"/g, '');
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/.test(etag))
    throw new HubError(`the hub sent an unusable ETag for '${file}' of ${repoLabel(c)}`);
  const sizeText = header(r.res.headers, 'x-linked-size') ?? header(r.res.headers, 'content-length');
  const size = Number(sizeText);
  if (sizeText === undefined || !Number.isSafeInteger(size) || size < 0) {
    throw new HubError(`the hub sent no usable size for '${file}' of ${repoLabel(c)}`);
  }
  // A redirect (LFS file on a CDN) is resolved here so the GET fetches exactly this version.
  const location = header(r.res.headers, 'location');
  const dl = r.status >= 300 && location ? new URL(location, r.url).href : r.url.href;
  return { file, etag, size, url: dl };
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

class RetryableTransfer extends Error {}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

interface Transfer {
  maxRetries: number;
  retryDelayMs: number;
  report: (fileBytes: number) => void;
}

/** One GET appending to `part` from its current size. Throws RetryableTransfer on interruption. */
async function transferOnce(c: Ctx, m: FileMeta, part: string, t: Transfer): Promise<void> {
  const have = existsSync(part) ? statSync(part).size : 0;
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (have > 0) headers.range = `bytes=${have}-`;
  let r;
  try {
    r = await hubRequest(m.url, {
      method: 'GET',
      token: c.token,
      authOrigin: c.authOrigin,
      redirects: 'all',
      timeoutMs: c.timeoutMs,
      headers,
    });
  } catch (e) {
    throw new RetryableTransfer((e as Error).message);
  }
  const { res, status } = r;
  if (status === 416) {
    // our partial file no longer matches what the server has: start over
    res.resume();
    truncateSync(part, 0);
    throw new RetryableTransfer(`the server refused to resume '${m.file}'`);
  }
  if (status >= 500) {
    res.resume();
    throw new RetryableTransfer(`HTTP ${status} while downloading '${m.file}'`);
  }
  if (status !== 200 && status !== 206) {
    res.resume();
    throw statusError(status, res.headers, c, m.file);
  }
  let start = 0;
  if (status === 206) {
    const cr = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(header(res.headers, 'content-range') ?? '');
    if (!cr || Number(cr[1]) !== have) {
      // not the range we asked for: discard and start over
      res.destroy();
      truncateSync(part, 0);
      throw new RetryableTransfer(`the server answered the resume of '${m.file}' with an unexpected range`);
    }
    start = have;
  }
  let got = start;
  // Each chunk is written synchronously as it arrives, so whatever was received before a cut is
  // on disk and the next attempt resumes from it (a write stream would drop its queued writes).
  const fd = openSync(part, status === 206 ? 'a' : 'w');
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      got += chunk.length;
      if (got > m.size) throw new DownloadIntegrityError(`'${m.file}' is larger than the ${m.size} bytes the hub announced`);
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
      t.report(got);
    }
  } catch (e) {
    closeSync(fd);
    if (e instanceof DownloadIntegrityError) {
      unlinkSync(part);
      throw e;
    }
    throw new RetryableTransfer(`transfer of '${m.file}' interrupted at ${got} of ${m.size} bytes`);
  }
  closeSync(fd);
  if (got < m.size) throw new RetryableTransfer(`transfer of '${m.file}' ended at ${got} of ${m.size} bytes`);
}

async function downloadBlob(c: Ctx, m: FileMeta, blobPath: string, t: Transfer): Promise<void> {
  const part = `${blobPath}.incomplete`;
  for (let attempt = 0; ; attempt++) {
    const have = existsSync(part) ? statSync(part).size : -1;
    if (have > m.size) truncateSync(part, 0);
    if (have === m.size) break; // complete (a previous attempt or run finished the bytes)
    try {
      await transferOnce(c, m, part, t);
    } catch (e) {
      if (!(e instanceof RetryableTransfer)) throw e;
      if (attempt >= t.maxRetries) {
        throw new HubNetworkError(
          `${e.message} (after ${attempt + 1} attempt${attempt ? 's' : ''}). Run again to resume from the partial ` +
            `file ${part}; if you are offline, set HF_HUB_OFFLINE=1 to use the local cache, or pass a local model folder.`,
        );
      }
      await sleep(t.retryDelayMs * 2 ** attempt);
    }
  }
  // LFS ETags are the sha256 of the content: check it (git-blob ETags of small files are not).
  if (/^[0-9a-f]{64}$/.test(m.etag)) {
    const digest = await sha256File(part);
    if (digest !== m.etag) {
      unlinkSync(part);
      throw new DownloadIntegrityError(
        `'${m.file}' downloaded with sha256 ${digest}, expected ${m.etag}; the partial file was removed, run again`,
      );
    }
  }
  renameSync(part, blobPath);
}

/** snapshots/<sha>/<file> -> relative symlink to the blob (a copy where symlinks are not allowed). */
function linkIntoSnapshot(blobPath: string, snapPath: string): void {
  mkdirSync(dirname(snapPath), { recursive: true });
  try {
    lstatSync(snapPath);
    unlinkSync(snapPath); // a dangling link left by a deleted blob
  } catch {
    /* nothing there */
  }
  try {
    symlinkSync(relative(dirname(snapPath), blobPath), snapPath);
  } catch {
    copyFileSync(blobPath, snapPath);
  }
}

/**
 * Download (or find in the cache) a snapshot of a model or dataset repository and return the
 * local folder `<cache>/<type>s--org--name/snapshots/<sha>`. Files already in the snapshot are not
 * fetched again; when the hub is unreachable, an already cached snapshot of the revision is used.
 */
export async function hubSnapshotDownload(repoId: string, options: SnapshotDownloadOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const token = resolveToken(options.token, env);
  try {
    return await snapshotDownloadInner(repoId, options, env, token);
  } catch (e) {
    // Belt and braces: no error leaving this module may carry the token.
    if (e instanceof Error && token) {
      e.message = redactSecrets(e.message, token);
      if (e.stack) e.stack = redactSecrets(e.stack, token);
    }
    throw e;
  }
}

async function snapshotDownloadInner(
  repoId: string,
  options: SnapshotDownloadOptions,
  env: Env,
  token: string | undefined,
): Promise<string> {
  const repoType = options.repoType ?? 'model';
  if (repoType !== 'model' && repoType !== 'dataset')
    throw new HubError(`repoType must be 'model' or 'dataset', got '${String(repoType)}'`);
  const revision = options.revision ?? 'main';
  validateRepoId(repoId);
  validateRevision(revision);
  const endpoint = hubEndpoint(env, options.endpoint);
  let authOrigin: string;
  try {
    authOrigin = new URL(endpoint).origin;
  } catch {
    throw new HubError(`invalid hub endpoint '${endpoint}' (HF_ENDPOINT)`);
  }
  const c: Ctx = { repoId, repoType, revision, endpoint, authOrigin, token, timeoutMs: options.timeoutMs ?? 30_000 };
  const repoDir = join(options.cacheDir ?? hfHubCacheDir(env), repoFolderName(repoId, repoType));
  const log = options.log ?? ((msg: string) => void process.stderr.write(`${msg}\n`));
  const listed = Array.isArray(options.files) ? options.files : undefined;
  const exactFiles = listed && !listed.some(isGlob) ? listed : undefined;
  exactFiles?.forEach(validateRepoFilePath);

  /** Cached snapshot of `revision`; with `complete`, only if every listed name is in it. */
  const fromCache = (complete: boolean): string | undefined => {
    const dir = cachedSnapshotDir(repoDir, revision);
    if (!dir) return undefined;
    if (complete && !(exactFiles ?? []).every((f) => existsSync(join(dir, ...f.split('/'))))) return undefined;
    return dir;
  };

  // Offline, like huggingface_hub: the cached snapshot of the revision as it is (the file list
  // of the repo is unknown, so listed names cannot be told apart from names the repo lacks).
  if (options.offline ?? isOfflineEnv(env)) {
    const dir = fromCache(false);
    if (dir) return dir;
    throw new OfflineCacheMissError(
      `offline mode (HF_HUB_OFFLINE) is on and ${repoLabel(c)} at revision '${revision}' is not in the cache ` +
        `at ${repoDir}; unset HF_HUB_OFFLINE to download it, or pass a local folder`,
    );
  }
  // A commit sha names immutable content: if every listed file is cached, skip the network.
  if (isCommitHash(revision) && exactFiles) {
    const dir = fromCache(true);
    if (dir) return dir;
  }

  let info: RevisionInfo;
  try {
    info = await fetchRevisionInfo(c);
  } catch (e) {
    const dir = e instanceof HubNetworkError ? fromCache(false) : undefined;
    if (!dir) throw e;
    log(`warning: ${e instanceof Error ? e.message : String(e)} Using the cached snapshot ${dir}.`);
    return dir;
  }
  const { sha } = info;
  const wanted = selectFiles(info.files, options.files);
  if (revision !== sha) writeRef(repoDir, revision, sha);
  const snapDir = join(repoDir, 'snapshots', sha);
  mkdirSync(snapDir, { recursive: true });
  mkdirSync(join(repoDir, 'blobs'), { recursive: true });

  // Metadata first, so progress knows the total before the first byte.
  const todo: { meta: FileMeta; snapPath: string; blobPath: string; fetch: boolean }[] = [];
  for (const file of wanted) {
    const snapPath = join(snapDir, ...file.split('/'));
    if (existsSync(snapPath)) continue; // follows the link: a present blob means done
    let meta: FileMeta;
    try {
      meta = await headFile(c, sha, file);
    } catch (e) {
      if (e instanceof EntryNotFoundError && options.optional?.(file)) continue;
      throw e;
    }
    const blobPath = join(repoDir, 'blobs', meta.etag);
    const fetch = !(existsSync(blobPath) && statSync(blobPath).size === meta.size);
    todo.push({ meta, snapPath, blobPath, fetch });
  }
  const total = todo.reduce((s, x) => s + (x.fetch ? x.meta.size : 0), 0);
  const onProgress =
    options.onProgress === false
      ? undefined
      : (options.onProgress ?? (process.stderr.isTTY ? createTerminalProgress(process.stderr) : undefined));
  let doneBefore = 0;
  for (const x of todo) {
    if (x.fetch) {
      const before = doneBefore;
      await downloadBlob(c, x.meta, x.blobPath, {
        maxRetries: options.maxRetries ?? 5,
        retryDelayMs: options.retryDelayMs ?? 500,
        report: (n) => onProgress?.({ file: x.meta.file, fileBytes: n, fileTotal: x.meta.size, bytes: before + n, total }),
      });
      doneBefore += x.meta.size;
      if (x.meta.size === 0) onProgress?.({ file: x.meta.file, fileBytes: 0, fileTotal: 0, bytes: doneBefore, total });
    }
    linkIntoSnapshot(x.blobPath, x.snapPath);
  }
  return snapDir;
}

/** snapshotDownload for models (repoType defaults to 'model'). */
export function snapshotDownload(repoId: string, options: SnapshotDownloadOptions = {}): Promise<string> {
  return hubSnapshotDownload(repoId, { ...options, repoType: options.repoType ?? 'model' });
}
