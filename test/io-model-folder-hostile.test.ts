/**
 * Hostile model folders (issue 21, broken #5): model files that are FIFOs, devices, folders, or
 * symlinks out of the folder. Each must be refused at once with the file and the problem named
 * (never the linked file's content), while links inside the folder and the hub cache's
 * snapshots/<rev>/file -> ../../blobs/<hash> links keep working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelFromDir, readConfig } from '../src/models/index.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { ModelFileError, readModelFile } from '../src/io/model-file.js';
import { loadStateDict } from '../src/io/state-dict.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ROBERTA = join(root, 'test', 'fixtures', 'e2e', 'roberta');
const BIN = join(root, 'bin', 'tokentune.js');

function copyFixture(src: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'tt-folder-')), 'model');
  cpSync(src, dir, { recursive: true });
  return dir;
}

function mkfifo(path: string): boolean {
  return spawnSync('mkfifo', [path]).status === 0;
}

/** `tokentune predict` in a child process (a hang must not hang the test runner). */
function predict(dir: string): { status: number | null; err: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, 'predict', '--model', dir, '--text', 'hello world'], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, err: r.stderr, ms: Date.now() - t0 };
}

test('a FIFO under any model file name is refused at once, naming the file', {
  skip: spawnSync('mkfifo', ['--version']).status !== 0 && 'no mkfifo',
}, () => {
  // vocab.json and merges.txt are read where tokenizer.json is absent.
  for (const [name, drop] of [
    ['config.json', null],
    ['tokenizer.json', null],
    ['model.safetensors', null],
    ['vocab.json', 'tokenizer.json'],
    ['merges.txt', 'tokenizer.json'],
  ] as const) {
    const dir = copyFixture(ROBERTA);
    if (drop !== null) rmSync(join(dir, drop));
    rmSync(join(dir, name));
    assert.ok(mkfifo(join(dir, name)));
    const r = predict(dir);
    assert.notEqual(r.status, null, `${name}: predict hung (killed after ${r.ms} ms)`);
    assert.equal(r.status, 1, `${name}: ${r.err}`);
    assert.match(r.err, new RegExp(`${name.replace('.', '\\.')}.*FIFO`), r.err);
  }
});

test('a link to /dev/zero or out of the folder is refused without reading it', () => {
  for (const [name, target] of [
    ['config.json', '/dev/zero'],
    ['tokenizer.json', '/dev/zero'],
    ['config.json', '/etc/passwd'],
    ['vocab.json', '/etc/passwd'],
  ] as const) {
    const dir = copyFixture(ROBERTA);
    if (name === 'vocab.json') rmSync(join(dir, 'tokenizer.json'));
    rmSync(join(dir, name));
    symlinkSync(target, join(dir, name));
    const r = predict(dir);
    assert.equal(r.status, 1, `${name} -> ${target}: ${r.err}`);
    assert.match(r.err, new RegExp(`${name.replace('.', '\\.')}: .*symbolic link that leads outside the model folder`), r.err);
    assert.doesNotMatch(r.err, /root:/, "the linked file's content is never printed");
  }
  // vocab.txt -> /etc/passwd once loaded as a vocabulary.
  const bert = mkdtempSync(join(tmpdir(), 'tt-folder-'));
  symlinkSync('/etc/passwd', join(bert, 'vocab.txt'));
  assert.throws(() => loadTokenizer(bert), /vocab\.txt: .*symbolic link that leads outside the model folder/);
  // A relative link climbing out of the folder is refused the same way.
  const dir = copyFixture(ROBERTA);
  renameSync(join(dir, 'config.json'), join(dirname(dir), 'config.json'));
  symlinkSync('../config.json', join(dir, 'config.json'));
  assert.throws(() => readConfig(join(dir, 'config.json')), /config\.json: .*outside the model folder/);
});

test("links inside the folder and into the hub cache's blob store are followed", () => {
  const dir = copyFixture(ROBERTA);
  renameSync(join(dir, 'config.json'), join(dir, 'real-config.json'));
  symlinkSync('real-config.json', join(dir, 'config.json'));
  assert.equal(readConfig(join(dir, 'config.json')).modelType, 'roberta');
  // The HF cache layout: models--x--y/snapshots/<rev>/<file> -> ../../blobs/<hash>.
  const repo = join(mkdtempSync(join(tmpdir(), 'tt-cache-')), 'models--x--y');
  const snap = join(repo, 'snapshots', 'abc123');
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(repo, 'blobs'));
  for (const f of ['config.json', 'tokenizer.json', 'vocab.json', 'merges.txt', 'model.safetensors']) {
    cpSync(join(ROBERTA, f), join(repo, 'blobs', `hash-${f}`));
    symlinkSync(`../../blobs/hash-${f}`, join(snap, f));
  }
  const { model } = loadModelFromDir(snap);
  assert.ok(model);
  assert.ok(loadTokenizer(snap).encode('hello world').ids.length > 2);
  // ...but a cache link out of blobs/ is not.
  rmSync(join(snap, 'config.json'));
  symlinkSync('/etc/passwd', join(snap, 'config.json'));
  assert.throws(() => readConfig(join(snap, 'config.json')), /outside the model folder/);
});

test('a folder named model.safetensors is refused by name, not with a bare EISDIR', () => {
  const dir = copyFixture(ROBERTA);
  rmSync(join(dir, 'model.safetensors'));
  mkdirSync(join(dir, 'model.safetensors'));
  assert.throws(
    () => loadStateDict(dir),
    (e: unknown) => e instanceof ModelFileError && /model\.safetensors: is a folder, expected a regular file/.test(e.message),
  );
});

test('model-folder text files are read with a size bound', () => {
  const dir = copyFixture(ROBERTA);
  assert.throws(() => readModelFile(join(dir, 'config.json'), 10), /config\.json: is \d+ bytes, more than the 10 bytes allowed/);
});
