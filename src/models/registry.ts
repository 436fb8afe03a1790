/**
 * Architectures by `model_type`: the one place that lists them. Adding one means its folder
 * (`<type>/`: the model with its parameter specs and forward pass, its config family, its ONNX
 * graph) plus one row here; see DESIGN.md, "Adding an encoder".
 */
import type { Tensor } from '../engine/index.js';
import type { ModelConfig } from './model-config.js';
import { bertConfigFamily, type ConfigFamily } from './config-family.js';
import type { ParamSpec } from './init.js';
import type { TokenClassifier } from './forward.js';
import type { OnnxGraph } from './token-classification-graph.js';
import { BertForTokenClassification, bertParamSpecs } from './bert/bert.js';
import { bertOnnxGraph } from './bert/bert-graph.js';
import { RobertaForTokenClassification, XLMRobertaForTokenClassification, robertaParamSpecs } from './roberta/roberta.js';
import { robertaConfigFamily, xlmRobertaConfigFamily } from './roberta/roberta-config.js';
import { robertaOnnxGraph } from './roberta/roberta-graph.js';
import { DistilBertForTokenClassification, distilbertParamSpecs } from './distilbert/distilbert.js';
import { distilbertConfigFamily } from './distilbert/distilbert-config.js';
import { distilbertOnnxGraph } from './distilbert/distilbert-graph.js';
import { DebertaV2ForTokenClassification, debertaV2ParamSpecs } from './deberta-v2/deberta-v2.js';
import { debertaV2ConfigFamily } from './deberta-v2/deberta-v2-config.js';
import { buildDebertaV2OnnxModel } from './deberta-v2/deberta-v2-graph.js';
import { ModernBertForTokenClassification, modernBertParamSpecs } from './modernbert/modernbert.js';
import { modernBertConfigFamily } from './modernbert/modernbert-config.js';
import { buildModernBertOnnxModel } from './modernbert/modernbert-graph.js';

export type { TokenClassifier } from './forward.js';

export interface Architecture {
  /** HF class name written to config.json `architectures`. */
  name: string;
  /**
   * Prefix of the base model's parameters (`bert`), which bare base checkpoints lack. Parameters
   * outside it (`classifier.*`, a prediction head) are the head: initialised afresh, and reported,
   * when the checkpoint lacks them.
   */
  prefix: string;
  /** How its config.json names, defaults and fixes ModelConfig's fields (config-family.ts). */
  config: ConfigFamily;
  paramSpecs(cfg: ModelConfig, numLabels: number): ParamSpec[];
  build(cfg: ModelConfig, params: Map<string, Tensor>): TokenClassifier;
  /** Its ONNX graph (`export --onnx`). */
  onnxGraph: OnnxGraph;
}

const architectures: Record<string, Architecture> = {
  bert: {
    name: BertForTokenClassification.architecture,
    prefix: 'bert',
    config: bertConfigFamily,
    paramSpecs: (cfg, n) => bertParamSpecs(cfg, n),
    build: (cfg, params) => new BertForTokenClassification(cfg, params),
    onnxGraph: bertOnnxGraph,
  },
  roberta: {
    name: RobertaForTokenClassification.architecture,
    prefix: 'roberta',
    config: robertaConfigFamily,
    paramSpecs: (cfg, n) => robertaParamSpecs(cfg, n),
    build: (cfg, params) => new RobertaForTokenClassification(cfg, params),
    onnxGraph: robertaOnnxGraph,
  },
  'xlm-roberta': {
    name: XLMRobertaForTokenClassification.architecture,
    prefix: 'roberta',
    config: xlmRobertaConfigFamily,
    paramSpecs: (cfg, n) => robertaParamSpecs(cfg, n),
    build: (cfg, params) => new XLMRobertaForTokenClassification(cfg, params),
    onnxGraph: robertaOnnxGraph,
  },
  distilbert: {
    name: DistilBertForTokenClassification.architecture,
    prefix: 'distilbert',
    config: distilbertConfigFamily,
    paramSpecs: (cfg, n) => distilbertParamSpecs(cfg, n),
    build: (cfg, params) => new DistilBertForTokenClassification(cfg, params),
    onnxGraph: distilbertOnnxGraph,
  },
  'deberta-v2': {
    name: DebertaV2ForTokenClassification.architecture,
    prefix: 'deberta',
    config: debertaV2ConfigFamily,
    paramSpecs: (cfg, n) => debertaV2ParamSpecs(cfg, n),
    build: (cfg, params) => new DebertaV2ForTokenClassification(cfg, params),
    onnxGraph: buildDebertaV2OnnxModel,
  },
  // Its prediction head (head.dense, head.norm) lies outside `model`, so a bare ModernBertModel gets it fresh.
  modernbert: {
    name: ModernBertForTokenClassification.architecture,
    prefix: 'model',
    config: modernBertConfigFamily,
    paramSpecs: (cfg, n) => modernBertParamSpecs(cfg, n),
    build: (cfg, params) => new ModernBertForTokenClassification(cfg, params),
    onnxGraph: buildModernBertOnnxModel,
  },
};

/** The supported model_types, in the registry's order. */
export const modelTypes = (): string[] => Object.keys(architectures);

/** The row of a model_type, or undefined when it has none (`__proto__` and the like included). */
export function findArchitecture(modelType: unknown): Architecture | undefined {
  return typeof modelType === 'string' && Object.hasOwn(architectures, modelType) ? architectures[modelType] : undefined;
}

/** `source` (the config.json path) prefixes the error, so it names the file and field at fault. */
export function architectureFor(cfg: ModelConfig, source?: string): Architecture {
  const a = findArchitecture(cfg.modelType);
  if (!a) {
    throw new Error(
      `${source ? `${source}: ` : ''}model_type ${JSON.stringify(cfg.modelType.slice(0, 100))} is not supported yet (supported: ${modelTypes().join(', ')})`,
    );
  }
  return a;
}

/** The config family of a model_type; BERT's conventions for types without a row. */
export function configFamily(modelType: unknown): ConfigFamily {
  return findArchitecture(modelType)?.config ?? bertConfigFamily;
}
