/**
 * Architectures by `model_type`. Adding RoBERTa, XLM-RoBERTa or DistilBERT means one file with
 * its parameter specs and forward pass, plus one entry here.
 */
import type { Tensor } from '../engine/index.js';
import { BertForTokenClassification, bertParamSpecs, type ForwardOptions, type TokenBatch } from './bert.js';
import type { ModelConfig } from './config.js';
import { DebertaV2ForTokenClassification, debertaV2ParamSpecs } from './deberta-v2.js';
import { withDebertaV2Defaults } from './deberta-v2-config.js';
import type { ParamSpec } from './init.js';

/** What the trainer and the pipeline need from a token classifier. */
export interface TokenClassifier {
  readonly config: ModelConfig;
  readonly architecture: string;
  readonly params: Map<string, Tensor>;
  readonly numLabels: number;
  parameters(): [string, Tensor][];
  forward(batch: TokenBatch, opts: ForwardOptions): Tensor;
}

export interface Architecture {
  /** HF class name written to config.json `architectures`. */
  name: string;
  /** Prefix of the base model's parameters (`bert`), which bare base checkpoints lack. */
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
  'deberta-v2': {
    name: DebertaV2ForTokenClassification.architecture,
    prefix: 'deberta',
    paramSpecs: (cfg, n) => debertaV2ParamSpecs(withDebertaV2Defaults(cfg), n),
    build: (cfg, params) => new DebertaV2ForTokenClassification(withDebertaV2Defaults(cfg), params),
  },
};

export function architectureFor(cfg: ModelConfig): Architecture {
  const a = architectures[cfg.modelType];
  if (!a) {
    throw new Error(`model_type '${cfg.modelType}' is not supported yet (supported: ${Object.keys(architectures).join(', ')})`);
  }
  return a;
}
