/**
 * safetensors reader (all dtypes of tensor-record.ts) and F32 writer.
 *
 * Format: u64 little-endian header length N, N bytes of UTF-8 JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}},
 * then the data region; offsets are relative to the data region, tensors are little-endian,
 * row-major, and (per the spec) must tile the data region exactly: no overlap, no hole.
 */
import { writeChunksAtomic } from './atomic.js';
import { withSource, type ByteSource } from './byte-source.js';
import { decodeElements, HOST_IS_LITTLE_ENDIAN } from './dtype-decode.js';
import { CheckpointFormatError, UnsupportedCheckpointError } from './errors.js';
import {
  DTYPE_ITEM_SIZE,
  ElementBudget,
  isDType,
  selectedNames,
  shapeNumel,
  type DType,
  type OpenedWeights,
  type ReadPlan,
  type StateDict,
} from './tensor-record.js';

/** Same bound as the reference implementation: a header above 100 MB is treated as hostile. */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** dtypes the format defines that we recognise but do not load. */
const KNOWN_UNSUPPORTED = new Set(['F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'U32', 'U64', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

export interface SafetensorsFile {
  tensors: StateDict;
  metadata: Record<string, string>;
}

interface EntryInfo {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: EntryInfo[];
  metadata: Record<string, string>;
  /** Absolute file offset where the data region starts (8 + N). */
  dataStart: number;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Parse and fully validate the header; reads no tensor data. */
export function readSafetensorsHeader(src: ByteSource): SafetensorsHeader {
  const file = src.name;
  const fail = (detail: string): never => {
    throw new CheckpointFormatError(file, detail);
  };
  if (src.size < 8) fail(`${src.size} bytes is too small for a safetensors file (8-byte header length missing)`);
  const lenBytes = src.read(0, 8);
  const headerLen = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (headerLen > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    fail(`header length ${headerLen} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  const n = Number(headerLen);
  if (8 + n > src.size) fail(`header length ${n} runs past the end of the ${src.size}-byte file (truncated?)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('header JSON is not an object');

  const dataStart = 8 + n;
  const dataLen = src.size - dataStart;
  let metadata: Record<string, string> = {};
  const entries: EntryInfo[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null) continue;
      if (typeof raw !== 'object' || Array.isArray(raw)) fail(`__metadata__ must be an object of strings, got ${describe(raw)}`);
      const pairs = Object.entries(raw as Record<string, unknown>);
      for (const [k, v] of pairs) {
        if (typeof v !== 'string') fail(`__metadata__ value for '${k}' must be a string, got ${describe(v)}`);
      }
      metadata = Object.fromEntries(pairs) as Record<string, string>;
      continue;
    }
    const where = `tensor '${name}'`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(`${where}: entry must be an object, got ${describe(raw)}`);
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (typeof dtype !== 'string') fail(`${where}: dtype missing or not a string`);
    const dt = dtype as string;
    if (!isDType(dt)) {
      if (KNOWN_UNSUPPORTED.has(dt)) {
        throw new UnsupportedCheckpointError(
          file,
          `${where}: dtype ${dt} is not supported (supported: ${Object.keys(DTYPE_ITEM_SIZE).join(', ')})`,
        );
      }
      fail(`${where}: unknown dtype ${describe(dt)}`);
    }
    if (!Array.isArray(shape)) fail(`${where}: shape must be an array, got ${describe(shape)}`);
    const dims = shape as unknown[];
    for (const d of dims) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
        fail(`${where}: shape ${describe(shape)} must hold non-negative integers`);
      }
    }
    const numel = shapeNumel(dims as number[]);
    if (!Number.isSafeInteger(numel)) fail(`${where}: shape ${describe(shape)} has too many elements`);
    if (!Array.isArray(offsets) || offsets.length !== 2) fail(`${where}: data_offsets must be [begin, end], got ${describe(offsets)}`);
    const [begin, end] = offsets as unknown[];
    if (
      typeof begin !== 'number' ||
      typeof end !== 'number' ||
      !Number.isSafeInteger(begin) ||
      !Number.isSafeInteger(end) ||
      begin < 0 ||
      end < 0
    ) {
      fail(`${where}: data_offsets ${describe(offsets)} must be non-negative integers`);
    }
    const b = begin as number;
    const e = end as number;
    if (b > e) fail(`${where}: data_offsets begin ${b} > end ${e}`);
    if (e > dataLen) fail(`${where}: data_offsets [${b}, ${e}] run past the ${dataLen}-byte data region (truncated file?)`);
    const expected = numel * DTYPE_ITEM_SIZE[dt as DType];
    if (e - b !== expected) {
      fail(`${where}: data_offsets [${b}, ${e}] hold ${e - b} bytes but ${dt} shape ${describe(shape)} needs ${expected}`);
    }
    entries.push({ name, dtype: dt as DType, shape: dims as number[], begin: b, end: e });
  }

  // The spec requires the tensors to tile the data region: this rules out aliasing and polyglot files.
  entries.sort((x, y) => x.begin - y.begin || x.end - y.end);
  let pos = 0;
  let prev: EntryInfo | undefined;
  for (const ent of entries) {
    if (ent.begin < pos) {
      fail(`tensor '${ent.name}' bytes [${ent.begin}, ${ent.end}) overlap tensor '${prev!.name}' bytes [${prev!.begin}, ${prev!.end})`);
    }
    if (ent.begin > pos) fail(`data bytes [${pos}, ${ent.begin}) before tensor '${ent.name}' belong to no tensor (holes are not allowed)`);
    pos = ent.end;
    prev = ent;
  }
  if (pos !== dataLen) fail(`${dataLen - pos} trailing bytes after the last tensor's data (holes are not allowed)`);
  return { entries, metadata, dataStart };
}

/**
 * Read a .safetensors file (path) or its bytes. Tensors come back in data-offset order, which
 * is the order they were written in (zero-element tensors sharing an offset keep header order,
 * except that JSON objects list integer-like names first). Float dtypes -> Float32Array,
 * integer/bool -> Int32Array.
 */
export function readSafetensors(input: string | Uint8Array, options: { name?: string } & ReadPlan = {}): SafetensorsFile {
  return withSource(
    input,
    (src) => {
      const opened = openSafetensors(src);
      const keep = selectedNames(opened.listing, options.select);
      // The spec's tiling rule already stops aliasing: data can never expand past the file.
      const budget = new ElementBudget(
        options.maxElements ?? Number.MAX_SAFE_INTEGER,
        `budget of ${options.maxElements ?? 'unlimited'} elements`,
      );
      return { tensors: opened.read(keep, budget), metadata: opened.metadata };
    },
    options.name,
  );
}

/** A safetensors file whose header is read and checked but whose tensors are not yet read. */
export function openSafetensors(src: ByteSource): OpenedWeights & { metadata: Record<string, string> } {
  const header = readSafetensorsHeader(src);
  let storedElements = 0;
  for (const e of header.entries) storedElements += shapeNumel(e.shape);
  return {
    listing: header.entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape })),
    storedElements,
    metadata: header.metadata,
    read(keep, budget) {
      const tensors: StateDict = new Map();
      for (const ent of header.entries) {
        if (!keep(ent.name)) continue;
        budget.take(shapeNumel(ent.shape), src.name, ent.name);
        const bytes = src.read(header.dataStart + ent.begin, ent.end - ent.begin);
        const data = decodeElements(bytes, ent.dtype, { file: src.name, tensor: ent.name });
        tensors.set(ent.name, { dtype: ent.dtype, shape: ent.shape, data });
      }
      return tensors;
    },
  };
}

