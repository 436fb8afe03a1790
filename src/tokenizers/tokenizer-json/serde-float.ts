/**
 * Rust `tokenizers` reads tokenizer.json with serde_json's default ("best effort", not correctly
 * rounded) float parser: the decimal digits as a u64 significand, then one multiplication or
 * division by a power of ten. Unigram scores parsed that way can differ from JSON.parse's in the
 * last bit, which decides Viterbi ties; this redoes serde's arithmetic from the shortest decimal
 * form of the value (the digits the file holds when Python or Rust wrote it).
 */
const U64_MAX = (1n << 64n) - 1n;
const POW10: number[] = Array.from({ length: 309 }, (_, k) => Number(`1e${k}`));

export function serdeJsonF64(x: number): number {
  if (!Number.isFinite(x) || x === 0 || Number.isInteger(x)) return x;
  const neg = x < 0;
  const s = String(Math.abs(x));
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/.exec(s);
  if (!m) return x;
  let sig = 0n;
  let exp = 0;
  let overflow = false;
  for (const ch of m[1]!) {
    const next = sig * 10n + BigInt(ch.charCodeAt(0) - 48);
    if (next > U64_MAX) return x; // serde switches to another path here; scores never get there
    sig = next;
  }
  for (const ch of m[2] ?? '') {
    if (overflow) continue; // serde ignores fraction digits past u64
    const next = sig * 10n + BigInt(ch.charCodeAt(0) - 48);
    if (next > U64_MAX) {
      overflow = true;
      continue;
    }
    sig = next;
    exp -= 1;
  }
  exp += m[3] ? parseInt(m[3], 10) : 0;
  let f = Number(sig);
  for (;;) {
    const abs = Math.abs(exp);
    if (abs < POW10.length) {
      if (exp >= 0) f *= POW10[abs]!;
      else f /= POW10[abs]!;
      break;
    }
    if (f === 0 || exp >= 0) break;
    f /= 1e308;
    exp += 308;
  }
  return neg ? -f : f;
}
