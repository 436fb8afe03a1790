/**
 * Wraps every kernel of the active backend with a timer keyed by kernel name (the profilers'
 * "profile first" tool): install it, run, then print the table. `key` may split a kernel's time
 * further (e.g. GEMM by shape).
 */
import { kernels, setKernels, type Kernels } from '../src/engine/index.js';

export interface KernelTimes {
  /** Total ms and calls per key since the last clear(). */
  times: Map<string, { ms: number; calls: number }>;
  /** The backend's name (native ISA or ts). */
  backend: string;
  /** Prints the table for `runs` runs of `totalMs` each (per-run figures), sorted by time. */
  print(label: string, totalMs: number, runs: number): void;
}

export function timeKernels(key: (name: string, args: unknown[]) => string = (n) => n): KernelTimes {
  const base = kernels();
  const times = new Map<string, { ms: number; calls: number }>();
  const wrapped: Record<string, unknown> = { name: base.name };
  for (const [name, fn] of Object.entries(Object.getPrototypeOf(base) === Object.prototype ? base : { ...base })) {
    if (typeof fn !== 'function') continue;
    wrapped[name] = (...args: unknown[]) => {
      const t0 = performance.now();
      const r = (fn as (...a: unknown[]) => unknown).apply(base, args);
      const k = key(name, args);
      const e = times.get(k) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t0;
      e.calls++;
      times.set(k, e);
      return r;
    };
  }
  setKernels(wrapped as unknown as Kernels);
  return {
    times,
    backend: base.name,
    print(label: string, total: number, n: number): void {
      let kern = 0;
      console.log(`${label} ${total.toFixed(1)} ms (${base.name})`);
      for (const [name, e] of [...times.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
        kern += e.ms / n;
        console.log(
          `${name.padEnd(40)} ${(e.ms / n).toFixed(2).padStart(9)} ms  ${((100 * e.ms) / n / total).toFixed(1).padStart(5)}%  calls/run ${e.calls / n}`,
        );
      }
      console.log(
        `${'(outside kernels)'.padEnd(40)} ${(total - kern).toFixed(2).padStart(9)} ms  ${((100 * (total - kern)) / total).toFixed(1).padStart(5)}%`,
      );
    },
  };
}
