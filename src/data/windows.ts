/**
 * Splitting sentences that do not fit `maxSeqLength` into overlapping windows of whole words.
 *
 * Ownership: a word inside several windows is "owned" by the window where it is most central,
 * i.e. where min(piece tokens to its left, piece tokens to its right) inside the window is
 * largest — a window edge that is also the sentence edge counts as unlimited context, since no
 * other window can offer more there. Ties go to the earlier window. For windows ordered by
 * start (their ends are then ordered too) this gives each window one contiguous run of owned
 * words, and every word exactly one owner, so evaluation takes each word's prediction once.
 */
export interface WordWindow {
  /** Words [start, end) of the sentence are in this window. */
  start: number;
  end: number;
  /** Words [ownStart, ownEnd) take their prediction from this window (may be empty). */
  ownStart: number;
  ownEnd: number;
}

/**
 * Plans windows for a sentence whose words have `pieceCounts` sub-tokens each.
 * @param budget tokens available for words (maxSeqLength minus [CLS] and [SEP]).
 * @param stride how many tokens consecutive windows should overlap at most (whole words only).
 * A single word longer than `budget` gets a window of its own and is truncated to `budget`
 * pieces by the caller (its first piece, which carries the label, survives).
 */
export function planWindows(pieceCounts: ArrayLike<number>, budget: number, stride: number): WordWindow[] {
  if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`window budget must be a positive integer, got ${budget}`);
  if (!Number.isInteger(stride) || stride < 0 || stride >= budget) {
    throw new RangeError(`stride (overlap) must be an integer in [0, ${budget - 1}] for ${budget} word tokens per window, got ${stride}`);
  }
  const n = pieceCounts.length;
  const c = (w: number): number => Math.min(pieceCounts[w]!, budget);
  const windows: WordWindow[] = [];
  let s = 0;
  for (;;) {
    let e = s;
    let tok = 0;
    while (e < n && tok + c(e) <= budget) {
      tok += c(e);
      e++;
    }
    windows.push({ start: s, end: e, ownStart: s, ownEnd: e });
    if (e >= n) break;
    // Next window starts so that it re-reads at most `stride` tokens and still reaches word e.
    let next = e;
    let ov = 0;
    while (next - 1 > s && ov + c(next - 1) <= stride && ov + c(next - 1) + c(e) <= budget) {
      ov += c(next - 1);
      next--;
    }
    s = next;
  }
  if (windows.length > 1) assignOwners(windows, pieceCounts, budget);
  return windows;
}

function assignOwners(windows: WordWindow[], pieceCounts: ArrayLike<number>, budget: number): void {
  const n = pieceCounts.length;
  const prefix = new Float64Array(n + 1);
  for (let w = 0; w < n; w++) prefix[w + 1] = prefix[w]! + Math.min(pieceCounts[w]!, budget);
  const owner = new Int32Array(n).fill(-1);
  const best = new Float64Array(n).fill(-1);
  windows.forEach((win, k) => {
    for (let w = win.start; w < win.end; w++) {
      const left = win.start === 0 ? Infinity : prefix[w]! - prefix[win.start]!;
      const right = win.end === n ? Infinity : prefix[win.end]! - prefix[w + 1]!;
      const centrality = Math.min(left, right);
      if (centrality > best[w]!) {
        best[w] = centrality;
        owner[w] = k;
      }
    }
  });
  let prevEnd = 0;
  windows.forEach((win, k) => {
    let a = -1;
    let b = -1;
    for (let w = win.start; w < win.end; w++) {
      if (owner[w] !== k) continue;
      if (a < 0) a = w;
      else if (b !== w) throw new Error(`internal: window ${k} owns a non-contiguous set of words`);
      b = w + 1;
    }
    // A window that owns nothing (possible when the stride is over half the window) gets an
    // empty range placed after the previous owner's, so owned ranges stay in sentence order.
    const empty = Math.min(Math.max(prevEnd, win.start), win.end);
    win.ownStart = a < 0 ? empty : a;
    win.ownEnd = a < 0 ? empty : b;
    prevEnd = win.ownEnd;
  });
}
