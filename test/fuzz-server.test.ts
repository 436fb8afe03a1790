/**
 * Fuzzing of the network-facing surfaces at CI size (FUZZ_RUNS inputs each, default 200): the
 * HTTP server through a raw socket and the queue worker's message parsing. No input may get a
 * 5xx, stop /health, throw, take over 1 s or add 256 MB. The large run is
 * `node dist/test/fuzz/run.js --runs 20000 --target http-server` (or queue-record).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz } from './fuzz/targets.js';
import { serverTargets } from './fuzz/server-targets.js';

const runs = Number(process.env.FUZZ_RUNS ?? 200);

for (const t of await serverTargets()) {
  test(`fuzz ${t.name}: ${runs} inputs, no 5xx or throw, within 1 s and 256 MB each`, { timeout: 120_000 }, async () => {
    const s = await fuzz(t, runs);
    assert.equal(s.runs, runs);
    assert.equal(s.accepted, runs);
  });
}
