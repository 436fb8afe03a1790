/**
 * A small pickle writer (protocol 2) for the values a torch.save state dict holds: dicts, lists,
 * tuples, ints, floats, strings, booleans, None and tensors. A tensor is written as torch does it:
 * `torch._utils._rebuild_tensor_v2` over a persistent storage reference, so the only globals the
 * output names are the ones torch.load(weights_only=True) and our reader (torch-pickle.ts) allow.
 */
import type { DType } from './tensor-record.js';

/** A tuple (Python distinguishes it from a list: AdamW's betas are one). */
export class PickleTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** A view of a storage written as its own record `data/<key>` of the archive. */
export interface PickleTensor {
  readonly kind: 'tensor';
  readonly storageKey: string;
  readonly dtype: DType;
  /** Element count of the whole storage. */
  readonly storageNumel: number;
  readonly offset: number;
  readonly shape: readonly number[];
}

/** A whole number that Python must see as a float (0.0, not 0): integral numbers are written as ints. */
export class PickleFloat {
  constructor(readonly value: number) {}
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PickleFloat
  | PickleTuple
  | PickleTensor
  | readonly PickleValue[]
  | ReadonlyMap<string | number, PickleValue>;

const STORAGE_TYPE: Readonly<Partial<Record<DType, string>>> = {
  F32: 'FloatStorage',
  F64: 'DoubleStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

class Out {
  private buf = new Uint8Array(1024);
  private len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(...bs: number[]): void {
    this.ensure(bs.length);
    for (const b of bs) this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.len, v, true);
    this.len += 4;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const OP = {
  PROTO: 0x80,
  STOP: 0x2e,
  MARK: 0x28,
  NONE: 0x4e,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT: 0x4a,
  BININT1: 0x4b,
  BININT2: 0x4d,
  LONG1: 0x8a,
  BINFLOAT: 0x47,
  BINUNICODE: 0x58,
  EMPTY_DICT: 0x7d,
  SETITEMS: 0x75,
  EMPTY_LIST: 0x5d,
  APPENDS: 0x65,
  EMPTY_TUPLE: 0x29,
  TUPLE: 0x74,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  GLOBAL: 0x63,
  REDUCE: 0x52,
  BINPERSID: 0x51,
} as const;

const utf8 = new TextEncoder();

/** Serialises `value` as torch.save's data.pkl does (protocol 2, no memo). */
export function writePickle(value: PickleValue): Uint8Array {
  const out = new Out();
  out.byte(OP.PROTO, 2);
  write(out, value);
  out.byte(OP.STOP);
  return out.result();
}

function write(out: Out, v: PickleValue): void {
  if (v === null) return out.byte(OP.NONE);
  if (typeof v === 'boolean') return out.byte(v ? OP.NEWTRUE : OP.NEWFALSE);
  if (v instanceof PickleFloat) return writeFloat(out, v.value);
  if (typeof v === 'bigint') return writeInt(out, v);
  if (typeof v === 'number') return Number.isInteger(v) && Number.isSafeInteger(v) ? writeInt(out, BigInt(v)) : writeFloat(out, v);
  if (typeof v === 'string') return writeString(out, v);
  if (v instanceof PickleTuple) return writeTuple(out, v.items);
  if (v instanceof Map) {
    out.byte(OP.EMPTY_DICT);
    if (v.size === 0) return;
    out.byte(OP.MARK);
    for (const [k, x] of v) {
      write(out, k);
      write(out, x);
    }
    return out.byte(OP.SETITEMS);
  }
  if (Array.isArray(v)) {
    out.byte(OP.EMPTY_LIST);
    if (v.length === 0) return;
    out.byte(OP.MARK);
    for (const x of v) write(out, x);
    return out.byte(OP.APPENDS);
  }
  return writeTensor(out, v as PickleTensor);
}

function writeInt(out: Out, v: bigint): void {
  if (v >= 0n && v < 256n) return out.byte(OP.BININT1, Number(v));
  if (v >= 0n && v < 65536n) return out.byte(OP.BININT2, Number(v) & 0xff, Number(v) >> 8);
  if (v >= -(2n ** 31n) && v < 2n ** 31n) {
    out.byte(OP.BININT);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, Number(v), true);
    return out.bytes(b);
  }
  // LONG1: little-endian two's complement, as few bytes as hold the sign.
  const bytes: number[] = [];
  let x = v;
  for (;;) {
    const byte = Number(x & 0xffn);
    bytes.push(byte);
    x >>= 8n;
    if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
  }
  out.byte(OP.LONG1, bytes.length, ...bytes);
}

function writeFloat(out: Out, v: number): void {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, false); // BINFLOAT is big-endian
  out.byte(OP.BINFLOAT);
  out.bytes(b);
}

function writeString(out: Out, s: string): void {
  const b = utf8.encode(s);
  out.byte(OP.BINUNICODE);
  out.u32(b.length);
  out.bytes(b);
}

function writeGlobal(out: Out, module: string, name: string): void {
  out.byte(OP.GLOBAL);
  out.bytes(utf8.encode(`${module}\n${name}\n`));
}

function writeTuple(out: Out, items: readonly PickleValue[]): void {
  if (items.length === 0) return out.byte(OP.EMPTY_TUPLE);
  if (items.length <= 3) {
    for (const x of items) write(out, x);
    return out.byte([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][items.length - 1]!);
  }
  out.byte(OP.MARK);
  for (const x of items) write(out, x);
  out.byte(OP.TUPLE);
}

/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict()). */
function writeTensor(out: Out, t: PickleTensor): void {
  const storageType = STORAGE_TYPE[t.dtype];
  if (!storageType) throw new Error(`pickle writer: no torch storage type for ${t.dtype}`);
  const stride: number[] = new Array(t.shape.length);
  let s = 1;
  for (let d = t.shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= t.shape[d]!;
  }
  writeGlobal(out, 'torch._utils', '_rebuild_tensor_v2');
  out.byte(OP.MARK);
  // Persistent id: ('storage', <storage type>, key, location, numel).
  out.byte(OP.MARK);
  writeString(out, 'storage');
  writeGlobal(out, 'torch', storageType);
  writeString(out, t.storageKey);
  writeString(out, 'cpu');
  writeInt(out, BigInt(t.storageNumel));
  out.byte(OP.TUPLE, OP.BINPERSID);
  writeInt(out, BigInt(t.offset));
  writeTuple(out, t.shape);
  writeTuple(out, stride);
  out.byte(OP.NEWFALSE);
  writeGlobal(out, 'collections', 'OrderedDict');
  out.byte(OP.EMPTY_TUPLE, OP.REDUCE);
  out.byte(OP.TUPLE, OP.REDUCE);
}
