import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hfHubCacheDir, repoFolderName, resolveToken } from '../src/io/hub-cache.js';
import {
  EntryNotFoundError,
  HubAuthError,
  HubNetworkError,
  OfflineCacheMissError,
  redactSecrets,
  RepoNotFoundError,
  RevisionNotFoundError,
} from '../src/io/hub-errors.js';
import { createTerminalProgress } from '../src/io/progress.js';
import { globToRegExp, hubSnapshotDownload, snapshotDownload, type DownloadProgress, type SnapshotDownloadOptions } from '../src/io/hub.js';
import { gitBlobSha1, HubTestServer, startHubFixture, type HubFixture, sha256Hex } from './helpers/hub-server.js';

const TOKEN = 'hf_SuperSecretTokenValue0123456789';

type Ctx = HubFixture<SnapshotDownloadOptions>;

function setup(t: { after(fn: () => Promise<void> | void): void }): Promise<Ctx> {
  return startHubFixture<SnapshotDownloadOptions>(t, 'tt-hub-');
}

const weights = Buffer.alloc(100_000);
for (let i = 0; i < weights.length; i++) weights[i] = (i * 7919) % 251;
const FILES = {
  'config.json': '{"hidden_size": 16}',
  'vocab.txt': '[PAD]\n[UNK]\nhello\n',
  'sub/dir/notes.md': '# nested file\n',
  'model.safetensors': { content: weights, lfs: true },
};

function assertNoSecret(e: unknown): void {
  const err = e as Error;
  assert.ok(!err.message.includes(TOKEN), 'token leaked into the message');
  assert.ok(!(err.stack ?? '').includes(TOKEN), 'token leaked into the stack');
}

test('snapshot download builds the huggingface_hub cache layout', async (t) => {
  const { server, home, opts } = await setup(t);
  const sha = server.addCommit('acme/tiny-bert', FILES);
  const progress: DownloadProgress[] = [];
  const snap = await snapshotDownload('acme/tiny-bert', opts({ onProgress: (p) => progress.push({ ...p }) }));

  const repoDir = join(home, 'hub', 'models--acme--tiny-bert');
  assert.equal(snap, join(repoDir, 'snapshots', sha));
  assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), sha);
  for (const [name, spec] of Object.entries(FILES)) {
    const content = typeof spec === 'string' ? Buffer.from(spec) : spec.content;
    const etag = typeof spec === 'string' ? gitBlobSha1(content) : sha256Hex(content);
    const link = join(snap, ...name.split('/'));
    assert.ok(lstatSync(link).isSymbolicLink(), `${name} is a symlink`);
    const depth = name.split('/').length + 1;
    assert.equal(readlinkSync(link), [...Array(depth).fill('..'), 'blobs', etag].join('/'));
    assert.deepEqual(readFileSync(link), content);
    assert.deepEqual(readFileSync(join(repoDir, 'blobs', etag)), content);
  }
  assert.ok(!existsSync(join(repoDir, 'blobs', `${sha256Hex(weights)}.incomplete`)));
  // the LFS file came from the CDN origin
  assert.ok(server.requests.some((r) => r.server === 'cdn' && r.method === 'GET'));
  const total = Object.values(FILES).reduce((s, f) => s + (typeof f === 'string' ? Buffer.byteLength(f) : f.content.length), 0);
  const last = progress[progress.length - 1]!;
  assert.equal(last.bytes, total);
  assert.equal(last.total, total);
  assert.ok(progress.some((p) => p.file === 'model.safetensors' && p.fileBytes === weights.length && p.fileTotal === weights.length));
});

test('a cached snapshot is not downloaded again; a pinned sha needs no request at all', async (t) => {
  const { server, opts } = await setup(t);
  const sha = server.addCommit('acme/tiny-bert', FILES);
  const first = await snapshotDownload('acme/tiny-bert', opts());
  server.requests.length = 0;
  const second = await snapshotDownload('acme/tiny-bert', opts());
  assert.equal(second, first);
  assert.deepEqual(server.fileRequests(), [], 'no file was requested');
  assert.equal(server.requests.length, 1, 'only the revision lookup (branches can move)');
  server.requests.length = 0;
  const pinned = await snapshotDownload('acme/tiny-bert', opts({ revision: sha, files: ['config.json', 'model.safetensors'] }));
  assert.equal(pinned, first);
  assert.equal(server.requests.length, 0, 'server not hit');
});

