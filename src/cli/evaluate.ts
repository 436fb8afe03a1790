/** `tokentune evaluate --model DIR --data FILE`: the four metrics plus a per-type report. */
import { fromPretrained } from '../models/index.js';
import { packForInference } from '../engine/index.js';
import { readDataFile } from '../data/read-data-file.js';
import { classificationReport, formatClassificationReport } from '../metrics/index.js';
import { evaluateSplit } from '../train/evaluation.js';
import { encodeSplit } from '../train/prepare.js';
import { formatMetricsTable } from '../metrics/metrics-table.js';
import { CliArgsError, parseArgs } from './args.js';
import { capSeqLength, checkInputPath } from './train-checks.js';
import { UnknownLabelError } from '../data/errors.js';
import { say, warn, type CommandIO } from './io.js';

const FLAGS = {
  model: { type: 'string', help: 'Model folder or hub id', valueName: 'DIR' },
  data: { type: 'string', help: 'Labelled data file (CoNLL, CoNLL-U, JSON lines, parquet)', valueName: 'FILE' },
  batchSize: { type: 'int', default: 16, help: 'Evaluation batch size' },
  maxSeqLength: {
    type: 'int',
    default: 512,
    help: 'Longest sequence; longer sentences are windowed (capped at what the model takes: max_position_embeddings, two fewer for RoBERTa / XLM-R)',
  },
  stride: { type: 'int', default: 0, help: 'Tokens of overlap between the windows of a sentence longer than --max-seq-length' },
  onUnknownLabel: {
    type: 'string',
    default: 'error',
    choices: ['error', 'warn', 'map-to-O'],
    help: 'A gold tag the model does not know: stop, keep it (counted as missed) with a warning, or read it as O',
  },
  json: { type: 'boolean', default: false, help: 'Print the metrics as JSON' },
} as const;

export async function runEvaluate(argv: string[], io: CommandIO): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    say(
      io,
      'Usage: tokentune evaluate --model DIR --data FILE [--batch-size 16] [--max-seq-length 512] [--stride 0] [--on-unknown-label error|warn|map-to-O] [--json]',
    );
    return 0;
  }
  if (!a.values.model || !a.values.data) throw new CliArgsError('evaluate needs --model DIR and --data FILE');
  const { model, tokenizer } = await fromPretrained(a.values.model, { onWarning: (m) => warn(io, m) });
  packForInference(model.params.values());
  const labels = model.config.labels;
  checkInputPath('--data', a.values.data);
  let data;
  try {
    data = await readDataFile(a.values.data, {
      labelSet: labels,
      labelNames: labels,
      onUnknownLabel: a.values.onUnknownLabel as 'error' | 'warn' | 'map-to-O',
    });
  } catch (e) {
    // The reader's hint names its API option; on the command line it is --on-unknown-label.
    if (e instanceof UnknownLabelError)
      throw new CliArgsError(
        e.message.replace(/\(set onUnknownLabel to .*\)$/, '(run with --on-unknown-label warn or --on-unknown-label map-to-O to continue)'),
      );
    throw e;
  }
  for (const w of data.warnings) warn(io, w);
  const cap = capSeqLength(a.values.maxSeqLength, model, a.values.model);
  if (cap.note && a.values.maxSeqLength !== 512) warn(io, cap.note);
  if (a.values.stride >= cap.maxSeqLength - 2)
    throw new CliArgsError(`--stride ${a.values.stride} must be smaller than --max-seq-length - 2 (${cap.maxSeqLength - 2})`);
  const { split } = encodeSplit(data, tokenizer, labels, { maxSeqLength: cap.maxSeqLength, stride: a.values.stride });
  const { record, predictions } = evaluateSplit(model, split, {
    batchSize: a.values.batchSize,
    padId: tokenizer.padId ?? model.config.padTokenId,
    bf16: false,
  });
  // `step` as in the Trainer's eval records (no training step yet): --json prints the same record.
  const rec = { ...record, step: 0 };
  if (a.values.json) {
    say(io, JSON.stringify(rec, null, 2));
  } else {
    say(io, formatMetricsTable(rec, `evaluation on ${a.values.data}`));
    say(
      io,
      formatClassificationReport(
        classificationReport(
          split.sentences.map((s) => [...s.tags!]),
          predictions,
        ),
      ),
    );
  }
  return 0;
}
