/**
 * Tensors: a shape over a contiguous row-major buffer, plus what autograd needs.
 *
 * Memory is explicit. Buffers come from a size-bucketed pool and go back to it when the last
 * tensor using them is disposed, so a training loop that runs each step inside `tidy()` reuses the
 * same buffers every step instead of leaning on the garbage collector (flat memory, no zero-fill).
 */
import type { FloatArray } from './kernels.js';

export type DType = 'float32' | 'float64' | 'int32';
export type TensorData = Float32Array | Float64Array | Int32Array;

/** A buffer shared by a tensor and its views; returned to the pool when refs drops to 0. */
class Storage {
  refs = 0;
  constructor(
    readonly data: TensorData,
    readonly pooled: boolean,
  ) {}
}

/**
 * Free ArrayBuffers keyed by byte length. Requests are rounded up to size classes (quarter steps
 * between powers of two), so batches of varying length (dynamic padding) reuse the same few
 * buffers instead of growing one free list per exact size.
 */
const pool = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;

const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

export function sizeClass(bytes: number): number {
  if (bytes <= 1024) return 1024;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const q = p / 4;
  return Math.ceil(bytes / q) * q;
}

function view(dtype: DType, buf: ArrayBuffer, n: number): TensorData {
  if (dtype === 'float32') return new Float32Array(buf, 0, n);
  if (dtype === 'float64') return new Float64Array(buf, 0, n);
  return new Int32Array(buf, 0, n);
}

/** An uninitialised buffer (may hold stale values): the caller overwrites it. */
export function takeBuffer(dtype: DType, n: number): TensorData {
  const cap = sizeClass(n * BYTES[dtype]);
  const buf = pool.get(cap)?.pop() ?? takeLarger(cap);
  if (buf) {
    pooledBytes -= buf.byteLength;
    return view(dtype, buf, n);
  }
  return view(dtype, new ArrayBuffer(cap), n);
}

/**
 * On a miss, the smallest free buffer of a larger class up to twice the size asked for: with
 * dynamic padding, buffers that a longer batch freed serve the next, shorter one, instead of every
 * sequence length growing free lists of its own (and the process's memory with them).
 */
function takeLarger(cap: number): ArrayBuffer | undefined {
  let best = Infinity;
  for (const [size, list] of pool) if (size > cap && size <= 2 * cap && size < best && list.length > 0) best = size;
  return best === Infinity ? undefined : pool.get(best)!.pop();
}

/** Only arrays made by takeBuffer come back here (they own their whole ArrayBuffer). */
function returnBuffer(_dtype: DType, arr: TensorData): void {
  const buf = arr.buffer as ArrayBuffer;
  let list = pool.get(buf.byteLength);
  if (!list) pool.set(buf.byteLength, (list = []));
  list.push(buf);
  pooledBytes += buf.byteLength;
}

/** A zeroed pooled buffer for an intermediate gradient; give it back with `releaseBuffer`. */
export function takeZeroed(dtype: DType, n: number): TensorData {
  const a = takeBuffer(dtype, n);
  a.fill(0);
  return a;
}

export function releaseBuffer(arr: TensorData): void {
  returnBuffer(dtypeOf(arr), arr);
}

/** Drop every pooled buffer (e.g. after evaluation with a different batch shape). */
export function clearPool(): void {
  pool.clear();
  pooledBytes = 0;
}

export function poolStats(): { buffers: number; bytes: number } {
  let buffers = 0;
  for (const l of pool.values()) buffers += l.length;
  return { buffers, bytes: pooledBytes };
}

function dtypeOf(data: TensorData): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  return 'int32';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The autograd record of the op that produced a tensor. */
export interface GradNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  /** Accumulates this tensor's gradient `g` into the inputs' `.grad` buffers. */
  backward(g: Float32Array | Float64Array): void;
}

/** Open `tidy` scopes: each collects the tensors created while it is innermost. */
const scopes: Set<Tensor>[] = [];

