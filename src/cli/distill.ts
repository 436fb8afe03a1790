/**
 * `tokentune distill`: train a small student tagger to imitate a fine-tuned teacher. Every
 * `tokentune train` flag applies (they configure the student's Trainer run); the distillation
 * flags are listed first in --help. The student folder is an ordinary model folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import {
  architectureFor,
  fromPretrained,
  initParameters,
  makeConfig,
  readConfig,
  resolveModelDir,
  type TokenClassifier,
} from '../models/index.js';
import { loadTokenizer, type Tokenizer } from '../tokenizers/index.js';
import { WordPieceCache } from '../data/align.js';
import { buildFeatures, type Feature } from '../data/features.js';
import { parseConll } from '../data/conll.js';
import { forEachLine, readTextFile } from '../data/text-file.js';
import { labelsIn } from '../data/label-map.js';
import { trainingArgsToDict, type TrainingArguments } from '../train/training-args.js';
import { parseTrainingArgs } from './training-flags.js';
import { formatHelp } from './train-help.js';
import { Trainer, type EncodedSplit } from '../train/trainer.js';
import { latestCheckpoint } from '../train/trainer-state.js';
import { encodeSplit, readTrainingData } from '../train/prepare.js';
import { formatMetricsTable } from '../metrics/metrics-table.js';
import { modelCard, saveMetrics, splitMetrics, writePredictionsTxt } from '../train/hf-outputs.js';
import { selectTeacherWeights } from '../train/distill-init.js';
import { DistillSetupError } from '../train/distill-errors.js';
import {
  cachedTargets,
  DistillObjective,
  fileHash,
  mapLabelsByName,
  modelFolderHash,
  sameTokenization,
  tokenLevelTargets,
  wordLevelTargets,
  type SoftTargets,
  type TeacherSpec,
} from '../train/distill.js';
import { capSeqLength, checkDataUse, checkInputPath, CONFIG_PRESETS, prepareOutputDir, resolveModelConfig } from './train-checks.js';
import { scratchTokenizer, shellQuote, withInterrupt, entityLevelMetrics, VERSION } from './train.js';
import { CliArgsError } from './args.js';
import { ArgvLexer } from './argv-lexer.js';
import { say, warn, type CommandIO } from './io.js';
import { createHash } from 'node:crypto';
import { deriveSeed } from '../engine/index.js';
import { HiddenProjections, parseLayerMap } from '../train/distill-hidden.js';

interface DistillFlags {
  teacher: string | null;
  student: string | null;
  studentConfig: string | null;
  unlabeledFile: string | null;
  teacherCache: string | null;
  temperature: number;
  alpha: number;
  layerMap: string | null;
  hiddenWeight: number | null;
  studentInit: 'random' | 'select';
}

const DISTILL_HELP = `Distillation (the other options configure the student's training, as for tokentune train):
  --teacher <DIR|HUB-ID>              A fine-tuned token-classification model (required).
  --student <DIR|HUB-ID>              A pretrained student to start from, or:
  --student-config <NAME|LxH>         A fresh student: a preset (tiny 2x128, mini 4x256, small 4x512,
                                      medium 8x512, base 12x768), <layers>x<hidden> (e.g. 3x192), or a
                                      config.json; tokenizer: --tokenizer-name, else the teacher's.
  --student-init <random|select>      How a fresh student starts: random (as training from scratch), or
                                      select: the teacher's weights, student layer i from the teacher
                                      layer --layer-map (or the uniform map) names, the leading hidden
                                      and intermediate units of each tensor (weight selection; same
                                      model type and tokenizer as the teacher). (default: random)
  --unlabeled-file <FILE>             Raw text for the teacher to label: one sentence per line, or a
                                      CoNLL column file (.conll/.conllu/.iob/.bio/.tsv: tags ignored).
                                      Its tokens get the KL term only. Teacher outputs are cached in
                                      <output-dir>/teacher-cache (keyed by teacher, file and tokens).
  --teacher-cache <DIR>               Where teacher outputs are cached (default <output-dir>/teacher-cache);
                                      runs that share it label the same data once.
  --temperature <T>                   Softmax temperature (default: 2).
  --alpha <A>                         Loss = A * T^2 * KL(softmax(teacher/T) || softmax(student/T))
                                      + (1 - A) * CE(student, gold). KL: summed over labels, averaged
                                      over tokens with a soft target (each word's first sub-token;
                                      every labelled token when both tokenizers agree); CE: averaged
                                      over tokens with a gold label. (default: 0.5)
  --layer-map <S:T,...|uniform>       Hidden-state matching (TinyBERT): student layer S imitates teacher
                                      layer T (0 = embeddings output), e.g. 1:2,2:4; uniform: layer i ->
                                      i * teacher layers / student layers. Adds --hidden-weight * the mean
                                      over pairs of MSE(student_h W + b, teacher_h) on the soft-target
                                      tokens; W, b (when the widths differ) train with the student, are
                                      kept in checkpoints (distill_projection.safetensors) and are not
                                      part of the student folder.
  --hidden-weight <W>                 Weight of the hidden-state term (default: 1 with --layer-map).
Teacher and student labels must be the same set (matched by name, any order).
`;

function takeDistillFlags(argv: readonly string[]): { flags: DistillFlags; rest: string[] } {
  const flags: DistillFlags = {
    teacher: null,
    student: null,
    studentConfig: null,
    unlabeledFile: null,
    teacherCache: null,
    temperature: 2,
    alpha: 0.5,
    layerMap: null,
    hiddenWeight: null,
    studentInit: 'random',
  };
  const rest: string[] = [];
  const names: Record<string, keyof DistillFlags> = {
    '--teacher': 'teacher',
    '--student': 'student',
    '--student-config': 'studentConfig',
    '--unlabeled-file': 'unlabeledFile',
    '--teacher-cache': 'teacherCache',
    '--temperature': 'temperature',
    '--alpha': 'alpha',
    '--layer-map': 'layerMap',
    '--hidden-weight': 'hiddenWeight',
    '--student-init': 'studentInit',
  };
  // The distill flags are taken out here; every other token goes on, in order, to the training flags.
  const lex = new ArgvLexer(argv, false);
  for (let t = lex.next(); t; t = lex.next()) {
    const name = t.kind === 'flag' ? `--${t.name.replace(/_/g, '-')}` : '';
    const key = names[name];
    if (t.kind === 'positional' || !key) {
      rest.push(t.token);
      continue;
    }
    const value = t.value ?? lex.takeValue('optional', () => new CliArgsError(`${name} needs a value`));
    if (value === undefined) throw new CliArgsError(`${name} needs a value`);
    if (key === 'temperature' || key === 'alpha') {
      const v = Number(value);
      if (!Number.isFinite(v) || (key === 'temperature' ? v <= 0 : v < 0 || v > 1)) {
        throw new CliArgsError(`${name} ${value}: expected ${key === 'temperature' ? 'a positive number' : 'a number in [0, 1]'}`);
      }
      flags[key] = v;
    } else if (key === 'hiddenWeight') {
      const v = Number(value);
      if (!Number.isFinite(v) || v < 0) throw new CliArgsError(`${name} ${value}: expected a non-negative number`);
      flags[key] = v;
    } else if (key === 'studentInit') {
      if (value !== 'random' && value !== 'select') throw new CliArgsError(`${name} ${value}: expected random or select`);
      flags[key] = value;
    } else flags[key] = value;
  }
  return { flags, rest };
}

export async function runDistill(argv: string[], io: CommandIO): Promise<number> {
  if (argv.some((t) => t === '-h' || t === '--help')) {
    say(io, DISTILL_HELP);
    say(
      io,
      formatHelp({
        usage: 'tokentune distill --teacher DIR --student DIR|--student-config NAME --train-file FILE --output-dir DIR [options]',
      }),
    );
    return 0;
  }
  const { flags, rest } = takeDistillFlags(argv);
  if (!flags.teacher) throw new CliArgsError('--teacher is required: a fine-tuned token-classification model folder or hub id');
  if (flags.hiddenWeight !== null && !flags.layerMap)
    throw new CliArgsError('--hidden-weight needs --layer-map (which student layer imitates which teacher layer)');
  if (flags.studentInit === 'select' && !flags.studentConfig)
    throw new CliArgsError('--student-init select shapes a fresh student: give --student-config, not --student');
  if (!flags.student === !flags.studentConfig)
    throw new CliArgsError(
      'give one of --student DIR (a pretrained student) or --student-config NAME (tiny, mini, small, <layers>x<hidden>, or a config.json)',
    );
  const parsed = parseTrainingArgs({ argv: rest });
  for (const w of parsed.warnings) warn(io, w);
  const args: TrainingArguments = { ...parsed.args, modelNameOrPath: flags.student, configName: flags.studentConfig };
  if (!args.trainFile && !args.datasetName) throw new CliArgsError('--train-file is required (the labelled data the student learns from)');
  const r = await distill(flags, args, io, argv);
  if (r === 'interrupted') return 130;
  return r === 'ok' ? 0 : 1;
}

/** <layers>x<hidden> (heads of 64 dims, feed-forward 4x hidden, as BERT's miniatures), a preset, or a config.json. */
function studentConfig(name: string, vocabSize: number): { config: ReturnType<typeof makeConfig>; described: string } {
  const m = /^(\d+)x(\d+)$/.exec(name);
  if (m && !CONFIG_PRESETS[name]) {
    const layers = Number(m[1]),
      hidden = Number(m[2]);
    if (layers < 1 || layers > 48 || hidden < 16 || hidden > 4096 || hidden % 16 !== 0) {
      throw new CliArgsError(`--student-config ${name}: expected 1..48 layers and a hidden size in 16..4096 divisible by 16`);
    }
    const heads = Math.max(1, Math.floor(hidden / 64));
    return {
      config: makeConfig({
        hidden_size: hidden,
        num_hidden_layers: layers,
        num_attention_heads: hidden % heads === 0 ? heads : 1,
        intermediate_size: 4 * hidden,
        max_position_embeddings: 512,
        vocab_size: vocabSize,
      }),
      described: `${layers} layers, hidden ${hidden}`,
    };
  }
  return resolveModelConfig(name, vocabSize);
}

