/**
 * A fresh Node process for settings the native loader reads once at load (TOKENTUNE_KERNEL,
 * TOKENTUNE_INT8): its environment, and a one-line probe of what the loaded addon reports.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const nativeJs = fileURLToPath(new URL('../../src/engine/native.js', import.meta.url));

/** process.env plus `vars`, without the test runner's context variable (it would turn the child into a reporter child). */
export function childEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...vars };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Loads the addon in a child with `vars` set and prints `expr` (evaluated on the native.js module `m`). */
export function nativeProbe(vars: Record<string, string>, expr: string): SpawnSyncReturns<string> {
  const script = `import(${JSON.stringify(nativeJs)}).then((m) => console.log(${expr}))`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: childEnv(vars), encoding: 'utf8' });
}
