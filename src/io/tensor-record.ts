/**
 * Plain tensor records exchanged by the io layer. The io layer knows nothing of the engine's
 * Tensor/autograd: it hands out dtype + shape + a flat, C-contiguous typed array.
 *
 * Conversion rules on load (whatever the file stored):
 *  - float dtypes (F32, F16, BF16, F64) become Float32Array. F16/BF16 widen exactly (subnormals,
 *    infinities and NaN preserved); F64 is rounded to the nearest float32 (Math.fround), so very
 *    large F64 values become +/-Infinity and tiny ones flush towards 0 as float32 arithmetic does.
 *  - integer and boolean dtypes (I64, I32, I8, U8, BOOL) become Int32Array. I64 values must lie
 *    in [-2^31, 2^31-1]; anything else is an error (it cannot be a token id, label or position).
 *  `dtype` keeps the dtype the file stored, so callers can tell an F16 checkpoint from an F32 one.
 */
import { CheckpointFormatError } from './errors.js';

export type DType = 'F32' | 'F16' | 'BF16' | 'F64' | 'I64' | 'I32' | 'I8' | 'U8' | 'BOOL';

export type TensorData = Float32Array | Int32Array;

export interface TensorRecord {
  /** dtype as stored in the file (before conversion). */
  dtype: DType;
  shape: number[];
  /** Row-major data, length = product(shape). Float32Array for float dtypes, Int32Array otherwise. */
  data: TensorData;
}

/** A state dict: parameter name -> tensor, in file order (Map keeps insertion order). */
export type StateDict = Map<string, TensorRecord>;

export const DTYPE_ITEM_SIZE: Readonly<Record<DType, number>> = {
  F32: 4,
  F16: 2,
  BF16: 2,
  F64: 8,
  I64: 8,
  I32: 4,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

export function isFloatDType(dtype: DType): boolean {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' || dtype === 'F64';
}

export function isDType(s: string): s is DType {
  return Object.hasOwn(DTYPE_ITEM_SIZE, s);
}

/** Number of elements of a shape; the empty shape is a scalar (1 element). */
export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** What a reader knows of a tensor before reading its data. */
export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
}

/**
 * How much of a checkpoint to materialise. `select` sees every tensor's name, dtype and shape
 * before any data is read and returns the names to read (it may throw to refuse the file);
 * `maxElements` caps the elements materialised in total, so a hostile file cannot expand past
 * what the caller expects (a model's parameter count).
 */
export interface ReadPlan {
  select?: (listing: readonly TensorInfo[]) => Iterable<string>;
  maxElements?: number;
}

/** Elements left to materialise; shared by every file of one load. */
export class ElementBudget {
  constructor(
    private left: number,
    private readonly why: string,
  ) {}
  take(n: number, file: string, tensor: string): void {
    if (n > this.left) {
      throw new CheckpointFormatError(
        file,
        `tensor '${tensor}' needs ${n} elements but only ${this.left} remain of the ${this.why}; refusing`,
      );
    }
    this.left -= n;
  }
}

/** A weights file whose header (or pickle) is parsed and checked but whose tensors are not yet read. */
export interface OpenedWeights {
  readonly listing: readonly TensorInfo[];
  /** Elements of every storage the file really holds (checked against the file's real size). */
  readonly storedElements: number;
  /** Materialise the tensors `keep` accepts, in file order, drawing on `budget`. */
  read(keep: (name: string) => boolean, budget: ElementBudget): StateDict;
}

/** The names a plan's `select` keeps (all when there is no plan). */
export function selectedNames(listing: readonly TensorInfo[], select: ReadPlan['select']): (name: string) => boolean {
  if (!select) return () => true;
  const keep = new Set(select(listing));
  return (name) => keep.has(name);
}
