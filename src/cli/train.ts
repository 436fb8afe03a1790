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
import type { Splits } from '../data/splits.js';
import { WordPieceTokenizer, loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { readVocabTxt } from '../tokenizers/vocab.js';
import { WordPieceCache } from '../data/align.js';
import { trainingArgsToDict, type TrainingArguments } from '../train/training-args.js';
import { parseTrainingArgs } from './training-flags.js';
import { formatHelp } from './train-help.js';
import { Trainer, type LogRecord } from '../train/trainer.js';
import { latestCheckpoint } from '../train/trainer-state.js';
import { chooseLabels, encodeSplit, readTrainingData } from '../train/prepare.js';
import { formatMetricsTable } from '../metrics/metrics-table.js';
import { modelCard, saveMetrics, splitMetrics, writePredictionsTxt } from '../train/hf-outputs.js';
import {
  capSeqLength,
  checkDataUse,
  checkInputPath,
  labelsOutsideTraining,
  prepareOutputDir,
  resolveModelConfig,
  TrainSetupError,
  vocabIsUncased,
} from './train-checks.js';
import { CliArgsError } from './args.js';
import { DataFormatError } from '../data/errors.js';
import { bf16Refusal } from '../engine/index.js';
import { computeNerMetrics } from '../metrics/index.js';
import { say, warn, type CommandIO } from './io.js';

/** The version written into model cards and training_args.json. */
import { VERSION } from '../version.js';
export { VERSION };

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
    throw new CliArgsError(
      '--model (model_name_or_path) is required: a model folder or a Hugging Face hub id; or, to train from scratch, --config-name (a preset: tiny, mini, small, medium, base; or a config.json) and --tokenizer-name (a vocab.txt or tokenizer folder)',
    );
  }
  const result = await trainAndEvaluate(args, io, argv, { doFlagsGiven: parsed.doFlagsGiven ?? false });
  if (result.interrupted) return result.signal === 'SIGTERM' ? 143 : 130;
  return result.ok ? 0 : 1;
}

