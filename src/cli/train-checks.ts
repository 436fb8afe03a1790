/**
 * What `tokentune train` checks before it spends any time, so that a run never loses work or
 * accuracy without a word: the output folder (run_ner.py's "Output directory already exists"),
 * the paths of every file option, settings that would do nothing, labels that only the
 * evaluation data has, and the sequence length against the model's position table.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Splits } from '../data/splits.js';
import { labelsIn } from '../data/label-map.js';
import { latestCheckpoint } from '../train/trainer-state.js';
import type { TrainingArguments } from '../train/training-args.js';
import { CliArgsError } from './args.js';
import { makeConfig, readConfig, type ModelConfig } from '../models/index.js';
import { describeSequenceLimit, usableSequenceLength, type SequenceLimited } from '../models/sequence-limit.js';

/** An error in what the user asked for (exit status 2, like a bad flag). */
export class TrainSetupError extends CliArgsError {
  constructor(message: string) {
    super(message);
    this.name = 'TrainSetupError';
  }
}

/**
 * A path given to `--option` must exist and be a file (or, with `allowDir`, a folder): the error
 * names the option, the path and what to do instead of Node's bare ENOENT / EISDIR.
 */
export function checkInputPath(option: string, path: string, kind: 'file' | 'file-or-dir' | 'dir' = 'file'): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new TrainSetupError(`${option} ${path}: no such file or folder; check the path (relative paths start at ${process.cwd()})`);
  }
  if (kind === 'file' && st.isDirectory()) {
    const inside = readdirSync(path).slice(0, 5);
    throw new TrainSetupError(
      `${option} ${path} is a folder, not a file; give one of its files${inside.length ? ` (it holds ${inside.join(', ')}${inside.length === 5 ? ', ...' : ''})` : ''}`,
    );
  }
  if (kind === 'dir' && !st.isDirectory()) throw new TrainSetupError(`${option} ${path} is a file, not a folder`);
}

/**
 * run_ner.py's rule: training into a non-empty output folder needs --overwrite-output-dir (start
 * over) or --resume-from-checkpoint (continue). Overwriting removes the old run's checkpoint-*
 * folders so that a later resume cannot pick up the other run. Returns notes to print.
 */
export function prepareOutputDir(args: Pick<TrainingArguments, 'outputDir' | 'overwriteOutputDir' | 'resumeFromCheckpoint'>): string[] {
  const dir = args.outputDir;
  if (!existsSync(dir)) return [];
  if (!statSync(dir).isDirectory()) throw new TrainSetupError(`--output-dir ${dir} is a file; give a folder`);
  const entries = readdirSync(dir);
  if (entries.length === 0 || args.resumeFromCheckpoint !== null) return [];
  const last = latestCheckpoint(dir);
  if (!args.overwriteOutputDir) {
    const resume = last ? `, or continue its training with --resume-from-checkpoint (latest: ${last})` : '';
    throw new TrainSetupError(
      `output folder ${dir} already exists and is not empty (${entries.slice(0, 4).join(', ')}${entries.length > 4 ? ', ...' : ''}): use another --output-dir, or --overwrite-output-dir to replace it${resume}`,
    );
  }
  const stale = entries.filter((e) => /^checkpoint-\d+$/.test(e));
  for (const e of stale) rmSync(join(dir, e), { recursive: true, force: true });
  return stale.length ? [`--overwrite-output-dir: removed the previous run's ${stale.join(', ')} from ${dir}`] : [];
}

/** Settings that would silently do nothing with the data given: each a one-line error. */
export function checkDataUse(args: TrainingArguments, splits: Splits): void {
  if (args.evalStrategy !== 'no' && !splits.validation) {
    throw new TrainSetupError(
      `--eval-strategy ${args.evalStrategy} needs validation data: give --validation-file (or a --dataset-name with a validation split), or --eval-strategy no`,
    );
  }
  if (args.loadBestModelAtEnd && !splits.validation) {
    throw new TrainSetupError(
      '--load-best-model-at-end needs validation data: give --validation-file (or a --dataset-name with a validation split)',
    );
  }
  if (args.doPredict && !splits.test) {
    throw new TrainSetupError(
      '--do-predict needs test data: give --test-file (or a --dataset-name with a test split), or drop --do-predict',
    );
  }
  if (args.doEval && !splits.validation && args.evalStrategy === 'no') {
    throw new TrainSetupError(
      '--do-eval needs validation data: give --validation-file (or a --dataset-name with a validation split), or drop --do-eval',
    );
  }
}

