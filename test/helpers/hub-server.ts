/**
 * A local stand-in for the Hugging Face hub, for tests: serves in-memory repos with the hub's
 * URL layout on 127.0.0.1 (random port), plus a second "CDN" server (another origin) that LFS
 * files redirect to, so tests can check the token is not forwarded there.
 *
 *   GET  /api/{models|datasets}/{repo}/revision/{rev}      -> {id, sha, siblings:[{rfilename}]}
 *   HEAD /[datasets/]{repo}/resolve/{rev}/{path}           -> ETag / X-Repo-Commit / Content-Length,
 *        LFS files: 302 to the CDN with X-Linked-Etag (sha256) and X-Linked-Size
 *   GET  same                                              -> content (Range supported) or 302
 *   GET  {cdn}/cdn/{sha256}                                -> LFS content (Range supported)
 * Errors carry X-Error-Code like the real hub (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RepoType = 'model' | 'dataset';

export interface RepoFileSpec {
  content: Uint8Array | string;
  /** Stored in LFS: served through the CDN redirect, ETag = sha256. */
  lfs?: boolean;
}

interface StoredFile {
  content: Buffer;
  lfs: boolean;
  etag: string;
}

interface Repo {
  type: RepoType;
  id: string;
  /** Token required to read (private repo -> 401 without it). */
  token?: string;
  /** Gated: 403 + GatedRepo without the token. */
  gated?: boolean;
  commits: Map<string, Map<string, StoredFile>>;
  refs: Map<string, string>;
}

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  status?: number;
}

export interface AddCommitOptions {
  type?: RepoType;
  /** Branch/tag names pointing at the new commit (default ['main']). */
  refs?: string[];
  sha?: string;
  token?: string;
  gated?: boolean;
}

