/**
 * Fuzzing of every reader of untrusted files at CI size (FUZZ_RUNS inputs per reader, default
 * 200): no input may throw anything but the reader's own error, take over 1 s or add 256 MB.
 * The large run is `node dist/test/fuzz/run.js --runs 50000`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzz, targets } from './fuzz/targets.js';

const runs = Number(process.env.FUZZ_RUNS ?? 200);
const tmpFile = join(mkdtempSync(join(tmpdir(), 'tt-fuzz-')), 'input');

for (const t of targets(tmpFile)) {
  test(`fuzz ${t.name}: ${runs} inputs, only its own errors, within 1 s and 256 MB each`, { timeout: 120_000 }, async () => {
    const s = await fuzz(t, runs);
    assert.equal(s.runs, runs);
    assert.equal(s.accepted + s.refused, runs);
  });
}
