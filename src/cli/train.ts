/**
 * `tokentune train`: the seed's recipe as one command. Flags, a JSON/YAML config, or both, with
 * Trainer's names in kebab-case, snake_case or camelCase (see `tokentune train --help`).
 * Like run_ner.py it refuses to mix runs in one output folder, and at the end it leaves
 * run_ner.py's files: *_results.json, trainer_state.json, training_args.json, predictions.txt
 * and a README.md model card.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { architectureFor, fromPretrained, initParameters, readConfig, resolveModelDir, type TokenClassifier } from '../models/index.js';
import type { Splits } from '../data/load.js';
import { WordPieceTokenizer, loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { readVocabTxt } from '../tokenizers/vocab.js';
import { WordPieceCache } from '../data/align.js';
import { formatHelp, parseTrainingArgs, trainingArgsToDict, type TrainingArguments } from '../train/training-args.js';
import { Trainer, type LogRecord } from '../train/trainer.js';
import { latestCheckpoint } from '../train/trainer-state.js';
import { chooseLabels, encodeSplit, readTrainingData } from '../train/prepare.js';
import { formatMetricsTable } from '../train/progress.js';
import { modelCard, saveMetrics, splitMetrics, writePredictionsTxt } from '../train/hf-outputs.js';
import { capSeqLength, checkDataUse, checkInputPath, labelsOutsideTraining, prepareOutputDir, resolveModelConfig, TrainSetupError, vocabIsUncased } from './train-checks.js';
import { CliArgsError } from './args.js';
import { bf16Refusal } from '../engine/index.js';
import { computeNerMetrics } from '../metrics/index.js';
import { say, warn, type CommandIO } from './io.js';

const VERSION = '0.1.0';

export async function runTrain(argv: string[], io: CommandIO): Promise<number> {
  const parsed = parseTrainingArgs({ argv });
  if (parsed.help) {
    say(io, formatHelp());
    return 0;
  }
  for (const w of parsed.warnings) warn(io, w);
  const args = parsed.args;
  // Before any data or model is read (the Trainer says the same to API users).
  const noBf16 = args.bf16 ? bf16Refusal() : null;
  if (noBf16) throw new CliArgsError(noBf16);
  if (!args.modelNameOrPath && !(args.configName && args.tokenizerName)) {
    throw new CliArgsError('--model (model_name_or_path) is required: a model folder or a Hugging Face hub id; or, to train from scratch, --config-name (a preset: tiny, mini, small, medium, base; or a config.json) and --tokenizer-name (a vocab.txt or tokenizer folder)');
  }
  const result = await trainAndEvaluate(args, io, argv);
  if (result.interrupted) return 130;
  return result.ok ? 0 : 1;
}

/** The label names for integer tags: --label-names FILE (one per line), else the model's id2label. */
function readLabelNames(args: TrainingArguments): string[] | null {
  if (args.labelNames) {
    checkInputPath('--label-names', args.labelNames);
    const names = readFileSync(args.labelNames, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    if (names.length === 0) throw new TrainSetupError(`--label-names ${args.labelNames}: no label names (expected one per line, in id order)`);
    if (new Set(names).size !== names.length) throw new TrainSetupError(`--label-names ${args.labelNames}: a label name is listed twice`);
    return names;
  }
  if (args.modelNameOrPath && existsSync(join(args.modelNameOrPath, 'config.json'))) {
    const labels = readConfig(join(args.modelNameOrPath, 'config.json')).labels;
    if (labels.length > 0 && !/^LABEL_\d+$/.test(labels[0]!)) return [...labels];
  }
  return null;
}

/**
 * The tokenizer of --tokenizer-name. A bare vocab.txt says nothing about casing, and HF's
 * BertTokenizer default (lowercase) would hide every capital from a model trained on the cased
 * vocabulary: the vocabulary decides (uppercase entries: cased) unless --do-lower-case is given.
 */
function scratchTokenizer(args: TrainingArguments, maxPositions: number | null, io: CommandIO): Tokenizer {
  const path = args.tokenizerName!;
  checkInputPath('--tokenizer-name', path, 'file-or-dir');
  const isDir = statSync(path).isDirectory();
  const hasConfig = isDir && (existsSync(join(path, 'tokenizer_config.json')) || existsSync(join(path, 'tokenizer.json')));
  if (hasConfig) {
    if (args.doLowerCase !== null) warn(io, `--do-lower-case is ignored: ${path} has its own tokenizer settings`);
    return loadTokenizer(path);
  }
  const vocabPath = isDir ? join(path, 'vocab.txt') : path;
  if (isDir && !existsSync(vocabPath)) return loadTokenizer(path);
  let lower = args.doLowerCase;
  if (lower === null) {
    lower = vocabIsUncased(readVocabTxt(vocabPath).idToToken.filter((t): t is string => t !== undefined));
    say(io, `tokenizer: ${vocabPath} has ${lower ? 'no uppercase entries: lowercasing text (uncased)' : 'uppercase entries: keeping case (cased)'}; --do-lower-case ${lower ? 'false' : 'true'} to change`);
  }
  return WordPieceTokenizer.fromVocabFile(vocabPath, { doLowerCase: lower, ...(maxPositions ? { modelMaxLength: maxPositions } : {}) });
}

/**
 * A pretrained model (--model), or, as run_ner.py's from-config path, a randomly initialised one
 * built from --config-name (a preset or a config.json) with the tokenizer of --tokenizer-name.
 */
async function loadOrCreateModel(args: TrainingArguments, splits: Splits, datasetLabels: string[] | null, io: CommandIO, resuming: boolean): Promise<{ model: TokenClassifier; tokenizer: Tokenizer; labels: string[] }> {
  if (args.modelNameOrPath) {
    const dir = await resolveModelDir(args.modelNameOrPath);
    const labels = chooseLabels(splits, readConfig(join(dir, 'config.json')).labels, datasetLabels);
    const { model, tokenizer } = await fromPretrained(dir, { labels, seed: args.seed, onWarning: (m) => warn(io, m) });
    return { model, tokenizer, labels };
  }
  // The vocabulary size of a preset comes from the tokenizer, the position limit from the config.
  const probe = scratchTokenizer(args, null, { stdout: { write: () => true } as unknown as NodeJS.WritableStream, stderr: io.stderr });
  const { config, described } = resolveModelConfig(args.configName!, probe.vocabSize);
  const tokenizer = scratchTokenizer(args, config.maxPositionEmbeddings, io);
  const labels = chooseLabels(splits, config.labels, datasetLabels);
  if (tokenizer.vocabSize > config.vocabSize) throw new TrainSetupError(`--tokenizer-name ${args.tokenizerName} has ${tokenizer.vocabSize} tokens but --config-name ${args.configName} says vocab_size ${config.vocabSize}`);
  const model = architectureFor(config).build({ ...config, labels }, initParameters(architectureFor(config).paramSpecs(config, labels.length), config.initializerRange, args.seed));
  if (!resuming) say(io, `training from scratch: ${described} with random initialisation (seed ${args.seed})`);
  return { model, tokenizer, labels };
}

export interface TrainRunResult {
  ok: boolean;
  eval?: LogRecord;
  test?: LogRecord;
  /** The checkpoint saved on Ctrl-C. */
  interrupted?: string;
}

export async function trainAndEvaluate(args: TrainingArguments, io: CommandIO, argv: readonly string[] = []): Promise<TrainRunResult> {
  for (const [opt, p] of [['--train-file', args.trainFile], ['--validation-file', args.validationFile], ['--test-file', args.testFile]] as const) {
    if (p) checkInputPath(opt, p);
  }
  const willTrain = Boolean(args.trainFile || (args.datasetName && !args.validationFile && !args.testFile));
  if (willTrain) for (const note of prepareOutputDir(args)) warn(io, note);
  const resumeDir = args.resumeFromCheckpoint === true ? latestCheckpoint(args.outputDir) : args.resumeFromCheckpoint;
  if (args.resumeFromCheckpoint === true && !resumeDir) throw new TrainSetupError(`--resume-from-checkpoint: no checkpoint-* folder in ${args.outputDir}; give the checkpoint folder, or drop the option to start over`);
  if (typeof resumeDir === 'string') checkInputPath('--resume-from-checkpoint', resumeDir, 'dir');

  // Local files, else --dataset-name from the hub (readTrainingData, prepare.ts).
  const { splits, labelNames } = await readTrainingData(args, {}, readLabelNames(args));
  for (const d of Object.values(splits)) for (const w of d?.warnings ?? []) warn(io, w);
  checkDataUse(args, splits);
  for (const w of labelsOutsideTraining(splits)) warn(io, w);
  const { model, tokenizer, labels } = await loadOrCreateModel(args, splits, labelNames, io, Boolean(resumeDir));
  if (resumeDir) say(io, `resuming from ${resumeDir}`);
  say(io, `model: ${model.architecture}, ${model.config.numHiddenLayers} layers, hidden ${model.config.hiddenSize}; labels: ${labels.join(' ')}`);
  const cap = capSeqLength(args.maxSeqLength, model.config, args.modelNameOrPath ?? args.configName ?? 'config');
  if (cap.note) warn(io, cap.note);
  const runArgs: TrainingArguments = { ...args, maxSeqLength: cap.maxSeqLength };
  const cache = new WordPieceCache(tokenizer);
  const enc = (d: NonNullable<typeof splits.train>, max: number | null) => {
    const { split, stats } = encodeSplit(d, tokenizer, labels, { maxSeqLength: runArgs.maxSeqLength, stride: runArgs.stride, labelAllTokens: runArgs.labelAllTokens, maxSamples: max }, cache);
    say(io, `${d.source}: ${stats.sentences} sentences, ${stats.features} sequences${stats.splitSentences ? ` (${stats.splitSentences} long sentences split into windows)` : ''}`);
    return split;
  };
  const train = splits.train ? enc(splits.train, runArgs.maxTrainSamples) : undefined;
  const validation = splits.validation ? enc(splits.validation, runArgs.maxEvalSamples) : undefined;
  const test = splits.test ? enc(splits.test, runArgs.maxPredictSamples) : undefined;
  const trainer = new Trainer({ model, args: runArgs, tokenizer, trainDataset: train, evalDataset: validation, progressStream: io.stderr, ...entityMetrics(runArgs) });
  const out: TrainRunResult = { ok: true };
  // The train command always trains when it has training data (do_train is implied, as its name says).
  if (train) {
    const result = await withInterrupt(trainer, io, () => trainer.train());
    if (result.interrupted) {
      const resumeArgs = argv.filter((t, i) => !/^--resume[-_]from[-_]checkpoint/.test(t) && !(i > 0 && /^--resume[-_]from[-_]checkpoint$/.test(argv[i - 1]!)));
      say(io, `interrupted: saved ${result.interrupted} (step ${result.globalStep})`);
      say(io, `resume with: tokentune train ${[...resumeArgs, '--resume-from-checkpoint', result.interrupted].map(shellQuote).join(' ')}`);
      return { ok: false, interrupted: result.interrupted };
    }
    say(io, `saved model to ${args.outputDir}`);
    saveMetrics(args.outputDir, 'train', { ...splitMetrics(result.metrics, 'train', 'train', train.sentences.length) });
    trainer.saveState();
  }
  mkdirSync(args.outputDir, { recursive: true });
  if (validation) {
    out.eval = trainer.evaluate(validation);
    say(io, formatMetricsTable(out.eval, 'validation'));
    if (train || args.doEval) saveMetrics(args.outputDir, 'eval', splitMetrics(out.eval, 'eval', 'eval', validation.sentences.length));
  }
  if (test) {
    out.test = trainer.evaluate(test, undefined, 'test');
    say(io, formatMetricsTable(out.test, 'test'));
    saveMetrics(args.outputDir, 'predict', splitMetrics(out.test, 'test', 'predict', test.sentences.length));
    writePredictionsTxt(args.outputDir, trainer.lastPredictions ?? []);
  }
  if (train) {
    writeFileSync(join(args.outputDir, 'training_args.json'), JSON.stringify(trainingArgsToDict(args), null, 2) + '\n');
    writeFileSync(join(args.outputDir, 'README.md'), modelCard({
      args, logHistory: trainer.logHistory, finetunedFrom: args.modelNameOrPath, dataset: args.datasetName, version: VERSION,
    }));
    say(io, `wrote all_results.json, trainer_state.json, training_args.json${test ? ', predictions.txt' : ''} and README.md to ${args.outputDir}`);
  }
  return out;
}

/** --return-entity-level-metrics: per-type precision/recall/F1 beside the overall four (run_ner.py's compute_metrics). */
function entityMetrics(args: TrainingArguments): { computeMetrics?: (p: { predictions: string[][]; references: string[][] }) => Record<string, number> } {
  if (!args.returnEntityLevelMetrics) return {};
  return { computeMetrics: entityLevelMetrics };
}

export function entityLevelMetrics(p: { predictions: string[][]; references: string[][] }): Record<string, number> {
  const r = computeNerMetrics(p.references, p.predictions);
  const out: Record<string, number> = {};
  for (const [type, m] of Object.entries(r.perType ?? {})) {
    out[`${type}_precision`] = m.precision;
    out[`${type}_recall`] = m.recall;
    out[`${type}_f1`] = m.f1;
    out[`${type}_number`] = m.support;
  }
  // run_ner.py's names (overall_*), and the plain ones that metric_for_best_model 'f1' and the tables use.
  const overall = { precision: r.precision, recall: r.recall, f1: r.f1, accuracy: r.accuracy };
  return { ...overall, ...out, overall_precision: r.precision, overall_recall: r.recall, overall_f1: r.f1, overall_accuracy: r.accuracy };
}

/**
 * Ctrl-C during training: the first saves a checkpoint after the current step and returns, the
 * second aborts at once (exit 130, as the shell expects).
 */
async function withInterrupt<T>(trainer: Trainer, io: CommandIO, fn: () => Promise<T>): Promise<T> {
  let count = 0;
  const onSigint = (): void => {
    count++;
    if (count === 1) {
      io.stderr.write('\ninterrupt: saving a checkpoint after this step (Ctrl-C again to abort without saving)\n');
      trainer.requestStop();
    } else {
      io.stderr.write('\naborted\n');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);
  try {
    return await fn();
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
