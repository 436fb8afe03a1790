/**
 * Minimal read-only ZIP reader for torch.save archives: central directory (with ZIP64), stored
 * entries only, CRC-32 checked. Compressed or encrypted entries are refused, never decoded.
 */
import { crc32 } from 'node:zlib';
import type { ByteSource } from './byte-source.js';
import { CheckpointFormatError, UnsupportedCheckpointError } from './errors.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export interface ZipArchive {
  readonly name: string;
  /** Entries in central-directory order. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** Bytes of a stored entry (CRC-checked unless disabled). */
  read(entryName: string): Uint8Array;
}

function u64(dv: DataView, at: number, file: string, what: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointFormatError(file, `zip: ${what} ${v} is implausibly large`);
  return Number(v);
}

function findEocd(src: ByteSource): { pos: number; dv: DataView } {
  const file = src.name;
  if (src.size < EOCD_SIZE) throw new CheckpointFormatError(file, `zip: ${src.size} bytes is too small for a zip archive`);
  const tailLen = Math.min(src.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = src.size - tailLen;
  const tail = src.read(tailStart, tailLen);
  const dv = new DataView(tail.buffer);
  // Scan backwards: the comment may contain the signature bytes, so also require the comment
  // length field to reach exactly the end of the file.
  for (let i = tailLen - EOCD_SIZE; i >= 0; i--) {
    if (dv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + dv.getUint16(i + 20, true) === tailLen) {
      return { pos: tailStart + i, dv: new DataView(tail.buffer, i, EOCD_SIZE) };
    }
  }
  throw new CheckpointFormatError(file, 'zip: end-of-central-directory record not found (truncated or not a zip file)');
}

export function openZip(src: ByteSource, options: { verifyCrc?: boolean } = {}): ZipArchive {
  const file = src.name;
  const verifyCrc = options.verifyCrc ?? true;
  const fail = (detail: string): never => {
    throw new CheckpointFormatError(file, `zip: ${detail}`);
  };
  const { pos: eocdPos, dv: eocd } = findEocd(src);
  let diskNo = eocd.getUint16(4, true);
  let cdDisk = eocd.getUint16(6, true);
  let count = eocd.getUint16(10, true);
  let cdSize = eocd.getUint32(12, true);
  let cdOffset = eocd.getUint32(16, true);
  let cdLimit = eocdPos; // the central directory must end before the record that describes it

  const needs64 = count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff;
  if (eocdPos >= 20) {
    const loc = new DataView(src.read(eocdPos - 20, 20).buffer);
    if (loc.getUint32(0, true) === SIG_ZIP64_LOCATOR) {
      const recPos = u64(loc, 8, file, 'ZIP64 record offset');
      if (recPos + 56 > eocdPos - 20) fail(`ZIP64 end record offset ${recPos} is out of range`);
      const rec = new DataView(src.read(recPos, 56).buffer);
      if (rec.getUint32(0, true) !== SIG_ZIP64_EOCD) fail(`no ZIP64 end record at offset ${recPos}`);
      diskNo = rec.getUint32(16, true);
      cdDisk = rec.getUint32(20, true);
      count = u64(rec, 32, file, 'entry count');
      cdSize = u64(rec, 40, file, 'central directory size');
      cdOffset = u64(rec, 48, file, 'central directory offset');
      cdLimit = recPos;
    } else if (needs64) {
      fail('end record needs ZIP64 values but the ZIP64 locator is missing');
    }
  } else if (needs64) {
    fail('end record needs ZIP64 values but the ZIP64 locator is missing');
  }
  if (diskNo !== 0 || cdDisk !== 0) throw new UnsupportedCheckpointError(file, 'zip: multi-disk (split) archives are not supported');
  if (cdOffset + cdSize > cdLimit) fail(`central directory [${cdOffset}, ${cdOffset + cdSize}) overruns the end record at ${cdLimit}`);
  // Each central entry is at least 46 bytes: a count that cannot fit is corrupt (and would loop long).
  if (count * 46 > cdSize) fail(`${count} entries cannot fit in a ${cdSize}-byte central directory`);

  const cd = src.read(cdOffset, cdSize);
  const cdv = new DataView(cd.buffer);
  const utf8 = new TextDecoder('utf-8');
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdSize) fail(`central directory entry ${i} is truncated`);
    if (cdv.getUint32(p, true) !== SIG_CENTRAL) fail(`bad signature for central directory entry ${i} at offset ${cdOffset + p}`);
    const flags = cdv.getUint16(p + 8, true);
    const method = cdv.getUint16(p + 10, true);
    const crc = cdv.getUint32(p + 16, true);
    let csize = cdv.getUint32(p + 20, true);
    let usize = cdv.getUint32(p + 24, true);
    const nameLen = cdv.getUint16(p + 28, true);
    const extraLen = cdv.getUint16(p + 30, true);
    const commentLen = cdv.getUint16(p + 32, true);
    const diskStart = cdv.getUint16(p + 34, true);
    let local = cdv.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdSize) fail(`central directory entry ${i} runs past the directory`);
    const name = utf8.decode(cd.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: 8-byte values replace exactly the fields saturated above.
    let q = p + 46 + nameLen;
    const extraEnd = q + extraLen;
    while (q + 4 <= extraEnd) {
      const id = cdv.getUint16(q, true);
      const len = cdv.getUint16(q + 2, true);
      if (q + 4 + len > extraEnd) fail(`entry '${name}': extra field runs past its bounds`);
      if (id === 0x0001) {
        let r = q + 4;
        const take = (what: string): number => {
          if (r + 8 > q + 4 + len) fail(`entry '${name}': ZIP64 extra field lacks the ${what}`);
          const v = u64(cdv, r, file, `entry '${name}' ${what}`);
          r += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = take('size');
        if (csize === 0xffffffff) csize = take('compressed size');
        if (local === 0xffffffff) local = take('local header offset');
      }
      q += 4 + len;
    }
    if (diskStart !== 0 && diskStart !== 0xffff)
      throw new UnsupportedCheckpointError(file, 'zip: multi-disk (split) archives are not supported');
    if (entries.has(name)) fail(`duplicate entry '${name}'`);
    entries.set(name, { name, method, flags, crc32: crc, compressedSize: csize, size: usize, localHeaderOffset: local });
    p = end;
  }

  const dataOffset = (e: ZipEntry): number => {
    if (e.localHeaderOffset + 30 > cdOffset) fail(`entry '${e.name}': local header offset ${e.localHeaderOffset} is out of range`);
    const lh = src.read(e.localHeaderOffset, 30);
    const ldv = new DataView(lh.buffer);
    if (ldv.getUint32(0, true) !== SIG_LOCAL) fail(`entry '${e.name}': bad local header signature at offset ${e.localHeaderOffset}`);
    const start = e.localHeaderOffset + 30 + ldv.getUint16(26, true) + ldv.getUint16(28, true);
    if (start + e.compressedSize > cdOffset) {
      fail(`entry '${e.name}': data [${start}, ${start + e.compressedSize}) overruns the central directory at ${cdOffset}`);
    }
    return start;
  };

  return {
    name: file,
    entries,
    read(entryName: string): Uint8Array {
      const e = entries.get(entryName);
      if (!e) return fail(`entry '${entryName}' not found`);
      if (e.flags & 0x41) {
        throw new UnsupportedCheckpointError(file, `zip: entry '${e.name}' is encrypted; encrypted archives are not supported`);
      }
      if (e.method !== 0) {
        throw new UnsupportedCheckpointError(
          file,
          `zip: entry '${e.name}' is compressed (method ${e.method}); torch.save writes stored entries only — ` +
            're-save the checkpoint with torch.save, or convert it to safetensors',
        );
      }
      if (e.compressedSize !== e.size) fail(`stored entry '${e.name}' has compressed size ${e.compressedSize} != size ${e.size}`);
      const bytes = src.read(dataOffset(e), e.size);
      if (verifyCrc && crc32(bytes) >>> 0 !== e.crc32) fail(`entry '${e.name}': CRC-32 mismatch (corrupt file)`);
      return bytes;
    },
  };
}
