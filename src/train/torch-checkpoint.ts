/**
 * The training-state files of a Hugging Face Trainer checkpoint, in torch's own format, so that a
 * tokentune checkpoint-N folder resumes in transformers' Trainer (`resume_from_checkpoint`, under
 * `accelerate launch` or `torchrun` too) and a Trainer's checkpoint resumes in tokentune:
 * - optimizer.pt: torch.optim.AdamW's state_dict. Parameter indices follow the Trainer's two
 *   groups (decay, then no decay, each in named_parameters order), which is exactly the order of
 *   our AdamW's flat buffer, so each moment is a view into one storage of the whole buffer.
 * - scheduler.pt: the LambdaLR state_dict of the Trainer's schedules.
 * - rng_state.pth: Python's, NumPy's and torch's CPU generators as `set_seed(seed)` leaves them
 *   (our dropout streams are counter-based and have no Mersenne Twister state to hand over).
 */
import { existsSync } from 'node:fs';
import { bytesOf, isLoadedTensor, torchLoad, torchSave, type StorageData } from '../io/torch-save.js';
import { PickleFloat, PickleTuple, type PickleTensor, type PickleValue } from '../io/pickle-writer.js';
import { PyDict } from '../io/torch-pickle.js';
import type { AdamW } from './optimizer.js';

export const OPTIMIZER_NAME = 'optimizer.pt';
export const SCHEDULER_NAME = 'scheduler.pt';
export const RNG_STATE_NAME = 'rng_state.pth';

export class TorchStateError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'TorchStateError';
  }
}

const f = (v: number): PickleFloat => new PickleFloat(v);

/** Parameter sizes in the flat buffer's order, split into the decay group and the rest. */
function groups(optimizer: AdamW): { sizes: number[]; decayParams: number } {
  const sizes = optimizer.flat.params.map((t) => t.size);
  let acc = 0,
    decayParams = 0;
  while (decayParams < sizes.length && acc < optimizer.decayCount) acc += sizes[decayParams++]!;
  return { sizes, decayParams };
}

/** optimizer.pt: torch.optim.AdamW.state_dict() for the Trainer's parameter groups. */
export function writeOptimizerPt(path: string, optimizer: AdamW, lr: number, initialLr: number): void {
  const { sizes, decayParams } = groups(optimizer);
  const n = optimizer.m.length;
  const storages = new Map<string, StorageData>([
    ['0', { dtype: 'F32', bytes: bytesOf(optimizer.m) }],
    ['1', { dtype: 'F32', bytes: bytesOf(optimizer.v) }],
  ]);
  // Each step is a storage of its own: torch increments the steps in place, one per parameter.
  const stepBytes = bytesOf(Float32Array.of(optimizer.step));
  const state = new Map<number, PickleValue>();
  let offset = 0;
  sizes.forEach((size, i) => {
    const key = String(2 + i);
    storages.set(key, { dtype: 'F32', bytes: stepBytes });
    const view = (storageKey: string): PickleTensor => ({
      kind: 'tensor',
      storageKey,
      dtype: 'F32',
      storageNumel: n,
      offset,
      shape: optimizer.flat.params[i]!.shape,
    });
    state.set(
      i,
      new Map<string, PickleValue>([
        ['step', { kind: 'tensor', storageKey: key, dtype: 'F32', storageNumel: 1, offset: 0, shape: [] }],
        ['exp_avg', view('0')],
        ['exp_avg_sq', view('1')],
      ]),
    );
    offset += size;
  });
  const { beta1, beta2, eps, weightDecay } = optimizer.opts;
  const group = (decay: number, params: number[]): PickleValue =>
    new Map<string, PickleValue>([
      ['weight_decay', f(decay)],
      ['lr', f(lr)],
      ['betas', new PickleTuple([f(beta1), f(beta2)])],
      ['eps', f(eps)],
      ['amsgrad', false],
      ['maximize', false],
      ['foreach', null],
      ['capturable', false],
      ['differentiable', false],
      ['fused', null],
      ['decoupled_weight_decay', true],
      ['initial_lr', f(initialLr)],
      ['params', params],
    ]);
  const idx = sizes.map((_, i) => i);
  torchSave(
    path,
    'optimizer',
    new Map<string, PickleValue>([
      ['state', state],
      ['param_groups', [group(weightDecay, idx.slice(0, decayParams)), group(0, idx.slice(decayParams))]],
    ]),
    storages,
  );
}

