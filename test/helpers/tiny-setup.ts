/** A tiny model, tokenizer and generated data for trainer tests (no files outside a temp dir). */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildLabelMap } from '../../src/data/label-map.js';
import { buildVocab, syntheticNer } from '../../src/data/synthetic.js';
import { BertForTokenClassification, makeConfig } from '../../src/models/index.js';
import { WordPieceTokenizer } from '../../src/tokenizers/index.js';
import { defaultTrainingArgs, type TrainingArguments } from '../../src/train/training-args.js';
import { encodeSplit } from '../../src/train/prepare.js';
import type { EncodedSplit } from '../../src/train/trainer.js';

export interface TinySetup {
  model: BertForTokenClassification;
  tokenizer: WordPieceTokenizer;
  train: EncodedSplit;
  validation: EncodedSplit;
  labels: string[];
}

export function tinySetup(opts: { dropout?: number; trainSentences?: number; seed?: number } = {}): TinySetup {
  const train = syntheticNer(opts.trainSentences ?? 64, 1);
  const validation = syntheticNer(24, 2);
  const labels = [...buildLabelMap([train, validation]).labels];
  const dir = mkdtempSync(join(tmpdir(), 'tt-tiny-'));
  writeFileSync(join(dir, 'vocab.txt'), buildVocab([train]).join('\n') + '\n');
  const tokenizer = WordPieceTokenizer.fromVocabFile(join(dir, 'vocab.txt'), { doLowerCase: false });
  const p = opts.dropout ?? 0.1;
  const config = makeConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 64,
    max_position_embeddings: 64,
    hidden_dropout_prob: p,
    attention_probs_dropout_prob: p,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  const model = BertForTokenClassification.create(config, opts.seed ?? 7);
  const enc = (d: typeof train) => encodeSplit(d, tokenizer, labels, { maxSeqLength: 64 }).split;
  return { model, tokenizer, train: enc(train), validation: enc(validation), labels };
}

export function tinyArgs(outputDir: string, over: Partial<TrainingArguments> = {}): TrainingArguments {
  return {
    ...defaultTrainingArgs(),
    outputDir,
    learningRate: 2e-3,
    perDeviceTrainBatchSize: 8,
    perDeviceEvalBatchSize: 8,
    numTrainEpochs: 2,
    loggingSteps: 1,
    saveStrategy: 'no',
    evalStrategy: 'no',
    disableTqdm: true,
    seed: 11,
    ...over,
  };
}
