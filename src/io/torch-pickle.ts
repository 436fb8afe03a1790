/**
 * A restricted pickle reader for PyTorch state dicts. It interprets only the opcodes that
 * torch.save emits for a state dict and resolves only allow-listed globals, each mapped to a
 * plain data constructor here: nothing from the pickle is ever executed. Any other global is
 * refused with UnsafePickleError the moment the pickle names it.
 */
import { CheckpointFormatError, UnsafePickleError } from './errors.js';
import type { DType } from './tensor-record.js';

export class PyTuple {
  constructor(readonly items: unknown[]) {}
}

/** dict / OrderedDict. Keys are strings or numbers in practice; `attrs` holds BUILD state. */
export class PyDict {
  readonly map = new Map<unknown, unknown>();
  attrs: unknown = undefined;
}

/** An allow-listed global, as a value (callable via REDUCE or used as a storage type tag). */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: DType;
  /** Record name inside the archive's data/ folder. */
  readonly key: string;
  readonly location: string;
  /** Element count of the whole storage. */
  readonly numel: number;
}

export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
}

/** Longest LONG1/LONG4 integer accepted (torch.save writes at most 9 bytes: a uint64 and its sign). */
const MAX_LONG_BYTES = 16;

/** Most values one pickle stack frame may hold (a 10,000-tensor state dict needs ~20,000). */
const MAX_STACK = 1 << 20;

const STORAGE_DTYPES: Readonly<Record<string, DType>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const ALLOWED_GLOBALS = new Set<string>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
]);

export function isStorageRef(v: unknown): v is StorageRef {
  return typeof v === 'object' && v !== null && (v as StorageRef).kind === 'storage';
}

export function isTensorRef(v: unknown): v is TensorRef {
  return typeof v === 'object' && v !== null && (v as TensorRef).kind === 'tensor';
}

/** Short, non-recursive description of a value for error messages. */
export function pyTypeName(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PyGlobal) return v.qualified;
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (isTensorRef(v)) return 'tensor';
  if (isStorageRef(v)) return 'storage';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return 'int';
  if (typeof v === 'number') return 'float';
  return typeof v;
}

/**
 * Interpret a torch.save data.pkl. Returns the unpickled value: PyDict, PyTuple, arrays (lists),
 * strings, numbers (bigint beyond 2^53), booleans, null, Uint8Array, TensorRef and StorageRef.
 */