/**
 * Labels that occur in the validation or test data but never in training: the model cannot learn
 * them (and when fine-tuning a model whose head lacks them, the classifier is re-initialised).
 */
export function labelsOutsideTraining(splits: Splits): string[] {
  if (!splits.train) return [];
  const seen = new Set(labelsIn([splits.train]));
  const out: string[] = [];
  for (const d of [splits.validation, splits.test]) {
    if (!d) continue;
    const only = [...new Set(labelsIn([d]))].filter((l) => !seen.has(l));
    if (only.length)
      out.push(
        `label${only.length > 1 ? 's' : ''} ${only.map((l) => JSON.stringify(l)).join(', ')} occur${only.length > 1 ? '' : 's'} in ${d.source} but never in the training data ${splits.train.source}: the model cannot learn ${only.length > 1 ? 'them' : 'it'}`,
      );
  }
  return out;
}

/**
 * run_ner.py: max_seq_length above the model's limit is lowered to it (with a note) rather than
 * crashing in the position embeddings. [CLS]/[SEP] are counted in max_seq_length. The limit is
 * usableSequenceLength(): for RoBERTa / XLM-R two rows fewer than max_position_embeddings.
 */
export function capSeqLength(
  requested: number,
  model: SequenceLimited & { readonly config: { readonly padTokenId?: number } },
  source: string,
): { maxSeqLength: number; note: string | null } {
  const limit = usableSequenceLength(model);
  if (requested <= limit) return { maxSeqLength: requested, note: null };
  return {
    maxSeqLength: limit,
    note: `--max-seq-length ${requested} is more than the ${limit} tokens the model takes (${describeSequenceLimit(model)}; ${source}); using ${limit}`,
  };
}

/** BERT sizes for training from scratch (Google's BERT miniatures and BERT-base); vocab_size comes from the tokenizer. */
export const CONFIG_PRESETS: Readonly<Record<string, Record<string, number>>> = {
  tiny: { hidden_size: 128, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 512, max_position_embeddings: 512 },
  mini: { hidden_size: 256, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 1024, max_position_embeddings: 512 },
  small: { hidden_size: 512, num_hidden_layers: 4, num_attention_heads: 8, intermediate_size: 2048, max_position_embeddings: 512 },
  medium: { hidden_size: 512, num_hidden_layers: 8, num_attention_heads: 8, intermediate_size: 2048, max_position_embeddings: 512 },
  base: { hidden_size: 768, num_hidden_layers: 12, num_attention_heads: 12, intermediate_size: 3072, max_position_embeddings: 512 },
};

/** --config-name: a preset name, a config.json, or a model folder holding one. */
export function resolveModelConfig(configName: string, vocabSize: number): { config: ModelConfig; described: string } {
  const preset = CONFIG_PRESETS[configName];
  if (preset) {
    return {
      config: makeConfig({ ...preset, vocab_size: vocabSize }),
      described: `preset '${configName}' (${preset.num_hidden_layers} layers, hidden ${preset.hidden_size})`,
    };
  }
  if (!existsSync(configName)) {
    throw new TrainSetupError(
      `--config-name ${configName}: not a preset (${Object.keys(CONFIG_PRESETS).join(', ')}) and no such file; give a preset name or a config.json`,
    );
  }
  const path = statSync(configName).isDirectory() ? join(configName, 'config.json') : configName;
  if (!existsSync(path)) throw new TrainSetupError(`--config-name ${configName} is a folder without config.json`);
  return { config: readConfig(path), described: path };
}

/**
 * Whether a WordPiece vocabulary is for lowercased text: an uncased vocab has no uppercase entries
 * outside its special tokens ([CLS], [unused0], ...), a cased one has thousands.
 */
export function vocabIsUncased(tokens: Iterable<string>): boolean {
  for (const t of tokens) {
    if (/^\[[^\]]*\]$/.test(t) || /^<[^>]*>$/.test(t)) continue;
    if (t !== t.toLowerCase()) return false;
  }
  return true;
}
