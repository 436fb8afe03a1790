import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  TrainingArgsError,
  defaultTrainingArgs,
  metricKey,
  trainingArgsToDict,
  type TrainingArguments,
} from '../src/train/training-args.js';
import { TRAINING_OPTIONS, findOption, type OptionSpec } from '../src/train/training-options.js';
import { planTrainingSteps, resolveStepInterval } from '../src/train/step-plan.js';
import { formatTrainingArgs, parseTrainingArgs } from '../src/cli/training-flags.js';
import { loadConfigFile } from '../src/cli/config-file.js';
import { UNSUPPORTED_OPTIONS } from '../src/cli/unsupported-options.js';
import { formatHelp } from '../src/cli/train-help.js';
import { levenshtein, nearest } from '../src/cli/suggest.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tt-args-'));
const parse = (argv: string[], config?: Record<string, unknown>) => parseTrainingArgs({ argv, ...(config ? { config } : {}) });

test('defaults are Hugging Face TrainingArguments defaults', () => {
  const a = defaultTrainingArgs();
  assert.equal(a.outputDir, './results');
  assert.equal(a.learningRate, 5e-5);
  assert.equal(a.perDeviceTrainBatchSize, 8);
  assert.equal(a.perDeviceEvalBatchSize, 8);
  assert.equal(a.numTrainEpochs, 3);
  assert.equal(a.maxSteps, -1);
  assert.equal(a.evalStrategy, 'no');
  assert.equal(a.loggingStrategy, 'steps');
  assert.equal(a.loggingSteps, 500);
  assert.equal(a.evalSteps, 500, 'eval_steps defaults to logging_steps');
  assert.equal(a.saveStrategy, 'steps');
  assert.equal(a.saveSteps, 500);
  assert.equal(a.saveTotalLimit, null);
  assert.equal(a.loadBestModelAtEnd, false);
  assert.equal(a.metricForBestModel, null);
  assert.equal(a.greaterIsBetter, null);
  assert.equal(a.weightDecay, 0);
  assert.equal(a.adamBeta1, 0.9);
  assert.equal(a.adamBeta2, 0.999);
  assert.equal(a.adamEpsilon, 1e-8);
  assert.equal(a.maxGradNorm, 1);
  assert.equal(a.lrSchedulerType, 'linear');
  assert.equal(a.warmupSteps, 0);
  assert.equal(a.warmupRatio, 0);
  assert.equal(a.gradientAccumulationSteps, 1);
  assert.equal(a.seed, 42);
  assert.equal(a.labelAllTokens, false);
  assert.equal(a.maxSeqLength, 512);
  assert.equal(a.resumeFromCheckpoint, null);
  assert.equal(a.classWeights, null);
});

test('the option table uses the HF / run_ner.py snake_case names', () => {
  const names = new Set(TRAINING_OPTIONS.map((o) => o.name));
  for (const n of [
    'output_dir',
    'overwrite_output_dir',
    'learning_rate',
    'per_device_train_batch_size',
    'per_device_eval_batch_size',
    'num_train_epochs',
    'max_steps',
    'eval_strategy',
    'eval_steps',
    'logging_steps',
    'logging_strategy',
    'logging_first_step',
    'save_strategy',
    'save_steps',
    'save_total_limit',
    'load_best_model_at_end',
    'metric_for_best_model',
    'greater_is_better',
    'weight_decay',
    'adam_beta1',
    'adam_beta2',
    'adam_epsilon',
    'max_grad_norm',
    'lr_scheduler_type',
    'warmup_steps',
    'warmup_ratio',
    'gradient_accumulation_steps',
    'seed',
    'model_name_or_path',
    'dataset_name',
    'dataset_config_name',
    'train_file',
    'validation_file',
    'test_file',
    'text_column_name',
    'label_column_name',
    'return_entity_level_metrics',
    'max_train_samples',
    'max_eval_samples',
    'label_all_tokens',
    'do_train',
    'do_eval',
    'do_predict',
    'max_seq_length',
    'disable_tqdm',
    'group_by_length',
    'resume_from_checkpoint',
  ]) {
    assert.ok(names.has(n), `missing option ${n}`);
  }
  for (const o of TRAINING_OPTIONS) assert.ok(o.help.length > 0, `${o.name} has no help`);
  assert.equal(findOption('evaluation_strategy')?.name, 'eval_strategy');
});

