/**
 * Trains the accuracy guard's model for int8 inference: the small BERT (4 layers, hidden 256)
 * from random initialisation on CoNLL-2003 train (../shared, research use only, never committed),
 * length-grouped batches, saved as an ordinary HF folder. `bench/int8-accuracy.ts` then compares
 * it with its quantized copy on the test set.
 *
 * Usage: node dist/bench/int8-conll-train.js OUT_DIR [--epochs 2]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readConll } from '../src/data/conll.js';
import { buildLabelMap } from '../src/data/label-map.js';
import { WordPieceCache } from '../src/data/align.js';
import { BertForTokenClassification, makeConfig } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { defaultTrainingArgs } from '../src/train/training-args.js';
import { Trainer } from '../src/train/trainer.js';
import { encodeSplit } from '../src/train/prepare.js';

const SHARED = join(import.meta.dirname, '../../../shared');
const DATA = join(SHARED, 'data/conll2003/iob2_token_tag');
const VOCAB = join(SHARED, 'models/bert-base-cased-vocab/vocab.txt');

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: node dist/bench/int8-conll-train.js OUT_DIR [--epochs N]');
  const ei = process.argv.indexOf('--epochs');
  const epochs = ei > 0 ? Number(process.argv[ei + 1]) : 2;
  if (!existsSync(DATA)) throw new Error(`${DATA} is absent: this bench needs ../shared's CoNLL-2003`);
  const train = readConll(join(DATA, 'train.txt')),
    dev = readConll(join(DATA, 'valid.txt'));
  const labels = [...buildLabelMap([train, dev]).labels];
  const tokenizer = WordPieceTokenizer.fromVocabFile(VOCAB, { doLowerCase: false });
  const config = makeConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: 256,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    intermediate_size: 1024,
    max_position_embeddings: 512,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  const model = BertForTokenClassification.create(config, 42);
  const cache = new WordPieceCache(tokenizer);
  const enc = (d: typeof train) => encodeSplit(d, tokenizer, labels, { maxSeqLength: 256 }, cache).split;
  const trainer = new Trainer({
    model,
    tokenizer,
    trainDataset: enc(train),
    evalDataset: enc(dev),
    progressStream: process.stderr,
    args: {
      ...defaultTrainingArgs(),
      outputDir: out,
      overwriteOutputDir: true,
      learningRate: 5e-4,
      warmupRatio: 0.1,
      weightDecay: 0.01,
      perDeviceTrainBatchSize: 16,
      perDeviceEvalBatchSize: 32,
      numTrainEpochs: epochs,
      groupByLength: true,
      evalStrategy: 'epoch',
      loggingSteps: 100,
      saveStrategy: 'no',
      seed: 42,
    },
  });
  const t0 = Date.now();
  await trainer.train();
  console.log(`trained ${epochs} epoch(s) in ${((Date.now() - t0) / 1000).toFixed(0)} s; dev`, trainer.evaluate());
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
