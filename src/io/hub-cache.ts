/**
 * The huggingface_hub cache layout and environment, so a snapshot fetched here is reused by
 * Python tools and vice versa:
 *   $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
 *     models--{org}--{name}/            (datasets--... for datasets)
 *       blobs/<etag>                    file contents, named by ETag
 *       refs/<revision>                 commit sha the revision (branch/tag) pointed to
 *       snapshots/<sha>/<path>          relative symlinks into blobs (copies if links fail)
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HubError } from './hub-errors.js';

export type RepoType = 'model' | 'dataset';
export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export function hfHome(env: Env = process.env): string {
  if (env.HF_HOME) return env.HF_HOME;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

export function hfHubCacheDir(env: Env = process.env): string {
  return env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome(env), 'hub');
}

export function hubEndpoint(env: Env = process.env, explicit?: string): string {
  return (explicit || env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
}

/** huggingface_hub's truthy env values. */
export function isTruthyEnv(v: string | undefined): boolean {
  return v !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(v.trim().toUpperCase());
}

export function isOfflineEnv(env: Env = process.env): boolean {
  return isTruthyEnv(env.HF_HUB_OFFLINE) || isTruthyEnv(env.TRANSFORMERS_OFFLINE);
}

/**
 * Token: explicit option, else HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the file at
 * HF_TOKEN_PATH or $HF_HOME/token (written by `huggingface-cli login`). `false` disables auth.
 */
export function resolveToken(explicit: string | false | undefined, env: Env = process.env): string | undefined {
  if (explicit === false) return undefined;
  if (explicit) return explicit;
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv && fromEnv.trim()) return fromEnv.trim();
  const path = env.HF_TOKEN_PATH || join(hfHome(env), 'token');
  try {
    const t = readFileSync(path, 'utf8').trim();
    return t || undefined;
  } catch {
    return undefined;
  }
}

/** Same rules as huggingface_hub's validate_repo_id (plus: at most one '/'). */
export function validateRepoId(repoId: string): void {
  const ok =
    typeof repoId === 'string' &&
    repoId.length > 0 &&
    repoId.length <= 96 &&
    /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?$/.test(repoId) &&
    !repoId.includes('--') &&
    !repoId.includes('..') &&
    !/(^|\/)[-.]|[-.](\/|$)/.test(repoId);
  if (!ok) {
    throw new HubError(
      `invalid repository id '${String(repoId).slice(0, 120)}': expected 'name' or 'org/name' ` +
        `(letters, digits, '-', '_', '.'; no '--' or '..'; at most 96 characters)`,
    );
  }
}

export function repoFolderName(repoId: string, repoType: RepoType): string {
  validateRepoId(repoId);
  return `${repoType}s--${repoId.replace('/', '--')}`;
}

export function isCommitHash(s: string): boolean {
  return /^[0-9a-f]{40}$/.test(s);
}

function safeRelativePath(p: string): boolean {
  if (p.length === 0 || p.length > 1024 || p.startsWith('/') || p.includes('\\') || p.includes('\0')) return false;
  return p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** A repo file path from the server becomes a path on disk: refuse anything that could escape. */
export function validateRepoFilePath(p: string): void {
  if (typeof p !== 'string' || !safeRelativePath(p)) {
    throw new HubError(`refusing unsafe file path from the hub: ${JSON.stringify(String(p).slice(0, 200))}`);
  }
}

/** Revisions such as 'main', 'v1.0' or 'refs/pr/1' become paths under refs/. */
export function validateRevision(rev: string): void {
  if (typeof rev !== 'string' || !safeRelativePath(rev)) {
    throw new HubError(`invalid revision ${JSON.stringify(String(rev).slice(0, 200))}`);
  }
}

export function readRef(repoDir: string, revision: string): string | undefined {
  try {
    const sha = readFileSync(join(repoDir, 'refs', ...revision.split('/')), 'utf8').trim();
    return isCommitHash(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

export function writeRef(repoDir: string, revision: string, sha: string): void {
  const parts = revision.split('/');
  const dir = join(repoDir, 'refs', ...parts.slice(0, -1));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, parts[parts.length - 1]!);
  if (readRef(repoDir, revision) === sha) return;
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, sha);
  renameSync(tmp, path);
}

/** Cached snapshot folder for `revision` (branch, tag or sha), if any. */
export function cachedSnapshotDir(repoDir: string, revision: string): string | undefined {
  const sha = isCommitHash(revision) ? revision : readRef(repoDir, revision);
  if (!sha) return undefined;
  const dir = join(repoDir, 'snapshots', sha);
  return existsSync(dir) ? dir : undefined;
}
