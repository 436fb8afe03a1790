/**
 * Writes a token classifier as an ONNX model folder in the layout transformers.js and optimum
 * use: `onnx/model.onnx` (fp32) under the folder, with config.json and the tokenizer files
 * (tokenizer.json, vocab.txt, tokenizer_config.json, special_tokens_map.json) at the top.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { configToJson, type TokenClassifier } from '../../models/index.js';
import { WordPieceTokenizer, type Tokenizer } from '../../tokenizers/index.js';
import { loadPretrainedDir } from '../../tokenizers/config.js';
import { buildEncoderOnnxModel } from './bert-graph.js';
import { writeModelFile } from './onnx-proto.js';
import { bertTokenizerJson } from './tokenizer-json.js';

export interface OnnxExportOptions {
  /**
   * The folder the model and tokenizer were loaded from: its tokenizer.json, when it has one,
   * is copied as-is (it is the most faithful description of the tokenizer).
   */
  sourceDir?: string;
}

export interface OnnxExportResult {
  /** Path of onnx/model.onnx. */
  modelPath: string;
  modelBytes: number;
  /** Every file written, relative to the output folder. */
  files: string[];
  warnings: string[];
}

export function exportOnnx(model: TokenClassifier, tokenizer: Tokenizer | null, outDir: string, opts: OnnxExportOptions = {}): OnnxExportResult {
  const def = buildEncoderOnnxModel(model);
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  const modelPath = join(outDir, 'onnx', 'model.onnx');
  const modelBytes = writeModelFile(modelPath, def);
  const files = ['onnx/model.onnx', 'config.json'];
  const warnings: string[] = [];
  // transformers.js reads its loading options from config.json; in a browser it otherwise asks for
  // onnx/model_quantized.onnx (dtype q8). dtype fp32 points it at the model.onnx written here.
  const configJson = { ...configToJson(model.config, model.architecture), 'transformers.js_config': { dtype: 'fp32' } };
  writeFileAtomic(join(outDir, 'config.json'), JSON.stringify(configJson, null, 2) + '\n');

  if (tokenizer) {
    const rows = model.config.vocabSize;
    if (tokenizer.totalVocabSize > rows) {
      warnings.push(`the tokenizer has ${tokenizer.totalVocabSize} ids but word_embeddings has ${rows} rows: onnxruntime will fail on a text that produces ids ${rows}..${tokenizer.totalVocabSize - 1}`);
    }
    tokenizer.saveVocab(outDir);
    capModelMaxLength(join(outDir, 'tokenizer_config.json'), model.maxSequenceLength ?? model.config.maxPositionEmbeddings);
    if (!(tokenizer instanceof WordPieceTokenizer)) {
      // tokenizer.json (BPE, Unigram, or a non-BERT WordPiece pipeline) with its settings files, as saved.
      files.push(...['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'].filter((f) => existsSync(join(outDir, f))));
      return { modelPath, modelBytes, files, warnings };
    }
    files.push('vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json');
    if (existsSync(join(outDir, 'added_tokens.json'))) files.push('added_tokens.json');
    const src = opts.sourceDir && join(opts.sourceDir, 'tokenizer.json');
    const dest = join(outDir, 'tokenizer.json');
    if (src && existsSync(src)) {
      if (resolve(src) !== resolve(dest)) copyFileSync(src, dest);
    } else {
      // Built from the files just written, so both descriptions say the same thing.
      const { json, warnings: w } = bertTokenizerJson(loadPretrainedDir(outDir));
      warnings.push(...w);
      writeFileAtomic(dest, JSON.stringify(json, null, 2) + '\n');
    }
    files.push('tokenizer.json');
  } else {
    warnings.push('no tokenizer was given: the folder has no tokenizer files, so transformers.js pipelines cannot load it as it is');
  }
  return { modelPath, modelBytes, files, warnings };
}

/**
 * transformers.js truncates to tokenizer_config's model_max_length; when that is "no limit"
 * (or beyond max_position_embeddings) a long text would make the graph slice past the position
 * table and fail, so the exported folder says the model's real limit.
 */
function capModelMaxLength(path: string, maxPositions: number): void {
  const cfg = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const mml = cfg['model_max_length'];
  if (typeof mml === 'number' && mml <= maxPositions) return;
  cfg['model_max_length'] = maxPositions;
  writeFileAtomic(path, JSON.stringify(cfg, null, 2) + '\n');
}

