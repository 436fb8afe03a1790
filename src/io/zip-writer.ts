/**
 * Writes a ZIP archive of stored (uncompressed) entries the way PyTorch's archive writer does:
 * each entry's data starts on a 64-byte boundary (padding in the local header's extra field), so
 * torch can map storages in place; ZIP64 records where an offset or a size passes 4 GiB. The
 * archive is produced as a list of chunks, so large tensors are streamed from their own buffers.
 */
import { crc32 } from 'node:zlib';

export interface ZipWriteEntry {
  name: string;
  data: Uint8Array;
}

const ALIGN = 64;
const U32_MAX = 0xffffffff;

export interface ZipWriteOptions {
  /** Write ZIP64 records even for a small archive (tests of the ZIP64 path). */
  forceZip64?: boolean;
}

/** The archive's bytes as chunks (headers, then each entry's own data buffer, then the directory). */
export function zipChunks(entries: readonly ZipWriteEntry[], opts: ZipWriteOptions = {}): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  const enc = new TextEncoder();
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const size = e.data.length;
    const zip64 = opts.forceZip64 || size >= U32_MAX || offset >= U32_MAX;
    const crc = crc32(e.data) >>> 0;
    // Local header: 30 bytes + name + extra (ZIP64 sizes, then padding up to the alignment).
    const z64Local = zip64 ? 20 : 0;
    const base = offset + 30 + name.length + z64Local + 4;
    const pad = (ALIGN - (base % ALIGN)) % ALIGN;
    const extraLen = z64Local + 4 + pad;
    const local = new Uint8Array(30 + name.length + extraLen);
    const dv = new DataView(local.buffer);
    dv.setUint32(0, 0x04034b50, true);
    dv.setUint16(4, zip64 ? 45 : 20, true);
    dv.setUint16(6, 0, true); // flags
    dv.setUint16(8, 0, true); // stored
    dv.setUint32(10, 0, true); // time, date
    dv.setUint32(14, crc, true);
    dv.setUint32(18, zip64 ? U32_MAX : size, true);
    dv.setUint32(22, zip64 ? U32_MAX : size, true);
    dv.setUint16(26, name.length, true);
    dv.setUint16(28, extraLen, true);
    local.set(name, 30);
    let x = 30 + name.length;
    if (zip64) {
      dv.setUint16(x, 0x0001, true);
      dv.setUint16(x + 2, 16, true);
      dv.setBigUint64(x + 4, BigInt(size), true);
      dv.setBigUint64(x + 12, BigInt(size), true);
      x += 20;
    }
    dv.setUint16(x, 0x4246, true); // 'FB': torch's padding field
    dv.setUint16(x + 2, pad, true);
    local.fill(0x5a, x + 4); // 'Z'
    chunks.push(local);
    if (size) chunks.push(e.data);

    const cdZip64 = zip64 ? 28 : 0;
    const cd = new Uint8Array(46 + name.length + cdZip64);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, zip64 ? 45 : 20, true);
    cv.setUint16(6, zip64 ? 45 : 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, zip64 ? U32_MAX : size, true);
    cv.setUint32(24, zip64 ? U32_MAX : size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, cdZip64, true);
    cv.setUint32(42, zip64 ? U32_MAX : offset, true);
    cd.set(name, 46);
    if (zip64) {
      const y = 46 + name.length;
      cv.setUint16(y, 0x0001, true);
      cv.setUint16(y + 2, 24, true);
      cv.setBigUint64(y + 4, BigInt(size), true);
      cv.setBigUint64(y + 12, BigInt(size), true);
      cv.setBigUint64(y + 20, BigInt(offset), true);
    }
    central.push(cd);
    offset += local.length + size;
  }
  const cdOffset = offset;
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  chunks.push(...central);
  const zip64End = opts.forceZip64 || cdOffset >= U32_MAX || cdSize >= U32_MAX || entries.length >= 0xffff;
  if (zip64End) {
    const rec = new Uint8Array(56 + 20);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(entries.length), true);
    rv.setBigUint64(32, BigInt(entries.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(cdOffset), true);
    rv.setUint32(56, 0x07064b50, true); // locator
    rv.setBigUint64(64, BigInt(cdOffset + cdSize), true);
    rv.setUint32(72, 1, true);
    chunks.push(rec);
  }
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, zip64End ? 0xffff : entries.length, true);
  ev.setUint16(10, zip64End ? 0xffff : entries.length, true);
  ev.setUint32(12, zip64End ? U32_MAX : cdSize, true);
  ev.setUint32(16, zip64End ? U32_MAX : cdOffset, true);
  chunks.push(eocd);
  return chunks;
}
