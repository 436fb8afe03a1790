export { BertForTokenClassification, bertParamSpecs, MASK_MIN, type TokenBatch, type ForwardOptions } from './bert.js';
export { readConfig, parseConfig, configToJson, makeConfig, ConfigError, type ModelConfig } from './config.js';
export { architectureFor, type TokenClassifier, type Architecture } from './registry.js';
export { fromPretrained, loadModelFromDir, buildFromState, savePretrained, resolveModelDir, type LoadOptions, type LoadReport, type Pretrained } from './pretrained.js';
export { initParameter, initParameters, type ParamSpec } from './init.js';
export { DebertaV2ForTokenClassification, debertaV2ParamSpecs } from './deberta-v2.js';
export { debertaV2Options, logBucketPosition, relativeIndex, withDebertaV2Defaults, type DebertaV2Options } from './deberta-v2-config.js';
