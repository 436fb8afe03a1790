// Fixed-point formatting that rounds the way Python's format(x, '.Nf') and C/Perl printf('%.Nf')
// do: from the exact binary value of the double, ties to even. Number.prototype.toFixed breaks
// exact ties upwards (0.125 -> "0.13" where Python and Perl print "0.12"), which would make
// reports differ from seqeval/conlleval in the last printed digit.

const scratch = new DataView(new ArrayBuffer(8));

/** Splits a finite non-negative double into integer mantissa and binary exponent: x = m * 2^e. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  const lo = scratch.getUint32(4);
  const exponentBits = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exponentBits === 0) return { mantissa: fraction, exponent: -1074 }; // subnormal or zero
  return { mantissa: fraction | (1n << 52n), exponent: exponentBits - 1075 };
}

/** `x` with exactly `digits` decimals, rounded half-to-even on the exact binary value. */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 100) {
    throw new RangeError(`digits must be an integer in [0, 100], got ${digits}`);
  }
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const { mantissa, exponent } = decompose(Math.abs(x));
  const scale = 10n ** BigInt(digits);
  let scaled: bigint;
  if (exponent >= 0) {
    scaled = (mantissa << BigInt(exponent)) * scale;
  } else {
    const numerator = mantissa * scale;
    const denominator = 1n << BigInt(-exponent);
    scaled = numerator / denominator;
    const twiceRemainder = 2n * (numerator % denominator);
    if (twiceRemainder > denominator || (twiceRemainder === denominator && (scaled & 1n) === 1n)) {
      scaled += 1n;
    }
  }
  let text = scaled.toString();
  if (digits > 0) {
    text = text.padStart(digits + 1, '0');
    text = `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  }
  return negative ? `-${text}` : text;
}

/** Number of Unicode code points: what Python's len() and str.format widths count. */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Right-aligns like Python's '{:>W}' (width counted in code points, never truncates). */
export function padLeftCodePoints(s: string, width: number): string {
  const missing = width - codePointLength(s);
  return missing > 0 ? ' '.repeat(missing) + s : s;
}

/** Right-aligns like Perl's printf('%Ws') on byte strings: width counted in UTF-8 bytes. */
export function padLeftUtf8Bytes(s: string, width: number): string {
  const missing = width - utf8ByteLength(s);
  return missing > 0 ? ' '.repeat(missing) + s : s;
}

function utf8ByteLength(s: string): number {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** Compares strings by Unicode code point, the order of Python's sorted() and Perl's sort. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done) return cb.done ? 0 : -1;
    if (cb.done) return 1;
    const da = ca.value.codePointAt(0)!;
    const db = cb.value.codePointAt(0)!;
    if (da !== db) return da < db ? -1 : 1;
  }
}
