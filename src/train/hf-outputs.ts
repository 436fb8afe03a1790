/**
 * The files run_ner.py leaves in output_dir at the end, in Hugging Face's formats:
 * {train,eval,predict}_results.json and all_results.json (Trainer.save_metrics: indent 4, sorted
 * keys), trainer_state.json (Trainer.save_state), training_args.json, predictions.txt (one line
 * of labels per test sentence) and README.md (Trainer.create_model_card, transformers/modelcard.py).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { stringifyJsonText } from '../util/json-text.js';
import type { TrainingArguments } from './training-args.js';

type Metrics = Record<string, number | string>;

const METRIC_TAGS = new Set([
  'accuracy',
  'bleu',
  'f1',
  'matthews_correlation',
  'pearsonr',
  'precision',
  'recall',
  'rouge',
  'sacrebleu',
  'spearmanr',
  'wer',
]);

/** Python's str() of a number: 5e-05, 3.0 for a float field, 0.1. */
export function pyNumber(v: number, float = false): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (Number.isInteger(v) && !float) return String(v);
  let s = String(v);
  // Python switches to exponent notation below 1e-4 (JS below 1e-6) and pads the exponent to 2 digits.
  if (!s.includes('e') && Math.abs(v) < 1e-4 && v !== 0) s = v.toExponential();
  if (s.includes('e')) {
    const [m, e] = s.split('e') as [string, string];
    const sign = e.startsWith('-') ? '-' : '+';
    const digits = e.replace(/^[+-]/, '').padStart(2, '0');
    return `${m}e${sign}${digits}`;
  }
  return Number.isInteger(v) ? `${s}.0` : s;
}

/** Trainer.save_metrics(split, metrics, combined=True): SPLIT_results.json, merged into all_results.json. */
export function saveMetrics(outputDir: string, split: 'train' | 'eval' | 'predict', metrics: Metrics): void {
  const dump = (o: unknown): string => stringifyJsonText(o, { indent: 4, sortKeys: true }) + '\n';
  writeFileSync(join(outputDir, `${split}_results.json`), dump(metrics));
  const allPath = join(outputDir, 'all_results.json');
  let all: Metrics = {};
  if (existsSync(allPath)) {
    try {
      all = JSON.parse(readFileSync(allPath, 'utf8')) as Metrics;
    } catch {
      all = {};
    }
  }
  writeFileSync(allPath, dump({ ...all, ...metrics }));
}

/** run_ner.py's predictions.txt: the labels of each test sentence, space-separated, one line each. */
export function writePredictionsTxt(outputDir: string, predictions: readonly (readonly string[])[]): void {
  writeFileSync(join(outputDir, 'predictions.txt'), predictions.map((p) => p.join(' ') + '\n').join(''));
}

/** run_ner.py's metrics of one split: the Trainer's record, without step, with the sample count. */
export function splitMetrics(rec: Record<string, number | string>, fromPrefix: string, toPrefix: string, samples: number): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'step') continue;
    out[k.startsWith(`${fromPrefix}_`) ? `${toPrefix}_${k.slice(fromPrefix.length + 1)}` : k] = v;
  }
  out[`${toPrefix}_samples`] = samples;
  return out;
}

function maybeRound(v: unknown): string {
  if (typeof v === 'number') {
    const s = pyNumber(v, !Number.isInteger(v));
    const frac = s.split('.')[1];
    if (!Number.isInteger(v) && frac !== undefined && frac.length > 4 && !s.includes('e')) return v.toFixed(4);
    return s;
  }
  return String(v);
}

function titleCase(key: string): string {
  return key
    .split('_')
    .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1) : p))
    .join(' ');
}

/** transformers.modelcard.make_markdown_table. */
function markdownTable(lines: Record<string, unknown>[]): string {
  if (lines.length === 0) return '';
  const keys = Object.keys(lines[0]!);
  const widths = keys.map((k) => Math.max(k.length, ...lines.map((l) => maybeRound(l[k]).length)));
  const row = (vals: string[]): string => vals.map((v, i) => `| ${v}${' '.repeat(widths[i]! - v.length + 1)}`).join('') + '|\n';
  return (
    row(keys) +
    widths.map((w) => `|:${'-'.repeat(w)}:`).join('') +
    '|\n' +
    lines.map((l) => row(keys.map((k) => maybeRound(l[k])))).join('')
  );
}