test('flags: kebab, snake and camel spellings, =value, booleans and --no-', () => {
  const { args } = parse([
    '--learning-rate',
    '1.5e-5',
    '--eval-strategy=steps',
    '--per_device_train_batch_size',
    '16',
    '--numTrainEpochs',
    '2.5',
    '--load-best-model-at-end',
    '--save-strategy',
    'steps',
    '--eval_steps',
    '100',
    '--save-steps=200',
    '--no-overwrite-output-dir',
    '--do_train',
    'true',
    '--do-predict=false',
    '--adam_beta1',
    '0.8',
    '--output_dir',
    'out',
    '--model_name_or_path',
    'bert-base-cased',
  ]);
  assert.equal(args.learningRate, 1.5e-5);
  assert.equal(args.evalStrategy, 'steps');
  assert.equal(args.perDeviceTrainBatchSize, 16);
  assert.equal(args.numTrainEpochs, 2.5);
  assert.equal(args.loadBestModelAtEnd, true);
  assert.equal(args.evalSteps, 100);
  assert.equal(args.saveSteps, 200);
  assert.equal(args.overwriteOutputDir, false);
  assert.equal(args.doTrain, true);
  assert.equal(args.doPredict, false);
  assert.equal(args.doEval, true, 'eval_strategy != no turns do_eval on, as HF');
  assert.equal(args.adamBeta1, 0.8);
  assert.equal(args.outputDir, 'out');
  assert.equal(args.modelNameOrPath, 'bert-base-cased');
  assert.equal(args.metricForBestModel, 'loss');
  assert.equal(args.greaterIsBetter, false);
});

test('evaluation_strategy (old HF name) is an alias of eval_strategy', () => {
  assert.equal(parse(['--evaluation_strategy', 'epoch']).args.evalStrategy, 'epoch');
  assert.equal(parse([], { evaluation_strategy: 'steps' }).args.evalStrategy, 'steps');
});

test('bad values name the key and the value', () => {
  assert.throws(() => parse(['--learning-rate', 'abc']), { message: "learning_rate: expected a number, got 'abc'" });
  assert.throws(() => parse(['--per-device-train-batch-size', '0']), /per_device_train_batch_size: expected an integer >= 1, got '0'/);
  assert.throws(() => parse(['--per-device-train-batch-size', '2.5']), /per_device_train_batch_size: expected an integer, got '2.5'/);
  assert.throws(() => parse(['--eval-strategy', 'sometimes']), /eval_strategy: expected one of 'no', 'steps', 'epoch', got 'sometimes'/);
  assert.throws(() => parse(['--warmup-ratio', '1.5']), /warmup_ratio: expected a number <= 1, got '1.5'/);
  assert.throws(
    () => parse(['--do-train', '--load-best-model-at-end=maybe']),
    /load_best_model_at_end: expected true or false, got 'maybe'/,
  );
  assert.throws(() => parse(['--eval-steps', '1.5']), /eval_steps: expected an integer number of steps/);
  assert.throws(() => parse(['--learning-rate']), /--learning-rate: expected a value/);
  assert.throws(() => parse(['--learning-rate', '0x10']), TrainingArgsError);
});

