/**
 * GEMM benchmark: GFLOP/s of the native GEMM on the BERT-base training-step shapes (forward
 * X W, and the backward forms dX = dY W^T and dW = X^T dY) plus the batched attention products,
 * with 1 thread and with all threads, next to OpenBLAS on the same shapes in the same run.
 *
 * OpenBLAS is only a yardstick, never a dependency: bench/openblas-gemm.c is compiled here against
 * the system's libopenblas (Debian: apt-get install libopenblas-dev) and run as a child process
 * with OPENBLAS_NUM_THREADS set to the same thread count; without it the column is skipped.
 *
 * With TOKENTUNE_BLAS=openblas the "ours" column runs through the addon's dlopen'ed cblas_sgemm
 * (native/blas.cc), so the two columns compare that route with OpenBLAS called directly.
 *
 * Run: node dist/bench/gemm.js [--reps N] [--quick]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadNative, nativeInfo, nativeLoadError, setThreads } from '../src/engine/native.js';
import { referenceEnv, referenceIsaNote } from './reference-env.js';

export interface GemmShape {
  label: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  batch: number;
}

export interface GemmBenchRow {
  shape: GemmShape;
  /** GFLOP/s with 1 thread and with `threads` threads; null where not measured. */
  ours1: number;
  oursN: number;
  blas1: number | null;
  blasN: number | null;
}

export interface GemmBenchResult {
  machine: string;
  isa: string;
  threads: number;
  openblas: string | null; // null when available, else why it was skipped
  /** OpenBLAS's build and the kernels it ran (openblas_get_config / openblas_get_corename). */
  openblasCore: string | null;
  /** 1-minute load average before and after the run (other processes skew the numbers). */
  load: [number, number];
  rows: GemmBenchRow[];
}

const TOKENS = 2048; // 16 sequences x 128 tokens

/** The products of one BERT-base training step (per layer) and its attention. */
export function bertShapes(): GemmShape[] {
  const shapes: GemmShape[] = [];
  for (const [inF, outF] of [
    [768, 3072],
    [3072, 768],
    [768, 768],
  ]) {
    const tag = `[${TOKENS}x${inF}]x[${inF}x${outF}]`;
    shapes.push({ label: `${tag} Y = X W`, transA: false, transB: false, m: TOKENS, n: outF, k: inF, batch: 1 });
    shapes.push({ label: `${tag} dX = dY W^T`, transA: false, transB: true, m: TOKENS, n: inF, k: outF, batch: 1 });
    shapes.push({ label: `${tag} dW = X^T dY`, transA: true, transB: false, m: inF, n: outF, k: TOKENS, batch: 1 });
  }
  shapes.push({ label: 'attention S = Q K^T (192 x 128x64x128)', transA: false, transB: true, m: 128, n: 128, k: 64, batch: 192 });
  shapes.push({ label: 'attention O = P V (192 x 128x128x64)', transA: false, transB: false, m: 128, n: 64, k: 128, batch: 192 });
  return shapes;
}

function flops(s: GemmShape): number {
  return 2 * s.m * s.n * s.k * s.batch;
}

function filled(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    a[i] = (x >>> 8) / 16777216 - 0.5;
  }
  return a;
}

/** Best-of-`reps` GFLOP/s of the native GEMM (after one warm-up). */
function timeOurs(s: GemmShape, reps: number): number {
  const k = loadNative();
  if (!k) throw new Error(nativeLoadError() ?? 'native addon missing');
  const a = filled(s.m * s.k * s.batch, 1),
    b = filled(s.k * s.n * s.batch, 2),
    c = new Float32Array(s.m * s.n * s.batch);
  const lda = s.transA ? s.m : s.k,
    ldb = s.transB ? s.k : s.n;
  let best = Infinity;
  for (let r = 0; r <= reps; r++) {
    const t0 = process.hrtime.bigint();
    k.gemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, s.m * s.k, b, ldb, s.k * s.n, 0, c, s.n, s.m * s.n, s.batch);
    const t = Number(process.hrtime.bigint() - t0) * 1e-9;
    if (r > 0) best = Math.min(best, t);
  }
  return (flops(s) / best) * 1e-9;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Compiles the OpenBLAS timing program; returns its path, or a reason string when impossible. */
