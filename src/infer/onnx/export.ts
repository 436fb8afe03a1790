/**
 * Writes a token classifier as an ONNX model folder in the layout transformers.js and optimum
 * use: `onnx/model.onnx` (fp32) under the folder, with config.json and the tokenizer files
 * (tokenizer.json, vocab.txt, tokenizer_config.json, special_tokens_map.json) at the top.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { configJsonText, configToJson, EncoderForTokenClassification, type TokenClassifier } from '../../models/index.js';
import { findArchitecture, modelTypes } from '../../models/registry.js';
import { isEncoderGraph } from '../../models/encoder/encoder-graph.js';
import type { OnnxGraphOptions } from '../../models/token-classification-graph.js';
import { OnnxExportError } from '../../onnx/graph-weights.js';
import { WordPieceTokenizer, type Tokenizer } from '../../tokenizers/index.js';
import { loadPretrainedDir } from '../../tokenizers/wordpiece-settings.js';
import { writeModelFile, type ModelDef } from '../../onnx/onnx-proto.js';
import { bertTokenizerJson } from './bert-converter.js';
import { quantizeOnnxModel } from './quantize-graph.js';
import { int8WeightBits, quantizableLayers } from '../../models/quantized.js';
import { readModelJson } from '../../io/model-file.js';
import { usableSequenceLength } from '../../models/sequence-limit.js';

export interface OnnxExportOptions {
  /**
   * The folder the model and tokenizer were loaded from: its tokenizer.json, when it has one,
   * is copied as-is (it is the most faithful description of the tokenizer).
   */
  sourceDir?: string;
  /** Also write onnx/model_quantized.onnx (dynamic int8, quantize-graph.ts), which transformers.js loads by default in browsers. */
  int8?: boolean;
}

export interface OnnxExportResult {
  /** Path of onnx/model.onnx. */
  modelPath: string;
  modelBytes: number;
  /** Path of onnx/model_quantized.onnx when `int8` was asked for. */
  quantizedPath?: string;
  /** Every file written, relative to the output folder. */
  files: string[];
  warnings: string[];
}

/**
 * The ONNX model of a BERT, RoBERTa, XLM-RoBERTa or DistilBERT token classifier (the types on the
 * shared encoder): its registry row's graph; the weights are referenced, not copied, where
 * possible. Inputs as optimum exports each type: BERT takes token_type_ids, the others only
 * input_ids and attention_mask.
 */
export function buildEncoderOnnxModel(model: TokenClassifier, opts: OnnxGraphOptions = {}): ModelDef {
  const graph = findArchitecture(model.config.modelType)?.onnxGraph;
  if (!graph || !isEncoderGraph(graph) || !(model instanceof EncoderForTokenClassification)) {
    const encoderTypes = modelTypes().filter((t) => isEncoderGraph(findArchitecture(t)!.onnxGraph));
    throw new OnnxExportError(
      `ONNX export supports model_type ${encoderTypes.join(', ')}; this model is ${model.architecture} (model_type '${model.config.modelType}')`,
    );
  }
  return graph(model, opts);
}

/** The same function under its first name (BERT was the only architecture then). */
export const buildBertOnnxModel = buildEncoderOnnxModel;

/** Tokenizer files transformers.js / AutoTokenizer read, listed when the export wrote them. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'added_tokens.json'];

export function exportOnnx(
  model: TokenClassifier,
  tokenizer: Tokenizer | null,
  outDir: string,
  opts: OnnxExportOptions = {},
): OnnxExportResult {
  // int8 covers the shared encoder's architectures only: refuse the others before writing anything.
  const int8Layers = opts.int8 ? quantizableLayers(model) : null;
  // The shared encoder's types (and a model_type without a row, which it refuses) go through buildEncoderOnnxModel's checks.
  const graph = findArchitecture(model.config.modelType)?.onnxGraph;
  const def = (!graph || isEncoderGraph(graph) ? buildEncoderOnnxModel : graph)(model);
  mkdirSync(join(outDir, 'onnx'), { recursive: true });
  const modelPath = join(outDir, 'onnx', 'model.onnx');
  const modelBytes = writeModelFile(modelPath, def);
  const files = ['onnx/model.onnx', 'config.json'];
  let quantizedPath: string | undefined;
  if (int8Layers) {
    quantizedPath = join(outDir, 'onnx', 'model_quantized.onnx');
    writeModelFile(quantizedPath, quantizeOnnxModel(def, int8Layers, int8WeightBits(model)).model);
    files.push('onnx/model_quantized.onnx');
  }
  const warnings: string[] = [];
  // transformers.js reads its loading options from config.json; in a browser it otherwise asks for
  // onnx/model_quantized.onnx (dtype q8). Without that file, dtype fp32 points it at model.onnx;
  // with it, the browser's default (q8) finds it and Node's (fp32) finds model.onnx.
  const configJson = {
    ...configToJson(model.config, model.architecture),
    ...(opts.int8 ? {} : { 'transformers.js_config': { dtype: 'fp32' } }),
  };
  writeFileAtomic(join(outDir, 'config.json'), configJsonText(configJson));

  if (tokenizer) {
    const rows = model.config.vocabSize;
    if (tokenizer.totalVocabSize > rows) {
      warnings.push(
        `the tokenizer has ${tokenizer.totalVocabSize} ids but word_embeddings has ${rows} rows: onnxruntime will fail on a text that produces ids ${rows}..${tokenizer.totalVocabSize - 1}`,
      );
    }
    tokenizer.saveVocab(outDir);
    capModelMaxLength(join(outDir, 'tokenizer_config.json'), usableSequenceLength(model));
    // A tokenizer.json tokenizer (BPE, Unigram, WordPiece) saved its own tokenizer.json above;
    // BERT's WordPiece one writes vocab.txt, so tokenizer.json comes from the source or is built.
    if (tokenizer instanceof WordPieceTokenizer) {
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
    }
    for (const f of TOKENIZER_FILES) if (existsSync(join(outDir, f))) files.push(f);
  } else {
    warnings.push('no tokenizer was given: the folder has no tokenizer files, so transformers.js pipelines cannot load it as it is');
  }
  return { modelPath, modelBytes, files, warnings, ...(quantizedPath ? { quantizedPath } : {}) };
}

/**
 * transformers.js truncates to tokenizer_config's model_max_length; when that is "no limit"
 * (or beyond max_position_embeddings) a long text would make the graph slice past the position
 * table and fail, so the exported folder says the model's real limit.
 */
function capModelMaxLength(path: string, maxPositions: number): void {
  const cfg = readModelJson(path) as Record<string, unknown>;
  const mml = cfg['model_max_length'];
  if (typeof mml === 'number' && mml <= maxPositions) return;
  cfg['model_max_length'] = maxPositions;
  writeFileAtomic(path, JSON.stringify(cfg, null, 2) + '\n');
}