test('unknown options suggest the nearest known name in the same spelling', () => {
  assert.throws(() => parse(['--learnig-rate', '1e-5']), { message: "unknown option '--learnig-rate'; did you mean '--learning-rate'?" });
  assert.throws(() => parse(['--learnig_rate', '1e-5']), /did you mean '--learning_rate'\?/);
  assert.throws(() => parse([], { learnigRate: 1 }), /unknown key 'learnigRate'; did you mean 'learningRate'\?/);
  assert.throws(
    () => parse([], { per_device_batch_size: 4 }),
    /did you mean 'per_device_eval_batch_size'|did you mean 'per_device_train_batch_size'/,
  );
  assert.throws(
    () => parse(['--zzzzzzzzzzzz', '1']),
    (e: Error) => !e.message.includes('did you mean'),
  );
});

test('unsupported Trainer settings: errors, warnings, and harmless values', () => {
  assert.throws(() => parse(['--fp16']), /fp16 is not supported: tokentune trains in float32, or with --bf16 in bf16 mixed precision/);
  assert.throws(() => parse(['--deepspeed', 'ds.json']), /deepspeed is not supported/);
  assert.throws(() => parse([], { fsdp: 'full_shard' }), /fsdp is not supported/);
  assert.throws(() => parse([], { push_to_hub: true }), /push_to_hub is not supported/);
  // Off (false / none / empty) is not "using" the feature.
  assert.deepEqual(
    parse(['--fp16', 'false'], { bf16: false, deepspeed: null, fsdp: '', report_to: 'none', torch_compile: false }).warnings,
    [],
  );
  const { warnings } = parse(['--report_to', 'wandb', '--dataloader-num-workers', '4'], { run_name: 'x' });
  assert.equal(warnings.length, 3);
  assert.ok(warnings.some((w) => w.startsWith('report_to wandb is not supported')));
  assert.ok(warnings.some((w) => w.startsWith('dataloader_num_workers is not supported')));
  for (const u of UNSUPPORTED_OPTIONS) assert.equal(findOption(u.name), undefined, `${u.name} is both supported and unsupported`);
});