export function parseTorchPickle(bytes: Uint8Array, file = '<pickle>'): unknown {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8');
  let pos = 0;
  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();

  let opAt = 0;
  const fail = (detail: string): never => {
    throw new CheckpointFormatError(file, `pickle byte ${opAt}: ${detail}`);
  };
  const need = (n: number, what: string): void => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated pickle: ${what} needs ${n} bytes, ${bytes.length - pos} left`);
  };
  const u8 = (): number => {
    need(1, 'argument');
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2, 'argument');
    const v = dv.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4, 'argument');
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const i32 = (): number => {
    need(4, 'argument');
    const v = dv.getInt32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8, 'argument');
    const v = dv.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is implausibly large`);
    return Number(v);
  };
  const take = (n: number, what: string): Uint8Array => {
    need(n, what);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = (what: string): string => {
    const nl = bytes.indexOf(0x0a, pos);
    if (nl < 0) fail(`truncated pickle: ${what} is not newline-terminated`);
    const s = utf8.decode(bytes.subarray(pos, nl));
    pos = nl + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) fail('no MARK to pop to');
    stack = prev!;
    return items;
  };
  const memoGet = (i: number): unknown => {
    if (!memo.has(i)) fail(`memo index ${i} was never stored`);
    return memo.get(i);
  };
  const memoPut = (i: number): void => {
    memo.set(i, top());
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(q)) throw new UnsafePickleError(file, q);
    return new PyGlobal(module, name);
  };
  const setItem = (d: unknown, k: unknown, v: unknown): void => {
    if (!(d instanceof PyDict)) fail(`SETITEM on a ${pyTypeName(d)}, expected a dict`);
    if (typeof k === 'object' && k !== null && !(k instanceof PyTuple)) fail(`unhashable dict key of type ${pyTypeName(k)}`);
    (d as PyDict).map.set(k, v);
  };
  const listOf = (v: unknown): unknown[] => {
    if (!Array.isArray(v)) fail(`APPEND on a ${pyTypeName(v)}, expected a list`);
    return v as unknown[];
  };

  for (;;) {
    opAt = pos;
    if (pos >= bytes.length) fail('truncated pickle: no STOP opcode');
    // DUP/BINGET make 8+ bytes of stack from 1-2 bytes of file; a state dict never nests this deep.
    if (stack.length > MAX_STACK || metastack.length > MAX_STACK)
      fail(`more than ${MAX_STACK} values on the pickle stack: not a state dict`);
    const op = bytes[pos++]!;
    switch (op) {
      case 0x80: {
        // PROTO
        const v = u8();
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95: // FRAME: a length hint only; framed data is still read opcode by opcode
        u64();
        break;
      case 0x2e: {
        // STOP
        const v = pop();
        if (metastack.length !== 0) fail('STOP inside an unclosed MARK');
        return v;
      }
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x7d:
        stack.push(new PyDict());
        break; // EMPTY_DICT
      case 0x5d:
        stack.push([]);
        break; // EMPTY_LIST
      case 0x29:
        stack.push(new PyTuple([]));
        break; // EMPTY_TUPLE
      case 0x4e:
        stack.push(null);
        break; // NONE
      case 0x88:
        stack.push(true);
        break; // NEWTRUE
      case 0x89:
        stack.push(false);
        break; // NEWFALSE
      case 0x58:
        stack.push(utf8.decode(take(u32(), 'BINUNICODE')));
        break;
      case 0x8c:
        stack.push(utf8.decode(take(u8(), 'SHORT_BINUNICODE')));
        break;
      case 0x8d:
        stack.push(utf8.decode(take(u64(), 'BINUNICODE8')));
        break;
      case 0x43:
        stack.push(Uint8Array.from(take(u8(), 'SHORT_BINBYTES')));
        break;
      case 0x42:
        stack.push(Uint8Array.from(take(u32(), 'BINBYTES')));
        break;
      case 0x4a:
        stack.push(i32());
        break; // BININT
      case 0x4b:
        stack.push(u8());
        break; // BININT1
      case 0x4d:
        stack.push(u16());
        break; // BININT2
      case 0x8a: // LONG1
      case 0x8b: {
        // LONG4
        // Sizes, strides, offsets and versions all fit in 64 bits; a longer integer is never
        // part of a state dict, and refusing it up front keeps parsing linear in the file size.
        const n = op === 0x8a ? u8() : u32();
        if (n > MAX_LONG_BYTES) fail(`LONG of ${n} bytes: integers in a state dict fit in ${MAX_LONG_BYTES} bytes`);
        const b = take(n, 'LONG');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n); // two's complement
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: {
        // BINFLOAT (big-endian)
        need(8, 'BINFLOAT');
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x74: {
        // TUPLE (popMark swaps `stack`, so pop before naming stack.push)
        const items = popMark();
        stack.push(new PyTuple(items));
        break;
      }
      case 0x85:
        stack.push(new PyTuple([pop()]));
        break; // TUPLE1
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(new PyTuple([a, b, c]));
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('SETITEMS with an odd number of items');
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        listOf(top()).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = listOf(top());
        for (const it of items) list.push(it);
        break;
      }
      case 0x71:
        memoPut(u8());
        break; // BINPUT
      case 0x72:
        memoPut(u32());
        break; // LONG_BINPUT
      case 0x94:
        memoPut(memo.size);
        break; // MEMOIZE
      case 0x68:
        stack.push(memoGet(u8()));
        break; // BINGET
      case 0x6a:
        stack.push(memoGet(u32()));
        break; // LONG_BINGET
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line('GLOBAL module');
        const name = line('GLOBAL name');
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) fail(`REDUCE on a ${pyTypeName(fn)}, expected a global`);
        if (!(args instanceof PyTuple)) fail(`REDUCE arguments must be a tuple, got ${pyTypeName(args)}`);
        stack.push(callGlobal(fn as PyGlobal, (args as PyTuple).items, fail));
        break;
      }
      case 0x62: {
        // BUILD: only attribute state on a dict (state_dict()._metadata) is meaningful
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict)) fail(`BUILD on a ${pyTypeName(obj)} is not supported`);
        (obj as PyDict).attrs = state;
        break;
      }
      case 0x51: {
        // BINPERSID
        stack.push(persistentLoad(pop(), fail));
        break;
      }
      case 0x30:
        pop();
        break; // POP
      case 0x31:
        popMark();
        break; // POP_MARK
      case 0x32:
        stack.push(top());
        break; // DUP
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} (not used by torch.save state dicts)`);
    }
  }
}

function nonNegInt(v: unknown, what: string, fail: (d: string) => never): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    fail(`${what} must be a non-negative integer, got ${pyTypeName(v)} ${String(v)}`);
  return v as number;
}

function intTuple(v: unknown, what: string, fail: (d: string) => never): number[] {
  if (!(v instanceof PyTuple)) return fail(`${what} must be a tuple, got ${pyTypeName(v)}`);
  return v.items.map((x, i) => nonNegInt(x, `${what}[${i}]`, fail));
}

/** ('storage', torch.XStorage, key, location, numel) -> StorageRef. */
function persistentLoad(pid: unknown, fail: (d: string) => never): StorageRef {
  if (!(pid instanceof PyTuple) || pid.items.length !== 5 || pid.items[0] !== 'storage') {
    return fail(`persistent id must be ('storage', type, key, location, numel), got ${pyTypeName(pid)}`);
  }
  const [, type, key, location, numel] = pid.items;
  if (!(type instanceof PyGlobal) || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) {
    return fail(`persistent id names an unsupported storage type ${pyTypeName(type)}`);
  }
  if (typeof key !== 'string' || key.length === 0) return fail(`storage key must be a non-empty string, got ${pyTypeName(key)}`);
  if (typeof location !== 'string') return fail(`storage location must be a string, got ${pyTypeName(location)}`);
  return {
    kind: 'storage',
    dtype: STORAGE_DTYPES[type.name]!,
    key,
    location,
    numel: nonNegInt(numel, `storage '${key}' size`, fail),
  };
}

function callGlobal(fn: PyGlobal, args: unknown[], fail: (d: string) => never): unknown {
  switch (fn.qualified) {
    case 'collections.OrderedDict': {
      const d = new PyDict();
      if (args.length === 0) return d;
      // OrderedDict(iterable of pairs)
      const pairs = args[0];
      if (args.length !== 1 || !Array.isArray(pairs)) return fail('OrderedDict() takes one list of pairs');
      for (const p of pairs) {
        if (!(p instanceof PyTuple) || p.items.length !== 2) return fail('OrderedDict() pair must be a 2-tuple');
        d.map.set(p.items[0], p.items[1]);
      }
      return d;
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
      if (args.length < 4) return fail(`${fn.name} needs at least 4 arguments, got ${args.length}`);
      const [storage, offset, size, stride] = args;
      if (!isStorageRef(storage)) return fail(`${fn.name}: first argument must be a storage, got ${pyTypeName(storage)}`);
      const shape = intTuple(size, 'tensor size', fail);
      const strides = intTuple(stride, 'tensor stride', fail);
      if (shape.length !== strides.length) return fail(`tensor size has ${shape.length} dims but stride has ${strides.length}`);
      return { kind: 'tensor', storage, offset: nonNegInt(offset, 'storage offset', fail), shape, stride: strides } satisfies TensorRef;
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state': {
      // (data, requires_grad, backward_hooks[, state]): a Parameter is just its data here
      if (!isTensorRef(args[0])) return fail(`${fn.name}: first argument must be a tensor, got ${pyTypeName(args[0])}`);
      return args[0];
    }
    default:
      return fail(`${fn.qualified} cannot be called`);
  }
}