export interface F32TensorInput {
  shape: readonly number[];
  /** Float32Array (F32), or Int8Array (I8: the int8-quantized weights of `tokentune quantize`). */
  data: Float32Array | Int8Array;
}

interface Plan {
  header: Uint8Array;
  chunks: Uint8Array[];
}

function planSafetensors(tensors: ReadonlyMap<string, F32TensorInput>, metadata?: Record<string, string>): Plan {
  // The JSON is assembled by hand so the key order is exactly insertion order (JSON.stringify
  // would hoist integer-like names) and the layout matches the reference writer byte for byte.
  const parts: string[] = [];
  if (metadata !== undefined) {
    const m: string[] = [];
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new TypeError(`writeSafetensors: metadata value for '${k}' must be a string`);
      m.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${m.join(',')}}`);
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new TypeError(`writeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
    const i8 = t.data instanceof Int8Array;
    if (!(t.data instanceof Float32Array) && !i8)
      throw new TypeError(`writeSafetensors: tensor '${name}' data must be a Float32Array or an Int8Array`);
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0)
        throw new TypeError(`writeSafetensors: tensor '${name}' has invalid shape [${t.shape.join(', ')}]`);
    }
    const numel = shapeNumel(t.shape);
    if (numel !== t.data.length) {
      throw new TypeError(
        `writeSafetensors: tensor '${name}' shape [${t.shape.join(', ')}] needs ${numel} values but data has ${t.data.length}`,
      );
    }
    let bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (!HOST_IS_LITTLE_ENDIAN && !i8) {
      const dv = new DataView(new ArrayBuffer(bytes.length));
      t.data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
      bytes = new Uint8Array(dv.buffer);
    }
    const end = offset + bytes.length;
    parts.push(`${JSON.stringify(name)}:{"dtype":"${i8 ? 'I8' : 'F32'}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    chunks.push(bytes);
    offset = end;
  }
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const pad = (8 - (json.length % 8)) % 8; // data region 8-byte aligned, as the Python library does
  const header = new Uint8Array(8 + json.length + pad);
  new DataView(header.buffer).setBigUint64(0, BigInt(json.length + pad), true);
  header.set(json, 8);
  header.fill(0x20, 8 + json.length);
  return { header, chunks };
}

/** Serialise F32 tensors to safetensors bytes in memory (tensor order = Map order). */
export function serializeSafetensors(tensors: ReadonlyMap<string, F32TensorInput>, metadata?: Record<string, string>): Uint8Array {
  const { header, chunks } = planSafetensors(tensors, metadata);
  return Buffer.concat([header, ...chunks]);
}

/**
 * Write F32 tensors to `path` atomically: a temp file in the same directory is written, fsynced
 * and renamed over `path`, so a crash never leaves a half-written checkpoint under the real name.
 */
export function writeSafetensors(path: string, tensors: ReadonlyMap<string, F32TensorInput>, metadata?: Record<string, string>): void {
  const { header, chunks } = planSafetensors(tensors, metadata);
  writeChunksAtomic(path, [header, ...chunks]);
}