test('precedence: defaults < config object < config file < flags; --config and positional files', () => {
  const dir = tmp();
  try {
    const yml = join(dir, 'a.yaml');
    writeFileSync(yml, 'learning_rate: 3e-5\nnum_train_epochs: 5\nseed: 7\n');
    const json = join(dir, 'b.json');
    writeFileSync(json, JSON.stringify({ seed: 8, per_device_train_batch_size: 4 }));
    const r = parseTrainingArgs({ argv: [yml, '--seed', '9', '--config', json], config: { learning_rate: 1e-3, weight_decay: 0.01 } });
    assert.deepEqual(r.configFiles, [yml, json]);
    assert.equal(r.args.learningRate, 3e-5, 'file beats config object');
    assert.equal(r.args.weightDecay, 0.01, 'config object beats default');
    assert.equal(r.args.numTrainEpochs, 5);
    assert.equal(r.args.perDeviceTrainBatchSize, 4);
    assert.equal(r.args.seed, 9, 'flag beats both files, wherever it appears');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config files: errors name the file and the line', () => {
  const dir = tmp();
  try {
    const yml = join(dir, 'c.yaml');
    writeFileSync(yml, '# comment\noutput_dir: out\nlearning_rate: fast\n');
    assert.throws(() => parseTrainingArgs({ argv: [yml] }), { message: `${yml}:3: learning_rate: expected a number, got 'fast'` });
    writeFileSync(yml, 'output_dir: out\nlearnig_rate: 1\n');
    assert.throws(() => parseTrainingArgs({ argv: [yml] }), {
      message: `${yml}:2: unknown key 'learnig_rate'; did you mean 'learning_rate'?`,
    });
    writeFileSync(yml, 'output_dir: out\nseed: [1, 2\n');
    assert.throws(
      () => loadConfigFile(yml),
      (e: Error) => e instanceof TrainingArgsError && e.message.startsWith(`${yml}:`) && /invalid YAML/.test(e.message),
    );
    writeFileSync(yml, 'seed: 1\nseed: 2\n');
    assert.throws(() => loadConfigFile(yml), /invalid YAML/);
    writeFileSync(yml, '- a\n- b\n');
    assert.throws(() => loadConfigFile(yml), /must hold a mapping/);

    const json = join(dir, 'c.json');
    writeFileSync(json, '{\n  "seed": 1,\n  "learning_rate": tru\n}\n');
    assert.throws(() => loadConfigFile(json), { message: `${json}:3:20: invalid JSON: unexpected 't'` });
    writeFileSync(json, '{\n  "seed": 1,\n}\n');
    assert.throws(
      () => loadConfigFile(json),
      new RegExp(`${json.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:1: invalid JSON: expected a double-quoted property name`),
    );
    writeFileSync(json, '{\n  "seed": 1,\n  "learning_rate": "x"\n}\n');
    assert.throws(() => parseTrainingArgs({ argv: ['--config', json] }), {
      message: `${json}:3: learning_rate: expected a number, got 'x'`,
    });
    assert.throws(() => loadConfigFile(join(dir, 'missing.yaml')), /missing\.yaml: cannot read config file \(ENOENT\)/);
    assert.throws(() => loadConfigFile(join(dir, 'x.toml')), /must end in \.json, \.yaml or \.yml/);

    writeFileSync(yml, 'learning_rate: 2e-5\nlearningRate: 3e-5\n');
    assert.throws(() => parseTrainingArgs({ argv: [yml] }), /learning_rate is given twice/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('load_best_model_at_end and metric rules follow HF', () => {
  const f1 = parse([
    '--load-best-model-at-end',
    '--eval-strategy',
    'epoch',
    '--save-strategy',
    'epoch',
    '--metric-for-best-model',
    'f1',
  ]).args;
  assert.equal(f1.greaterIsBetter, true);
  assert.equal(metricKey(f1.metricForBestModel!), 'eval_f1');
  assert.equal(metricKey('eval_f1'), 'eval_f1');
  assert.equal(parse(['--metric-for-best-model', 'eval_loss']).args.greaterIsBetter, false);
  assert.equal(parse(['--metric-for-best-model', 'eval_loss', '--greater-is-better']).args.greaterIsBetter, true);
  assert.throws(
    () => parse(['--load-best-model-at-end', '--eval-strategy', 'steps', '--save-strategy', 'epoch']),
    /save and eval strategy to match/,
  );
  assert.throws(() => parse(['--load-best-model-at-end']), /requires eval_strategy 'steps' or 'epoch'/);
  assert.throws(
    () => parse(['--load-best-model-at-end', '--eval-strategy', 'steps', '--eval-steps', '300', '--save-steps', '500']),
    /round multiple of eval_steps/,
  );
  assert.doesNotThrow(() => parse(['--load-best-model-at-end', '--eval-strategy', 'steps', '--eval-steps', '0.1', '--save-steps', '0.2']));
  assert.throws(
    () => parse(['--load-best-model-at-end', '--eval-strategy', 'steps', '--eval-steps', '0.1', '--save-steps', '200']),
    /mixing ratios/,
  );
  assert.throws(() => parse(['--early-stopping-patience', '3']), /requires load_best_model_at_end/);
});

test('warmup, stride, resume and class weights', () => {
  assert.deepEqual(parse(['--warmup-steps', '10', '--warmup-ratio', '0.1']).warnings, [
    'both warmup_steps and warmup_ratio are given; warmup_steps overrides warmup_ratio',
  ]);
  assert.throws(
    () => parse(['--max-seq-length', '128', '--stride', '126']),
    /stride \(126\) must be smaller than max_seq_length - 2 \(126\)/,
  );
  assert.equal(parse(['--resume-from-checkpoint']).args.resumeFromCheckpoint, true);
  const r = parse(['--resume-from-checkpoint', '--seed', '3']).args;
  assert.equal(r.resumeFromCheckpoint, true);
  assert.equal(r.seed, 3);
  assert.equal(parse(['--resume-from-checkpoint', 'out/checkpoint-500']).args.resumeFromCheckpoint, 'out/checkpoint-500');
  assert.equal(parse(['--resume_from_checkpoint=false']).args.resumeFromCheckpoint, null);
  assert.equal(parse([], { resume_from_checkpoint: true }).args.resumeFromCheckpoint, true);
  assert.equal(parse(['--class-weights', 'balanced']).args.classWeights, 'balanced');
  assert.deepEqual(parse(['--class-weights', '1,2.5,0']).args.classWeights, [1, 2.5, 0]);
  assert.deepEqual(parse(['--class-weights', '[1, 3]']).args.classWeights, [1, 3]);
  assert.deepEqual(parse([], { class_weights: [2, 1] }).args.classWeights, [2, 1]);
  assert.throws(() => parse(['--class-weights', '1,x']), /class_weights: expected 'balanced' or a list of numbers >= 0, got '1,x'/);
  assert.equal(parse(['--save-total-limit', 'none']).args.saveTotalLimit, null);
});

test('--help returns help without validating; formatHelp groups options with defaults', () => {
  const r = parse(['--load-best-model-at-end', '--bogus', '--help']);
  assert.equal(r.help, true);
  assert.equal(r.args.loadBestModelAtEnd, false);
  const h = formatHelp();
  const flat = h.replace(/\s+/g, ' ');
  for (const s of [
    'Optimizer (AdamW):',
    'Checkpoints, best model and early stopping:',
    'Data:',
    '--learning-rate <FLOAT>',
    '(default: 0.00005)',
    '--eval-strategy <no|steps|epoch>',
    '[alias: --evaluation-strategy]',
    'fp16',
    '--report-to',
    '--logging-dir',
  ]) {
    assert.ok(flat.includes(s), `help lacks ${s}`);
  }
  for (const line of h.split('\n')) assert.ok(line.length <= 100, `help line too long: ${line}`);
  assert.match(h, /^ {2}--learning-rate <FLOAT> +Initial \(peak\) learning rate\. \(default: 0\.00005\)/m);
  for (const o of TRAINING_OPTIONS) assert.ok(h.includes(`--${o.name.replace(/_/g, '-')}`), `help lacks ${o.name}`);
});

test('planTrainingSteps and ratio step intervals follow HF set_initial_training_values', () => {
  // 10 batches, accumulate 3 -> ceil(10/3) = 4 updates per epoch.
  assert.deepEqual(planTrainingSteps({ numBatchesPerEpoch: 10, gradientAccumulationSteps: 3, numTrainEpochs: 3, maxSteps: -1 }), {
    updateStepsPerEpoch: 4,
    maxSteps: 12,
    numTrainEpochs: 3,
  });
  assert.deepEqual(planTrainingSteps({ numBatchesPerEpoch: 10, gradientAccumulationSteps: 3, numTrainEpochs: 2.5, maxSteps: -1 }), {
    updateStepsPerEpoch: 4,
    maxSteps: 10,
    numTrainEpochs: 3,
  });
  assert.deepEqual(planTrainingSteps({ numBatchesPerEpoch: 10, gradientAccumulationSteps: 3, numTrainEpochs: 3, maxSteps: 10 }), {
    updateStepsPerEpoch: 4,
    maxSteps: 10,
    numTrainEpochs: 3,
  });
  assert.deepEqual(planTrainingSteps({ numBatchesPerEpoch: 1, gradientAccumulationSteps: 8, numTrainEpochs: 1, maxSteps: 0 }), {
    updateStepsPerEpoch: 1,
    maxSteps: 1,
    numTrainEpochs: 1,
  });
  assert.equal(resolveStepInterval(0.1, 95), 10);
  assert.equal(resolveStepInterval(50, 95), 50);
});

// ------------------------------------------------------------------------------------------
// Round trips (fast-check)

const NULL_WORDS = /^\s*(none|null)\s*$/i;
const BOOL_WORDS = /^(true|false|yes|no|t|f|y|n|1|0)$/i;
const finite = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x));

function arbValue(o: OptionSpec): fc.Arbitrary<unknown> {
  const t = o.type;
  const nullable = ('nullable' in t && t.nullable === true) || o.key === 'greaterIsBetter';
  let base: fc.Arbitrary<unknown>;
  switch (t.kind) {
    case 'bool':
      base = fc.boolean();
      break;
    case 'int':
      base = fc.integer({ min: t.min ?? -1000, max: 100000 });
      break;
    case 'float':
      base = finite(t.min ?? -1e6, t.max ?? 1e6);
      break;
    case 'string':
      base = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !NULL_WORDS.test(s));
      break;
    case 'enum':
      base = fc.constantFrom(...t.values);
      break;
    case 'steps':
      base = fc.oneof(fc.integer({ min: 1, max: 100000 }), finite(1e-6, 0.999), ...(t.allowZero ? [fc.constant(0)] : []));
      break;
    case 'resume':
      base = fc.oneof(
        fc.constant(true),
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !NULL_WORDS.test(s) && !BOOL_WORDS.test(s.trim()) && !s.startsWith('--')),
      );
      break;
    case 'classWeights':
      base = fc.oneof(
        fc.constant('balanced'),
        fc.array(finite(0, 100), { minLength: 1, maxLength: 5 }).filter((a) => a.some((x) => x > 0)),
      );
      break;
  }
  return nullable ? fc.option(base, { nil: null }) : base;
}

// Valid combinations only: the cross-field rules are tested above.
const CROSS_FIELD = new Set(['loadBestModelAtEnd', 'earlyStoppingPatience', 'stride']);
const arbConfig = fc.record(Object.fromEntries(TRAINING_OPTIONS.filter((o) => !CROSS_FIELD.has(o.key)).map((o) => [o.name, arbValue(o)])), {
  requiredKeys: [],
});

test('property: parse(format(args)) === args', () => {
  fc.assert(
    fc.property(arbConfig, (config) => {
      const args = parseTrainingArgs({ config }).args;
      const again = parseTrainingArgs({ argv: formatTrainingArgs(args) }).args;
      assert.deepEqual(again, args);
      const all = parseTrainingArgs({ argv: formatTrainingArgs(args, { all: true }) }).args;
      assert.deepEqual(all, args);
    }),
    { numRuns: 150 },
  );
});

test('property: trainingArgsToDict is a valid config that reproduces the args', () => {
  fc.assert(
    fc.property(arbConfig, (config) => {
      const args: TrainingArguments = parseTrainingArgs({ config }).args;
      assert.deepEqual(
        parseTrainingArgs({ config: JSON.parse(JSON.stringify(trainingArgsToDict(args))) as Record<string, unknown> }).args,
        args,
      );
    }),
    { numRuns: 100 },
  );
});

test('property: any finite number written as a flag parses back exactly', () => {
  fc.assert(
    fc.property(finite(0, 1e12), (x) => {
      assert.equal(parse(['--learning-rate', String(x)]).args.learningRate, x);
      assert.equal(parse([`--weight_decay=${x.toExponential()}`]).args.weightDecay, x);
    }),
  );
});

test('levenshtein: known distances and metric properties', () => {
  assert.equal(levenshtein('kitten', 'sitting'), 3);
  assert.equal(levenshtein('flaw', 'lawn'), 2);
  assert.equal(levenshtein('', 'abc'), 3);
  assert.equal(levenshtein('abc', 'abc'), 0);
  assert.equal(nearest('lerning_rate', ['seed', 'learning_rate']), 'learning_rate');
  assert.equal(nearest('xyz', ['learning_rate']), null);
  fc.assert(
    fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (a, b, c) => {
      assert.equal(levenshtein(a, b), levenshtein(b, a));
      assert.ok(levenshtein(a, c) <= levenshtein(a, b) + levenshtein(b, c));
      assert.ok(levenshtein(a, b) >= Math.abs(a.length - b.length));
      assert.ok(levenshtein(a, b) <= Math.max(a.length, b.length));
    }),
  );
});
