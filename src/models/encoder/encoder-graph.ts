/**
 * The shared post-LayerNorm encoder (encoder.ts: BERT, RoBERTa, XLM-RoBERTa, DistilBERT) as an
 * ONNX graph with the interface optimum / transformers.js use for token classification: inputs
 * input_ids, attention_mask (and token_type_ids for BERT) (int64 [batch_size, sequence_length]),
 * output logits (float [batch_size, sequence_length, num_labels]). Each model folder gives its
 * embeddings (`<type>-graph.ts`), as each model class gives its embeddings to encoder.ts.
 *
 * The graph spells out Hugging Face's eager modeling_bert.py with standard opset-17 operators
 * (LayerNormalization is opset 17; everything else is older), so onnxruntime's optimizer can
 * fuse it (Attention, SkipLayerNormalization, BiasGelu) the same way it fuses optimum's export:
 *   embeddings = LayerNorm(word[input_ids] + token_type[token_type_ids] + position[0..T-1])
 *   mask       = (1 - attention_mask) * float32.min, broadcast over heads and queries
 *   layer      = LN(x + Wo(softmax(QK^T / sqrt(d) + mask) V)); LN(. + W2 GELU(W1 .))
 *   logits     = classifier(last hidden state)
 */
import { DataType, type ModelDef } from '../../onnx/onnx-proto.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { graphWeights, OnnxExportError, type GraphWeights } from '../../onnx/graph-weights.js';
import type { ModelConfig } from '../model-config.js';
import type { TokenClassifier } from '../forward.js';
import {
  FLOAT32_MIN,
  gelu,
  scopeOf,
  tokenClassificationModel,
  type OnnxGraph,
  type OnnxGraphOptions,
} from '../token-classification-graph.js';
import { EncoderForTokenClassification } from './encoder.js';

/** How one model_type's embeddings enter the encoder graph. */
export interface EncoderGraphEmbeddings {
  /** The graph's inputs, as optimum exports this type (BERT: token_type_ids too). */
  inputs: readonly string[];
  /**
   * word + (token type) + position embeddings of `<e>.*` (HF's order of the sums), before their
   * LayerNorm, as nodes under scope `s`.
   */
  sum(g: GraphBuilder, w: GraphWeights, cfg: ModelConfig, e: string, s: string): string;
}

/** Rows `ids` of `table` (an Embedding lookup) under scope `s`. */
export function gatherRows(g: GraphBuilder, s: string, table: string, ids: string): string {
  return g.op(s, 'Gather', [table, ids], [{ name: 'axis', type: 'int', value: 0 }]);
}

/** Rows 0..T-1 of the position table `e.position_embeddings`, T read from input_ids at run time (BERT's and DistilBERT's positions). */
export function sequentialPositions(g: GraphBuilder, w: GraphWeights, e: string, s: string): string {
  const seqLen = g.op(
    s,
    'Shape',
    ['input_ids'],
    [
      { name: 'start', type: 'int', value: 1 },
      { name: 'end', type: 'int', value: 2 },
    ],
  );
  return g.op(s, 'Slice', [w.init(`${e}.position_embeddings.weight`), g.int64([0]), seqLen, g.int64([0])]);
}

const encoderGraphs = new WeakSet<OnnxGraph>();

/** The encoder graph of a model_type with these embeddings (its registry row's `onnxGraph`). */
export function encoderGraph(embeddings: EncoderGraphEmbeddings): OnnxGraph {
  const graph: OnnxGraph = (model, opts) => buildEncoderGraph(model, embeddings, opts);
  encoderGraphs.add(graph);
  return graph;
}

/** Whether `graph` is the shared encoder's (the types `buildEncoderOnnxModel` takes). */
export const isEncoderGraph = (graph: OnnxGraph): boolean => encoderGraphs.has(graph);

/**
 * The ONNX model of a token classifier on the shared encoder, with `embeddings` its type's; the
 * weights are referenced, not copied, where possible.
 */
