/**
 * `BENCH_MODELS=DIR,DIR,... BENCH_DATA=FILE.conll npm run bench -- models`: inference tokens/s of
 * model folders (fp32 or `tokentune quantize` int8) on the sentences of a CoNLL file, in one run:
 * a teacher and its distilled students, or a model and its int8 copy. Each folder runs the same
 * length-sorted batches of 32 sentences, no gradients; rounds alternate between the folders so a
 * change in machine load hits all of them. Prints tokens/s (median of rounds; real tokens, no
 * padding) and each folder's speed against the first. BENCH_ROUNDS (3), BENCH_SENTENCES (1024).
 */
import { cpus, loadavg } from 'node:os';
import { collate } from '../src/data/collate.js';
import { readConll } from '../src/data/conll.js';
import { buildFeatures } from '../src/data/features.js';
import { clearPool, noGrad, tidy } from '../src/engine/index.js';
import { fromPretrained, type TokenBatch, type TokenClassifier } from '../src/models/index.js';

interface Runner {
  dir: string;
  model: TokenClassifier;
  batches: TokenBatch[];
  tokens: number;
  params: number;
  rates: number[];
}

export async function runModelFoldersBench(): Promise<void> {
  const dirs = (process.env.BENCH_MODELS ?? '').split(',').filter(Boolean);
  const data = process.env.BENCH_DATA;
  if (dirs.length === 0 || !data) {
    console.log('skipped: set BENCH_MODELS=DIR[,DIR...] (model folders, the first is the reference) and BENCH_DATA=FILE.conll');
    return;
  }
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const sentences = readConll(data).sentences.slice(0, Number(process.env.BENCH_SENTENCES ?? 1024));
  const runners: Runner[] = [];
  for (const dir of dirs) {
    const { model, tokenizer } = await fromPretrained(dir, {});
    const { features } = buildFeatures({ sentences }, tokenizer, null, { maxSeqLength: 128 });
    features.sort((a, b) => a.inputIds.length - b.inputIds.length);
    const batches: TokenBatch[] = [];
    for (let i = 0; i < features.length; i += 32) batches.push(collate(features.slice(i, i + 32), tokenizer.padId));
    const tokens = features.reduce((s, f) => s + f.inputIds.length, 0);
    const params = model.parameters().reduce((s, [, t]) => s + t.size, 0);
    runners.push({ dir, model, batches, tokens, params, rates: [] });
  }
  const load0 = loadavg()[0]!;
  // Round 0 warms caches and the buffer pool and is not counted.
  for (let r = 0; r <= rounds; r++) {
    for (const x of runners) {
      const t0 = process.hrtime.bigint();
      for (const b of x.batches) noGrad(() => tidy(() => void x.model.forward(b, { training: false })));
      clearPool();
      if (r > 0) x.rates.push(x.tokens / (Number(process.hrtime.bigint() - t0) / 1e9));
    }
  }
  const median = (a: number[]): number => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  console.log(
    `load average ${load0.toFixed(2)} -> ${loadavg()[0]!.toFixed(2)} on ${cpus().length} CPUs; ${sentences.length} sentences, batch 32, ${rounds} rounds`,
  );
  const base = median(runners[0]!.rates);
  for (const x of runners) {
    console.log(
      `${x.dir}\t${(x.params / 1e6).toFixed(2)} M params\t${median(x.rates).toFixed(0)} tokens/s\t${(median(x.rates) / base).toFixed(2)}x`,
    );
  }
}
