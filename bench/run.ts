/**
 * `npm run bench [-- NAME...]`: every benchmark, or the named ones (gemm, gemm-packed, tokenizer, data, train,
 * infer, onnx, int8, conll, worker, serve-load, models). Figures are reported beside a reference measured in the same run (OpenBLAS,
 * PyTorch, onnxruntime) where one is installed. Benchmarks are never part of the test suite.
 */
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

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(BENCHES);
console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} logical CPUs, node ${process.version}`);
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
