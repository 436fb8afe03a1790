/**
 * TOKENTUNE_BLAS: the optional system BLAS behind the fp32 GEMM (native/blas.cc, loaded with dlopen).
 * With Debian's libopenblas present, TOKENTUNE_BLAS=openblas must give the same products as the
 * float64 reference at our kernels' tolerance (and our kernels, in a process without the variable, the
 * same check); without the library the test skips with a message. An unknown name or a missing
 * library is a clear error on the first GEMM, never a silent fallback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNative, nativeLoadError } from '../src/engine/native.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'blas-child.js');

function run(blas: string | null): { blas?: string; cases?: number; worst?: number; error?: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, TOKENTUNE_THREADS: '2' };
  delete env.TOKENTUNE_BLAS;
  if (blas !== null) env.TOKENTUNE_BLAS = blas;
  const res = spawnSync(process.execPath, [child], { env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout.trim().split('\n').pop()!);
}

const skip = loadNative() ? false : `native addon not built (${nativeLoadError()})`;

test('our kernels (no TOKENTUNE_BLAS) pass the BLAS check', { skip }, () => {
  const r = run(null);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.blas, '');
  assert.ok(r.cases! >= 48);
});

test('TOKENTUNE_BLAS=openblas: cblas_sgemm matches the float64 reference', { skip }, (t) => {
  const r = run('openblas');
  if (r.error && /cannot load libopenblas/.test(r.error)) {
    t.skip(`libopenblas not installed (apt-get install libopenblas0): ${r.error}`);
    return;
  }
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.blas, 'openblas');
  assert.ok(r.cases! >= 48 && r.worst! <= 1, JSON.stringify(r));
});

test("TOKENTUNE_BLAS=accelerate (macOS): Apple's cblas_sgemm matches the float64 reference", {
  skip: skip || (process.platform !== 'darwin' && 'Accelerate exists on macOS only'),
}, () => {
  const r = run('accelerate');
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.blas, 'accelerate');
  assert.ok(r.cases! >= 48 && r.worst! <= 1, JSON.stringify(r));
});

test('TOKENTUNE_BLAS with an unknown name or an absent library is an error naming the variable', { skip }, () => {
  assert.match(run('mkl-ish').error ?? '', /TOKENTUNE_BLAS='mkl-ish' is not a known BLAS/);
  if (process.platform !== 'darwin') assert.match(run('accelerate').error ?? '', /TOKENTUNE_BLAS=accelerate: .*macOS only/);
});