export function buildEncoderGraph(model: TokenClassifier, embeddings: EncoderGraphEmbeddings, opts: OnnxGraphOptions = {}): ModelDef {
  const cfg = model.config;
  if (!(model instanceof EncoderForTokenClassification)) {
    throw new OnnxExportError(`the shared encoder's ONNX graph does not fit ${model.architecture} (model_type '${cfg.modelType}')`);
  }
  const posType = cfg.raw['position_embedding_type'];
  if (posType !== undefined && posType !== 'absolute') {
    throw new OnnxExportError(`position_embedding_type '${String(posType)}' is not supported by the ONNX export (only 'absolute')`);
  }
  const numLabels = model.numLabels;
  if (numLabels < 1) throw new OnnxExportError('the model has no token-classification head (config.json id2label is empty)');

  const H = cfg.hiddenSize,
    nh = cfg.numAttentionHeads,
    hd = H / nh;
  const g = new GraphBuilder();
  const w = graphWeights(g, model.params);
  const { linear } = w;
  const layerNorm = (scope: string, x: string, name: string): string => w.layerNorm(scope, x, name, cfg.layerNormEps);

  const e = `${model.prefix}.embeddings`;
  let s = scopeOf(e);
  let x = embeddings.sum(g, w, cfg, e, s);
  x = layerNorm(`${s}/LayerNorm`, x, `${e}.LayerNorm`);

  // Extended attention mask [B, 1, 1, T], computed once for all layers.
  s = `/${model.prefix}/extended_attention_mask`;
  const maskF = g.op(s, 'Cast', ['attention_mask'], [{ name: 'to', type: 'int', value: DataType.FLOAT }]);
  const inverted = g.op(s, 'Sub', [g.scalar(1), maskF]);
  const additive = g.op(s, 'Mul', [inverted, g.scalar(FLOAT32_MIN)]);
  const mask = g.op(s, 'Unsqueeze', [additive, g.int64([1, 2])]);

  const headShape = g.int64([0, 0, nh, hd]);
  const hiddenShape = g.int64([0, 0, H]);
  const sqrtHd = g.scalar(Math.sqrt(hd));
  const perm = (p: number[]) => [{ name: 'perm', type: 'ints' as const, value: p }];
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const n = model.layerNames(l);
    const heads = (name: string, order: number[]): string => {
      const sc = scopeOf(name);
      return g.op(sc, 'Transpose', [g.op(sc, 'Reshape', [linear(sc, x, name), headShape])], perm(order));
    };
    s = scopeOf(n.query).replace(/\/[^/]*$/, '');
    const q = heads(n.query, [0, 2, 1, 3]); // [B, nh, T, hd]
    const kT = heads(n.key, [0, 2, 3, 1]); // [B, nh, hd, T]
    const v = heads(n.value, [0, 2, 1, 3]);
    const scores = g.op(s, 'Add', [g.op(s, 'Div', [g.op(s, 'MatMul', [q, kT]), sqrtHd]), mask]);
    const probs = g.op(s, 'Softmax', [scores], [{ name: 'axis', type: 'int', value: -1 }]);
    const ctx = g.op(s, 'Reshape', [g.op(s, 'Transpose', [g.op(s, 'MatMul', [probs, v])], perm([0, 2, 1, 3])), hiddenShape]);

    const attn = linear(scopeOf(n.attnOut), ctx, n.attnOut);
    const x1 = layerNorm(scopeOf(n.attnNorm), g.op(scopeOf(n.attnNorm), 'Add', [attn, x]), n.attnNorm);

    const inter = gelu(g, `${scopeOf(n.ffIn)}/act`, linear(scopeOf(n.ffIn), x1, n.ffIn), cfg.hiddenAct);
    const out = linear(scopeOf(n.ffOut), inter, n.ffOut);
    x = layerNorm(scopeOf(n.ffNorm), g.op(scopeOf(n.ffNorm), 'Add', [out, x1]), n.ffNorm);
  }
  linear('/classifier', x, 'classifier', 'logits');

  return tokenClassificationModel(g, model, embeddings.inputs, `hidden_act ${cfg.hiddenAct}`, opts.producerVersion);
}