test('a moved branch gives a new snapshot and updates refs; unchanged blobs are reused', async (t) => {
  const { server, home, opts } = await setup(t);
  const sha1 = server.addCommit('acme/tiny-bert', FILES);
  await snapshotDownload('acme/tiny-bert', opts());
  const sha2 = server.addCommit('acme/tiny-bert', { ...FILES, 'config.json': '{"hidden_size": 32}' });
  server.requests.length = 0;
  const snap = await snapshotDownload('acme/tiny-bert', opts());
  const repoDir = join(home, 'hub', 'models--acme--tiny-bert');
  assert.equal(snap, join(repoDir, 'snapshots', sha2));
  assert.equal(readFileSync(join(repoDir, 'refs', 'main'), 'utf8'), sha2);
  assert.ok(existsSync(join(repoDir, 'snapshots', sha1, 'config.json')), 'old snapshot kept');
  assert.equal(readFileSync(join(snap, 'config.json'), 'utf8'), '{"hidden_size": 32}');
  assert.ok(!server.requests.some((r) => r.method === 'GET' && r.server === 'cdn'), 'the unchanged LFS blob was not fetched again');
});

test('offline mode uses the cache only and explains a miss', async (t) => {
  const { server, opts } = await setup(t);
  server.addCommit('acme/tiny-bert', FILES);
  await assert.rejects(
    snapshotDownload('acme/tiny-bert', opts({ offline: true })),
    (e: unknown) => e instanceof OfflineCacheMissError && /HF_HUB_OFFLINE/.test(e.message) && /not in the cache/.test(e.message),
  );
  const online = await snapshotDownload('acme/tiny-bert', opts({ files: ['config.json'] }));
  server.requests.length = 0;
  const base = opts();
  const offEnv = { ...base, env: { ...base.env, HF_HUB_OFFLINE: '1' } };
  assert.equal(await snapshotDownload('acme/tiny-bert', offEnv), online);
  assert.equal(await snapshotDownload('acme/tiny-bert', { ...offEnv, files: ['config.json'] }), online);
  await assert.rejects(snapshotDownload('acme/tiny-bert', { ...offEnv, revision: 'v2' }), OfflineCacheMissError);
  assert.equal(server.requests.length, 0);
});

test('an interrupted transfer resumes with a Range request and ends with the right bytes', async (t) => {
  const { server, home, opts } = await setup(t);
  server.addCommit('acme/tiny-bert', FILES);
  const etag = sha256Hex(weights);
  const part = join(home, 'hub', 'models--acme--tiny-bert', 'blobs', `${etag}.incomplete`);

  server.cutTransfer(etag, 30_000);
  await assert.rejects(
    snapshotDownload('acme/tiny-bert', opts({ maxRetries: 0 })),
    (e: unknown) => e instanceof HubNetworkError && /interrupted/.test(e.message) && /Run again to resume/.test(e.message),
  );
  const have = statSync(part).size;
  assert.ok(have > 0 && have <= 30_000, `partial file kept (${have} bytes)`);

  server.requests.length = 0;
  const snap = await snapshotDownload('acme/tiny-bert', opts({ maxRetries: 0 }));
  const resumed = server.requests.filter((r) => r.server === 'cdn' && r.method === 'GET');
  assert.equal(resumed.length, 1);
  assert.equal(resumed[0]!.headers.range, `bytes=${have}-`);
  assert.equal(resumed[0]!.status, 206);
  assert.deepEqual(readFileSync(join(snap, 'model.safetensors')), weights);
  assert.ok(!existsSync(part));
});

test('within one call, cut transfers are retried from where they stopped', async (t) => {
  const { server, opts } = await setup(t);
  server.addCommit('acme/tiny-bert', FILES);
  server.cutTransfer(sha256Hex(weights), 20_000, 2);
  server.cutTransfer('vocab.txt', 5);
  const snap = await snapshotDownload('acme/tiny-bert', opts({ maxRetries: 3 }));
  assert.deepEqual(readFileSync(join(snap, 'model.safetensors')), weights);
  assert.equal(readFileSync(join(snap, 'vocab.txt'), 'utf8'), FILES['vocab.txt']);
  const ranges = server.requests.filter((r) => r.server === 'cdn' && r.method === 'GET').map((r) => r.headers.range);
  assert.equal(ranges.length, 3);
  assert.equal(ranges[0], undefined);
  assert.match(String(ranges[2]), /^bytes=\d+-$/);
});