function buildOpenBlasProgram(): { exe: string } | { skip: string } {
  const src = path.join(repoRoot, 'bench', 'openblas-gemm.c');
  if (!fs.existsSync(src)) return { skip: `${src} not found` };
  const headerDirs = ['/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu', '/usr/include/openblas', '/usr/include'];
  const incDir = headerDirs.find((d) => fs.existsSync(path.join(d, 'cblas.h')));
  if (!incDir) return { skip: 'no cblas.h found (install libopenblas-dev for the OpenBLAS comparison)' };
  const outDir = path.join(os.tmpdir(), 'tokentune-bench');
  fs.mkdirSync(outDir, { recursive: true });
  const exe = path.join(outDir, 'openblas-gemm');
  if (fs.existsSync(exe) && fs.statSync(exe).mtimeMs >= fs.statSync(src).mtimeMs) return { exe };
  try {
    execFileSync('cc', ['-O2', '-I', incDir, '-o', exe, src, '-lopenblas'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    const why = (e.stderr?.toString() || e.message).split('\n').slice(0, 3).join(' ');
    return { skip: `could not build the OpenBLAS timer against libopenblas (${why}); install libopenblas-dev` };
  }
  return { exe };
}

/** GFLOP/s of OpenBLAS on one shape, and its build and the kernels it ran. */
function timeOpenBlas(exe: string, s: GemmShape, threads: number, reps: number): { gflops: number; core: string } {
  const arg = `${s.transA ? 1 : 0},${s.transB ? 1 : 0},${s.m},${s.n},${s.k},${s.batch}`;
  const t = String(threads);
  const out = execFileSync(exe, [String(reps), arg], {
    env: referenceEnv({ OPENBLAS_NUM_THREADS: t, OMP_NUM_THREADS: t, GOTO_NUM_THREADS: t }),
    encoding: 'utf8',
  });
  const parsed = JSON.parse(out) as { core: string; config: string; results: { gflops: number }[] };
  return { gflops: parsed.results[0].gflops, core: `${parsed.config.trim()}; kernels: ${parsed.core}` };
}

function fmt(v: number | null, width: number, digits = 1): string {
  return (v === null ? '-' : v.toFixed(digits)).padStart(width);
}

export function formatGemmTable(res: GemmBenchResult): string {
  const lines: string[] = [];
  lines.push(`GEMM benchmark on ${res.machine}; tokentune native ${res.isa}, ${res.threads} threads (GFLOP/s, best of runs)`);
  if (res.openblas) lines.push(`note: OpenBLAS column skipped: ${res.openblas}`);
  else if (referenceIsaNote()) lines.push(`note: ${referenceIsaNote()}`);
  if (res.openblasCore) lines.push(`OpenBLAS: ${res.openblasCore}`);
  // OpenBLAS's Haswell/Zen kernels are AVX2 ones: against our AVX-512 the ratio would flatter us.
  if (res.isa.startsWith('avx512') && /kernels: (haswell|zen)$/i.test(res.openblasCore ?? ''))
    lines.push(
      `warning: OpenBLAS ran its AVX2 kernels (OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE ?? 'unset'}) against our AVX-512 ones; unset OPENBLAS_CORETYPE to compare AVX-512 with AVX-512`,
    );
  const busy = Math.max(...res.load);
  lines.push(
    `load average ${res.load[0].toFixed(1)} -> ${res.load[1].toFixed(1)}` +
      (busy > res.threads * 0.75 ? ' (machine busy: absolute numbers are low, the ratios still compare like with like)' : ''),
  );
  const w = Math.max(...res.rows.map((r) => r.shape.label.length), 5);
  const N = res.threads;
  lines.push(
    `${'shape'.padEnd(w)} | ${'ours 1T'.padStart(8)} ${'BLAS 1T'.padStart(8)} ${'ratio'.padStart(6)} | ${`ours ${N}T`.padStart(8)} ${`BLAS ${N}T`.padStart(8)} ${'ratio'.padStart(6)}`,
  );
  lines.push('-'.repeat(w + 48));
  for (const r of res.rows) {
    const q1 = r.blas1 ? r.ours1 / r.blas1 : null,
      qN = r.blasN ? r.oursN / r.blasN : null;
    lines.push(
      `${r.shape.label.padEnd(w)} | ${fmt(r.ours1, 8)} ${fmt(r.blas1, 8)} ${fmt(q1, 6, 2)} | ${fmt(r.oursN, 8)} ${fmt(r.blasN, 8)} ${fmt(qN, 6, 2)}`,
    );
  }
  return lines.join('\n');
}

/**
 * Runs the benchmark and returns the measurements (prints the table unless `print` is false).
 * Ours and OpenBLAS alternate shape by shape, so a noisy neighbour hits both alike.
 */
export async function runGemmBench(opts: { reps?: number; quick?: boolean; print?: boolean } = {}): Promise<GemmBenchResult> {
  const info = nativeInfo();
  if (!info) throw new Error(`GEMM bench needs the native addon: ${nativeLoadError()}`);
  const reps = opts.reps ?? (opts.quick ? 2 : 5);
  const load0 = os.loadavg()[0];
  const threads = info.threads;
  const built = buildOpenBlasProgram();
  const exe = 'exe' in built ? built.exe : null;
  const shapes = opts.quick ? bertShapes().filter((_, i) => i % 3 === 0) : bertShapes();
  const rows: GemmBenchRow[] = [];
  let openblasCore: string | null = null;
  try {
    for (const shape of shapes) {
      setThreads(1);
      const ours1 = timeOurs(shape, reps);
      const b1 = exe ? timeOpenBlas(exe, shape, 1, reps) : null;
      openblasCore = b1?.core ?? null;
      setThreads(threads);
      const oursN = timeOurs(shape, reps);
      const blasN = exe ? timeOpenBlas(exe, shape, threads, reps).gflops : null;
      rows.push({ shape, ours1, oursN, blas1: b1?.gflops ?? null, blasN });
    }
  } finally {
    setThreads(threads);
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const result: GemmBenchResult = {
    machine: `${cpu.trim()} (${os.cpus().length} CPUs, ${os.arch()})`,
    // TOKENTUNE_BLAS routes "ours" through the system BLAS too (its overhead through the addon).
    isa: info.blas ? `${info.isa}, fp32 GEMM via TOKENTUNE_BLAS=${info.blas}` : info.isa,
    threads,
    openblas: 'skip' in built ? built.skip : null,
    openblasCore,
    load: [load0, os.loadavg()[0]],
    rows,
  };
  if (opts.print !== false) console.log(formatGemmTable(result));
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const repsAt = args.indexOf('--reps');
  await runGemmBench({ quick: args.includes('--quick'), reps: repsAt >= 0 ? Number(args[repsAt + 1]) : undefined });
}
