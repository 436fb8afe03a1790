/**
 * Raw element bytes -> the io layer's in-memory arrays (see tensor-record.ts for the rules).
 */
import { CheckpointFormatError } from './errors.js';
import { DTYPE_ITEM_SIZE, type DType, type TensorData } from './tensor-record.js';

export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Float32Array | undefined;

/** IEEE 754 binary16 bit pattern -> number (exact: every half is representable as a float32). */
export function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** bfloat16 is the top half of a float32, so widening is a 16-bit shift (NaN payloads kept). */
export function bfloat16BitsToNumber(h: number): number {
  const u = new Uint32Array([(h & 0xffff) << 16]);
  return new Float32Array(u.buffer)[0]!;
}

const f32Scratch = new Float32Array(1),
  u32Scratch = new Uint32Array(f32Scratch.buffer);

/** number -> IEEE 754 binary16 bit pattern, rounded to nearest even (overflow to infinity, NaN kept). */
export function numberToHalfBits(v: number): number {
  f32Scratch[0] = v;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000,
    exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  let shift = 13;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000; // subnormal half: the implicit bit becomes explicit
    shift = 14 - e;
  }
  let h = (e > 0 ? e << 10 : 0) + (mant >>> shift);
  const rem = mant & ((1 << shift) - 1),
    half = 1 << (shift - 1);
  if (rem > half || (rem === half && h & 1)) h++; // a carry into the exponent is still correct
  return sign | h;
}

// A 65536-entry table (256 KiB) makes half conversion a single lookup per element.
export function getHalfTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) halfTable[i] = halfBitsToNumber(i);
  }
  return halfTable;
}

function swapBytes(bytes: Uint8Array, itemSize: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += itemSize) {
    for (let j = 0; j < itemSize; j++) out[i + j] = bytes[i + itemSize - 1 - j]!;
  }
  return out;
}

/** Bytes in host order, in a buffer whose offset is aligned for `itemSize`. */
function hostOrderAligned(bytes: Uint8Array, itemSize: number, littleEndian: boolean): Uint8Array {
  if (littleEndian !== HOST_IS_LITTLE_ENDIAN && itemSize > 1) return swapBytes(bytes, itemSize);
  if (bytes.byteOffset % itemSize === 0) return bytes;
  return new Uint8Array(bytes); // copy to a fresh, aligned buffer
}

/**
 * Decode `bytes` (exactly numel * itemsize of `dtype`) into a Float32Array or Int32Array.
 * The result may share memory with `bytes` (F32/I32 in host order): callers pass buffers they own.
 * `what` names the file and tensor for errors (I64 values outside int32).
 */
export function decodeElements(bytes: Uint8Array, dtype: DType, what: { file: string; tensor: string }, littleEndian = true): TensorData {
  const size = DTYPE_ITEM_SIZE[dtype];
  if (bytes.length % size !== 0) {
    throw new CheckpointFormatError(
      what.file,
      `tensor '${what.tensor}': ${bytes.length} bytes is not a multiple of the ${dtype} item size ${size}`,
    );
  }
  const n = bytes.length / size;
  const src = hostOrderAligned(bytes, size, littleEndian);
  switch (dtype) {
    case 'F32':
      return new Float32Array(src.buffer, src.byteOffset, n);
    case 'F64':
      return Float32Array.from(new Float64Array(src.buffer, src.byteOffset, n));
    case 'F16': {
      const table = getHalfTable();
      const h = new Uint16Array(src.buffer, src.byteOffset, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = table[h[i]!]!;
      return out;
    }
    case 'BF16': {
      const h = new Uint16Array(src.buffer, src.byteOffset, n);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = h[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    case 'I32':
      return new Int32Array(src.buffer, src.byteOffset, n);
    case 'I64': {
      // Two 32-bit halves per element; fits int32 iff the high half is the sign extension of the low.
      const words = new Int32Array(src.buffer, src.byteOffset, n * 2);
      const loIdx = HOST_IS_LITTLE_ENDIAN ? 0 : 1;
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = words[2 * i + loIdx]!;
        const hi = words[2 * i + 1 - loIdx]!;
        if (hi !== lo >> 31) {
          const big = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
          throw new CheckpointFormatError(
            what.file,
            `tensor '${what.tensor}': I64 value ${big} at element ${i} does not fit in int32 ` +
              `(integer tensors are loaded as Int32Array)`,
          );
        }
        out[i] = lo;
      }
      return out;
    }
    case 'I8':
      return Int32Array.from(new Int8Array(src.buffer, src.byteOffset, n));
    case 'U8':
      return Int32Array.from(src.subarray(0, n));
    case 'BOOL': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = src[i] !== 0 ? 1 : 0;
      return out;
    }
  }
}