test('404s name the repository, revision or file', async (t) => {
  const { server, opts } = await setup(t);
  server.addCommit('acme/tiny-bert', FILES);
  await assert.rejects(
    snapshotDownload('nobody/nothing', opts()),
    (e: unknown) => e instanceof RepoNotFoundError && e.message === "repository 'nobody/nothing' not found (or private: set HF_TOKEN)",
  );
  await assert.rejects(
    snapshotDownload('acme/tiny-bert', opts({ revision: 'v9' })),
    (e: unknown) => e instanceof RevisionNotFoundError && /revision 'v9' not found in repository 'acme\/tiny-bert'/.test(e.message),
  );
  // listed names the repo lacks are skipped, as with huggingface_hub's allow_patterns
  const snap = await snapshotDownload('acme/tiny-bert', opts({ files: ['config.json', 'tokenizer.json'] }));
  assert.ok(existsSync(join(snap, 'config.json')) && !existsSync(join(snap, 'tokenizer.json')));
  // a file the revision listed but the server no longer has
  server.addCommit('acme/racy', { 'a.txt': 'A' });
  server.dropFile('acme/racy', 'a.txt');
  await assert.rejects(
    snapshotDownload('acme/racy', opts()),
    (e: unknown) => e instanceof EntryNotFoundError && e.message === "file 'a.txt' not found in repository 'acme/racy' at revision 'main'",
  );
  // ... unless the caller marks it optional: then it is left out; other failures of optional files still fail
  server.addCommit('acme/racy2', { 'a.txt': 'A', 'b.txt': 'B', 'c.txt': 'C' });
  server.dropFile('acme/racy2', 'a.txt');
  const racy = await snapshotDownload('acme/racy2', opts({ files: ['a.txt', 'b.txt'], optional: (f) => f === 'a.txt' }));
  assert.ok(!existsSync(join(racy, 'a.txt')) && readFileSync(join(racy, 'b.txt'), 'utf8') === 'B');
  server.failFile('acme/racy2', 'c.txt', 503);
  await assert.rejects(
    snapshotDownload('acme/racy2', opts({ files: ['c.txt'], optional: () => true })),
    /unexpected HTTP 503 .* file 'c\.txt'/,
  );
  await assert.rejects(snapshotDownload('bad--id', opts()), /invalid repository id/);
});

test('private and gated repos ask for HF_TOKEN; the token is sent to the hub only and never shown', async (t) => {
  const { server, home, opts } = await setup(t);
  server.addCommit('acme/private', FILES, { token: TOKEN });
  server.addCommit('acme/gated', { 'config.json': '{}' }, { token: TOKEN, gated: true });

  await assert.rejects(
    snapshotDownload('acme/private', opts({ token: false })),
    (e: unknown) => e instanceof HubAuthError && e.status === 401 && /set HF_TOKEN/.test(e.message),
  );
  const wrong = `${TOKEN}-wrong`;
  await assert.rejects(snapshotDownload('acme/private', opts({ token: wrong })), (e: unknown) => {
    assert.ok(e instanceof HubAuthError && /HF_TOKEN/.test(e.message));
    assert.ok(!(e as Error).message.includes(wrong));
    return true;
  });
  await assert.rejects(
    snapshotDownload('acme/gated', opts({ token: false })),
    (e: unknown) => e instanceof HubAuthError && e.status === 403 && /gated/.test(e.message) && /HF_TOKEN/.test(e.message),
  );

  const logs: string[] = [];
  server.requests.length = 0;
  const base = opts({ log: (m) => logs.push(m) });
  const snap = await snapshotDownload('acme/private', { ...base, env: { ...base.env, HF_TOKEN: TOKEN } });
  assert.deepEqual(readFileSync(join(snap, 'model.safetensors')), weights);
  for (const r of server.requests) {
    if (r.server === 'hub') assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
    else assert.equal(r.headers.authorization, undefined, 'Authorization must not follow a redirect to another host');
  }
  assert.ok(server.requests.some((r) => r.server === 'cdn'));

  // token from $HF_HOME/token (huggingface-cli login) works too
  writeFileSync(join(home, 'token'), `${TOKEN}\n`);
  assert.equal(resolveToken(undefined, { HF_HOME: home }), TOKEN);
  rmSync(join(home, 'hub'), { recursive: true });
  await snapshotDownload('acme/private', opts({ files: ['config.json'] }));

  // network failure with a token: suggestion to go offline, no token anywhere
  const closed = await HubTestServer.start();
  const deadEndpoint = closed.endpoint;
  await closed.close();
  await assert.rejects(snapshotDownload('acme/other', opts({ endpoint: deadEndpoint, token: TOKEN })), (e: unknown) => {
    assert.ok(e instanceof HubNetworkError);
    assert.match((e as Error).message, /HF_HUB_OFFLINE=1/);
    assert.match((e as Error).message, /local model folder/);
    assertNoSecret(e);
    return true;
  });
  assert.ok(logs.every((l) => !l.includes(TOKEN)));
});

