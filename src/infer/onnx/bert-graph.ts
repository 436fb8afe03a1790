/**
 * BertForTokenClassification (and RoBERTa, XLM-RoBERTa, DistilBERT, which share its encoder) as
 * an ONNX graph with the interface optimum / transformers.js use for token classification: inputs
 * input_ids, attention_mask (and token_type_ids for BERT) (int64 [batch_size, sequence_length]),
 * output logits (float [batch_size, sequence_length, num_labels]).
 *
 * The graph spells out Hugging Face's eager modeling_bert.py with standard opset-17 operators
 * (LayerNormalization is opset 17; everything else is older), so onnxruntime's optimizer can
 * fuse it (Attention, SkipLayerNormalization, BiasGelu) the same way it fuses optimum's export:
 *   embeddings = LayerNorm(word[input_ids] + token_type[token_type_ids] + position[0..T-1])
 *   mask       = (1 - attention_mask) * float32.min, broadcast over heads and queries
 *   layer      = LN(x + Wo(softmax(QK^T / sqrt(d) + mask) V)); LN(. + W2 GELU(W1 .))
 *   logits     = classifier(last hidden state)
 */
import { EncoderForTokenClassification, type TokenClassifier } from '../../models/index.js';
import { DataType, type ModelDef } from './onnx-proto.js';
import { GraphBuilder } from './graph-builder.js';
import { graphWeights, OnnxExportError } from './graph-weights.js';
import { VERSION } from '../../version.js';

export const ONNX_OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (onnx 1.12). */
export const ONNX_IR_VERSION = 8;
/** torch.finfo(torch.float32).min, HF's additive value for masked keys. */
export const FLOAT32_MIN = -3.4028234663852886e38;

export { OnnxExportError };

export interface BertOnnxOptions {
  producerVersion?: string;
}

/** How each model_type's embeddings take their inputs. */
const EMBEDDING_KINDS: Record<string, 'bert' | 'roberta' | 'distilbert'> = {
  bert: 'bert', roberta: 'roberta', 'xlm-roberta': 'roberta', distilbert: 'distilbert',
};

/** HF name `a.b.layer.0.c` -> node scope `/a/b/layer.0/c` (optimum's naming). */
export const scopeOf = (name: string): string => '/' + name.replace(/\.(?!\d)/g, '/');

/**
 * The ONNX model of a BERT, RoBERTa, XLM-RoBERTa or DistilBERT token classifier; the weights are
 * referenced, not copied, where possible. Inputs as optimum exports each type: BERT takes
 * token_type_ids, the others only input_ids and attention_mask.
 */
export function buildEncoderOnnxModel(model: TokenClassifier, opts: BertOnnxOptions = {}): ModelDef {
  const cfg = model.config;
  const kind = EMBEDDING_KINDS[cfg.modelType];
  if (!kind || !(model instanceof EncoderForTokenClassification)) {
    throw new OnnxExportError(`ONNX export supports model_type ${Object.keys(EMBEDDING_KINDS).join(', ')}; this model is ${model.architecture} (model_type '${cfg.modelType}')`);
  }
  const posType = cfg.raw['position_embedding_type'];
  if (posType !== undefined && posType !== 'absolute') {
    throw new OnnxExportError(`position_embedding_type '${String(posType)}' is not supported by the ONNX export (only 'absolute')`);
  }
  const numLabels = model.numLabels;
  if (numLabels < 1) throw new OnnxExportError('the model has no token-classification head (config.json id2label is empty)');

  const H = cfg.hiddenSize, nh = cfg.numAttentionHeads, hd = H / nh;
  const g = new GraphBuilder();
  const w = graphWeights(g, model.params);
  const { init, param, linear } = w;
  const layerNorm = (scope: string, x: string, name: string): string => w.layerNorm(scope, x, name, cfg.layerNormEps);

  const e = `${model.prefix}.embeddings`;
  let s = scopeOf(e);
  const gather = (table: string, ids: string): string => g.op(s, 'Gather', [table, ids], [{ name: 'axis', type: 'int', value: 0 }]);
  let x = gather(init(`${e}.word_embeddings.weight`), 'input_ids');
  // HF's order: (inputs_embeds + token_type_embeddings) + position_embeddings.
  if (kind === 'bert') {
    x = g.op(s, 'Add', [x, gather(init(`${e}.token_type_embeddings.weight`), 'token_type_ids')]);
  } else if (kind === 'roberta') {
    // No token_type_ids input: HF embeds the all-zero default, i.e. row 0 of the table.
    x = g.op(s, 'Add', [x, g.floatInit(`${e}.token_type_embeddings.weight.row0`, [H], param(`${e}.token_type_embeddings.weight`).slice(0, H))]);
  }
  let positions: string;
  if (kind === 'roberta') {
    // create_position_ids_from_input_ids: cumsum(id != pad) * (id != pad) + pad.
    const pad = g.int64([cfg.padTokenId]);
    const notPad = g.op(s, 'Cast', [g.op(s, 'Not', [g.op(s, 'Equal', ['input_ids', pad])])], [{ name: 'to', type: 'int', value: DataType.INT64 }]);
    const count = g.op(s, 'CumSum', [notPad, g.int64([1], [])]);
    positions = gather(init(`${e}.position_embeddings.weight`), g.op(s, 'Add', [g.op(s, 'Mul', [count, notPad]), pad]));
  } else {
    // Rows 0..T-1 of the table, T read from input_ids at run time.
    const seqLen = g.op(s, 'Shape', ['input_ids'], [{ name: 'start', type: 'int', value: 1 }, { name: 'end', type: 'int', value: 2 }]);
    positions = g.op(s, 'Slice', [init(`${e}.position_embeddings.weight`), g.int64([0]), seqLen, g.int64([0])]);
  }
  x = g.op(s, 'Add', [x, positions]);
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

  const inputs = kind === 'bert' ? ['input_ids', 'attention_mask', 'token_type_ids'] : ['input_ids', 'attention_mask'];
  return tokenClassificationModel(g, model, inputs, `hidden_act ${cfg.hiddenAct}`, opts.producerVersion);
}

/**
 * The ModelDef of a token-classification graph whose last node wrote `logits`: int64 inputs and
 * float logits [batch_size, sequence_length(, num_labels)], the label names in the metadata.
 */
export function tokenClassificationModel(g: GraphBuilder, model: TokenClassifier, inputs: readonly string[], detail: string, producerVersion = VERSION): ModelDef {
  const cfg = model.config, numLabels = model.numLabels;
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

/** The same function under its first name (BERT was the only architecture then). */
export const buildBertOnnxModel = buildEncoderOnnxModel;

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
