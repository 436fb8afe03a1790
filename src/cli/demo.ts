/**
 * `tokentune demo`: the whole job offline in a few minutes. It generates a labelled NER corpus,
 * builds a WordPiece vocabulary for it, trains a small BERT from random initialisation, prints
 * precision, recall, F1 and accuracy like the seed, saves the model to ./tokentune-demo and tags a
 * sample sentence.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildVocab, syntheticNer } from '../data/synthetic.js';
import { buildLabelMap } from '../data/label-map.js';
import { WordPieceCache } from '../data/align.js';
import { BertForTokenClassification, makeConfig } from '../models/index.js';
import { WordPieceTokenizer } from '../tokenizers/index.js';
import { defaultTrainingArgs, type TrainingArguments } from '../train/training-args.js';
import { Trainer } from '../train/trainer.js';
import { encodeSplit } from '../train/prepare.js';
import { TokenClassificationPipeline } from '../infer/pipeline.js';
import { CliArgsError, parseArgs } from './args.js';

const DEMO_MARKER = '.tokentune-demo';
import { say, type CommandIO } from './io.js';

const FLAGS = {
  outputDir: {
    type: 'string',
    default: './tokentune-demo',
    help: 'Where the model and logs go (its own folder, so that the demo never replaces a model trained into ./results)',
  },
  epochs: { type: 'number', default: 3, help: 'Training epochs' },
  trainSentences: { type: 'int', default: 3000, help: 'Generated training sentences' },
  seed: { type: 'int', default: 42, help: 'Seed for data, initialisation and dropout' },
} as const;

/** Built like the generated data (names from the same syllables) but not in any split. */
export const DEMO_SENTENCE = 'Yesterday, Marsa Kalin met Dorel at Vanora Labs in Zobeta Bay.';

export async function runDemo(argv: string[], io: CommandIO): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    say(io, 'Usage: tokentune demo [--output-dir ./tokentune-demo] [--epochs 3] [--train-sentences 3000] [--seed 42]');
    return 0;
  }
  const outputDir = resolve(a.values.outputDir);
  const seed = a.values.seed;
  const train = syntheticNer(a.values.trainSentences, seed);
  const validation = syntheticNer(400, seed + 1);
  const test = syntheticNer(400, seed + 2);
  const labels = [...buildLabelMap([train, validation, test]).labels];
  say(io, `tokentune demo: ${train.sentences.length} generated training sentences, labels ${labels.join(' ')}`);

  // A folder that holds something other than an earlier demo is never overwritten.
  if (existsSync(outputDir) && readdirSync(outputDir).length > 0 && !existsSync(join(outputDir, DEMO_MARKER))) {
    throw new CliArgsError(`--output-dir ${outputDir} is not empty and was not written by the demo; give the demo another --output-dir`);
  }
  mkdirSync(outputDir, { recursive: true });
  writeFileSync(join(outputDir, DEMO_MARKER), 'written by tokentune demo; the demo may overwrite this folder\n');
  const vocabPath = join(outputDir, 'vocab.txt');
  writeFileSync(vocabPath, buildVocab([train]).join('\n') + '\n');
  const tokenizer = WordPieceTokenizer.fromVocabFile(vocabPath, { doLowerCase: false });
  const config = makeConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 512,
    max_position_embeddings: 128,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  const model = BertForTokenClassification.create(config, seed);
  say(
    io,
    `model: BERT from scratch, 2 layers, hidden 128, ${model
      .parameters()
      .reduce((n, [, t]) => n + t.size, 0)
      .toLocaleString('en-US')} parameters`,
  );

  const cache = new WordPieceCache(tokenizer);
  const enc = (d: typeof train) => encodeSplit(d, tokenizer, labels, { maxSeqLength: 128 }, cache).split;
  const args: TrainingArguments = {
    ...defaultTrainingArgs(),
    outputDir,
    // From scratch a tiny model wants a far larger rate than fine-tuning's 1.5e-5.
    learningRate: 1e-3,
    warmupRatio: 0.1,
    weightDecay: 0.01,
    perDeviceTrainBatchSize: 16,
    perDeviceEvalBatchSize: 16,
    numTrainEpochs: a.values.epochs,
    evalStrategy: 'steps',
    evalSteps: 100,
    loggingSteps: 25,
    saveStrategy: 'no',
    seed,
  };
  const trainer = new Trainer({
    model,
    args,
    tokenizer,
    trainDataset: enc(train),
    evalDataset: enc(validation),
    progressStream: io.stderr,
  });
  const started = Date.now();
  await trainer.train();
  say(io, `trained in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const m = trainer.evaluate(enc(test), undefined, 'eval');
  say(io, '');
  say(io, `Precision: ${m.eval_precision}`);
  say(io, `Recall: ${m.eval_recall}`);
  say(io, `F1: ${m.eval_f1}`);
  say(io, `Accuracy: ${m.eval_accuracy}`);
  say(io, '');
  // Raw text in, entities with character offsets out, as `tokentune predict` and the server do.
  // 'first': a word takes its first sub-token's label, which is what training labelled.
  const pipe = new TokenClassificationPipeline(model, tokenizer, { aggregationStrategy: 'first' });
  const entities = await pipe.predict(DEMO_SENTENCE);
  say(io, `Tagged: ${DEMO_SENTENCE}`);
  for (const e of entities)
    say(
      io,
      `  ${('entity_group' in e ? e.entity_group : e.entity).padEnd(5)} ${JSON.stringify(DEMO_SENTENCE.slice(e.start, e.end))} [${e.start}, ${e.end}) score ${e.score.toFixed(3)}`,
    );
  say(
    io,
    `Model saved to ${outputDir} (config.json, model.safetensors, vocab.txt); training log in ${join(outputDir, 'log.jsonl')}, curves in ${join(outputDir, 'training_curves.svg')}`,
  );
  return 0;
}
