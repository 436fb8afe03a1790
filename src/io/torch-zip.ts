/**
 * Read a PyTorch (>= 1.6) torch.save state dict (`pytorch_model.bin`) without Python:
 * a stored zip holding `<top>/data.pkl` (the restricted pickle, see torch-pickle.ts) and one
 * raw little-endian record per storage, `<top>/data/<key>`. Views (offset/strides) are
 * materialised as contiguous row-major arrays.
 */
import { withSource, type ByteSource } from './byte-source.js';
import { decodeElements } from './dtype-decode.js';
import { CheckpointFormatError, UnsupportedCheckpointError } from './errors.js';
import {
  DTYPE_ITEM_SIZE,
  ElementBudget,
  shapeNumel,
  selectedNames,
  type OpenedWeights,
  type ReadPlan,
  type StateDict,
  type TensorData,
} from './tensor-record.js';
import { isTensorRef, parseTorchPickle, pyTypeName, PyDict, type StorageRef, type TensorRef } from './torch-pickle.js';
import { openZip, type ZipArchive } from './zip.js';

export interface ReadTorchOptions extends ReadPlan {
  /** Name used in errors when reading from a buffer. */
  name?: string;
  /** Check each zip entry's CRC-32 (default true). */
  verifyCrc?: boolean;
}

/** Largest tensor we materialise (int32 indexing elsewhere in the project). */
const MAX_ELEMENTS = 2 ** 31 - 1;
const MAX_EXPANDED_ELEMENTS = 1 << 24;

function detectFormat(src: ByteSource): void {
  const head = src.read(0, Math.min(src.size, 4));
  if (head.length === 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) return;
  if (head.length > 0 && head[0] === 0x80) {
    throw new UnsupportedCheckpointError(
      src.name,
      'legacy (pre-1.6) torch.save format is not supported; re-save with torch>=1.6 or convert to safetensors',
    );
  }
  if (src.size >= 262) {
    const magic = new TextDecoder('latin1').decode(src.read(257, 5));
    if (magic === 'ustar') {
      throw new UnsupportedCheckpointError(
        src.name,
        'legacy tar-based torch.save format is not supported; re-save with torch>=1.6 or convert to safetensors',
      );
    }
  }
  throw new CheckpointFormatError(src.name, 'not a PyTorch checkpoint (no zip signature at the start of the file)');
}

/** The archive's top folder: torch names it after the file stem, so it varies. */
function findPrefix(zip: ZipArchive): string {
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length === 0) throw new CheckpointFormatError(zip.name, 'zip holds no <folder>/data.pkl: not a torch.save archive');
  if (pkls.length > 1) throw new CheckpointFormatError(zip.name, `zip holds several data.pkl records (${pkls.join(', ')})`);
  return pkls[0]!.slice(0, -'/data.pkl'.length);
}

