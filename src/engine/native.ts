/**
 * Loader for the native compute core (`native/`, built by node-gyp into build/Release/tokentune.node).
 *
 * `loadNative()` returns the addon's kernels as a `Kernels` object, or null when the addon is not
 * built or fails to load (`nativeLoadError()` says why). The addon validates every call itself:
 * wrong array types throw TypeError (it takes Float32Array only; Float64Array is the reference
 * kernels' business), sizes that do not fit the arrays throw RangeError.
 *
 * ISA (AVX-512 / AVX2+FMA / portable) is detected once from cpuid; `TOKENTUNE_KERNEL=scalar|avx2|avx512`
 * forces a level at load (one the CPU lacks, or an unknown name, is an error that says what the CPU
 * has), `setNativeIsa()` at run time. `TOKENTUNE_INT8=<path>` forces an int8 path the same way (e.g.
 * `avx2` on a VNNI machine measures what CPUs without VNNI run). Threads: `TOKENTUNE_THREADS`, default
 * the hardware thread count, or `setThreads()`.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernels } from './kernels.js';

/** Levels per architecture: x86-64 scalar < avx2 < avx512; arm64 scalar < neon. */
export type NativeIsa = 'avx512' | 'avx2' | 'neon' | 'scalar';
/** int8 GEMM paths (linearInt8), best last; the ISA level caps which one runs. */
export type NativeInt8Path = 'scalar' | 'avx2' | 'avxvnni' | 'avx512vnni' | 'neondot' | 'i8mm';
export interface NativeInt8Info {
  /** The path linearInt8 uses now. */
  path: NativeInt8Path;
  /** Every path this CPU can run at the ISA level in use (tests force each one). */
  paths: NativeInt8Path[];
}

export interface NativeInfo {
  /** The instruction set the kernels use now. */
  isa: NativeIsa;
  /** The best instruction set this CPU supports. */
  maxIsa: NativeIsa;
  /** Threads in the addon's pool (including the calling thread). */
  threads: number;
  /** The system BLAS running the fp32 GEMM (`TOKENTUNE_BLAS=openblas|accelerate`), '' for ours. */
  blas: string;
}

type KernelFns = Omit<Kernels, 'name'>;

interface Addon extends KernelFns {
  info(): NativeInfo;
  bf16Info(): { available: boolean; native: boolean };
  setBf16Fallback(force: boolean): void;
  setThreads(n: number): void;
  setIsa(isa: NativeIsa): void;
  int8Info(): NativeInt8Info;
  setInt8Path(path: NativeInt8Path | 'auto'): void;
}

// dist/src/engine/native.js -> repository root is three folders up (same from src/engine/ for tools
// that run the TypeScript directly).
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Where the addon is expected. */
export const nativeAddonPath = path.join(repoRoot, 'build', 'Release', 'tokentune.node');

let addon: Addon | null | undefined;
let loadError: string | null = null;
let kernelEnvError: Error | null = null;

/** ISA levels of this architecture, lowest first (the addon's kernels per architecture). */
export const NATIVE_ISAS: readonly NativeIsa[] = process.arch === 'arm64' ? ['scalar', 'neon'] : ['scalar', 'avx2', 'avx512'];

/**
 * The level `TOKENTUNE_KERNEL` asks for on a CPU whose best is `maxIsa` (null: unset or empty, use
 * the best). A name the CPU cannot run, or no level at all, throws: a forced kernel that is
 * silently ignored would make a test or benchmark claim a path it never ran.
 */
export function kernelFromEnv(value: string | undefined, maxIsa: NativeIsa): NativeIsa | null {
  if (value === undefined || value === '') return null;
  const has = NATIVE_ISAS.slice(0, NATIVE_ISAS.indexOf(maxIsa) + 1);
  const what = `this CPU runs ${has.join(', ')} (best ${maxIsa})`;
  const want = NATIVE_ISAS.find((l) => l === value);
  if (!want) throw new Error(`TOKENTUNE_KERNEL=${value}: unknown kernel; ${what}`);
  if (!has.includes(want)) throw new Error(`TOKENTUNE_KERNEL=${value}: this CPU lacks ${want}; ${what}`);
  return want;
}

const INT8_PATHS: readonly NativeInt8Path[] = ['scalar', 'avx2', 'avxvnni', 'avx512vnni', 'neondot', 'i8mm'];

/**
 * The int8 path `TOKENTUNE_INT8` asks for, given the paths this CPU runs at its ISA level (null:
 * unset or empty, use the best). As with TOKENTUNE_KERNEL, one it cannot run throws.
 */
export function int8PathFromEnv(value: string | undefined, has: readonly NativeInt8Path[]): NativeInt8Path | null {
  if (value === undefined || value === '') return null;
  const what = `this CPU runs ${has.join(', ')} at this ISA level (TOKENTUNE_KERNEL)`;
  const want = INT8_PATHS.find((p) => p === value);
  if (!want) throw new Error(`TOKENTUNE_INT8=${value}: unknown int8 path; ${what}`);
  if (!has.includes(want)) throw new Error(`TOKENTUNE_INT8=${value}: not available; ${what}`);
  return want;
}

let kernelsObj: Kernels | null = null;

