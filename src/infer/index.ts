/** Inference: the token-classification pipeline, batch prediction over files, the HTTP server. */
export {
  AGGREGATION_STRATEGIES,
  isAggregationStrategy,
  aggregate,
  gatherPreEntities,
  softmaxRows,
  type AggregationStrategy,
  type Entity,
  type TokenEntity,
  type GroupedEntity,
  type PreEntity,
} from './aggregation.js';
export { tagWords, type WordTag } from './word-tags.js';
export { planTokenWindows, defaultStride, type TokenWindow } from './token-windows.js';
export {
  TokenClassificationPipeline,
  PipelineInputError,
  pipeline,
  type PipelineModel,
  type PipelineTokenizer,
  type PipelineOptions,
  type LoadPipelineOptions,
  type PredictOptions,
  type PostprocessOptions,
  type RunOptions,
  type TextRequest,
} from './pipeline.js';
export { MicroBatcher, type MicroBatcherOptions, type BatchPredictor } from './batcher.js';
export { createServer, type ServerOptions, type ServedPipeline } from './server.js';
export { PredictorPool, type PoolOptions } from './pool.js';
export { renderPage, entityType, typeColour, type PageInfo } from './page.js';
export {
  predictStream,
  detectInputFormat,
  PredictInputError,
  INPUT_FORMATS,
  OUTPUT_FORMATS,
  type InputFormat,
  type OutputFormat,
  type PredictFileOptions,
} from './predict-files.js';
export { exportOnnx, type OnnxExportResult } from './onnx/index.js';
