/**
 * torch.save / torch.load for the small objects a training checkpoint holds besides the model
 * (an optimizer's state_dict, an LR scheduler's, RNG states): nested dicts, lists and tuples of
 * numbers, strings and tensors. Writing produces the archive torch.save makes (records
 * `<name>/data.pkl`, `<name>/data/<key>`, `<name>/byteorder`, ...), which torch.load(weights_only=True)
 * accepts; reading goes through the same restricted pickle reader as model weights.
 */
import { randomBytes } from 'node:crypto';
import { withSource } from './byte-source.js';
import { writeChunksAtomic } from './atomic.js';
import { decodeElements } from './dtype-decode.js';
import { CheckpointFormatError } from './errors.js';
import { writePickle, type PickleValue } from './pickle-writer.js';
import { DTYPE_ITEM_SIZE, shapeNumel, type DType, type TensorData } from './tensor-record.js';
import { PyDict, PyTuple, isTensorRef, parseTorchPickle, type TensorRef } from './torch-pickle.js';
import { openTorchArchive } from './torch-zip.js';
import { zipChunks, type ZipWriteEntry, type ZipWriteOptions } from './zip-writer.js';

/** A storage's elements, little-endian, as torch writes `data/<key>`. */
export interface StorageData {
  dtype: DType;
  bytes: Uint8Array;
}

/** The bytes of a typed array, without copying. */
export function bytesOf(a: Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** The archive's chunks: `value` pickled (its tensors name storages by key) plus each storage. */
export function torchSaveChunks(
  archive: string,
  value: PickleValue,
  storages: ReadonlyMap<string, StorageData>,
  opts: ZipWriteOptions = {},
): Uint8Array[] {
  const enc = new TextEncoder();
  const entries: ZipWriteEntry[] = [
    { name: `${archive}/data.pkl`, data: writePickle(value) },
    { name: `${archive}/.format_version`, data: enc.encode('1') },
    { name: `${archive}/.storage_alignment`, data: enc.encode('64') },
    { name: `${archive}/byteorder`, data: enc.encode('little') },
  ];
  for (const [key, s] of storages) entries.push({ name: `${archive}/data/${key}`, data: s.bytes });
  entries.push({ name: `${archive}/version`, data: enc.encode('3\n') });
  entries.push({ name: `${archive}/.data/serialization_id`, data: enc.encode(randomBytes(20).toString('hex')) });
  return zipChunks(entries, opts);
}

/** torch.save(value, path), written under a temporary name and renamed. */
export function torchSave(path: string, archive: string, value: PickleValue, storages: ReadonlyMap<string, StorageData>): void {
  writeChunksAtomic(path, torchSaveChunks(archive, value, storages));
}

/** A tensor read back: contiguous row-major data. */
export interface LoadedTensor {
  readonly kind: 'loaded-tensor';
  readonly dtype: DType;
  readonly shape: number[];
  readonly data: TensorData;
}

export function isLoadedTensor(v: unknown): v is LoadedTensor {
  return typeof v === 'object' && v !== null && (v as LoadedTensor).kind === 'loaded-tensor';
}

/**
 * torch.load(path, weights_only=True) for a training-state object: the pickle tree (PyDict,
 * PyTuple, arrays, numbers, strings) with every tensor replaced by a LoadedTensor. Tensors must be
 * contiguous views (what torch.save writes for optimizer and scheduler states).
 */
export function torchLoad(input: string | Uint8Array, name?: string): unknown {
  return withSource(
    input,
    (src) => {
      const { zip, prefix, little } = openTorchArchive(src);
      const root = parseTorchPickle(zip.read(`${prefix}/data.pkl`), `${src.name}:${prefix}/data.pkl`);
      const decoded = new Map<string, TensorData>();
      const materialise = (t: TensorRef, where: string): LoadedTensor => {
        const s = t.storage;
        let data = decoded.get(s.key);
        if (!data) {
          const record = `${prefix}/data/${s.key}`;
          const entry = zip.entries.get(record);
          if (!entry) throw new CheckpointFormatError(src.name, `${where}: storage record '${record}' is missing`);
          if (entry.size !== s.numel * DTYPE_ITEM_SIZE[s.dtype]) {
            throw new CheckpointFormatError(
              src.name,
              `${where}: storage '${s.key}' has ${entry.size} bytes but the pickle declares ${s.numel} x ${s.dtype}`,
            );
          }
          data = decodeElements(zip.read(record), s.dtype, { file: src.name, tensor: where }, little);
          decoded.set(s.key, data);
        }
        const numel = shapeNumel(t.shape);
        let expected = 1;
        for (let d = t.shape.length - 1; d >= 0; d--) {
          if (t.shape[d] !== 1 && t.stride[d] !== expected)
            throw new CheckpointFormatError(src.name, `${where}: non-contiguous tensor (stride [${t.stride}] for size [${t.shape}])`);
          expected *= t.shape[d]!;
        }
        if (t.offset < 0 || t.offset + numel > s.numel) {
          throw new CheckpointFormatError(
            src.name,
            `${where}: view (offset ${t.offset}, ${numel} elements) runs past the ${s.numel}-element storage '${s.key}'`,
          );
        }
        return {
          kind: 'loaded-tensor',
          dtype: s.dtype,
          shape: [...t.shape],
          data: data.subarray(t.offset, t.offset + numel) as TensorData,
        };
      };
      const walk = (v: unknown, where: string): unknown => {
        if (isTensorRef(v)) return materialise(v, where);
        if (v instanceof PyDict) {
          for (const [k, x] of v.map) v.map.set(k, walk(x, `${where}[${JSON.stringify(k)}]`));
          return v;
        }
        if (v instanceof PyTuple) return new PyTuple(v.items.map((x, i) => walk(x, `${where}[${i}]`)));
        if (Array.isArray(v)) return v.map((x, i) => walk(x, `${where}[${i}]`));
        return v;
      };
      return walk(root, 'value');
    },
    name,
  );
}
