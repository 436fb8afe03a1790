/**
 * Builds torch.save-shaped archives byte by byte (a protocol-2 pickle and a stored zip), so tests
 * and fuzzers can make hostile checkpoints that torch itself would never write: stride-0 views,
 * overlapping views, huge integers. The layout follows the pickle and PKWARE APPNOTE specs.
 */
import { crc32 } from 'node:zlib';

export interface ViewSpec {
  name: string;
  /** Storage key (record data/<key>). */
  storage: string;
  storageType?: string;
  storageNumel: number;
  offset: number;
  shape: number[];
  stride: number[];
}

class PickleWriter {
  private readonly parts: number[] = [];
  op(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.op(0x58, ...u32le(b.length));
    for (const x of b) this.parts.push(x);
    return this;
  }
  global(module: string, name: string): this {
    this.op(0x63);
    for (const x of Buffer.from(`${module}\n${name}\n`, 'utf8')) this.parts.push(x);
    return this;
  }
  int(v: number): this {
    if (v >= -(2 ** 31) && v < 2 ** 31) return this.op(0x4a, ...u32le(v >>> 0)); // BININT
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(v), true);
    return this.op(0x8a, 8, ...b); // LONG1
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function u32le(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}

/** OrderedDict of _rebuild_tensor_v2 calls, as torch.save writes a state dict. */
export function statePickle(views: readonly ViewSpec[]): Uint8Array {
  const w = new PickleWriter().op(0x80, 2).global('collections', 'OrderedDict').op(0x29, 0x52, 0x28);
  for (const v of views) {
    w.str(v.name).global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    w.op(0x28)
      .str('storage')
      .global('torch', v.storageType ?? 'FloatStorage')
      .str(v.storage)
      .str('cpu')
      .int(v.storageNumel)
      .op(0x74, 0x51);
    w.int(v.offset).op(0x28);
    for (const d of v.shape) w.int(d);
    w.op(0x74, 0x28);
    for (const d of v.stride) w.int(d);
    w.op(0x74, 0x89).global('collections', 'OrderedDict').op(0x29, 0x52, 0x74, 0x52);
  }
  return w.op(0x75, 0x2e).bytes();
}

/** A zip of stored (uncompressed) entries, in order. */
export function storedZip(entries: readonly [string, Uint8Array][]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nm = Buffer.from(name, 'utf8');
    const crc = crc32(data) >>> 0;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(data.length, 18);
    lh.writeUInt32LE(data.length, 22);
    lh.writeUInt16LE(nm.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(data.length, 20);
    ch.writeUInt32LE(data.length, 24);
    ch.writeUInt16LE(nm.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, nm, Buffer.from(data));
    centrals.push(ch, nm);
    offset += 30 + nm.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, cd, eocd]));
}

/** A torch.save archive: `archive/data.pkl` from `pickle` (or the views), one record per storage. */
export function torchArchive(views: readonly ViewSpec[], storages: ReadonlyMap<string, Uint8Array>, pickle?: Uint8Array): Uint8Array {
  const entries: [string, Uint8Array][] = [['archive/data.pkl', pickle ?? statePickle(views)]];
  for (const [key, data] of storages) entries.push([`archive/data/${key}`, data]);
  entries.push(['archive/version', Buffer.from('3\n')]);
  return storedZip(entries);
}

/** F32 storage bytes of `n` elements 0, 1, 2, ... */
export function f32Storage(n: number): Uint8Array {
  return new Uint8Array(Float32Array.from({ length: n }, (_, i) => i).buffer);
}
