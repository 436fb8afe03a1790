// Seedable PRNG for everything random (weight init, data order, the demo corpus, seeds for dropout).
// xoshiro128** (Blackman & Vigna, 2018): 128-bit state, 32-bit outputs, fast with Math.imul,
// and its whole state fits in four uint32 so a checkpoint can store it and resume the exact stream.
// Seeds are expanded with splitmix32 so that nearby seeds (42, 43) give unrelated streams.

export interface RngState {
  /** The four 32-bit state words. */
  s: [number, number, number, number];
  /** Box-Muller makes normals in pairs; the unused second one, if any. */
  spareNormal: number | null;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32 step (Vigna's 32-bit variant of splitmix); returns [output, next state]. */
function splitmix32(state: number): [number, number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [z >>> 0, next];
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  private constructor(s: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = s.map((x) => x >>> 0) as [number, number, number, number];
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
  }

  /** A generator seeded from an integer (any safe integer; the low 53 bits all matter). */
  static fromSeed(seed: number): Rng {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
    // Fold the high bits in so that seeds differing only above bit 31 still differ.
    const hi = Math.floor(seed / 0x100000000) >>> 0;
    let st = (seed >>> 0) ^ Math.imul(hi, 0x27d4eb2d);
    const words: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [out, next] = splitmix32(st);
      words.push(out);
      st = next;
    }
    if (!words.some((w) => w !== 0)) words[0] = 1;
    return new Rng(words as [number, number, number, number]);
  }

  /** A generator with exactly this xoshiro128** state (no seeding), as in the reference C code. */
  static fromWords(s: readonly [number, number, number, number]): Rng {
    return new Rng(s);
  }

  static fromState(state: RngState): Rng {
    if (!state || !Array.isArray(state.s) || state.s.length !== 4 || state.s.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffffffff)) {
      throw new RangeError('rng state: expected s to be four integers in [0, 2^32)');
    }
    if (state.spareNormal !== null && typeof state.spareNormal !== 'number')
      throw new RangeError('rng state: spareNormal must be a number or null');
    const r = new Rng(state.s);
    r.spare = state.spareNormal;
    return r;
  }

  /** JSON-serialisable snapshot; fromState(state()) continues the same stream. */
  state(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spare };
  }

  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 32 random bits (ample for float32 weights and dropout). */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), without modulo bias (rejects the top partial block of 2^32). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000) throw new RangeError(`nextInt: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (mean 0, std 1) by Box-Muller; `mean`/`std` shift and scale it. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    const u1 = 1 - this.nextFloat(); // (0, 1]: log(0) must not happen
    const u2 = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return mean + std * r * Math.cos(theta);
  }

  /** Fisher-Yates shuffle in place (arrays or typed arrays); returns it. */
  shuffle<A extends { length: number; [i: number]: unknown }>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }
}

/**
 * A seed for an independent stream named by labels, e.g. deriveSeed(42, 'dropout', layer) or
 * deriveSeed(args.seed, 'shuffle', epoch): the same inputs always give the same seed, different
 * labels give unrelated seeds. FNV-1a over the seed and labels, finished with a murmur3 mix.
 */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  let h = 0x811c9dc5;
  const eat = (byte: number): void => {
    h ^= byte & 0xff;
    h = Math.imul(h, 0x01000193);
  };
  const eatU32 = (x: number): void => {
    for (let k = 0; k < 4; k++) eat(x >>> (8 * k));
  };
  eatU32(seed >>> 0);
  eatU32(Math.floor(seed / 0x100000000) >>> 0);
  for (const label of labels) {
    // A type tag and a length keep ('ab','c') apart from ('a','bc') and 1 apart from '1'.
    if (typeof label === 'number') {
      eat(1);
      const buf = new DataView(new ArrayBuffer(8));
      buf.setFloat64(0, label);
      for (let k = 0; k < 8; k++) eat(buf.getUint8(k));
    } else {
      eat(2);
      const bytes = new TextEncoder().encode(label);
      eatU32(bytes.length);
      for (const b of bytes) eat(b);
    }
  }
  return fmix32(h);
}

/** murmur3's 32-bit finaliser: every input bit flips each output bit with probability ~1/2. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
