// Float sums in the exact order numpy uses for float64 add.reduce (np.sum / np.average), so
// macro and weighted averages equal seqeval's to the last bit. numpy sums contiguous float64
// data pairwise: fewer than 8 values in order, up to 128 with eight interleaved accumulators,
// beyond that by recursive halving (numpy/_core/src/umath/loops_utils.h.src, pairwise_sum).

const BLOCK = 128;

function pairwise(values: readonly number[], start: number, n: number): number {
  if (n < 8) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += values[start + i]!;
    return sum;
  }
  if (n <= BLOCK) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = values[start + j]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j]! += values[start + i + j]!;
    }
    let sum = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) sum += values[start + i]!;
    return sum;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return pairwise(values, start, half) + pairwise(values, start + half, n - half);
}

/** np.sum(np.array(values, dtype=float64)). */
export function numpySum(values: readonly number[]): number {
  return pairwise(values, 0, values.length);
}

/** np.average(values): NaN for no values, as numpy gives (with a RuntimeWarning). */
export function numpyMean(values: readonly number[]): number {
  return numpySum(values) / values.length;
}

/** np.average(values, weights=weights) for integer weights whose sum is not zero. */
export function numpyWeightedMean(values: readonly number[], weights: readonly number[]): number {
  const products = values.map((v, i) => v * weights[i]!);
  return numpySum(products) / numpySum(weights);
}
