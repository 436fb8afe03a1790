#!/usr/bin/env node
// Inference tokens/s of model folders on the sentences of a CoNLL file, in one run:
//   node tools/distill-speed.mjs DATA.conll DIR [DIR...]     (after npx tsc -p .)
// Each folder (fp32 or a `tokentune quantize` int8 folder) runs the same length-sorted batches of
// 32 sentences, no gradients; rounds alternate between the folders so a change in machine load
// hits all of them. Prints tokens/s (median of rounds; real tokens, no padding) and the load.
import { cpus, loadavg } from 'node:os';
import { fromPretrained } from '../dist/src/models/index.js';
import { readConll } from '../dist/src/data/conll.js';
import { buildFeatures } from '../dist/src/data/features.js';
import { collate } from '../dist/src/data/collate.js';
import { noGrad, tidy, clearPool } from '../dist/src/engine/index.js';

const [data, ...dirs] = process.argv.slice(2);
if (!data || dirs.length === 0) {
  console.error('usage: node tools/distill-speed.mjs DATA.conll DIR [DIR...]');
  process.exit(2);
}
const rounds = Number(process.env.ROUNDS ?? 3),
  maxSentences = Number(process.env.SENTENCES ?? 1024);
const sentences = readConll(data).sentences.slice(0, maxSentences);
const runners = [];
for (const dir of dirs) {
  const { model, tokenizer } = await fromPretrained(dir, {});
  const { features } = buildFeatures({ sentences }, tokenizer, null, { maxSeqLength: 128 });
  features.sort((a, b) => a.inputIds.length - b.inputIds.length);
  const batches = [];
  for (let i = 0; i < features.length; i += 32) batches.push(collate(features.slice(i, i + 32), tokenizer.padId));
  const tokens = features.reduce((s, f) => s + f.inputIds.length, 0);
  const params = model.parameters().reduce((s, [, t]) => s + t.size, 0);
  runners.push({ dir, model, batches, tokens, params, rates: [] });
}
const load0 = loadavg()[0];
// Round 0 warms caches and the buffer pool and is not counted.
for (let r = 0; r <= rounds; r++) {
  for (const x of runners) {
    const t0 = process.hrtime.bigint();
    for (const b of x.batches)
      noGrad(() =>
        tidy(() => {
          x.model.forward(b, { training: false });
        }),
      );
    clearPool();
    if (r > 0) x.rates.push(x.tokens / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
}
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
console.log(
  `CPU: ${cpus()[0]?.model} x${cpus().length}; load average ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}; ${sentences.length} sentences, batch 32, ${rounds} rounds`,
);
const base = med(runners[0].rates);
for (const x of runners) {
  console.log(
    `${x.dir}\t${(x.params / 1e6).toFixed(2)} M params\t${med(x.rates).toFixed(0)} tokens/s\t${(med(x.rates) / base).toFixed(2)}x`,
  );
}