export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  readonly dtype: DType;
  private storage: Storage | null;
  /** Whether gradients flow to this tensor (parameters, or results of ops on them). */
  requiresGrad = false;
  /** Accumulated gradient, same size as data; allocated by the first backward that reaches it. */
  grad: Float32Array | Float64Array | null = null;
  /** How this tensor was computed (null for leaves and for anything made under noGrad). */
  node: GradNode | null = null;
  /** Parameter name (Hugging Face's), for error messages and checkpoints. */
  name: string | undefined;

  private constructor(shape: readonly number[], storage: Storage) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.storage = storage;
    this.dtype = dtypeOf(storage.data);
    storage.refs++;
    scopes[scopes.length - 1]?.add(this);
  }

  /** A new tensor over a pooled buffer with unspecified contents. */
  static empty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return new Tensor(shape, new Storage(takeBuffer(dtype, sizeOf(shape)), true));
  }

  static zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const t = Tensor.empty(shape, dtype);
    t.data.fill(0);
    return t;
  }

  /** Wraps existing data without copying (the caller keeps ownership of the array). */
  static from(data: TensorData, shape: readonly number[] = [data.length]): Tensor {
    if (sizeOf(shape) !== data.length) {
      throw new Error(`Tensor.from: data has ${data.length} elements but shape ${shapeStr(shape)} needs ${sizeOf(shape)}`);
    }
    return new Tensor(shape, new Storage(data, false));
  }

  static scalar(v: number): Tensor {
    return Tensor.from(new Float32Array([v]), []);
  }

  get data(): TensorData {
    if (!this.storage) throw new Error(`use of a disposed tensor ${this.name ?? ''}${shapeStr(this.shape)}`);
    return this.storage.data;
  }

  /** The data as a float array (throws for int tensors). */
  get f(): FloatArray {
    const d = this.data;
    if (d instanceof Int32Array) throw new TypeError(`expected a float tensor, got int32 ${shapeStr(this.shape)}`);
    return d;
  }

  /** The data as int32 (throws for float tensors). */
  get i(): Int32Array {
    const d = this.data;
    if (!(d instanceof Int32Array)) throw new TypeError(`expected an int32 tensor, got ${this.dtype} ${shapeStr(this.shape)}`);
    return d;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** A view with another shape over the same buffer (no copy). */
  view(shape: readonly number[]): Tensor {
    const s = [...shape];
    const infer = s.indexOf(-1);
    if (infer >= 0) {
      const rest = s.reduce((a, d, i) => (i === infer ? a : a * d), 1);
      s[infer] = rest === 0 ? 0 : this.size / rest;
    }
    if (sizeOf(s) !== this.size) {
      throw new Error(`view: cannot reshape ${shapeStr(this.shape)} (${this.size} elements) to ${shapeStr(shape)}`);
    }
    const st = this.storage;
    if (!st) throw new Error(`view of a disposed tensor ${shapeStr(this.shape)}`);
    return new Tensor(s, st);
  }

  /** Releases the buffer to the pool once no other view uses it. Idempotent. */
  dispose(): void {
    const s = this.storage;
    if (!s) return;
    this.storage = null;
    if (this.grad && !this.requiresGradLeaf()) this.grad = null;
    this.node = null;
    s.refs--;
    if (s.refs === 0 && s.pooled) returnBuffer(dtypeOf(s.data), s.data);
  }

  private requiresGradLeaf(): boolean {
    return this.requiresGrad && this.node === null;
  }

  /**
   * Moves this tensor's data into `target` (same dtype and size, e.g. a slice of one flat
   * parameter buffer) and makes it the tensor's storage. Views made earlier keep the old buffer.
   */
  moveTo(target: TensorData): void {
    if (target.length !== this.size || dtypeOf(target) !== this.dtype) {
      throw new Error(`moveTo: target of ${target.length} ${dtypeOf(target)} elements for ${this}`);
    }
    target.set(this.data as never);
    const old = this.storage!;
    old.refs--;
    if (old.refs === 0 && old.pooled) returnBuffer(dtypeOf(old.data), old.data);
    this.storage = new Storage(target, false);
    this.storage.refs++;
  }

  /** Keep this tensor alive past the enclosing `tidy` scope(s). */
  keep(): this {
    for (const s of scopes) s.delete(this);
    return this;
  }

  /** Copies the data into a plain array (for tests and logging). */
  toArray(): number[] {
    return Array.from(this.data);
  }

  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a one-element tensor, got ${shapeStr(this.shape)}`);
    return this.data[0];
  }

  toString(): string {
    return `Tensor(${this.dtype}${shapeStr(this.shape)}${this.name ? ' ' + this.name : ''})`;
  }
}

/**
 * Runs `fn` and disposes every tensor created inside it, except the ones it returns (a tensor,
 * an array of tensors, or an object whose values are tensors) and those marked with `keep()`.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } finally {
    scopes.pop();
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

function collectTensors(v: unknown, out: Set<Tensor>): void {
  if (v instanceof Tensor) out.add(v);
  else if (Array.isArray(v)) for (const x of v) collectTensors(x, out);
  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const x of Object.values(v)) collectTensors(x, out);
  }
}
