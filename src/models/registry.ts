/**
 * Architectures by `model_type`. Adding one means one file with its parameter specs and forward
 * pass, plus one entry here (and config-families.ts when its config.json names fields its own way).
 */
import type { Tensor } from '../engine/index.js';
import { BertForTokenClassification, bertParamSpecs, type ForwardOptions, type TokenBatch } from './bert/bert.js';
import { RobertaForTokenClassification, XLMRobertaForTokenClassification, robertaParamSpecs } from './roberta/roberta.js';
import { DistilBertForTokenClassification, distilbertParamSpecs } from './distilbert/distilbert.js';
import type { ModelConfig } from './config.js';
import { DebertaV2ForTokenClassification, debertaV2ParamSpecs } from './deberta-v2/deberta-v2.js';
import type { ParamSpec } from './init.js';
import { ModernBertForTokenClassification, modernBertParamSpecs } from './modernbert/modernbert.js';

/** What the trainer and the pipeline need from a token classifier. */
export interface TokenClassifier {
  readonly config: ModelConfig;
  readonly architecture: string;
  readonly params: Map<string, Tensor>;
  readonly numLabels: number;
  /** Longest input the position table covers (RoBERTa: max_position_embeddings - pad_token_id - 1); default max_position_embeddings. */
  readonly maxSequenceLength?: number;
  parameters(): [string, Tensor][];
  forward(batch: TokenBatch, opts: ForwardOptions): Tensor;
}

export interface Architecture {
  /** HF class name written to config.json `architectures`. */
  name: string;
  /**
   * Prefix of the base model's parameters (`bert`), which bare base checkpoints lack. Parameters
   * outside it (`classifier.*`, a prediction head) are the head: initialised afresh, and reported,
   * when the checkpoint lacks them.
   */
  prefix: string;
  paramSpecs(cfg: ModelConfig, numLabels: number): ParamSpec[];
  build(cfg: ModelConfig, params: Map<string, Tensor>): TokenClassifier;
}

const architectures: Record<string, Architecture> = {
  bert: {
    name: BertForTokenClassification.architecture,
    prefix: 'bert',
    paramSpecs: (cfg, n) => bertParamSpecs(cfg, n),
    build: (cfg, params) => new BertForTokenClassification(cfg, params),
  },
  roberta: {
    name: RobertaForTokenClassification.architecture,
    prefix: 'roberta',
    paramSpecs: (cfg, n) => robertaParamSpecs(cfg, n),
    build: (cfg, params) => new RobertaForTokenClassification(cfg, params),
  },
  'xlm-roberta': {
    name: XLMRobertaForTokenClassification.architecture,
    prefix: 'roberta',
    paramSpecs: (cfg, n) => robertaParamSpecs(cfg, n),
    build: (cfg, params) => new XLMRobertaForTokenClassification(cfg, params),
  },
  distilbert: {
    name: DistilBertForTokenClassification.architecture,
    prefix: 'distilbert',
    paramSpecs: (cfg, n) => distilbertParamSpecs(cfg, n),
    build: (cfg, params) => new DistilBertForTokenClassification(cfg, params),
  },
  'deberta-v2': {
    name: DebertaV2ForTokenClassification.architecture,
    prefix: 'deberta',
    paramSpecs: (cfg, n) => debertaV2ParamSpecs(cfg, n),
    build: (cfg, params) => new DebertaV2ForTokenClassification(cfg, params),
  },
  // Its prediction head (head.dense, head.norm) lies outside `model`, so a bare ModernBertModel gets it fresh.
  modernbert: {
    name: ModernBertForTokenClassification.architecture,
    prefix: 'model',
    paramSpecs: (cfg, n) => modernBertParamSpecs(cfg, n),
    build: (cfg, params) => new ModernBertForTokenClassification(cfg, params),
  },
};

/** `source` (the config.json path) prefixes the error, so it names the file and field at fault. */
export function architectureFor(cfg: ModelConfig, source?: string): Architecture {
  const a = Object.hasOwn(architectures, cfg.modelType) ? architectures[cfg.modelType] : undefined;
  if (!a) {
    throw new Error(`${source ? `${source}: ` : ''}model_type ${JSON.stringify(cfg.modelType.slice(0, 100))} is not supported yet (supported: ${Object.keys(architectures).join(', ')})`);
  }
  return a;
}
