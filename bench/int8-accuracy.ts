/**
 * The int8 accuracy guard: a float model and its `tokentune quantize` copy evaluated on the same
 * labelled file (default: CoNLL-2003 test from ../shared): entity F1 of both (seqeval, as
 * `tokentune evaluate`), the difference in points, and how often the two predict the same tag per
 * word (the first sub-token's argmax, what the metrics score). The bar: |F1 drop| <= 0.3.
 *
 * Usage: node dist/bench/int8-accuracy.js FLOAT_DIR INT8_DIR [--data FILE]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fromPretrained } from '../src/models/index.js';
import { readDataFile } from '../src/data/read-data-file.js';
import { defaultTrainingArgs } from '../src/train/training-args.js';
import { Trainer } from '../src/train/trainer.js';
import { encodeSplit } from '../src/train/prepare.js';
import { nativeInt8Info } from '../src/engine/native.js';

const DEFAULT_DATA = join(import.meta.dirname, '../../../shared/data/conll2003/iob2_token_tag/test.txt');

async function evaluate(dir: string, data: string): Promise<{ f1: number; preds: string[][]; seconds: number }> {
  const { model, tokenizer } = await fromPretrained(dir);
  const labels = model.config.labels;
  const { split } = encodeSplit(await readDataFile(data, { labelSet: labels }), tokenizer, labels, { maxSeqLength: 512 });
  const trainer = new Trainer({
    model,
    tokenizer,
    evalDataset: split,
    args: { ...defaultTrainingArgs(), perDeviceEvalBatchSize: 32, outputDir: '' },
  });
  const t0 = Date.now();
  const rec = trainer.evaluate();
  return { f1: Number(rec.eval_f1), preds: trainer.lastPredictions ?? [], seconds: (Date.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const [fp32Dir, int8Dir] = process.argv.slice(2);
  const di = process.argv.indexOf('--data');
  const data = di > 0 ? process.argv[di + 1] : DEFAULT_DATA;
  if (!fp32Dir || !int8Dir) throw new Error('usage: node dist/bench/int8-accuracy.js FLOAT_DIR INT8_DIR [--data FILE]');
  if (!existsSync(data)) throw new Error(`${data} is absent (CoNLL-2003 lives in ../shared; pass --data FILE)`);
  if (!existsSync(join(int8Dir, 'quantization.json')))
    throw new Error(`${int8Dir} has no quantization.json: make it with tokentune quantize`);
  const a = await evaluate(fp32Dir, data);
  const b = await evaluate(int8Dir, data);
  let same = 0,
    total = 0;
  a.preds.forEach((s, i) =>
    s.forEach((t, j) => {
      total++;
      if (b.preds[i]?.[j] === t) same++;
    }),
  );
  const drop = (a.f1 - b.f1) * 100;
  console.log(
    `data ${data}, int8 path ${nativeInt8Info()?.path ?? 'reference (no addon)'}, loadavg ${(await import('node:os'))
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `entity F1: fp32 ${(a.f1 * 100).toFixed(2)}, int8 ${(b.f1 * 100).toFixed(2)}, drop ${drop.toFixed(2)} points (bar: <= 0.3) ${Math.abs(drop) <= 0.3 ? 'MET' : 'NOT MET'}`,
  );
  console.log(`per-word argmax agreement: ${same}/${total} = ${((100 * same) / total).toFixed(3)}%`);
  console.log(`evaluation time: fp32 ${a.seconds.toFixed(1)} s, int8 ${b.seconds.toFixed(1)} s`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
