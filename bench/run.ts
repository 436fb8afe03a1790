/**
 * `npm run bench [-- NAME...]`: every benchmark, or the named ones (gemm, gemm-packed, tokenizer, data, train,
 * infer, onnx, int8, conll, worker, serve-load, models). Figures are reported beside a reference measured in the same run (OpenBLAS,
 * PyTorch, onnxruntime) where one is installed. Benchmarks are never part of the test suite.
 * BENCH_BUSY=N runs them on a busy machine: N other processes each spin on a core throughout, so
 * ours and the reference share the cores with them alike.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpus } from 'node:os';

type Bench = () => unknown | Promise<unknown>;
const BENCHES: Record<string, () => Promise<Bench>> = {
  gemm: async () => (await import('./gemm.js')).runGemmBench,
  'gemm-packed': async () => (await import('./gemm-packed.js')).runGemmPackedBench,
  tokenizer: async () => (await import('./tokenizer.js')).runTokenizerBench,
  data: async () => (await import('./data.js')).runDataBench,
  train: async () => {
    const m = await import('./train.js');
    return () => m.runTrainBench(process.env.BENCH_TRAIN_CONFIG, Math.max(1, Number(process.env.BENCH_TRAIN_REPEAT ?? 1) || 1));
  },
  infer: async () => (await import('./infer.js')).runInferBench,
  onnx: async () => (await import('./onnx.js')).runOnnxBench,
  int8: async () => (await import('./int8-infer.js')).runInt8Bench,
  conll: async () => (await import('./conll-throughput.js')).runConllBench,
  worker: async () => (await import('./worker-throughput.js')).runWorkerBench,
  'serve-load': async () => (await import('./serve-load.js')).runServeLoadBench,
  models: async () => (await import('./model-folders.js')).runModelFoldersBench,
};

/** BENCH_BUSY=N: N processes spinning on a core each until the benches end. */
function startBusy(): ChildProcess[] {
  const raw = process.env.BENCH_BUSY ?? '';
  if (raw === '' || raw === '0') return [];
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error(`BENCH_BUSY must be a whole number of processes from 0 to 64, got '${raw}'`);
  console.log(`BENCH_BUSY=${n}: ${n} other process${n > 1 ? 'es' : ''} spinning on a core each throughout (ours and the reference alike)`);
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' }));
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(BENCHES);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical CPUs, node ${process.version}`);
const busy = startBusy();
process.on('exit', () => busy.forEach((p) => p.kill('SIGKILL')));
try {
  for (const name of names) {
    const load = BENCHES[name];
    if (!load) {
      console.error(`unknown benchmark '${name}' (have: ${Object.keys(BENCHES).join(', ')})`);
      process.exitCode = 2;
      continue;
    }
    console.log(`\n== ${name} ==`);
    await (await load())();
  }
} finally {
  for (const p of busy) p.kill('SIGKILL');
}
