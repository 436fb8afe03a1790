/**
 * Fuzzing of the tokenizer and resume readers at CI size (FUZZ_RUNS inputs each, default 200):
 * tokenizer.json of every component kind, SentencePiece protobufs, trainer_state.json and
 * optimizer.pt. No input may throw anything but the reader's own error, take over 1 s or add
 * 256 MB. The large run: `node dist/test/fuzz/run.js --runs 50000`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzz } from './fuzz/targets.js';
import { tokenizerTargets } from './fuzz/targets-tokenizer.js';

const runs = Number(process.env.FUZZ_RUNS ?? 200);
const tmpFile = join(mkdtempSync(join(tmpdir(), 'tt-fuzz-tok-')), 'input');

for (const t of tokenizerTargets(tmpFile)) {
  test(`fuzz ${t.name}: ${runs} inputs, only its own errors, within 1 s and 256 MB each`, { timeout: 180_000 }, async () => {
    const s = await fuzz(t, runs);
    assert.equal(s.runs, runs);
    assert.equal(s.accepted + s.refused, runs);
    console.log(
      `# ${t.name}: ${s.runs} runs, ${s.accepted} accepted, ${s.refused} refused, max ${s.maxMs.toFixed(1)} ms, ${s.maxMB.toFixed(1)} MB`,
    );
  });
}
