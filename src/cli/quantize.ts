/**
 * `tokentune quantize --model DIR --out DIR`: dynamic int8 quantization of the encoder's linear
 * layers (s8 weights per output channel; activations quantized per row at run time; embeddings,
 * LayerNorm, softmax and the classifier stay float). The folder it writes (format in
 * models/quantized.ts and docs/int8-quantization.md) loads like any model folder in predict, evaluate, serve and
 * the pipeline, which then run the int8 kernels.
 */
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadModelFromDir, resolveModelDir } from '../models/index.js';
import { DEFAULT_WEIGHT_BITS, QUANTIZATION_FILE, quantizableLayers, saveQuantized } from '../models/quantized.js';
import { TOKENIZER_FILES } from '../tokenizers/index.js';
import { CliArgsError, parseArgs } from './args.js';
import { formatFlagsHelp } from './help-format.js';
import { say, warn, type CommandIO } from './io.js';

const FLAGS = {
  model: { type: 'string', help: 'Float model folder (config.json + weights + tokenizer files) or hub id', valueName: 'DIR' },
  out: { type: 'string', help: 'Output folder for the quantized model', valueName: 'DIR' },
  'weight-bits': {
    type: 'string',
    default: String(DEFAULT_WEIGHT_BITS),
    help: 'Weight precision: 7 (values in [-63, 63]; about 1.5x as fast as 8 on CPUs with AVX2 but no VNNI, the same speed elsewhere) or 8 (finer weights, logits closer to float)',
    valueName: '7|8',
  },
} as const;

const USAGE = 'tokentune quantize --model DIR --out DIR [--weight-bits 7|8]';

export async function runQuantize(argv: string[], io: CommandIO): Promise<number> {
  const a = parseArgs(argv, { flags: FLAGS });
  if (a.help) {
    io.stdout.write(formatFlagsHelp({ flags: FLAGS }, USAGE));
    return 0;
  }
  if (!a.values.model) throw new CliArgsError('quantize needs --model DIR (a float model folder)', '--model');
  if (!a.values.out) throw new CliArgsError('quantize needs --out DIR (the output folder)', '--out');
  const bitsText = a.values['weight-bits'] ?? String(DEFAULT_WEIGHT_BITS);
  if (bitsText !== '7' && bitsText !== '8') throw new CliArgsError(`--weight-bits must be 7 or 8, got '${bitsText}'`, '--weight-bits');
  const weightBits = bitsText === '7' ? 7 : 8;
  const dir = await resolveModelDir(a.values.model);
  if (existsSync(join(dir, QUANTIZATION_FILE))) {
    throw new CliArgsError(`${dir} is already quantized (it has ${QUANTIZATION_FILE}); pass the float model folder`, '--model');
  }
  const out = resolve(a.values.out);
  if (out === resolve(dir)) throw new CliArgsError('--out must differ from --model (the float model would be overwritten)', '--out');
  const { model, report } = loadModelFromDir(dir);
  for (const w of report.warnings) warn(io, w);
  quantizableLayers(model); // refuses an architecture without the shared encoder layer before writing anything
  mkdirSync(out, { recursive: true });
  const info = saveQuantized(model, out, undefined, weightBits);
  // Tokenizer files are copied as they are (every kind: WordPiece, byte-level BPE, SentencePiece).
  const copied = TOKENIZER_FILES.filter((f) => existsSync(join(dir, f)));
  for (const f of copied) copyFileSync(join(dir, f), join(out, f));
  const mb = (f: string): string => `${(statSync(f).size / 1e6).toFixed(1)} MB`;
  const src = existsSync(join(dir, 'model.safetensors')) ? join(dir, 'model.safetensors') : null;
  say(
    io,
    `quantized ${info.layers.length} linear layers to int8 (${weightBits}-bit per-channel weights, per-row dynamic activations) into ${out}:`,
  );
  say(
    io,
    `  model.safetensors (${mb(join(out, 'model.safetensors'))}${src ? `; float: ${mb(src)}` : ''}), config.json, ${QUANTIZATION_FILE}${copied.length ? ', ' + copied.join(', ') : ''}`,
  );
  return 0;
}