test('when the hub is unreachable, a cached snapshot is used with a warning', async (t) => {
  const { server, opts } = await setup(t);
  server.addCommit('acme/tiny-bert', FILES);
  const snap = await snapshotDownload('acme/tiny-bert', opts({ files: ['*.json'] }));
  const closed = await HubTestServer.start();
  await closed.close();
  const logs: string[] = [];
  const again = await snapshotDownload('acme/tiny-bert', opts({ endpoint: closed.endpoint, token: TOKEN, log: (m) => logs.push(m) }));
  assert.equal(again, snap);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /using the cached snapshot/i);
  assert.ok(!logs[0]!.includes(TOKEN));
});

test('datasets use datasets--org--name and the datasets API; filters and renamed repos work', async (t) => {
  const { server, home, opts } = await setup(t);
  const sha = server.addCommit(
    'acme/wnut-mini',
    {
      'README.md': '# data',
      'data/train.jsonl': '{"tokens": ["a"]}\n',
      'data/test.jsonl': '{"tokens": ["b"]}\n',
    },
    { type: 'dataset' },
  );
  const snap = await hubSnapshotDownload('acme/wnut-mini', opts({ repoType: 'dataset', files: ['data/*.jsonl'] }));
  assert.equal(snap, join(home, 'hub', 'datasets--acme--wnut-mini', 'snapshots', sha));
  assert.ok(existsSync(join(snap, 'data', 'train.jsonl')) && existsSync(join(snap, 'data', 'test.jsonl')));
  assert.ok(!existsSync(join(snap, 'README.md')));
  assert.ok(server.requests.some((r) => r.path === '/api/datasets/acme/wnut-mini/revision/main'));
  assert.ok(server.requests.some((r) => r.path.startsWith('/datasets/acme/wnut-mini/resolve/')));

  server.addCommit('acme/new-name', { 'a.txt': 'A', 'b.txt': 'B' });
  server.rename('acme/old-name', 'acme/new-name');
  const renamed = await snapshotDownload('acme/old-name', opts({ files: (f) => f.startsWith('b') }));
  assert.equal(readFileSync(join(renamed, 'b.txt'), 'utf8'), 'B');
  assert.ok(!existsSync(join(renamed, 'a.txt')));
  assert.match(renamed, /models--acme--old-name/);
});

test('cache location and naming follow huggingface_hub', () => {
  assert.equal(hfHubCacheDir({ HF_HOME: '/h' }), join('/h', 'hub'));
  assert.equal(hfHubCacheDir({ HF_HOME: '/h', HF_HUB_CACHE: '/c' }), '/c');
  assert.equal(hfHubCacheDir({ XDG_CACHE_HOME: '/x' }), join('/x', 'huggingface', 'hub'));
  assert.equal(repoFolderName('bert-base-cased', 'model'), 'models--bert-base-cased');
  assert.equal(repoFolderName('org/name', 'dataset'), 'datasets--org--name');
  assert.ok(globToRegExp('*.json').test('sub/config.json'));
  assert.ok(!globToRegExp('model-?.bin').test('model-10.bin'));
  assert.ok(globToRegExp('data/[!x]*.txt').test('data/a.txt'));
  assert.equal(redactSecrets(`Bearer ${TOKEN} and hf_abcdefghijkl`, TOKEN), 'Bearer *** and hf_***');
});

test('terminal progress bar draws throttled lines and ends each file with a newline', () => {
  const out: string[] = [];
  const bar = createTerminalProgress({ write: (s: string) => out.push(s) }, 1_000_000);
  bar({ file: 'model.safetensors', fileBytes: 0, fileTotal: 2_000_000, bytes: 0, total: 2_000_000 });
  bar({ file: 'model.safetensors', fileBytes: 1_000_000, fileTotal: 2_000_000, bytes: 1_000_000, total: 2_000_000 });
  bar({ file: 'model.safetensors', fileBytes: 2_000_000, fileTotal: 2_000_000, bytes: 2_000_000, total: 2_000_000 });
  assert.equal(out.length, 2, 'the middle update is throttled');
  assert.match(out[0]!, /^\rmodel\.safetensors +\[-{24}\] {3}0% {2}0 B \/ 2\.0 MB$/);
  assert.match(out[1]!, /^\rmodel\.safetensors +\[#{24}\] 100% {2}2\.0 MB \/ 2\.0 MB\n$/);
});

test('unsafe file names from a hostile server are refused', async (t) => {
  const { server, home, opts } = await setup(t);
  server.addCommit('acme/evil', { '../../escape.txt': 'x' });
  await assert.rejects(snapshotDownload('acme/evil', opts()), /refusing unsafe file path from the hub/);
  mkdirSync(join(home, 'hub'), { recursive: true });
  assert.ok(!existsSync(join(home, 'escape.txt')));
});