const get = (d: unknown, k: string | number, file: string, what: string): unknown => {
  if (!(d instanceof PyDict)) throw new TorchStateError(file, `${what}: expected a dict`);
  if (!d.map.has(k)) throw new TorchStateError(file, `${what}: no '${k}' entry`);
  return d.map.get(k);
};

/**
 * Loads a torch.optim.AdamW state_dict written by transformers' Trainer (or by us) into our AdamW.
 * The groups must be the Trainer's: decay parameters first, then the rest, with our sizes.
 */
export function readOptimizerPt(path: string, optimizer: AdamW): { step: number } {
  const root = torchLoad(path);
  const { sizes, decayParams } = groups(optimizer);
  const pg = get(root, 'param_groups', path, 'optimizer state');
  if (!Array.isArray(pg)) throw new TorchStateError(path, 'param_groups is not a list');
  const order: number[] = [];
  for (const g of pg) {
    const params = get(g, 'params', path, 'param group');
    if (!Array.isArray(params)) throw new TorchStateError(path, 'a param group has no params list');
    for (const id of params) order.push(id as number); // no spread: a hostile file may list 1M ids
  }
  const groupSizes = pg.map((g) => (get(g, 'params', path, 'param group') as unknown[]).length);
  if (groupSizes.length !== 2 || groupSizes[0] !== decayParams || groupSizes[1] !== sizes.length - decayParams) {
    throw new TorchStateError(
      path,
      `optimizer groups hold [${groupSizes.join(', ')}] parameters but this model has [${decayParams}, ${sizes.length - decayParams}] (weight decay, no decay): not a checkpoint of this model, or an optimizer other than the Trainer's AdamW`,
    );
  }
  const state = get(root, 'state', path, 'optimizer state');
  if (!(state instanceof PyDict)) throw new TorchStateError(path, 'state is not a dict');
  const m = new Float32Array(optimizer.m.length),
    v = new Float32Array(optimizer.v.length);
  let offset = 0,
    step: number | null = null;
  order.forEach((id, i) => {
    const size = sizes[i]!;
    const s = state.map.get(id);
    if (s !== undefined) {
      const name = optimizer.flat.params[i]!.name ?? `parameter ${i}`;
      const moment = (k: string): Float32Array => {
        const t = get(s, k, path, `state[${id}]`);
        if (!isLoadedTensor(t) || !(t.data instanceof Float32Array))
          throw new TorchStateError(path, `state[${id}].${k} is not a float32 tensor`);
        if (t.data.length !== size)
          throw new TorchStateError(path, `state[${id}].${k} has ${t.data.length} elements but ${name} has ${size}`);
        // A NaN or infinite moment makes every later update NaN without a word; exp_avg_sq is a mean of squares.
        const bad = t.data.findIndex((x) => !Number.isFinite(x) || (k === 'exp_avg_sq' && x < 0));
        if (bad >= 0)
          throw new TorchStateError(
            path,
            `state[${id}].${k} (${name}) holds ${t.data[bad]} at element ${bad}: the optimizer state is corrupt`,
          );
        return t.data;
      };
      m.set(moment('exp_avg'), offset);
      v.set(moment('exp_avg_sq'), offset);
      const st = get(s, 'step', path, `state[${id}]`);
      const value = isLoadedTensor(st) ? Number(st.data[0]) : Number(st);
      if (!Number.isFinite(value) || value < 0 || !Number.isInteger(value))
        throw new TorchStateError(path, `state[${id}].step is ${String(value)}`);
      if (step !== null && value !== step)
        throw new TorchStateError(path, `parameters were stepped ${step} and ${value} times: tokentune keeps one step count`);
      step = value;
    }
    offset += size;
  });
  optimizer.loadState({ step: step ?? 0, m, v });
  return { step: step ?? 0 };
}

/** scheduler.pt: the state_dict of the Trainer's LambdaLR (one entry per parameter group). */
export function writeSchedulerPt(path: string, step: number, baseLr: number, lastLr: number): void {
  torchSave(
    path,
    'scheduler',
    new Map<string, PickleValue>([
      ['base_lrs', [f(baseLr), f(baseLr)]],
      ['last_epoch', step],
      ['_step_count', step + 1],
      ['_is_initial', false],
      ['_get_lr_called_within_step', false],
      ['_last_lr', [f(lastLr), f(lastLr)]],
      ['lr_lambdas', [new Map(), new Map()]],
    ]),
    new Map(),
  );
}

