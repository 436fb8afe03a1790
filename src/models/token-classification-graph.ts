/**
 * What every model's ONNX graph shares: opset and IR version, the token-classification interface
 * optimum / transformers.js use (int64 inputs [batch_size, sequence_length], float logits
 * [batch_size, sequence_length, num_labels], the label names in the metadata), HF's additive mask
 * value, optimum's node scopes and HF's GELU variants. Each model folder's graph builds on it.
 */
import { DataType, type ModelDef } from '../onnx/onnx-proto.js';
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { OnnxExportError } from '../onnx/graph-weights.js';
import type { TokenClassifier } from './forward.js';
import { VERSION } from '../version.js';

export const ONNX_OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (onnx 1.12). */
export const ONNX_IR_VERSION = 8;
/** torch.finfo(torch.float32).min, HF's additive value for masked keys. */
export const FLOAT32_MIN = -3.4028234663852886e38;

export interface OnnxGraphOptions {
  producerVersion?: string;
}

/** A model_type's ONNX graph builder (its registry row's `onnxGraph`). */
export type OnnxGraph = (model: TokenClassifier, opts?: OnnxGraphOptions) => ModelDef;

/** HF name `a.b.layer.0.c` -> node scope `/a/b/layer.0/c` (optimum's naming). */
export const scopeOf = (name: string): string => '/' + name.replace(/\.(?!\d)/g, '/');

/**
 * The ModelDef of a token-classification graph whose last node wrote `logits`: int64 inputs and
 * float logits [batch_size, sequence_length(, num_labels)], the label names in the metadata.
 */
export function tokenClassificationModel(
  g: GraphBuilder,
  model: TokenClassifier,
  inputs: readonly string[],
  detail: string,
  producerVersion = VERSION,
): ModelDef {
  const cfg = model.config,
    numLabels = model.numLabels;
  const dyn = ['batch_size', 'sequence_length'] as const;
  const graph = g.graph(
    `tokentune_${cfg.modelType.replace(/-/g, '_')}_token_classification`,
    inputs.map((name) => ({ name, elemType: DataType.INT64, shape: dyn })),
    [{ name: 'logits', elemType: DataType.FLOAT, shape: [...dyn, numLabels] }],
    `${model.architecture}: ${cfg.numHiddenLayers} layers, hidden ${cfg.hiddenSize}, ${cfg.numAttentionHeads} heads, ${numLabels} labels, ${detail}`,
  );
  return {
    irVersion: ONNX_IR_VERSION,
    opsetImports: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'tokentune',
    producerVersion,
    graph,
    metadata: { id2label: JSON.stringify(Object.fromEntries(cfg.labels.map((lab, i) => [String(i), lab]))) },
  };
}

/**
 * HF's activations: 'gelu' is the exact x/2 (1 + erf(x / sqrt 2)); 'gelu_new',
 * 'gelu_pytorch_tanh' and 'gelu_fast' are the tanh form x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
 */
export function gelu(g: GraphBuilder, s: string, x: string, act: string): string {
  if (act === 'gelu') {
    const erf = g.op(s, 'Erf', [g.op(s, 'Div', [x, g.scalar(Math.SQRT2)])]);
    return g.op(s, 'Mul', [g.op(s, 'Mul', [x, g.op(s, 'Add', [erf, g.scalar(1)])]), g.scalar(0.5)]);
  }
  if (act === 'gelu_new' || act === 'gelu_pytorch_tanh' || act === 'gelu_fast') {
    const cube = g.op(s, 'Pow', [x, g.scalar(3)]);
    const inner = g.op(s, 'Add', [x, g.op(s, 'Mul', [cube, g.scalar(0.044715)])]);
    const t = g.op(s, 'Tanh', [g.op(s, 'Mul', [inner, g.scalar(Math.sqrt(2 / Math.PI))])]);
    return g.op(s, 'Mul', [g.op(s, 'Mul', [x, g.op(s, 'Add', [t, g.scalar(1)])]), g.scalar(0.5)]);
  }
  throw new OnnxExportError(`hidden_act '${act}' has no ONNX export (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast)`);
}