function byteOrder(zip: ZipArchive, prefix: string): boolean {
  const name = `${prefix}/byteorder`;
  if (!zip.entries.has(name)) return true; // absent in older archives, which were always little-endian
  const s = new TextDecoder().decode(zip.read(name)).trim();
  if (s === 'little') return true;
  if (s === 'big') return false;
  throw new CheckpointFormatError(zip.name, `${name} says '${s.slice(0, 20)}', expected 'little' or 'big'`);
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

/** Copy the strided view into a new contiguous array. */
function gather(src: TensorData, t: TensorRef, numel: number): TensorData {
  const out = src instanceof Float32Array ? new Float32Array(numel) : new Int32Array(numel);
  const rank = t.shape.length;
  const idx = new Array<number>(rank).fill(0);
  let at = t.offset;
  for (let i = 0; i < numel; i++) {
    out[i] = src[at]!;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      at += t.stride[d]!;
      if (idx[d]! < t.shape[d]!) break;
      at -= t.stride[d]! * t.shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** A torch.save archive: its zip, the top folder its records live under, and their byte order. */
export function openTorchArchive(src: ByteSource, options: ReadTorchOptions = {}): { zip: ZipArchive; prefix: string; little: boolean } {
  detectFormat(src);
  const zip = openZip(src, { verifyCrc: options.verifyCrc ?? true });
  const prefix = findPrefix(zip);
  return { zip, prefix, little: byteOrder(zip, prefix) };
}

/**
 * Parse and check a torch.save archive without materialising anything: every storage record
 * must exist with the size the pickle declares, and every view must lie inside its storage.
 */
export function openTorchCheckpoint(src: ByteSource, options: { verifyCrc?: boolean } = {}): OpenedWeights {
  const { zip, prefix, little } = openTorchArchive(src, options);
  const root = parseTorchPickle(zip.read(`${prefix}/data.pkl`), `${src.name}:${prefix}/data.pkl`);
  if (!(root instanceof PyDict)) {
    throw new CheckpointFormatError(src.name, `top-level object is a ${pyTypeName(root)}, expected a state dict (dict of tensors)`);
  }
  const refs: [string, TensorRef][] = [];
  const users = new Map<string, number>();
  const storages = new Map<string, StorageRef>();
  let storedElements = 0;
  for (const [key, value] of root.map) {
    if (typeof key !== 'string') throw new CheckpointFormatError(src.name, `state dict key of type ${pyTypeName(key)} (expected str)`);
    if (!isTensorRef(value)) {
      throw new CheckpointFormatError(
        src.name,
        `state dict entry '${key}' is a ${pyTypeName(value)}, not a tensor (a training checkpoint rather than a model state dict?)`,
      );
    }
    const s = value.storage;
    const seen = storages.get(s.key);
    if (seen === undefined) {
      const record = `${prefix}/data/${s.key}`;
      const entry = zip.entries.get(record);
      if (!entry) throw new CheckpointFormatError(src.name, `tensor '${key}': storage record '${record}' is missing from the archive`);
      const nbytes = s.numel * DTYPE_ITEM_SIZE[s.dtype];
      if (entry.size !== nbytes) {
        throw new CheckpointFormatError(
          src.name,
          `tensor '${key}': storage '${s.key}' has ${entry.size} bytes but the pickle declares ${s.numel} x ${s.dtype} = ${nbytes}`,
        );
      }
      storages.set(s.key, s);
      storedElements += s.numel;
    } else if (seen.dtype !== s.dtype || seen.numel !== s.numel) {
      throw new CheckpointFormatError(src.name, `tensor '${key}': storage '${s.key}' is declared twice with different types or sizes`);
    }
    checkView(src.name, key, value);
    refs.push([key, value]);
    users.set(s.key, (users.get(s.key) ?? 0) + 1);
  }

  const listing = refs.map(([name, t]) => ({ name, dtype: t.storage.dtype, shape: [...t.shape] }));
  const read = (keep: (name: string) => boolean, budget: ElementBudget): StateDict => {
    const decoded = new Map<string, TensorData>();
    const storageData = (s: StorageRef, tensor: string): TensorData => {
      const hit = decoded.get(s.key);
      if (hit) return hit;
      const data = decodeElements(zip.read(`${prefix}/data/${s.key}`), s.dtype, { file: src.name, tensor }, little);
      decoded.set(s.key, data);
      return data;
    };
    const out: StateDict = new Map();
    for (const [name, t] of refs) {
      if (!keep(name)) continue;
      const s = t.storage;
      const numel = shapeNumel(t.shape);
      budget.take(numel, src.name, name);
      const all = storageData(s, name);
      let data: TensorData;
      if (numel === 0) data = all instanceof Float32Array ? new Float32Array(0) : new Int32Array(0);
      else if (isContiguous(t.shape, t.stride)) {
        // Hand out the decoded storage itself only when nothing else can alias it.
        data = t.offset === 0 && numel === s.numel && users.get(s.key) === 1 ? all : all.slice(t.offset, t.offset + numel);
      } else data = gather(all, t, numel);
      out.set(name, { dtype: s.dtype, shape: [...t.shape], data });
    }
    return out;
  };
  return { listing, storedElements, read };
}

/** A view must have a sane size and lie inside its storage. */
function checkView(file: string, name: string, t: TensorRef): void {
  const s = t.storage;
  const numel = shapeNumel(t.shape);
  if (!Number.isSafeInteger(numel) || numel > MAX_ELEMENTS) {
    throw new CheckpointFormatError(file, `tensor '${name}': shape [${t.shape}] is too large`);
  }
  // Zero strides let a tiny storage claim a huge tensor; cap what such a view may expand to.
  if (numel > s.numel && numel > MAX_EXPANDED_ELEMENTS) {
    throw new CheckpointFormatError(
      file,
      `tensor '${name}': view of size [${t.shape}] expands the ${s.numel}-element storage '${s.key}' to ${numel} elements; refusing`,
    );
  }
  // Highest element the view touches must lie inside the storage.
  let last = t.offset;
  for (let d = 0; d < t.shape.length; d++) last += (t.shape[d]! - 1) * t.stride[d]!;
  if (numel > 0 && last >= s.numel) {
    throw new CheckpointFormatError(
      file,
      `tensor '${name}': view (offset ${t.offset}, size [${t.shape}], stride [${t.stride}]) reaches element ${last} ` +
        `of a ${s.numel}-element storage '${s.key}'`,
    );
  }
}

/**
 * Without a caller's own bound, views may materialise at most twice the elements the file
 * really stores (tied weights alias one storage), plus a little for small broadcast buffers:
 * stride-0 or overlapping views of a tiny storage cannot expand past that.
 */
export function defaultElementBudget(storedElements: number): number {
  return 2 * storedElements + 65536;
}

/** Read a torch.save zip checkpoint (path or bytes) into a state dict, in pickle order. */
export function readTorchCheckpoint(input: string | Uint8Array, options: ReadTorchOptions = {}): StateDict {
  return withSource(
    input,
    (src) => {
      const opened = openTorchCheckpoint(src, options);
      const keep = selectedNames(opened.listing, options.select);
      const budget = new ElementBudget(
        options.maxElements ?? defaultElementBudget(opened.storedElements),
        options.maxElements === undefined
          ? `budget of twice the ${opened.storedElements} elements the file stores`
          : `budget of ${options.maxElements} elements`,
      );
      return opened.read(keep, budget);
    },
    options.name,
  );
}
