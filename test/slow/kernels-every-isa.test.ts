/**
 * The kernel tests again, in child processes with every lower instruction set forced through
 * TOKENTUNE_KERNEL (on AVX-512: avx2 and scalar; on AVX2: scalar), so one machine proves the paths
 * the CPUs below it run. native-kernels.test.ts walks the levels itself (setNativeIsa); these files
 * run at whatever level the process starts with. Also: a level the CPU lacks, or an unknown name,
 * is an error that says what the CPU has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kernelFromEnv, nativeInfo, nativeLoadError, NATIVE_ISAS } from '../../src/engine/native.js';
import { childEnv, nativeProbe } from '../helpers/native-child.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Kernel tests that compare native kernels with the reference at the level the process starts with. */
const KERNEL_TESTS = ['int8-kernels', 'bf16-gemm', 'engine-fused', 'bf16-training'];

const info = nativeInfo();
const skip = info ? false : `native addon not built: ${nativeLoadError()}`;
// Levels below the one this run uses (the run itself covers its own level).
const lower = info ? NATIVE_ISAS.slice(0, NATIVE_ISAS.indexOf(info.isa)).reverse() : [];

const isaInChild = (kernel: string) => nativeProbe({ TOKENTUNE_KERNEL: kernel }, 'm.nativeInfo().isa');

for (const isa of lower) {
  test(`kernel tests with TOKENTUNE_KERNEL=${isa} (${KERNEL_TESTS.join(', ')})`, { skip, timeout: 600_000 }, () => {
    const probe = isaInChild(isa);
    assert.equal(probe.status, 0, String(probe.stderr));
    assert.equal(String(probe.stdout).trim(), isa, 'the child runs the forced level');
    const files = KERNEL_TESTS.map((f) => path.join(here, '..', `${f}.test.js`));
    const res = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], {
      env: childEnv({ TOKENTUNE_KERNEL: isa }),
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const count = (what: string) => Number(String(res.stdout).match(new RegExp(`^# ${what} (\\d+)$`, 'm'))?.[1] ?? NaN);
    const failures = String(res.stdout)
      .split('\n')
      .filter((l) => /^\s*not ok /.test(l))
      .join('\n');
    assert.equal(res.status, 0, `TOKENTUNE_KERNEL=${isa}: kernel tests failed\n${failures}\n${String(res.stderr).slice(-2000)}`);
    assert.ok(count('pass') > 0, `TOKENTUNE_KERNEL=${isa}: no test passed`);
    assert.equal(count('fail'), 0);
  });
}
if (info && lower.length === 0) test('kernel tests at lower levels', { skip: `this run uses ${info.isa}, the lowest level` }, () => {});

test('TOKENTUNE_KERNEL: a level the CPU lacks or an unknown name is an error naming what the CPU has', { skip }, () => {
  assert.equal(kernelFromEnv(undefined, 'avx2'), null);
  assert.equal(kernelFromEnv('', 'avx2'), null);
  assert.equal(kernelFromEnv('scalar', 'avx2'), 'scalar');
  assert.equal(kernelFromEnv('avx2', 'avx512'), 'avx2');
  assert.throws(
    () => kernelFromEnv('avx512', 'avx2'),
    /^Error: TOKENTUNE_KERNEL=avx512: this CPU lacks avx512; this CPU runs scalar, avx2 \(best avx2\)$/,
  );
  assert.throws(() => kernelFromEnv('avx2', 'scalar'), /lacks avx2; this CPU runs scalar \(best scalar\)/);
  assert.throws(() => kernelFromEnv('AVX2', 'avx512'), /TOKENTUNE_KERNEL=AVX2: unknown kernel; this CPU runs scalar, avx2, avx512/);
  // The real addon at load: an unknown name and (where this CPU lacks it) AVX-512 fail loudly.
  const bad = ['sse9', ...(info!.maxIsa === 'avx512' ? [] : ['avx512'])];
  for (const kernel of bad) {
    const res = isaInChild(kernel);
    assert.notEqual(res.status, 0, `TOKENTUNE_KERNEL=${kernel} was accepted`);
    assert.match(String(res.stderr), new RegExp(`TOKENTUNE_KERNEL=${kernel}: .*this CPU runs scalar.*\\(best ${info!.maxIsa}\\)`));
  }
});
