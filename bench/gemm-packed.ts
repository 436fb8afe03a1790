/**
 * `npm run bench -- gemm-packed`: what packing a weight once (packGemmB, engine/packed-weights.ts)
 * saves over packing it on every call, on the BERT-base linear shapes of a 128-token inference
 * pass (x W^T, W [out, in]). One thread, timed by process CPU time (other tenants of a shared
 * machine move it less than wall time); 24 distinct weights per shape, used in turn, so that they
 * come from memory as a model's do, not from cache. Medians of 7 rounds, the two forms alternating.
 */
import { kernels } from '../src/engine/index.js';
import { nativeInfo, setThreads } from '../src/engine/native.js';

const SHAPES: [number, number, number][] = [
  [128, 2304, 768],
  [128, 768, 768],
  [128, 3072, 768],
  [128, 768, 3072],
];
const WEIGHTS = 24,
  ROUNDS = 7;

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export function runGemmPackedBench(): void {
  const info = nativeInfo();
  if (!info) {
    console.log('skipped: the native addon is not built');
    return;
  }
  const K = kernels();
  setThreads(1);
  try {
    console.log(`${K.name}, 1 thread; GFLOP/s by process CPU time, median of ${ROUNDS} rounds over ${WEIGHTS} weights`);
    console.log('| m x n x k | packed on every call | packed once | ratio |\n|---|---|---|---|');
    let seed = 1;
    const rand = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5;
    for (const [m, n, k] of SHAPES) {
      const x = Float32Array.from({ length: m * k }, rand);
      const ws = Array.from({ length: WEIGHTS }, () => Float32Array.from({ length: n * k }, rand));
      const packs = ws.map((w) => K.packGemmB(w, true, n, k));
      const y = new Float32Array(m * n);
      const pass = (packed: boolean): number => {
        const t0 = cpuMs();
        for (let i = 0; i < WEIGHTS; i++) K.gemm(false, true, m, n, k, 1, x, k, 0, ws[i], k, 0, 0, y, n, 0, 1, packed ? packs[i] : null);
        return (cpuMs() - t0) / WEIGHTS;
      };
      pass(false);
      pass(true);
      const times: [number[], number[]] = [[], []];
      for (let r = 0; r < ROUNDS; r++) {
        times[0].push(pass(false));
        times[1].push(pass(true));
      }
      const [every, once] = times.map((t) => t.sort((a, b) => a - b)[ROUNDS >> 1]);
      const gflops = (ms: number): string => ((2 * m * n * k) / ms / 1e6).toFixed(1);
      console.log(`| ${m} x ${n} x ${k} | ${gflops(every)} | ${gflops(once)} | ${(every / once).toFixed(2)}x |`);
    }
  } finally {
    setThreads(info.threads);
  }
}