/** Sentences of --unlabeled-file: CoNLL columns by extension (tags ignored), else one sentence per line split into words and punctuation. */
export function readUnlabeled(path: string): { tokens: string[] }[] {
  if (/^\.(conll|conllu|iob|iob2|bio|tsv)$/i.test(extname(path))) {
    // A file of tokens alone (one column) has no tag column: give each line a placeholder tag to ignore.
    const text = readTextFile(path);
    const first = /^[ \t]*(?!-DOCSTART-)(\S[^\n]*)$/m.exec(text)?.[1] ?? '';
    const oneColumn = first.trim().split(/[ \t]+/).length === 1;
    return parseConll(oneColumn ? text.replace(/^([ \t]*\S+)[ \t\r]*$/gm, '$1\tO') : text, path, { tagColumn: -1 }).sentences.map((s) => ({
      tokens: [...s.tokens],
    }));
  }
  const out: { tokens: string[] }[] = [];
  forEachLine(readTextFile(path), (line) => {
    const words = line.match(/[\p{L}\p{M}\p{N}]+|[^\s\p{L}\p{M}\p{N}]/gu);
    if (words && words.length > 0) out.push({ tokens: words });
  });
  return out;
}

function featureHash(features: readonly Feature[]): string {
  const h = createHash('sha256');
  for (const f of features)
    h.update(new Uint8Array(f.inputIds.buffer, f.inputIds.byteOffset, f.inputIds.byteLength)).update(
      new Uint8Array(f.labels.buffer, f.labels.byteOffset, f.labels.byteLength),
    );
  return h.digest('hex');
}

