/**
 * The large fuzz run, outside the test suite:
 *   node dist/test/fuzz/run.js [--runs 50000] [--target pickle] [--seed N]
 * Prints, per reader (and per network surface, test/fuzz/server-targets.ts), the inputs tried, accepted and refused, and the slowest and largest input.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzz, targets } from './targets.js';
import { tokenizerTargets } from './targets-tokenizer.js';
import { serverTargets } from './server-targets.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const runs = Number(opt('runs') ?? process.env.FUZZ_RUNS ?? 50_000);
const only = opt('target');
const seed = opt('seed') !== undefined ? Number(opt('seed')) : undefined;
const tmpFile = join(mkdtempSync(join(tmpdir(), 'tt-fuzz-')), 'input');

let failed = false;
console.log('target            runs  accepted   refused  max ms  max MB');
for (const t of [...targets(tmpFile), ...tokenizerTargets(tmpFile), ...(await serverTargets())]) {
  if (only && t.name !== only) continue;
  try {
    const s = await fuzz(t, runs, undefined, seed);
    console.log(
      `${s.target.padEnd(16)} ${String(s.runs).padStart(6)} ${String(s.accepted).padStart(9)} ${String(s.refused).padStart(9)} ${s.maxMs.toFixed(1).padStart(7)} ${s.maxMB.toFixed(1).padStart(7)}`,
    );
  } catch (e) {
    failed = true;
    console.log(`${t.name.padEnd(16)} FINDING\n${(e as Error).message.slice(0, 4000)}`);
  }
}
process.exitCode = failed ? 1 : 0;
