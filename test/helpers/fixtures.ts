/** Paths and readers for the committed PyTorch fixtures (made by scripts/fixtures/make-bert-fixtures.py). */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { readSafetensors } from '../../src/io/safetensors.js';
import type { TensorRecord } from '../../src/io/tensor-record.js';

/** The repository root, from dist/test/helpers/ or test/helpers/. */
export const repoRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

export const fixturesDir = join(repoRoot, 'test', 'fixtures');

/** ../shared beside the repository (CI has it; a user's clone may not). */
export const sharedDir = resolve(repoRoot, '..', 'shared');
export const sharedSkip = existsSync(sharedDir) ? false : `../shared is absent (${sharedDir}); this test needs the project's shared data`;

export function readFixture(rel: string): Map<string, TensorRecord> {
  return readSafetensors(join(fixturesDir, rel)).tensors;
}

/** max |a - b| / max(1, |b|) style comparison with a useful message. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1): { diff: number; at: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0,
    at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(floor, Math.abs(b[i]));
    if (!(d <= diff)) {
      diff = d;
      at = i;
    }
  }
  return { diff, at };
}
