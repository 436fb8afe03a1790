import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataLoader, IGNORE_INDEX, collate, lengthGroupedOrder, sequentialOrder, shuffledOrder } from '../src/data/index.js';
import { Rng, deriveSeed } from '../src/engine/random.js';
import type { Feature } from '../src/data/index.js';

function feature(len: number, sentenceIndex: number): Feature {
  const ids = Int32Array.from({ length: len }, (_, i) => 1000 + sentenceIndex * 10 + i);
  const wordIds = Int32Array.from({ length: len }, (_, i) => (i === 0 || i === len - 1 ? -1 : i - 1));
  const labels = Int32Array.from(wordIds, (w) => (w < 0 ? IGNORE_INDEX : w % 3));
  return {
    inputIds: ids,
    attentionMask: new Int32Array(len).fill(1),
    tokenTypeIds: new Int32Array(len),
    labels,
    wordIds,
    sentenceIndex,
    windowIndex: 0,
    wordStart: 0,
    wordEnd: len - 2,
    ownedWordStart: 0,
    ownedWordEnd: len - 2,
  };
}

test('collate: dynamic padding to the longest, optional multiple of 8', () => {
  const b = collate([feature(3, 0), feature(5, 1)], 0);
  assert.equal(b.batchSize, 2);
  assert.equal(b.seqLen, 5);
  assert.deepEqual(Array.from(b.inputIds), [1000, 1001, 1002, 0, 0, 1010, 1011, 1012, 1013, 1014]);
  assert.deepEqual(Array.from(b.attentionMask), [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(b.labels), [-100, 0, -100, -100, -100, -100, 0, 1, 2, -100]);
  assert.deepEqual(Array.from(b.wordIds), [-1, 0, -1, -1, -1, -1, 0, 1, 2, -1]);
  assert.deepEqual(Array.from(b.tokenTypeIds), new Array(10).fill(0));
  const m = collate([feature(3, 0), feature(9, 1)], 7, { padToMultipleOf: 8 });
  assert.equal(m.seqLen, 16);
  assert.equal(m.inputIds.length, 32);
  assert.equal(m.inputIds[31], 7);
  assert.throws(() => collate([], 0), /empty batch/);
});

test('nextInt is unbiased: each value of [0, 6) about equally often', () => {
  const r = Rng.fromSeed(123);
  const counts = new Array<number>(6).fill(0);
  const N = 60000;
  for (let i = 0; i < N; i++) counts[r.nextInt(6)]!++;
  const expected = N / 6;
  const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
  assert.ok(chi2 < 20.5, `chi2=${chi2}`); // p≈0.001 cut-off for 5 degrees of freedom
});

test('shuffledOrder: permutation, deterministic from (seed, epoch), differs across epochs and seeds', () => {
  const a = shuffledOrder(50, 42, 0);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from(sequentialOrder(50)),
  );
  assert.deepEqual(shuffledOrder(50, 42, 0), a);
  assert.notDeepEqual(shuffledOrder(50, 42, 1), a);
  assert.notDeepEqual(shuffledOrder(50, 43, 0), a);
  assert.notEqual(deriveSeed(1, 0), deriveSeed(0, 1));
});

test('property: lengthGroupedOrder is a permutation grouped as HF LengthGroupedSampler', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 200 }),
      fc.integer({ min: 1, max: 8 }),
      fc.nat(),
      (lengths, bs, seed) => {
        const order = lengthGroupedOrder(lengths, bs, seed, 3);
        assert.deepEqual(
          [...order].sort((x, y) => x - y),
          Array.from(sequentialOrder(lengths.length)),
        );
        assert.deepEqual(lengthGroupedOrder(lengths, bs, seed, 3), order);
        assert.equal(lengths[order[0]!], Math.max(...lengths), 'longest first');
        const mult = Math.max(1, Math.min(Math.floor(lengths.length / (bs * 4)), 50));
        const mega = mult * bs;
        for (let g = 0; g < order.length; g += mega) {
          const grp = Array.from(order.subarray(g, g + mega), (i) => lengths[i]!);
          // Sorted descending apart from the swapped-in first element.
          for (let i = 2; i < grp.length; i++) assert.ok(grp[i - 1]! >= grp[i]!);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('DataLoader: epochs cover every feature once; resume by skipping reproduces the same batches', () => {
  const feats = Array.from({ length: 23 }, (_, i) => feature(3 + ((i * 7) % 11), i));
  for (const sampler of ['sequential', 'random', 'length-grouped'] as const) {
    const dl = new DataLoader(feats, { batchSize: 4, sampler, seed: 5, padId: 0 });
    assert.equal(dl.batchesPerEpoch, 6);
    const batches = [...dl.batchesForEpoch(2)];
    assert.equal(batches.length, 6);
    const seen = batches.flatMap((b) => b.features.map((f) => f.sentenceIndex)).sort((x, y) => x - y);
    assert.deepEqual(
      seen,
      Array.from({ length: 23 }, (_, i) => i),
    );
    const resumed = [...new DataLoader(feats, { batchSize: 4, sampler, seed: 5, padId: 0 }).batchesForEpoch(2, { skip: 4 })];
    assert.deepEqual(
      resumed.map((b) => Array.from(b.inputIds)),
      batches.slice(4).map((b) => Array.from(b.inputIds)),
    );
    if (sampler !== 'sequential') assert.notDeepEqual(Array.from(dl.order(1)), Array.from(dl.order(2)));
  }
  const drop = new DataLoader(feats, { batchSize: 4, dropLast: true, padId: 0 });
  assert.equal(drop.batchesPerEpoch, 5);
  assert.ok([...drop.batchesForEpoch(0)].every((b) => b.batchSize === 4));
  // Length grouping pads less than random order.
  const pad = (dl: DataLoader): number => [...dl.batchesForEpoch(0)].reduce((s, b) => s + b.inputIds.length, 0);
  const many = Array.from({ length: 400 }, (_, i) => feature(3 + ((i * 37) % 97), i));
  assert.ok(
    pad(new DataLoader(many, { batchSize: 8, sampler: 'length-grouped', seed: 1, padId: 0 })) <
      pad(new DataLoader(many, { batchSize: 8, sampler: 'random', seed: 1, padId: 0 })),
  );
});
