// Number formatting and summation order that seqeval's and conlleval's printed digits depend on.
// Expected strings are what Python's format() / C printf print for the same doubles; expected
// sums are numpy's (np.sum uses pairwise summation, so ten 0.1s sum to exactly 1.0).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatFixed } from '../src/metrics/index.js';
import { numpyMean, numpySum, numpyWeightedMean } from '../src/metrics/numpy-sum.js';
import { compareCodePoints, padLeftUtf8Bytes } from '../src/metrics/format-number.js';

test('formatFixed rounds exact ties to even like Python and printf', () => {
  // format(0.125, '.2f') == '0.12'; format(0.375, '.2f') == '0.38'; format(2.5, '.0f') == '2'.
  assert.equal(formatFixed(0.125, 2), '0.12');
  assert.equal(formatFixed(0.375, 2), '0.38');
  assert.equal(formatFixed(2.5, 0), '2');
  assert.equal(formatFixed(3.5, 0), '4');
  // 2.675 is stored as 2.67499999999999982236431605997495353221893310546875.
  assert.equal(formatFixed(2.675, 2), '2.67');
  assert.equal(formatFixed(1 / 3, 4), '0.3333');
  assert.equal(formatFixed(2 / 3, 4), '0.6667');
  assert.equal(formatFixed(100, 2), '100.00');
  assert.equal(formatFixed(-0, 2), '-0.00');
  assert.equal(formatFixed(NaN, 4), 'nan');
  assert.equal(formatFixed(1e21, 1), '1000000000000000000000.0');
});

test('formatFixed agrees with toFixed wherever the value is not an exact tie', () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 8 }), (x, d) => {
      const scaled = x * 10 ** d;
      fc.pre(Math.abs(scaled - Math.floor(scaled) - 0.5) > 1e-6);
      return formatFixed(x, d) === x.toFixed(d);
    }),
    { numRuns: 2000 },
  );
});

test('numpySum follows numpy pairwise order', () => {
  assert.equal(numpySum(Array<number>(10).fill(0.1)), 1.0); // np.sum([0.1]*10) == 1.0
  assert.equal(numpySum([0.1, 0.2, 0.3]), 0.6000000000000001); // under 8 values: left to right
  assert.equal(numpySum([]), 0);
  assert.ok(Number.isNaN(numpyMean([])));
  assert.equal(numpyWeightedMean([1, 0.5, 0], [1, 2, 0]), 2 / 3);
});

test('code-point ordering and byte-width padding', () => {
  assert.ok(compareCodePoints('Z', 'a') < 0);
  assert.ok(compareCodePoints('\uFFFF', '\u{1F600}') < 0); // UTF-16 order would say otherwise
  assert.equal(compareCodePoints('ab', 'ab'), 0);
  assert.equal(padLeftUtf8Bytes('é', 4), '  é');
});
