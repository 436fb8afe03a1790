/**
 * `tokentune export --model DIR --onnx OUTDIR`: writes the model as ONNX (OUTDIR/onnx/model.onnx)
 * with config.json and tokenizer files, the folder layout transformers.js and onnxruntime users
 * expect. `--verify` runs a random padded batch through onnxruntime-node (when installed) and
 * compares its logits with ours.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModelFromDir, resolveModelDir } from '../models/index.js';
import { loadTokenizer } from '../tokenizers/index.js';
import { exportOnnx } from '../infer/onnx/export.js';
import { loadOnnxRuntime, verifyWithOnnxRuntime } from '../infer/onnx/onnxruntime.js';
import { CliArgsError, formatFlagsHelp, parseArgs } from './args.js';
import { say, warn, type CommandIO } from './io.js';

const FLAGS = {
  model: { type: 'string', help: 'Model folder (config.json + weights, tokenizer files) or hub id', valueName: 'DIR' },
  onnx: { type: 'string', help: 'Output folder: onnx/model.onnx, config.json, tokenizer files', valueName: 'OUTDIR' },
  verify: { type: 'boolean', default: false, help: 'Compare onnxruntime-node logits with ours on a random padded batch' },
  tolerance: { type: 'number', default: 1e-4, help: 'Largest absolute logit difference --verify accepts' },
} as const;

const USAGE = 'tokentune export --model DIR --onnx OUTDIR [--verify]';

export async function runExport(argv: string[], io: CommandIO): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    io.stdout.write(formatFlagsHelp({ flags: FLAGS }, USAGE));
    return 0;
  }
  if (!a.values.model) throw new CliArgsError('export needs --model DIR', '--model');
  if (!a.values.onnx) throw new CliArgsError('export needs --onnx OUTDIR (the output folder)', '--onnx');
  const outDir = resolve(a.values.onnx);

  const dir = await resolveModelDir(a.values.model);
  const { model, report } = loadModelFromDir(dir);
  for (const w of report.warnings) warn(io, w);
  // Any kind AutoTokenizer reads: WordPiece, byte-level BPE, SentencePiece, tokenizer.json.
  const hasTokenizer = ['tokenizer.json', 'vocab.txt', 'vocab.json', 'sentencepiece.bpe.model', 'spm.model', 'tokenizer.model'].some((f) => existsSync(join(dir, f)));
  const tokenizer = hasTokenizer ? loadTokenizer(dir) : null;

  const t0 = Date.now();
  const res = exportOnnx(model, tokenizer, outDir, { sourceDir: dir });
  for (const w of res.warnings) warn(io, w);
  say(io, `wrote ${outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s:`);
  for (const f of res.files) say(io, `  ${f}${f === 'onnx/model.onnx' ? ` (${(res.modelBytes / 1e6).toFixed(1)} MB)` : ''}`);

  if (a.values.verify) {
    const ort = await loadOnnxRuntime();
    if (!ort) {
      io.stderr.write('tokentune export: --verify needs onnxruntime-node (npm install onnxruntime-node)\n');
      return 1;
    }
    const r = await verifyWithOnnxRuntime(ort, model, res.modelPath);
    const ok = r.maxAbsDiff <= a.values.tolerance;
    say(io, `verify: onnxruntime vs tokentune logits on a padded batch ${r.batchSize}x${r.seqLen}: max |diff| ${r.maxAbsDiff.toExponential(2)} (${ok ? 'ok' : 'FAILED'}, tolerance ${a.values.tolerance})`);
    if (!ok) return 1;
  }
  return 0;
}
