/**
 * `tokentune train`: the seed's recipe as one command. Flags, a JSON/YAML config, or both, with
 * Trainer's names in kebab-case, snake_case or camelCase (see `tokentune train --help`).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { architectureFor, fromPretrained, initParameters, readConfig, resolveModelDir, type TokenClassifier } from '../models/index.js';
import type { Splits } from '../data/load.js';
import { WordPieceTokenizer, loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { WordPieceCache } from '../data/align.js';
import { formatHelp, parseTrainingArgs, type TrainingArguments } from '../train/training-args.js';
import { Trainer, type LogRecord } from '../train/trainer.js';
import { chooseLabels, encodeSplit, readTrainingData } from '../train/prepare.js';
import { formatMetricsTable } from '../train/progress.js';
import { say, warn, type CommandIO } from './io.js';

export async function runTrain(argv: string[], io: CommandIO): Promise<number> {
  const parsed = parseTrainingArgs({ argv });
  if (parsed.help) {
    say(io, formatHelp());
    return 0;
  }
  for (const w of parsed.warnings) warn(io, w);
  const args = parsed.args;
  if (!args.modelNameOrPath && !(args.configName && args.tokenizerName)) {
    throw new Error('--model (model_name_or_path) is required: a model folder or a Hugging Face hub id; or, to train from scratch, --config-name CONFIG.json and --tokenizer-name (a vocab.txt or tokenizer folder)');
  }
  const result = await trainAndEvaluate(args, io);
  return result.ok ? 0 : 1;
}

/**
 * A pretrained model (--model), or, as run_ner.py's from-config path, a randomly initialised one
 * built from --config-name with the tokenizer of --tokenizer-name.
 */
async function loadOrCreateModel(args: TrainingArguments, splits: Splits, datasetLabels: string[] | null, io: CommandIO): Promise<{ model: TokenClassifier; tokenizer: Tokenizer; labels: string[] }> {
  if (args.modelNameOrPath) {
    const dir = await resolveModelDir(args.modelNameOrPath);
    const labels = chooseLabels(splits, readConfig(join(dir, 'config.json')).labels, datasetLabels);
    const { model, tokenizer } = await fromPretrained(dir, { labels, seed: args.seed, onWarning: (m) => warn(io, m) });
    return { model, tokenizer, labels };
  }
  const config = readConfig(args.configName!);
  const labels = chooseLabels(splits, config.labels, datasetLabels);
  const tokPath = args.tokenizerName!;
  const tokenizer = statSync(tokPath).isDirectory() ? loadTokenizer(tokPath) : WordPieceTokenizer.fromVocabFile(tokPath);
  if (tokenizer.vocabSize > config.vocabSize) throw new Error(`${tokPath} has ${tokenizer.vocabSize} tokens but ${args.configName} says vocab_size ${config.vocabSize}`);
  const model = architectureFor(config).build({ ...config, labels }, initParameters(architectureFor(config).paramSpecs(config, labels.length), config.initializerRange, args.seed));
  say(io, `training from scratch: ${args.configName} with random initialisation (seed ${args.seed})`);
  return { model, tokenizer, labels };
}

export async function trainAndEvaluate(args: TrainingArguments, io: CommandIO): Promise<{ ok: boolean; eval?: LogRecord; test?: LogRecord }> {
  // Local files, else --dataset-name from the hub (readTrainingData, prepare.ts).
  const { splits, labelNames } = await readTrainingData(args);
  for (const d of Object.values(splits)) for (const w of d?.warnings ?? []) warn(io, w);
  const { model, tokenizer, labels } = await loadOrCreateModel(args, splits, labelNames, io);
  say(io, `model: ${model.architecture}, ${model.config.numHiddenLayers} layers, hidden ${model.config.hiddenSize}; labels: ${labels.join(' ')}`);
  const cache = new WordPieceCache(tokenizer);
  const enc = (d: NonNullable<typeof splits.train>, max: number | null) => {
    const { split, stats } = encodeSplit(d, tokenizer, labels, { maxSeqLength: args.maxSeqLength, stride: args.stride, labelAllTokens: args.labelAllTokens, maxSamples: max }, cache);
    say(io, `${d.source}: ${stats.sentences} sentences, ${stats.features} sequences${stats.splitSentences ? ` (${stats.splitSentences} long sentences split into windows)` : ''}`);
    return split;
  };
  const train = splits.train ? enc(splits.train, args.maxTrainSamples) : undefined;
  const validation = splits.validation ? enc(splits.validation, args.maxEvalSamples) : undefined;
  const test = splits.test ? enc(splits.test, args.maxPredictSamples) : undefined;
  const trainer = new Trainer({ model, args, tokenizer, trainDataset: train, evalDataset: validation, progressStream: io.stderr });
  const out: { ok: boolean; eval?: LogRecord; test?: LogRecord } = { ok: true };
  // The train command always trains when it has training data (do_train is implied, as its name says).
  if (train) {
    await trainer.train();
    say(io, `saved model to ${args.outputDir}`);
  }
  if (validation) {
    out.eval = trainer.evaluate(validation);
    say(io, formatMetricsTable(out.eval, 'validation'));
  }
  if (test) {
    out.test = trainer.evaluate(test, undefined, 'test');
    say(io, formatMetricsTable(out.test, 'test'));
  }
  return out;
}