const KERNEL_NAMES: readonly (keyof KernelFns)[] = [
  'gemm',
  'packGemmB',
  'gemmBf16',
  'addBias',
  'sumRowsAcc',
  'add',
  'axpy',
  'mul',
  'scale',
  'sumSquares',
  'geluForward',
  'geluBackward',
  'biasGelu',
  'geluBackwardSumRows',
  'biasDropoutAdd',
  'attentionForward',
  'attentionBackward',
  'tanhForward',
  'tanhBackward',
  'layerNormForward',
  'layerNormBackward',
  'softmaxForward',
  'softmaxBackward',
  'dropoutForward',
  'dropoutBackward',
  'embeddingForward',
  'embeddingBackward',
  'permute0213',
  'crossEntropyForward',
  'crossEntropyBackward',
  'adamw',
  'linearInt8',
  'packInt8Weights',
];

function loadAddon(): Addon | null {
  if (addon !== undefined) {
    if (kernelEnvError) throw kernelEnvError;
    return addon;
  }
  try {
    const req = createRequire(import.meta.url);
    const mod = req(nativeAddonPath) as Partial<Addon>;
    const missing = [...KERNEL_NAMES, 'info', 'setThreads', 'setIsa', 'bf16Info', 'setBf16Fallback', 'int8Info', 'setInt8Path'].filter(
      (k) => typeof (mod as Record<string, unknown>)[k] !== 'function',
    );
    if (missing.length > 0) {
      throw new Error(`the addon lacks ${missing.join(', ')} (stale build? run "npm ci" or "npm run install" to build it)`);
    }
    addon = mod as Addon;
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0]; // drop the require stack
    loadError = `native addon not available at ${nativeAddonPath}: ${msg}`;
    addon = null;
  }
  if (addon) {
    // Outside the try: a bad TOKENTUNE_KERNEL or TOKENTUNE_INT8 is the user's error, not a missing addon (which would
    // fall back to the slow reference kernels). Thrown again on every later use.
    try {
      const want = kernelFromEnv(process.env.TOKENTUNE_KERNEL, addon.info().maxIsa);
      if (want) addon.setIsa(want);
      const int8 = int8PathFromEnv(process.env.TOKENTUNE_INT8, addon.int8Info().paths);
      if (int8) addon.setInt8Path(int8);
    } catch (err) {
      kernelEnvError = err instanceof Error ? err : new Error(String(err));
    }
  }
  if (kernelEnvError) throw kernelEnvError;
  return addon;
}

/** The native kernels, or null when the addon is missing or broken (see `nativeLoadError()`). */
export function loadNative(): Kernels | null {
  if (kernelsObj) return kernelsObj;
  const a = loadAddon();
  if (!a) return null;
  const k = {} as Record<string, unknown>;
  for (const name of KERNEL_NAMES) k[name] = a[name];
  Object.defineProperty(k, 'name', { get: () => `native-${a.info().isa}`, enumerable: true });
  kernelsObj = k as unknown as Kernels;
  return kernelsObj;
}

/** Why `loadNative()` returned null (null when it did not). */
export function nativeLoadError(): string | null {
  loadAddon();
  return loadError;
}

/** ISA and thread count of the loaded addon, or null when it is not available. */
export function nativeInfo(): NativeInfo | null {
  const a = loadAddon();
  return a ? a.info() : null;
}

/** Live view of the addon's configuration (`available` false when it is not built). */
export const nativeKernels = {
  get available(): boolean {
    return loadAddon() !== null;
  },
  get isa(): NativeIsa | null {
    return nativeInfo()?.isa ?? null;
  },
  get maxIsa(): NativeIsa | null {
    return nativeInfo()?.maxIsa ?? null;
  },
  get threads(): number {
    return nativeInfo()?.threads ?? 0;
  },
};

function requireAddon(what: string): Addon {
  const a = loadAddon();
  if (!a) throw new Error(`${what}: ${loadError}`);
  return a;
}

/** Resizes the addon's thread pool (n >= 1). Results do not depend on n. */
export function setThreads(n: number): void {
  requireAddon('setThreads').setThreads(n);
}

/** Forces an instruction set no better than the CPU's (`maxIsa`); for tests and benchmarks. */
export function setNativeIsa(isa: NativeIsa): void {
  requireAddon('setNativeIsa').setIsa(isa);
}

/**
 * How the native gemmBf16 runs: `available` = the CPU has AVX512_BF16 (VDPBF16PS); `native` = it is
 * used now (needs the avx512 ISA level and no forced fallback). Otherwise operands are rounded to
 * bf16 and the float32 GEMM multiplies them (same results up to summation order, no speed-up).
 */
export function nativeBf16Info(): { available: boolean; native: boolean } | null {
  const a = loadAddon();
  return a ? a.bf16Info() : null;
}

/** Tests: force gemmBf16's portable path (round, then float32 GEMM) even where AVX512_BF16 exists. */
export function setNativeBf16Fallback(force: boolean): void {
  requireAddon('setNativeBf16Fallback').setBf16Fallback(force);
}

/** The int8 GEMM path in use and the ones this CPU has, or null when the addon is not built. */
export function nativeInt8Info(): NativeInt8Info | null {
  const a = loadAddon();
  return a ? a.int8Info() : null;
}

/** Tests and benchmarks: force an int8 path ('auto': the best the ISA level allows). */
export function setNativeInt8Path(path: NativeInt8Path | 'auto'): void {
  requireAddon('setNativeInt8Path').setInt8Path(path);
}
