export { BertForTokenClassification, bertParamSpecs, MASK_MIN, type TokenBatch, type ForwardOptions } from './bert.js';
export { readConfig, parseConfig, configToJson, makeConfig, ConfigError, type ModelConfig } from './config.js';
export { architectureFor, type TokenClassifier, type Architecture } from './registry.js';
export { fromPretrained, loadModelFromDir, buildFromState, savePretrained, resolveModelDir, type LoadOptions, type LoadReport, type Pretrained } from './pretrained.js';
export { initParameter, initParameters, type ParamSpec } from './init.js';
export { RobertaForTokenClassification, XLMRobertaForTokenClassification, robertaParamSpecs, robertaPositionIds } from './roberta.js';
export { DistilBertForTokenClassification, distilbertParamSpecs } from './distilbert.js';
export { EncoderForTokenClassification, type LayerNames } from './encoder.js';