/** The scheduler's step (last_epoch), or null when the folder has no scheduler.pt. */
export function readSchedulerStep(path: string): number | null {
  if (!existsSync(path)) return null;
  const last = get(torchLoad(path), 'last_epoch', path, 'scheduler state');
  if (typeof last !== 'number' || !Number.isInteger(last)) throw new TorchStateError(path, `last_epoch is ${String(last)}`);
  return last;
}

// ---------------------------------------------------------------------------------------------
// RNG states as set_seed(seed) leaves them

const N = 624;

/** MT19937 init_genrand: the state torch.manual_seed and numpy.random.seed(int) start from. */
export function mtInitGenrand(seed: number): Uint32Array {
  const mt = new Uint32Array(N);
  mt[0] = seed >>> 0;
  for (let i = 1; i < N; i++) {
    const prev = mt[i - 1]!;
    mt[i] = (Math.imul(1812433253, (prev ^ (prev >>> 30)) >>> 0) + i) >>> 0;
  }
  return mt;
}

/** CPython's init_by_array (random.seed(int) keys it with the int's 32-bit words). */
export function mtInitByArray(key: readonly number[]): Uint32Array {
  const mt = mtInitGenrand(19650218);
  let i = 1,
    j = 0;
  for (let k = Math.max(N, key.length); k; k--) {
    const prev = mt[i - 1]!;
    mt[i] = ((mt[i]! ^ Math.imul((prev ^ (prev >>> 30)) >>> 0, 1664525)) + key[j]! + j) >>> 0;
    i++;
    j++;
    if (i >= N) {
      mt[0] = mt[N - 1]!;
      i = 1;
    }
    if (j >= key.length) j = 0;
  }
  for (let k = N - 1; k; k--) {
    const prev = mt[i - 1]!;
    mt[i] = ((mt[i]! ^ Math.imul((prev ^ (prev >>> 30)) >>> 0, 1566083941)) - i) >>> 0;
    i++;
    if (i >= N) {
      mt[0] = mt[N - 1]!;
      i = 1;
    }
  }
  mt[0] = 0x80000000;
  return mt;
}

/** The 32-bit words of |seed|, least significant first, as CPython's random.seed keys its generator. */
function seedWords(seed: number): number[] {
  let n = BigInt(Math.abs(Math.trunc(seed)));
  const words: number[] = [];
  do {
    words.push(Number(n & 0xffffffffn));
    n >>= 32n;
  } while (n > 0n);
  return words;
}

/** torch's CPU generator state after torch.manual_seed(seed): CPUGeneratorImplState, 5,056 bytes. */
export function torchCpuRngState(seed: number): Uint8Array {
  const out = new Uint8Array(5056);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(seed), true); // the_initial_seed
  dv.setInt32(8, 1, true); // left
  dv.setInt32(12, 1, true); // seeded
  dv.setBigUint64(16, 0n, true); // next
  const mt = mtInitGenrand(Number(BigInt(seed) & 0xffffffffn));
  for (let i = 0; i < N; i++) dv.setBigUint64(24 + 8 * i, BigInt(mt[i]!), true);
  return out; // the normal-sample caches that follow are zero (invalid) after seeding
}

/** rng_state.pth as the Trainer writes it after set_seed(seed) on a CPU machine. */
export function writeRngStatePth(path: string, seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError(`rng_state.pth: seed ${seed} must be an integer in [0, 2^32)`);
  const py = mtInitByArray(seedWords(seed));
  const np = mtInitGenrand(seed);
  const cpu = torchCpuRngState(seed);
  torchSave(
    path,
    'rng_state',
    new Map<string, PickleValue>([
      ['python', new PickleTuple([3, new PickleTuple([...py, N]), null])],
      ['numpy', new PickleTuple(['MT19937', [...np], N, 0, f(0)])],
      ['cpu', { kind: 'tensor', storageKey: '0', dtype: 'U8', storageNumel: cpu.length, offset: 0, shape: [cpu.length] }],
    ]),
    new Map([['0', { dtype: 'U8', bytes: cpu }]]),
  );
}
