export { MASK_MIN, type TokenBatch, type ForwardOptions } from './forward.js';
export { BertForTokenClassification, bertParamSpecs } from './bert/bert.js';
export { readConfig, parseConfig, configToJson, configJsonText, makeConfig, ConfigError, type ModelConfig } from './config.js';
export { architectureFor, type TokenClassifier, type Architecture } from './registry.js';
export {
  fromPretrained,
  loadModelFromDir,
  buildFromState,
  savePretrained,
  resolveModelDir,
  type LoadOptions,
  type LoadReport,
  type Pretrained,
} from './pretrained.js';
export { initParameter, initParameters, type ParamSpec } from './init.js';
export {
  RobertaForTokenClassification,
  XLMRobertaForTokenClassification,
  robertaParamSpecs,
  robertaPositionIds,
} from './roberta/roberta.js';
export { DistilBertForTokenClassification, distilbertParamSpecs } from './distilbert/distilbert.js';
export { EncoderForTokenClassification, type LayerNames } from './encoder/encoder.js';
export { DebertaV2ForTokenClassification, debertaV2ParamSpecs } from './deberta-v2/deberta-v2.js';
export { debertaV2Options, logBucketPosition, relativeIndex, type DebertaV2Options } from './deberta-v2/deberta-v2-config.js';
export { ModernBertForTokenClassification, modernBertParamSpecs, windowBias } from './modernbert/modernbert.js';
export { modernBertOptions, type ModernBertOptions, type LayerType } from './modernbert/modernbert-config.js';