/** transformers.modelcard.parse_log_history: the table of evaluations and the last evaluation's results. */
function parseLogHistory(history: readonly Record<string, unknown>[]): {
  lines: Record<string, unknown>[];
  evalResults: Record<string, unknown> | null;
} {
  const trainIdx = history.findIndex((r) => 'train_runtime' in r);
  const lines: Record<string, unknown>[] = [];
  let trainingLoss: unknown = 'No log';
  for (let i = 0; i < (trainIdx < 0 ? 0 : trainIdx); i++) {
    const r = history[i]!;
    if ('loss' in r) trainingLoss = r.loss;
    if ('eval_loss' in r) {
      const values: Record<string, unknown> = { 'Training Loss': trainingLoss, Epoch: r.epoch, Step: r.step };
      for (const [k, v] of Object.entries(r)) {
        if (['total_flos', 'epoch', 'step', 'eval_runtime', 'eval_samples_per_second', 'eval_steps_per_second'].includes(k)) continue;
        values[k === 'eval_loss' ? 'Validation Loss' : titleCase(k.split('_').slice(1).join('_'))] = v;
      }
      lines.push(values);
    }
  }
  let idx = history.length - 1;
  while (idx >= 0 && !('eval_loss' in history[idx]!)) idx--;
  if (idx <= 0) return { lines, evalResults: null };
  const evalResults: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(history[idx]!)) {
    const key = k.startsWith('eval_') ? k.slice(5) : k;
    if (!['runtime', 'samples_per_second', 'steps_per_second', 'epoch', 'step'].includes(key)) evalResults[titleCase(key)] = v;
  }
  return { lines, evalResults };
}

export interface ModelCardInfo {
  args: TrainingArguments;
  logHistory: readonly Record<string, unknown>[];
  /** The pretrained model fine-tuned from (a hub id or folder), or null when trained from scratch. */
  finetunedFrom: string | null;
  dataset: string | null;
  version: string;
}

/** README.md as Trainer.create_model_card writes it (TrainingSummary.to_model_card). */
export function modelCard(info: ModelCardInfo): string {
  const a = info.args;
  const name = basename(resolve(a.outputDir));
  const { lines, evalResults } = parseLogHistory(info.logHistory);
  const meta: string[] = ['library_name: transformers'];
  if (info.finetunedFrom) meta.push(`base_model: ${info.finetunedFrom}`);
  meta.push('tags:', '- generated_from_trainer');
  if (info.dataset) meta.push('datasets:', `- ${info.dataset}`);
  // infer_metric_tags_from_eval_results: only names in transformers' METRIC_TAGS become tags.
  const metricNames = evalResults
    ? Object.keys(evalResults)
        .map((k) => k.toLowerCase().replace(/ /g, '_'))
        .filter((k) => METRIC_TAGS.has(k))
    : [];
  if (metricNames.length) meta.push('metrics:', ...metricNames.map((m) => `- ${m}`));
  meta.push('model-index:', `- name: ${name}`, '  results: []');

  let card = `---\n${meta.join('\n')}\n---\n`;
  card +=
    '\n<!-- This model card has been generated automatically according to the information the Trainer had access to. You\nshould probably proofread and complete it, then remove this comment. -->\n';
  card += `\n# ${name}\n\n`;
  card += info.finetunedFrom
    ? `This model is a fine-tuned version of [${info.finetunedFrom}](https://huggingface.co/${info.finetunedFrom}) on `
    : 'This model was trained from scratch on ';
  card += info.dataset ? `the ${info.dataset} dataset.` : 'an unknown dataset.';
  if (evalResults) {
    card += '\nIt achieves the following results on the evaluation set:\n';
    card += Object.entries(evalResults)
      .map(([k, v]) => `- ${k}: ${maybeRound(v)}`)
      .join('\n');
  }
  card += '\n';
  card += '\n## Model description\n\nMore information needed\n';
  card += '\n## Intended uses & limitations\n\nMore information needed\n';
  card += '\n## Training and evaluation data\n\nMore information needed\n';
  card += '\n## Training procedure\n\n### Training hyperparameters\n\nThe following hyperparameters were used during training:\n';
  const hp: [string, string][] = [
    ['learning_rate', pyNumber(a.learningRate, true)],
    ['train_batch_size', String(a.perDeviceTrainBatchSize)],
    ['eval_batch_size', String(a.perDeviceEvalBatchSize)],
    ['seed', String(a.seed)],
  ];
  if (a.gradientAccumulationSteps > 1) {
    hp.push(
      ['gradient_accumulation_steps', String(a.gradientAccumulationSteps)],
      ['total_train_batch_size', String(a.perDeviceTrainBatchSize * a.gradientAccumulationSteps)],
    );
  }
  hp.push([
    'optimizer',
    `Use ${a.optim} with betas=(${pyNumber(a.adamBeta1, true)},${pyNumber(a.adamBeta2, true)}) and epsilon=${pyNumber(a.adamEpsilon, true)} and optimizer_args=No additional optimizer arguments`,
  ]);
  hp.push(['lr_scheduler_type', a.lrSchedulerType]);
  if (a.warmupSteps !== 0) hp.push(['lr_scheduler_warmup_steps', pyNumber(a.warmupSteps)]);
  else if (a.warmupRatio !== 0) hp.push(['lr_scheduler_warmup_ratio', pyNumber(a.warmupRatio, true)]);
  if (a.maxSteps !== -1) hp.push(['training_steps', String(a.maxSteps)]);
  else hp.push(['num_epochs', pyNumber(a.numTrainEpochs, true)]);
  if (a.bf16) hp.push(['mixed_precision_training', 'bf16 matrix products (tokentune)']);
  card += hp.map(([k, v]) => `- ${k}: ${v}`).join('\n') + '\n';
  if (lines.length) card += '\n### Training results\n\n' + markdownTable(lines) + '\n';
  card += `\n### Framework versions\n\n- tokentune ${info.version}\n`;
  return card;
}
