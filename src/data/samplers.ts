import { Rng, deriveSeed } from '../engine/random.js';

/** Indices 0..n-1 in order (evaluation, prediction). */
export function sequentialOrder(n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** A random permutation of 0..n-1 that depends only on (seed, epoch). */
export function shuffledOrder(n: number, seed: number, epoch: number): Int32Array {
  const out = sequentialOrder(n);
  return Rng.fromSeed(deriveSeed(seed, 'data-order', epoch)).shuffle(out);
}

/**
 * Length-grouped order, following HF's `get_length_grouped_indices`: a random permutation is cut
 * into mega-batches of `megaBatchMult * batchSize` indices, each sorted by length (longest first,
 * stable), and the mega-batch holding the overall longest item is swapped to the front so an
 * out-of-memory error shows up on the first step. Batches then hold similar lengths, so less
 * padding. `megaBatchMult` defaults, as in HF, to min(floor(n / (4 * batchSize)), 50), at least 1.
 */
export function lengthGroupedOrder(
  lengths: ArrayLike<number>,
  batchSize: number,
  seed: number,
  epoch: number,
  megaBatchMult?: number,
): Int32Array {
  const n = lengths.length;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const mult = megaBatchMult ?? Math.max(1, Math.min(Math.floor(n / (batchSize * 4)), 50));
  const mega = mult * batchSize;
  const perm = shuffledOrder(n, seed, epoch);
  const groups: number[][] = [];
  for (let i = 0; i < n; i += mega) {
    const g = Array.from(perm.subarray(i, Math.min(i + mega, n)));
    g.sort((a, b) => lengths[b]! - lengths[a]!);
    groups.push(g);
  }
  if (groups.length > 1) {
    let maxG = 0;
    for (let g = 1; g < groups.length; g++) if (lengths[groups[g]![0]!]! > lengths[groups[maxG]![0]!]!) maxG = g;
    const first = groups[0]!;
    const other = groups[maxG]!;
    [first[0], other[0]] = [other[0]!, first[0]!];
  }
  return Int32Array.from(groups.flat());
}
