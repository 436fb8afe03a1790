/**
 * tokentune's public API: what a TypeScript user imports. Layers, lowest first: engine, io,
 * tokenizers, models, data, metrics, train, infer (see DESIGN.md).
 */
export * as engine from './engine/index.js';
export { Tensor, tidy, noGrad, backward, ops } from './engine/index.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export { loadStateDict } from './io/state-dict.js';
export { snapshotDownload } from './io/hub.js';
export { WordPieceTokenizer, type Encoding } from './tokenizers/index.js';
export { JsonTokenizer, loadTokenizer, type Tokenizer } from './tokenizers/index.js';
export * from './models/index.js';
export * from './data/index.js';
export { syntheticNer, buildVocab } from './data/synthetic.js';
export {
  loadHubDataset,
  HubDatasetError,
  DatasetNotFoundError,
  DatasetConfigError,
  DatasetAccessError,
  DatasetNetworkError,
  DatasetColumnsError,
  DatasetFilesError,
  type HubDataset,
  type LoadHubDatasetOptions,
} from './data/hub-dataset.js';
export * from './metrics/index.js';
export { Trainer, type TrainerInit, type EncodedSplit, type LogRecord, type TrainOutput, type TrainingObjective } from './train/trainer.js';
export { defaultTrainingArgs, type TrainingArguments } from './train/training-args.js';
export { parseTrainingArgs } from './cli/training-flags.js';
export { formatHelp as formatTrainHelp } from './cli/train-help.js';
export { AdamW, decays } from './train/optimizer.js';
export { chooseLabels, encodeSplit, readDataFiles } from './train/prepare.js';
export { DistillObjective, mapLabelsByName, tokenLevelTargets, wordLevelTargets, type SoftTargets } from './train/distill.js';
export { distillationLoss } from './train/distill-loss.js';
export * from './infer/index.js';
export {
  connectRedis,
  streamNames,
  StreamWorker,
  pipelineTagger,
  enqueueRecords,
  collectResults,
  QueueError,
  type StreamNames,
  type WorkerOptions,
  type Tagger,
} from './queue/index.js';
export { main as cli } from './cli/main.js';
export {
  saveQuantized,
  quantizeInMemory,
  quantizableLayers,
  floatVariant,
  int8Variant,
  QUANTIZATION_FILE,
  QUANTIZATION_FORMAT,
  DEFAULT_WEIGHT_BITS,
  type QuantizationInfo,
} from './models/quantized.js';
export type { WeightBits } from './engine/ops/int8.js';
export { quantizeOnnxModel, type QuantizeGraphResult } from './infer/onnx/quantize-graph.js';