/** The label names for integer tags: --label-names FILE (one per line), else the model's id2label. */
function readLabelNames(args: TrainingArguments): string[] | null {
  if (args.labelNames) {
    checkInputPath('--label-names', args.labelNames);
    const names = readFileSync(args.labelNames, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    if (names.length === 0)
      throw new TrainSetupError(`--label-names ${args.labelNames}: no label names (expected one per line, in id order)`);
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
export function scratchTokenizer(args: TrainingArguments, maxPositions: number | null, io: CommandIO): Tokenizer {
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
    say(
      io,
      `tokenizer: ${vocabPath} has ${lower ? 'no uppercase entries: lowercasing text (uncased)' : 'uppercase entries: keeping case (cased)'}; --do-lower-case ${lower ? 'false' : 'true'} to change`,
    );
  }
  return WordPieceTokenizer.fromVocabFile(vocabPath, { doLowerCase: lower, ...(maxPositions ? { modelMaxLength: maxPositions } : {}) });
}

/**
 * A pretrained model (--model), or, as run_ner.py's from-config path, a randomly initialised one
 * built from --config-name (a preset or a config.json) with the tokenizer of --tokenizer-name.
 */
async function loadOrCreateModel(
  args: TrainingArguments,
  splits: Splits,
  datasetLabels: string[] | null,
  io: CommandIO,
  resuming: boolean,
  evalOnly = false,
): Promise<{ model: TokenClassifier; tokenizer: Tokenizer; labels: string[] }> {
  if (args.modelNameOrPath) {
    const dir = await resolveModelDir(args.modelNameOrPath);
    const modelLabels = readConfig(join(dir, 'config.json')).labels;
    const labels = chooseLabels(splits, modelLabels, datasetLabels);
    // Without training, a head re-initialised for other labels would evaluate random weights.
    if (evalOnly && labels.join('\n') !== modelLabels.join('\n')) {
      const unknown = labels.filter((l) => !modelLabels.includes(l));
      throw new TrainSetupError(
        `${args.modelNameOrPath} knows the labels ${modelLabels.join(' ') || '(none)'}; the data has ${unknown.map((l) => JSON.stringify(l)).join(', ') || 'labels in another order'} besides: evaluate or predict with the model trained on these labels, or add --do-train`,
      );
    }
    const { model, tokenizer } = await fromPretrained(dir, { labels, seed: args.seed, onWarning: (m) => warn(io, m) });
    return { model, tokenizer, labels };
  }
  // The vocabulary size of a preset comes from the tokenizer, the position limit from the config.
  const probe = scratchTokenizer(args, null, { stdout: { write: () => true } as unknown as NodeJS.WritableStream, stderr: io.stderr });
  const { config, described } = resolveModelConfig(args.configName!, probe.vocabSize);
  const tokenizer = scratchTokenizer(args, config.maxPositionEmbeddings, io);
  const labels = chooseLabels(splits, config.labels, datasetLabels);
  if (tokenizer.vocabSize > config.vocabSize)
    throw new TrainSetupError(
      `--tokenizer-name ${args.tokenizerName} has ${tokenizer.vocabSize} tokens but --config-name ${args.configName} says vocab_size ${config.vocabSize}`,
    );
  const model = architectureFor(config).build(
    { ...config, labels },
    initParameters(architectureFor(config).paramSpecs(config, labels.length), config.initializerRange, args.seed),
  );
  if (!resuming) say(io, `training from scratch: ${described} with random initialisation (seed ${args.seed})`);
  return { model, tokenizer, labels };
}

export interface TrainRunResult {
  ok: boolean;
  eval?: LogRecord;
  /** The test split's predict_* metrics (run_ner.py's do_predict). */
  test?: LogRecord;
  /** The checkpoint saved on Ctrl-C or SIGTERM. */
  interrupted?: string;
  /** The signal that stopped training. */
  signal?: NodeJS.Signals;
}

export interface TrainRunOptions {
  /**
   * --do-train / --do-eval / --do-predict were given (ParsedTrainingArgs.doFlagsGiven): do exactly
   * what they say, as run_ner.py (nothing trains without --do-train). Otherwise every split given
   * is used: train on the training data, evaluate on the validation data, predict on the test data.
   */
  doFlagsGiven?: boolean;
}

/** What a run does with its splits: run_ner.py's do_* flags when given, else every split given. */
export function runModes(
  args: TrainingArguments,
  splits: Splits,
  doFlagsGiven: boolean,
): { train: boolean; eval: boolean; predict: boolean } {
  if (!doFlagsGiven) return { train: Boolean(splits.train), eval: Boolean(splits.validation), predict: Boolean(splits.test) };
  if (args.doTrain && !splits.train)
    throw new TrainSetupError('--do-train needs training data: give --train-file (or a --dataset-name with a train split)');
  if (!args.doTrain && !args.modelNameOrPath)
    throw new TrainSetupError(
      'evaluating or predicting without --do-train needs a trained model: give --model-name-or-path (for example the --output-dir of an earlier run)',
    );
  return { train: args.doTrain, eval: args.doEval && Boolean(splits.validation), predict: args.doPredict };
}

export async function trainAndEvaluate(
  args: TrainingArguments,
  io: CommandIO,
  argv: readonly string[] = [],
  opts: TrainRunOptions = {},
): Promise<TrainRunResult> {
  for (const [opt, p] of [
    ['--train-file', args.trainFile],
    ['--validation-file', args.validationFile],
    ['--test-file', args.testFile],
  ] as const) {
    if (p) checkInputPath(opt, p);
  }
  const doFlagsGiven = opts.doFlagsGiven ?? false;
  const mayTrain = doFlagsGiven ? args.doTrain : Boolean(args.trainFile || (args.datasetName && !args.validationFile && !args.testFile));
  if (mayTrain) for (const note of prepareOutputDir(args)) warn(io, note);
  const resumeDir = !mayTrain ? null : args.resumeFromCheckpoint === true ? latestCheckpoint(args.outputDir) : args.resumeFromCheckpoint;
  if (mayTrain && args.resumeFromCheckpoint === true && !resumeDir)
    throw new TrainSetupError(
      `--resume-from-checkpoint: no checkpoint-* folder in ${args.outputDir}; give the checkpoint folder, or drop the option to start over`,
    );
  if (typeof resumeDir === 'string') checkInputPath('--resume-from-checkpoint', resumeDir, 'dir');

  // Local files, else --dataset-name from the hub (readTrainingData, prepare.ts).
  const { splits, labelNames } = await readTrainingData(args, {}, readLabelNames(args)).catch((e: unknown) => {
    throw integerTagsHelp(e);
  });
  for (const d of Object.values(splits)) for (const w of d?.warnings ?? []) warn(io, w);
  checkDataUse(args, splits);
  const modes = runModes(args, splits, doFlagsGiven);
  if (modes.train) for (const w of labelsOutsideTraining(splits)) warn(io, w);
  const { model, tokenizer, labels } = await loadOrCreateModel(args, splits, labelNames, io, Boolean(resumeDir), !modes.train);
  if (resumeDir) say(io, `resuming from ${resumeDir}`);
  say(
    io,
    `model: ${model.architecture}, ${model.config.numHiddenLayers} layers, hidden ${model.config.hiddenSize}; labels: ${labels.join(' ')}`,
  );
  if (doFlagsGiven)
    say(
      io,
      `run: ${[modes.train && 'train', modes.eval && 'evaluate', modes.predict && 'predict'].filter(Boolean).join(', ') || 'nothing'} (as --do-train/--do-eval/--do-predict say)`,
    );
  const cap = capSeqLength(args.maxSeqLength, model, args.modelNameOrPath ?? args.configName ?? 'config');
  if (cap.note) warn(io, cap.note);
  const runArgs: TrainingArguments = { ...args, maxSeqLength: cap.maxSeqLength };
  const cache = new WordPieceCache(tokenizer);
  const enc = (d: NonNullable<typeof splits.train>, max: number | null) => {
    const { split, stats } = encodeSplit(
      d,
      tokenizer,
      labels,
      { maxSeqLength: runArgs.maxSeqLength, stride: runArgs.stride, labelAllTokens: runArgs.labelAllTokens, maxSamples: max },
      cache,
    );
    say(
      io,
      `${d.source}: ${stats.sentences} sentences, ${stats.features} sequences${stats.splitSentences ? ` (${stats.splitSentences} long sentences split into windows)` : ''}`,
    );
    return split;
  };
  const train = modes.train && splits.train ? enc(splits.train, runArgs.maxTrainSamples) : undefined;
  // Evaluation during training needs the validation split even when the final one is not asked for.
  const validation =
    splits.validation && (modes.eval || (modes.train && args.evalStrategy !== 'no'))
      ? enc(splits.validation, runArgs.maxEvalSamples)
      : undefined;
  const test = modes.predict && splits.test ? enc(splits.test, runArgs.maxPredictSamples) : undefined;
  const trainer = new Trainer({
    model,
    args: runArgs,
    tokenizer,
    trainDataset: train,
    evalDataset: validation,
    progressStream: io.stderr,
    ...entityMetrics(runArgs),
  });
  const out: TrainRunResult = { ok: true };
  const wrote: string[] = [];
  if (train) {
    const caught: { signal?: NodeJS.Signals } = {};
    const result = await withInterrupt(trainer, io, () => trainer.train(), caught);
    if (result.interrupted) {
      const resumeArgs = argv.filter(
        (t, i) => !/^--resume[-_]from[-_]checkpoint/.test(t) && !(i > 0 && /^--resume[-_]from[-_]checkpoint$/.test(argv[i - 1]!)),
      );
      say(io, `interrupted: saved ${result.interrupted} (step ${result.globalStep})`);
      say(io, `resume with: tokentune train ${[...resumeArgs, '--resume-from-checkpoint', result.interrupted].map(shellQuote).join(' ')}`);
      return { ok: false, interrupted: result.interrupted, signal: caught.signal };
    }
    say(io, `saved model to ${args.outputDir}`);
    saveMetrics(args.outputDir, 'train', { ...splitMetrics(result.metrics, 'train', 'train', train.sentences.length) });
    trainer.saveState();
    wrote.push('train_results.json', 'trainer_state.json');
  }
  mkdirSync(args.outputDir, { recursive: true });
  if (validation && modes.eval) {
    out.eval = trainer.evaluate(validation);
    say(io, formatMetricsTable(out.eval, 'eval'));
    saveMetrics(args.outputDir, 'eval', splitMetrics(out.eval, 'eval', 'eval', validation.sentences.length));
    wrote.push('eval_results.json');
  }
  if (test) {
    // Trainer.predict(metric_key_prefix="predict"): the console shows the names the files hold.
    out.test = trainer.evaluate(test, undefined, 'predict');
    say(io, formatMetricsTable(out.test, 'predict'));
    saveMetrics(args.outputDir, 'predict', splitMetrics(out.test, 'predict', 'predict', test.sentences.length));
    writePredictionsTxt(args.outputDir, trainer.lastPredictions ?? []);
    wrote.push('predict_results.json', 'predictions.txt');
  }
  if (train) {
    writeFileSync(join(args.outputDir, 'training_args.json'), JSON.stringify(trainingArgsToDict(args), null, 2) + '\n');
    writeFileSync(
      join(args.outputDir, 'README.md'),
      modelCard({
        args,
        logHistory: trainer.logHistory,
        finetunedFrom: args.modelNameOrPath,
        dataset: args.datasetName,
        version: VERSION,
      }),
    );
    wrote.push('training_args.json', 'README.md');
  }
  if (wrote.length > 0) {
    const files = ['all_results.json', ...wrote].sort();
    say(io, `wrote ${files.slice(0, -1).join(', ')} and ${files[files.length - 1]} to ${args.outputDir}`);
  } else {
    warn(io, 'nothing to do: --do-eval found no validation data and neither --do-train nor --do-predict was given');
  }
  return out;
}

/**
 * The readers' integer-tag error names their API option (labelNames); on the command line the
 * names come from --label-names or the model's id2label.
 */
export function integerTagsHelp(e: unknown): unknown {
  if (!(e instanceof DataFormatError) || !/no label names are known: pass labelNames/.test(e.message)) return e;
  return new TrainSetupError(
    e.message.replace(
      /pass labelNames \(.*\)$/,
      'give --label-names FILE (one label name per line, in id order), or a --model-name-or-path whose config.json has id2label',
    ),
  );
}

/** --return-entity-level-metrics: per-type precision/recall/F1 beside the overall four (run_ner.py's compute_metrics). */
function entityMetrics(args: TrainingArguments): {
  computeMetrics?: (p: { predictions: string[][]; references: string[][] }) => Record<string, number>;
} {
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
 * Ctrl-C (SIGINT) or SIGTERM (a job scheduler, `kill`, a container stop) during training: the
 * first saves a checkpoint after the current step and returns, a second aborts at once (exit 130
 * after SIGINT, 143 after SIGTERM, as the shell expects).
 */
export async function withInterrupt<T>(
  trainer: Trainer,
  io: CommandIO,
  fn: () => Promise<T>,
  caught: { signal?: NodeJS.Signals } = {},
): Promise<T> {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count++;
    caught.signal ??= signal;
    const name = signal === 'SIGINT' ? 'interrupt' : signal;
    if (count === 1) {
      io.stderr.write(
        `\n${name}: saving a checkpoint after this step (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to abort without saving)\n`,
      );
      trainer.requestStop();
    } else {
      io.stderr.write('\naborted\n');
      process.exit(signal === 'SIGTERM' ? 143 : 130);
    }
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const s of signals) process.on(s, onSignal);
  try {
    return await fn();
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}

export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
