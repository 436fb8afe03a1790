/**
 * A minimal protocol-buffers writer (encoding only), enough for ONNX's ModelProto: varints,
 * fixed32 floats, length-delimited strings/bytes/messages and packed repeated scalars.
 *
 * Large `bytes` fields (weights) are kept by reference as separate chunks instead of being
 * copied into one buffer, so a BERT-base export (~430 MB of weights) is streamed to disk
 * without holding a second copy. Field numbers and wire types follow
 * https://protobuf.dev/programming-guides/encoding/.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Protobuf's hard limit for one serialized message (int32 sizes in every implementation). */
export const PROTOBUF_MAX_BYTES = 2 ** 31 - 1;

export class ProtobufEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtobufEncodeError';
  }
}

const TWO_64 = 1n << 64n;
/** Bytes held back before they are sealed into a chunk; big payloads get chunks of their own. */
const SMALL_COPY_LIMIT = 4096;

/** An encoded message: a list of chunks whose total length is known without concatenating them. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private pending = new Uint8Array(256);
  private pendingLen = 0;
  private total = 0;

  /** Encoded size in bytes. */
  get byteLength(): number {
    return this.total;
  }

  /** A varint field (uint64/int64/int32/enum/bool). Negative values take 10 bytes, as int64 does. */
  varint(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT);
    this.rawVarint(value);
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  /** A `float` field: IEEE-754 single precision, little-endian, wire type 5. */
  float32(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.rawBytes(b);
    return this;
  }

  /** A `double` field: IEEE-754 double precision, little-endian, wire type 1. */
  float64(field: number, value: number): this {
    this.tag(field, WIRE_FIXED64);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, value, true);
    this.rawBytes(b);
    return this;
  }

  /** A `string` field, UTF-8 encoded. */
  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A `bytes` field. The array is referenced, not copied: do not modify it afterwards. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(value.length);
    this.rawBytes(value);
    return this;
  }

  /** An embedded message field. `msg`'s chunks are shared: do not write to it afterwards. */
  message(field: number, msg: ProtoWriter): this {
    this.tag(field, WIRE_LEN);
    this.rawVarint(msg.byteLength);
    for (const c of msg.chunks()) this.rawBytes(c);
    return this;
  }

  /** A packed repeated varint field (e.g. `repeated int64 dims`), as proto3 writes it. */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.message(field, inner);
  }

  /** A packed repeated `float` field. */
  packedFloat32(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const b = new Uint8Array(values.length * 4);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
    return this.bytes(field, b);
  }

  /** The encoding as a list of chunks (concatenate them, in order, to get the message). */
  chunks(): Uint8Array[] {
    this.seal();
    return this.parts;
  }

  /** The encoding as one contiguous array (copies; fine for small messages). */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.total);
    let o = 0;
    for (const c of this.chunks()) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }

  private tag(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 536870911)
      throw new ProtobufEncodeError(`field number ${field} is outside 1..2^29-1`);
    this.rawVarint(field * 8 + wire);
  }

  /** Base-128 varint, least significant group first; negatives as 64-bit two's complement. */
  rawVarint(value: number | bigint): void {
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) throw new ProtobufEncodeError(`varint value ${value} is not a safe integer`);
      if (value >= 0) {
        // Division instead of >>> so values above 2^32 stay exact.
        let v = value;
        while (v >= 0x80) {
          this.byte((v % 0x80) | 0x80);
          v = Math.floor(v / 0x80);
        }
        this.byte(v);
        return;
      }
      value = BigInt(value);
    }
    if (value < -(1n << 63n) || value >= TWO_64) throw new ProtobufEncodeError(`varint value ${value} does not fit in 64 bits`);
    let v = value < 0n ? value + TWO_64 : value;
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private byte(b: number): void {
    if (this.pendingLen === this.pending.length) {
      const grown = new Uint8Array(this.pending.length * 2);
      grown.set(this.pending);
      this.pending = grown;
    }
    this.pending[this.pendingLen++] = b;
    this.total++;
  }

  private rawBytes(b: Uint8Array): void {
    if (b.length <= SMALL_COPY_LIMIT) {
      for (let i = 0; i < b.length; i++) this.byte(b[i]!);
      return;
    }
    this.seal();
    this.parts.push(b);
    this.total += b.length;
  }

  /** Moves the pending small bytes into a chunk of their own. */
  private seal(): void {
    if (this.pendingLen === 0) return;
    this.parts.push(this.pending.slice(0, this.pendingLen));
    this.pendingLen = 0;
  }
}