/** Git's blob id: what the hub reports as the ETag of a non-LFS file. */
export function gitBlobSha1(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256Hex(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

export class HubTestServer {
  readonly requests: LoggedRequest[] = [];
  endpoint = '';
  cdnOrigin = '';
  private readonly repos = new Map<string, Repo>();
  private readonly renames = new Map<string, string>();
  private readonly dropped = new Set<string>();
  private readonly failing = new Map<string, number>();
  private readonly lfsBlobs = new Map<string, Buffer>();
  private readonly cuts: { file: string; afterBytes: number; remaining: number }[] = [];
  private readonly hub = createServer((req, res) => this.handle('hub', req, res));
  private readonly cdn = createServer((req, res) => this.handle('cdn', req, res));

  static async start(): Promise<HubTestServer> {
    const s = new HubTestServer();
    s.endpoint = await listen(s.hub);
    s.cdnOrigin = await listen(s.cdn);
    return s;
  }

  async close(): Promise<void> {
    for (const srv of [this.hub, this.cdn]) {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  }

  /** Add a commit to a repo (created on first use); returns the commit sha. */
  addCommit(id: string, files: Record<string, string | Uint8Array | RepoFileSpec>, opts: AddCommitOptions = {}): string {
    const type = opts.type ?? 'model';
    const key = `${type}:${id}`;
    let repo = this.repos.get(key);
    if (!repo) {
      repo = { type, id, commits: new Map(), refs: new Map() };
      this.repos.set(key, repo);
    }
    if (opts.token !== undefined) repo.token = opts.token;
    if (opts.gated !== undefined) repo.gated = opts.gated;
    const sha = opts.sha ?? randomBytes(20).toString('hex');
    const stored = new Map<string, StoredFile>();
    for (const [name, spec] of Object.entries(files)) {
      const s: RepoFileSpec = typeof spec === 'string' || spec instanceof Uint8Array ? { content: spec } : spec;
      const content = Buffer.from(typeof s.content === 'string' ? Buffer.from(s.content, 'utf8') : s.content);
      const lfs = s.lfs ?? false;
      const etag = lfs ? sha256Hex(content) : gitBlobSha1(content);
      if (lfs) this.lfsBlobs.set(etag, content);
      stored.set(name, { content, lfs, etag });
    }
    repo.commits.set(sha, stored);
    for (const r of opts.refs ?? ['main']) repo.refs.set(r, sha);
    return sha;
  }

  /** Make the resolve route 404 for a file the revision API still lists (a race on the hub). */
  dropFile(id: string, file: string, type: RepoType = 'model'): void {
    this.dropped.add(`${type}:${id}:${file}`);
  }

  /** Make the resolve route answer `status` (no error code) for a file, as a hub outage would. */
  failFile(id: string, file: string, status: number, type: RepoType = 'model'): void {
    this.failing.set(`${type}:${id}:${file}`, status);
  }

  /** Serve `oldId` as a relative redirect to `newId` (a renamed repo). */
  rename(oldId: string, newId: string): void {
    this.renames.set(oldId, newId);
  }

  /** The next `times` transfers of `file` (repo path, or CDN sha256) send `afterBytes` bytes, then drop the connection. */
  cutTransfer(file: string, afterBytes: number, times = 1): void {
    this.cuts.push({ file, afterBytes, remaining: times });
  }

  /** Requests that touched repo files (resolve or CDN), as opposed to the revision API. */
  fileRequests(): LoggedRequest[] {
    return this.requests.filter((r) => r.server === 'cdn' || r.path.includes('/resolve/'));
  }

  private send(res: ServerResponse, log: LoggedRequest, status: number, headers: Record<string, string> = {}, body?: string): void {
    log.status = status;
    res.writeHead(status, headers);
    res.end(body);
  }

  private error(res: ServerResponse, log: LoggedRequest, status: number, code: string, message: string): void {
    this.send(
      res,
      log,
      status,
      { 'x-error-code': code, 'x-error-message': message, 'content-type': 'application/json' },
      JSON.stringify({ error: message }),
    );
  }

  private authorized(repo: Repo, req: IncomingMessage): boolean {
    return repo.token === undefined || req.headers.authorization === `Bearer ${repo.token}`;
  }

  /** Access check shared by API and resolve routes; false when an error was sent. */
  private checkAccess(repo: Repo | undefined, req: IncomingMessage, res: ServerResponse, log: LoggedRequest): repo is Repo {
    if (!repo) {
      this.error(res, log, 404, 'RepoNotFound', 'Repository not found');
      return false;
    }
    if (!this.authorized(repo, req)) {
      if (repo.gated) this.error(res, log, 403, 'GatedRepo', 'Access to this repo is restricted');
      else this.error(res, log, 401, 'RepoNotFound', 'Invalid username or password.');
      return false;
    }
    return true;
  }

  private sendContent(
    req: IncomingMessage,
    res: ServerResponse,
    log: LoggedRequest,
    content: Buffer,
    headers: Record<string, string>,
    cutKey: string,
  ): void {
    let start = 0;
    let end = content.length - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(end, Number(range[2]));
      if (start >= content.length) {
        this.send(res, log, 416, { 'content-range': `bytes */${content.length}` });
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${content.length}`;
    }
    const body = content.subarray(start, end + 1);
    log.status = status;
    res.writeHead(status, { ...headers, 'content-length': String(body.length), 'accept-ranges': 'bytes' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const cut = this.cuts.find((c) => c.file === cutKey && c.remaining > 0);
    if (cut) {
      cut.remaining--;
      // Send part of the body, then kill the socket: the client sees a short, aborted response.
      res.write(body.subarray(0, Math.min(cut.afterBytes, body.length)), () => {
        setTimeout(() => res.socket?.destroy(), 10);
      });
      return;
    }
    res.end(body);
  }

  private handle(server: 'hub' | 'cdn', req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const log: LoggedRequest = { server, method: req.method ?? '', path: url.pathname, headers: { ...req.headers } };
    this.requests.push(log);
    const path = url.pathname;

    if (server === 'cdn') {
      const m = /^\/cdn\/([0-9a-f]{64})$/.exec(path);
      const blob = m ? this.lfsBlobs.get(m[1]!) : undefined;
      if (!m || !blob) return this.send(res, log, 404, {}, 'no such blob');
      return this.sendContent(req, res, log, blob, { etag: `"${m[1]}"` }, m[1]!);
    }

    const api = /^\/api\/(models|datasets)\/(.+)\/revision\/([^/]+)$/.exec(path);
    if (api && req.method === 'GET') {
      const type: RepoType = api[1] === 'datasets' ? 'dataset' : 'model';
      const id = api[2]!;
      const renamed = this.renames.get(id);
      if (renamed) return this.send(res, log, 307, { location: `/api/${api[1]}/${renamed}/revision/${api[3]}` });
      const repo = this.repos.get(`${type}:${id}`);
      if (!this.checkAccess(repo, req, res, log)) return;
      const rev = decodeURIComponent(api[3]!);
      const sha = repo.commits.has(rev) ? rev : repo.refs.get(rev);
      if (!sha) return this.error(res, log, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const files = repo.commits.get(sha)!;
      const body = JSON.stringify({ id, sha, siblings: [...files.keys()].map((rfilename) => ({ rfilename })) });
      return this.send(res, log, 200, { 'content-type': 'application/json' }, body);
    }

    const resolve = /^\/(datasets\/)?(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve && (req.method === 'GET' || req.method === 'HEAD')) {
      const type: RepoType = resolve[1] ? 'dataset' : 'model';
      const id = resolve[2]!;
      const renamed = this.renames.get(id);
      if (renamed) {
        return this.send(res, log, 307, { location: `/${resolve[1] ?? ''}${renamed}/resolve/${resolve[3]}/${resolve[4]}` });
      }
      const repo = this.repos.get(`${type}:${id}`);
      if (!this.checkAccess(repo, req, res, log)) return;
      const rev = decodeURIComponent(resolve[3]!);
      const sha = repo.commits.has(rev) ? rev : repo.refs.get(rev);
      if (!sha) return this.error(res, log, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const file = resolve[4]!.split('/').map(decodeURIComponent).join('/');
      const failure = this.failing.get(`${type}:${id}:${file}`);
      if (failure) return this.send(res, log, failure, {}, 'server error');
      const f = this.dropped.has(`${type}:${id}:${file}`) ? undefined : repo.commits.get(sha)!.get(file);
      if (!f) return this.error(res, log, 404, 'EntryNotFound', `${file} does not exist on "${rev}"`);
      if (f.lfs) {
        return this.send(res, log, 302, {
          location: `${this.cdnOrigin}/cdn/${f.etag}`,
          'x-linked-etag': `"${f.etag}"`,
          'x-linked-size': String(f.content.length),
          'x-repo-commit': sha,
          etag: `"${gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${f.etag}\n`))}"`,
        });
      }
      return this.sendContent(req, res, log, f.content, { etag: `"${f.etag}"`, 'x-repo-commit': sha }, file);
    }
    this.send(res, log, 404, {}, 'not found');
  }
}

/** A started server plus a temporary HF_HOME, and hub options pointing at both, for one test. */
export interface HubFixture<O> {
  server: HubTestServer;
  home: string;
  opts: (extra?: O) => O;
}

export async function startHubFixture<O extends object>(
  t: { after(fn: () => Promise<void> | void): void },
  prefix = 'tt-hub-',
): Promise<HubFixture<O>> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const server = await HubTestServer.start();
  const home = mkdtempSync(join(tmpdir(), prefix));
  t.after(async () => {
    await server.close();
    rmSync(home, { recursive: true, force: true });
  });
  const opts = (extra?: O): O =>
    ({
      env: { HF_HOME: home, HF_ENDPOINT: server.endpoint },
      retryDelayMs: 0,
      onProgress: false,
      log: () => {},
      ...extra,
    }) as O;
  return { server, home, opts };
}
