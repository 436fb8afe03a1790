/** `tokentune evaluate --model DIR --data FILE`: the four metrics plus a per-type report. */
import { fromPretrained } from '../models/index.js';
import { readDataFile } from '../data/load.js';
import { classificationReport, formatClassificationReport } from '../metrics/index.js';
import { defaultTrainingArgs } from '../train/training-args.js';
import { Trainer } from '../train/trainer.js';
import { encodeSplit } from '../train/prepare.js';
import { formatMetricsTable } from '../train/progress.js';
import { parseArgs } from './args.js';
import { say, warn, type CommandIO } from './io.js';

const FLAGS = {
  model: { type: 'string', help: 'Model folder or hub id', valueName: 'DIR' },
  data: { type: 'string', help: 'Labelled data file (CoNLL, CoNLL-U, JSON lines, parquet)', valueName: 'FILE' },
  batchSize: { type: 'int', default: 16, help: 'Evaluation batch size' },
  maxSeqLength: { type: 'int', default: 512, help: 'Longest sequence; longer sentences are windowed' },
  json: { type: 'boolean', default: false, help: 'Print the metrics as JSON' },
} as const;

export async function runEvaluate(argv: string[], io: CommandIO): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    say(io, 'Usage: tokentune evaluate --model DIR --data FILE [--batch-size 16] [--json]');
    return 0;
  }
  if (!a.values.model || !a.values.data) throw new Error('evaluate needs --model DIR and --data FILE');
  const { model, tokenizer } = await fromPretrained(a.values.model, { onWarning: (m) => warn(io, m) });
  const labels = model.config.labels;
  const data = await readDataFile(a.values.data, { labelSet: labels });
  const { split } = encodeSplit(data, tokenizer, labels, { maxSeqLength: a.values.maxSeqLength });
  const args = { ...defaultTrainingArgs(), perDeviceEvalBatchSize: a.values.batchSize, outputDir: '' };
  const trainer = new Trainer({ model, args, tokenizer, evalDataset: split });
  const rec = trainer.evaluate();
  const predictions = trainer.lastPredictions ?? [];
  if (a.values.json) {
    say(io, JSON.stringify(rec, null, 2));
  } else {
    say(io, formatMetricsTable(rec, `evaluation on ${a.values.data}`));
    say(io, formatClassificationReport(classificationReport(split.sentences.map((s) => [...s.tags!]), predictions)));
  }
  return 0;
}
