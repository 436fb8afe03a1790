/**
 * The version is written once, in package.json: the CLI's --version, model cards
 * (cli/train.ts's VERSION) and the ONNX producer_version all read it from there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { VERSION } from '../src/version.js';
import { VERSION as TRAIN_VERSION } from '../src/cli/train.js';
import { main } from '../src/cli/main.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

test("VERSION is package.json's version, and --version and cli/train.ts print it", async () => {
  assert.match(pkg.version, /^\d+\.\d+\.\d+/);
  assert.equal(VERSION, pkg.version);
  assert.equal(TRAIN_VERSION, pkg.version);
  let out = '';
  const code = await main(['--version'], {
    stdout: { write: (s: string) => ((out += s), true) } as NodeJS.WritableStream,
    stderr: process.stderr,
  });
  assert.equal(code, 0);
  assert.equal(out, `tokentune ${pkg.version}\n`);
});