async function distill(
  flags: DistillFlags,
  args: TrainingArguments,
  io: CommandIO,
  argv: readonly string[],
): Promise<'ok' | 'failed' | 'interrupted'> {
  for (const [opt, p] of [
    ['--train-file', args.trainFile],
    ['--validation-file', args.validationFile],
    ['--test-file', args.testFile],
    ['--unlabeled-file', flags.unlabeledFile],
  ] as const) {
    if (p) checkInputPath(opt, p);
  }
  for (const note of prepareOutputDir(args)) warn(io, note);
  const resumeDir = args.resumeFromCheckpoint === true ? latestCheckpoint(args.outputDir) : args.resumeFromCheckpoint;
  if (args.resumeFromCheckpoint === true && !resumeDir)
    throw new DistillSetupError(`--resume-from-checkpoint: no checkpoint-* folder in ${args.outputDir}`);

  // The teacher keeps its own head and labels.
  const teacherDir = await resolveModelDir(flags.teacher!);
  const teacher = await fromPretrained(teacherDir, { onWarning: (m) => warn(io, m) });
  const teacherLabels = [...teacher.model.config.labels];
  if (teacherLabels.length === 0 || /^LABEL_\d+$/.test(teacherLabels[0]!)) {
    throw new DistillSetupError(`--teacher ${flags.teacher}: config.json has no label names (id2label); a fine-tuned tagger is needed`);
  }
  say(
    io,
    `teacher: ${teacher.model.architecture}, ${teacher.model.config.numHiddenLayers} layers, hidden ${teacher.model.config.hiddenSize}; labels: ${teacherLabels.join(' ')}`,
  );

  const { splits } = await readTrainingData(args, {}, null);
  for (const d of Object.values(splits)) for (const w of d?.warnings ?? []) warn(io, w);
  checkDataUse(args, splits);
  const present = [splits.train, splits.validation, splits.test].filter((s) => !!s);
  const dataLabels = [...labelsIn(present as NonNullable<typeof splits.train>[])];
  const unknown = dataLabels.filter((l) => !teacherLabels.includes(l));
  if (unknown.length)
    throw new DistillSetupError(
      `the data has labels the teacher does not know: data [${dataLabels.join(', ')}], teacher [${teacherLabels.join(', ')}]`,
    );

  // The student: a pretrained folder (its own label order when it names the same set) or a fresh config.
  let model: TokenClassifier, tokenizer: Tokenizer, labels: string[];
  if (flags.student) {
    const dir = await resolveModelDir(flags.student);
    const own = readConfig(join(dir, 'config.json')).labels;
    labels = own.length > 0 && !/^LABEL_\d+$/.test(own[0]!) ? [...own] : teacherLabels;
    mapLabelsByName(teacherLabels, labels);
    ({ model, tokenizer } = await fromPretrained(dir, { labels, seed: args.seed, onWarning: (m) => warn(io, m) }));
  } else {
    labels = teacherLabels;
    const tokPath = args.tokenizerName ?? teacherDir;
    // As train's --tokenizer-name: a bare vocab.txt's casing is decided by its entries.
    tokenizer = args.tokenizerName ? scratchTokenizer(args, null, io) : loadTokenizer(tokPath);
    const { config, described } = studentConfig(flags.studentConfig!, tokenizer.vocabSize);
    const arch = architectureFor(config);
    model = arch.build({ ...config, labels }, initParameters(arch.paramSpecs(config, labels.length), config.initializerRange, args.seed));
    if (!resumeDir) say(io, `student from scratch: ${described} (tokenizer ${tokPath}), seed ${args.seed}`);
  }
  const labelMap = mapLabelsByName(teacherLabels, labels);
  say(io, `student: ${model.architecture}, ${model.config.numHiddenLayers} layers, hidden ${model.config.hiddenSize}`);
  const cap = capSeqLength(args.maxSeqLength, model, flags.student ?? flags.studentConfig ?? 'config');
  if (cap.note) warn(io, cap.note);
  const runArgs: TrainingArguments = { ...args, maxSeqLength: cap.maxSeqLength };
  const layerMap = flags.layerMap
    ? parseLayerMap(flags.layerMap, model.config.numHiddenLayers, teacher.model.config.numHiddenLayers)
    : null;
  const hiddenWeight = flags.hiddenWeight ?? 1;
  const projections = layerMap
    ? new HiddenProjections(
        layerMap,
        model.config.hiddenSize,
        teacher.model.config.hiddenSize,
        { std: model.config.initializerRange, seed: deriveSeed(args.seed, 'distill-projection') },
        { lr: args.learningRate, beta1: args.adamBeta1, beta2: args.adamBeta2, eps: args.adamEpsilon, weightDecay: args.weightDecay },
      )
    : null;
  if (projections) {
    say(
      io,
      `hidden-state matching: layer map ${projections.mapString()} (student:teacher), weight ${hiddenWeight}, ` +
        (projections.size
          ? `projections ${model.config.hiddenSize} -> ${teacher.model.config.hiddenSize} (${projections.size} parameters, kept out of the student folder)`
          : 'no projection (equal widths)'),
    );
  }

  const cache = new WordPieceCache(tokenizer);
  const enc = (d: NonNullable<typeof splits.train>, maxSamples: number | null) => {
    const { split, stats } = encodeSplit(
      d,
      tokenizer,
      labels,
      { maxSeqLength: runArgs.maxSeqLength, stride: runArgs.stride, labelAllTokens: runArgs.labelAllTokens, maxSamples },
      cache,
    );
    say(io, `${d.source}: ${stats.sentences} sentences, ${stats.features} sequences`);
    return split;
  };
  const train = enc(splits.train!, runArgs.maxTrainSamples);
  const validation = splits.validation ? enc(splits.validation, runArgs.maxEvalSamples) : undefined;
  const test = splits.test ? enc(splits.test, runArgs.maxPredictSamples) : undefined;
  const unlabeled = flags.unlabeledFile ? readUnlabeled(flags.unlabeledFile) : null;
  const unlabeledFeatures = unlabeled
    ? buildFeatures({ sentences: unlabeled, source: flags.unlabeledFile! }, tokenizer, null, { maxSeqLength: runArgs.maxSeqLength, cache })
        .features
    : [];
  if (unlabeled) say(io, `${flags.unlabeledFile}: ${unlabeled.length} unlabelled sentences, ${unlabeledFeatures.length} sequences`);

  // Soft targets: token level when both tokenizers split every word alike, else word level.
  const words = function* () {
    for (const s of train.sentences) yield* s.tokens;
    for (const s of unlabeled ?? []) yield* s.tokens;
  };
  const tokenLevel = sameTokenization(teacher.tokenizer, tokenizer, words());
  if (flags.studentInit === 'select') {
    if (!tokenLevel)
      throw new DistillSetupError(
        "--student-init select needs the student to use the teacher's tokenizer (they split these words differently); drop --tokenizer-name",
      );
    // A resumed run loads its weights from the checkpoint; selecting first would only be overwritten.
    if (!resumeDir) say(io, selectTeacherWeights(model, teacher.model, layerMap));
  }
  const spec: TeacherSpec = {
    model: teacher.model,
    tokenizer: teacher.tokenizer,
    labelMap,
    maxSeqLength: Math.min(runArgs.maxSeqLength, teacher.model.maxSequenceLength ?? teacher.model.config.maxPositionEmbeddings),
    batchSize: runArgs.perDeviceEvalBatchSize,
    ...(layerMap ? { hiddenLayers: layerMap.map(([, t]) => t) } : {}),
  };
  say(
    io,
    `soft targets: ${tokenLevel ? 'token level (same tokenization)' : 'word level (first sub-token of each word; tokenizers differ)'}, temperature ${flags.temperature}, alpha ${flags.alpha}`,
  );
  const teacherId = modelFolderHash(teacherDir);
  const cacheDir = flags.teacherCache ?? join(args.outputDir, 'teacher-cache');
  const targetsFor = (name: string, file: string, sentences: readonly { tokens: readonly string[] }[], feats: Feature[]): SoftTargets[] => {
    const started = Date.now();
    const key = [teacherId, fileHash(file), tokenLevel ? 'token' : 'word', labels.join(','), String(spec.maxSeqLength), featureHash(feats)];
    // With hidden states the cache holds the mapped teacher layers too (half precision), in a file of its own.
    if (spec.hiddenLayers) key.push(`hidden ${spec.hiddenLayers.join(',')}`);
    const r = cachedTargets(
      cacheDir,
      key,
      feats,
      labels.length,
      () => (tokenLevel ? tokenLevelTargets(spec, feats) : wordLevelTargets(spec, sentences, feats)),
      (spec.hiddenLayers?.length ?? 0) * teacher.model.config.hiddenSize,
    );
    say(
      io,
      `${name}: teacher outputs ${r.cached ? 'read from' : 'computed and cached in'} ${r.path} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
    return r.targets;
  };
  const targets = new Map<Feature, SoftTargets>();
  targetsFor('train', args.trainFile ?? 'train', train.sentences, train.features).forEach((t, i) => targets.set(train.features[i]!, t));
  if (unlabeled)
    targetsFor('unlabelled', flags.unlabeledFile!, unlabeled, unlabeledFeatures).forEach((t, i) => targets.set(unlabeledFeatures[i]!, t));

  const trainSplit: EncodedSplit = { features: [...train.features, ...unlabeledFeatures], sentences: train.sentences };
  const objective = new DistillObjective(targets, {
    temperature: flags.temperature,
    alpha: flags.alpha,
    numLabels: labels.length,
    ...(projections ? { hidden: { weight: hiddenWeight, projections, teacherHidden: teacher.model.config.hiddenSize } } : {}),
  });
  const trainer = new Trainer({
    model,
    args: runArgs,
    tokenizer,
    trainDataset: trainSplit,
    evalDataset: validation,
    progressStream: io.stderr,
    objective,
    ...(runArgs.returnEntityLevelMetrics ? { computeMetrics: entityLevelMetrics } : {}),
  });
  if (resumeDir) say(io, `resuming from ${resumeDir}`);
  const result = await withInterrupt(trainer, io, () => trainer.train());
  if (result.interrupted) {
    const resumeArgs = argv.filter(
      (t, i) => !/^--resume[-_]from[-_]checkpoint/.test(t) && !(i > 0 && /^--resume[-_]from[-_]checkpoint$/.test(argv[i - 1]!)),
    );
    say(io, `interrupted: saved ${result.interrupted} (step ${result.globalStep})`);
    say(io, `resume with: tokentune distill ${[...resumeArgs, '--resume-from-checkpoint', result.interrupted].map(shellQuote).join(' ')}`);
    return 'interrupted';
  }
  say(io, `saved student to ${args.outputDir}`);
  saveMetrics(args.outputDir, 'train', splitMetrics(result.metrics, 'train', 'train', train.sentences.length));
  trainer.saveState();
  mkdirSync(args.outputDir, { recursive: true });
  if (validation) {
    const e = trainer.evaluate(validation);
    say(io, formatMetricsTable(e, 'validation'));
    saveMetrics(args.outputDir, 'eval', splitMetrics(e, 'eval', 'eval', validation.sentences.length));
  }
  if (test) {
    const t = trainer.evaluate(test, undefined, 'test');
    say(io, formatMetricsTable(t, 'test'));
    saveMetrics(args.outputDir, 'predict', splitMetrics(t, 'test', 'predict', test.sentences.length));
    writePredictionsTxt(args.outputDir, trainer.lastPredictions ?? []);
  }
  writeFileSync(join(args.outputDir, 'training_args.json'), JSON.stringify(trainingArgsToDict(args), null, 2) + '\n');
  const recipe = {
    teacher: flags.teacher,
    teacher_sha256: teacherId,
    student: flags.student ?? `config ${flags.studentConfig}`,
    temperature: flags.temperature,
    alpha: flags.alpha,
    soft_targets: tokenLevel ? 'token' : 'word',
    unlabeled_file: flags.unlabeledFile,
    unlabeled_sentences: unlabeled?.length ?? 0,
    layer_map: projections?.mapString() ?? null,
    hidden_weight: projections ? hiddenWeight : null,
    student_init: flags.studentInit,
  };
  writeFileSync(join(args.outputDir, 'distillation.json'), JSON.stringify(recipe, null, 2) + '\n');
  writeFileSync(
    join(args.outputDir, 'README.md'),
    distillCard(
      modelCard({ args, logHistory: trainer.logHistory, finetunedFrom: flags.student, dataset: args.datasetName, version: VERSION }),
      recipe,
      args,
    ),
  );
  say(io, `wrote all_results.json, trainer_state.json, training_args.json, distillation.json and README.md to ${args.outputDir}`);
  return 'ok';
}

/** The Trainer's model card with a section naming the teacher and the recipe. */
function distillCard(card: string, r: Record<string, unknown>, args: TrainingArguments): string {
  const section = [
    '## Distillation',
    '',
    `This model is a student distilled from the teacher \`${String(r.teacher)}\` with \`tokentune distill\`.`,
    '',
    `- student: ${String(r.student)}${r.student_init === 'select' ? ', initialised by weight selection from the teacher (each student layer from its mapped teacher layer, the leading hidden and intermediate units of every tensor)' : ''}`,
    `- loss: ${String(r.alpha)} * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + ${Number((1 - Number(r.alpha)).toFixed(6))} * cross-entropy(gold), T = ${String(r.temperature)}`,
    `- soft targets: ${r.soft_targets === 'token' ? 'token level (teacher and student tokenize alike)' : "word level (each tokenizer's first sub-token of a word)"}`,
    `- labelled data: ${args.trainFile ?? args.datasetName ?? 'n/a'}`,
    ...(r.layer_map
      ? [
          `- hidden-state matching (TinyBERT-style): student layer:teacher layer ${String(r.layer_map)} (0 = embeddings), weight ${String(r.hidden_weight)} on the MSE between the student's hidden states (through a learned linear projection where the widths differ, not part of this folder) and the teacher's`,
        ]
      : []),
    `- unlabelled data: ${r.unlabeled_file ? `${String(r.unlabeled_file)} (${String(r.unlabeled_sentences)} sentences labelled by the teacher)` : 'none'}`,
    `- teacher weights sha256: ${String(r.teacher_sha256)}`,
    '',
    '',
  ].join('\n');
  const i = card.indexOf('\n## Model description');
  return i < 0 ? card + '\n' + section : card.slice(0, i + 1) + section + card.slice(i + 1);
}
