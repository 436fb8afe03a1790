/**
 * `tokentune export --model DIR --onnx OUTDIR`: writes the model as ONNX (OUTDIR/onnx/model.onnx)
 * with config.json and tokenizer files, the folder layout transformers.js and onnxruntime users
 * expect. `--verify` runs a random padded batch through onnxruntime-node (when installed) and
 * compares its logits with ours.
 */
import { resolve } from 'node:path';
import { loadModelFromDir, resolveModelDir } from '../models/index.js';
import { floatVariant, int8Variant } from '../models/quantized.js';
import { hasTokenizerFiles, loadTokenizer } from '../tokenizers/index.js';
import { exportOnnx } from '../infer/onnx/export.js';
import { loadOnnxRuntime, verifyWithOnnxRuntime } from '../infer/onnx/onnxruntime.js';
import { CliArgsError, parseArgs } from './args.js';
import { formatFlagsHelp } from './help-format.js';
import { say, warn, type CommandIO } from './io.js';

const FLAGS = {
  model: { type: 'string', help: 'Model folder (config.json + weights, tokenizer files) or hub id', valueName: 'DIR' },
  onnx: { type: 'string', help: 'Output folder: onnx/model.onnx, config.json, tokenizer files', valueName: 'OUTDIR' },
  verify: { type: 'boolean', default: false, help: 'Compare onnxruntime-node logits with ours on a random padded batch' },
  tolerance: { type: 'number', default: 1e-4, help: 'Largest absolute logit difference --verify accepts' },
  int8: {
    type: 'boolean',
    default: false,
    help: 'Also write onnx/model_quantized.onnx (dynamic int8: DynamicQuantizeLinear + MatMulInteger, as onnxruntime quantize_dynamic makes; transformers.js loads it by default in browsers)',
  },
  int8Tolerance: {
    type: 'number',
    default: 0.25,
    help: 'With --int8 --verify: largest absolute logit difference between onnxruntime on model_quantized.onnx and tokentune int8 (activations are quantized per tensor there, per row here)',
  },
} as const;

const USAGE = 'tokentune export --model DIR --onnx OUTDIR [--int8] [--verify]';

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
  // Any folder AutoTokenizer reads: tokenizer.json (BPE, Unigram, WordPiece) or the legacy files.
  const tokenizer = hasTokenizerFiles(dir) ? loadTokenizer(dir) : null;

  const t0 = Date.now();
  const res = exportOnnx(model, tokenizer, outDir, { sourceDir: dir, int8: a.values.int8 });
  for (const w of res.warnings) warn(io, w);
  say(io, `wrote ${outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s:`);
  for (const f of res.files) say(io, `  ${f}${f === 'onnx/model.onnx' ? ` (${(res.modelBytes / 1e6).toFixed(1)} MB)` : ''}`);

  if (a.values.verify) {
    const ort = await loadOnnxRuntime();
    if (!ort) {
      io.stderr.write('tokentune export: --verify needs onnxruntime-node (npm install onnxruntime-node)\n');
      return 1;
    }
    const r = await verifyWithOnnxRuntime(ort, floatVariant(model), res.modelPath);
    const ok = r.maxAbsDiff <= a.values.tolerance;
    say(
      io,
      `verify: onnxruntime vs tokentune logits on a padded batch ${r.batchSize}x${r.seqLen}: max |diff| ${r.maxAbsDiff.toExponential(2)} (${ok ? 'ok' : 'FAILED'}, tolerance ${a.values.tolerance})`,
    );
    if (!ok) return 1;
    if (res.quantizedPath) {
      const q = await verifyWithOnnxRuntime(ort, int8Variant(model), res.quantizedPath);
      const okQ = q.maxAbsDiff <= a.values.int8Tolerance;
      say(
        io,
        `verify int8: onnxruntime on model_quantized.onnx vs tokentune int8: max |diff| ${q.maxAbsDiff.toExponential(2)} (${okQ ? 'ok' : 'FAILED'}, tolerance ${a.values.int8Tolerance})`,
      );
      if (!okQ) return 1;
    }
  }
  return 0;
}
