/**
 * ModernBertForTokenClassification as an ONNX graph (opset 17), inputs input_ids and
 * attention_mask (int64 [batch_size, sequence_length]), output logits, as optimum exports it.
 * The graph spells out transformers' modeling_modernbert.py (the padded eager path):
 *   x = LN(tok_embeddings[input_ids]); per layer: x += Wo(attention(rope(Wqkv(attn_norm(x)))));
 *   x += Wo(gelu(Wi_in) * Wi_gate) of mlp_norm(x); then final_norm, head (dense, gelu, norm), classifier.
 * Rotary cos/sin are computed in the graph for the run's sequence length (positions times the
 * float32 inverse frequencies, as transformers does); sliding layers take the key-padding mask
 * combined (Min) with the window |i - j| <= local_attention / 2, global layers the padding mask alone.
 */
import type { TokenClassifier } from '../forward.js';
import { modernBertOptions } from './modernbert-config.js';
import { DataType, type ModelDef } from '../../onnx/onnx-proto.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { FLOAT32_MIN, gelu, tokenClassificationModel } from '../token-classification-graph.js';
import { graphWeights, OnnxExportError } from '../../onnx/graph-weights.js';

const GELU_NAME = { erf: 'gelu', tanh: 'gelu_pytorch_tanh' } as const;

export function buildModernBertOnnxModel(model: TokenClassifier, opts: { producerVersion?: string } = {}): ModelDef {
  const cfg = model.config;
  if (model.architecture !== 'ModernBertForTokenClassification' || cfg.modelType !== 'modernbert') {
    throw new OnnxExportError(`buildModernBertOnnxModel: this model is ${model.architecture} (model_type '${cfg.modelType}')`);
  }
  const o = modernBertOptions(cfg);
  if (model.numLabels < 1) throw new OnnxExportError('the model has no token-classification head (config.json id2label is empty)');
  const H = cfg.hiddenSize,
    nh = cfg.numAttentionHeads,
    d = H / nh,
    half = d / 2;
  const g = new GraphBuilder();
  const w = graphWeights(g, model.params);
  const { init, linear } = w;
  const layerNorm = (s: string, x: string, name: string): string => w.layerNorm(s, x, name, o.normEps);
  const axis = (v: number) => [{ name: 'axis', type: 'int' as const, value: v }];
  const perm = (p: number[]) => [{ name: 'perm', type: 'ints' as const, value: p }];
  const slice = (s: string, x: string, start: number, end: number, ax: number) =>
    g.op(s, 'Slice', [x, g.int64([start]), g.int64([end]), g.int64([ax])]);

  let s = '/model/embeddings';
  let x = layerNorm(
    `${s}/norm`,
    g.op(s, 'Gather', [init('model.embeddings.tok_embeddings.weight'), 'input_ids'], axis(0)),
    'model.embeddings.norm',
  );

  // Positions 0..T-1 (int64 and float), the padding mask [B, 1, 1, T] and the window mask [B, 1, T, T].
  s = '/model/masks';
  const T = g.op(s, 'Squeeze', [
    g.op(
      s,
      'Shape',
      ['input_ids'],
      [
        { name: 'start', type: 'int', value: 1 },
        { name: 'end', type: 'int', value: 2 },
      ],
    ),
    g.int64([0]),
  ]);
  const pos = g.op(s, 'Range', [g.int64([0], []), T, g.int64([1], [])]);
  const maskF = g.op(s, 'Cast', ['attention_mask'], [{ name: 'to', type: 'int', value: DataType.FLOAT }]);
  const padMask = g.op(s, 'Unsqueeze', [g.op(s, 'Mul', [g.op(s, 'Sub', [g.scalar(1), maskF]), g.scalar(FLOAT32_MIN)]), g.int64([1, 2])]);
  const dist = g.op(s, 'Abs', [g.op(s, 'Sub', [g.op(s, 'Unsqueeze', [pos, g.int64([1])]), g.op(s, 'Unsqueeze', [pos, g.int64([0])])])]);
  const outside = g.op(s, 'Greater', [dist, g.int64([Math.floor(o.localAttention / 2)], [])]);
  const windowMask = g.op(s, 'Min', [padMask, g.op(s, 'Where', [outside, g.scalar(FLOAT32_MIN), g.scalar(0)])]);

  // cos/sin [T, d] for each rotary base: emb = cat(freqs, freqs), freqs = position * inv_freq (float32).
  const posF = g.op('/model/rotary_emb', 'Unsqueeze', [
    g.op('/model/rotary_emb', 'Cast', [pos], [{ name: 'to', type: 'int', value: DataType.FLOAT }]),
    g.int64([1]),
  ]);
  const rope = (theta: number, tag: string) => {
    const sc = `/model/rotary_emb/${tag}`;
    const f = Math.fround;
    const inv = Float32Array.from({ length: half }, (_, i) => f(1 / f(theta ** f(f(2 * i) / d))));
    const freqs = g.op(sc, 'Mul', [posF, g.floatInit(`rotary_emb.${tag}_inv_freq`, [half], inv)]);
    const emb = g.op(sc, 'Concat', [freqs, freqs], axis(-1));
    return { cos: g.op(sc, 'Cos', [emb]), sin: g.op(sc, 'Sin', [emb]) };
  };
  const ropes = {
    full_attention: rope(o.globalRopeTheta, 'full_attention'),
    sliding_attention: rope(o.localRopeTheta, 'sliding_attention'),
  };

  const scale = g.scalar(1 / Math.sqrt(d));
  const qkvShape = g.int64([0, 0, 3, nh, d]),
    hiddenShape = g.int64([0, 0, H]);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `model.layers.${l}`,
      sl = `/model/layers.${l}`;
    const type = o.layerTypes[l];
    s = `${sl}/attn`;
    const a = l === 0 ? x : layerNorm(`${sl}/attn_norm`, x, `${p}.attn_norm`);
    const qkv = g.op(s, 'Transpose', [g.op(s, 'Reshape', [linear(`${s}/Wqkv`, a, `${p}.attn.Wqkv`), qkvShape])], perm([2, 0, 3, 1, 4]));
    const part = (i: number) => g.op(s, 'Gather', [qkv, g.int64([i], [])], axis(0)); // [B, nh, T, d]
    const { cos, sin } = ropes[type];
    const rotary = (t: string) => {
      const rot = g.op(s, 'Concat', [g.op(s, 'Neg', [slice(s, t, half, d, 3)]), slice(s, t, 0, half, 3)], axis(3));
      return g.op(s, 'Add', [g.op(s, 'Mul', [t, cos]), g.op(s, 'Mul', [rot, sin])]);
    };
    const q = rotary(part(0)),
      k = rotary(part(1)),
      v = part(2);
    const scores = g.op(s, 'Add', [
      g.op(s, 'Mul', [g.op(s, 'MatMul', [q, g.op(s, 'Transpose', [k], perm([0, 1, 3, 2]))]), scale]),
      type === 'sliding_attention' ? windowMask : padMask,
    ]);
    const probs = g.op(s, 'Softmax', [scores], axis(-1));
    const ctx = g.op(s, 'Reshape', [g.op(s, 'Transpose', [g.op(s, 'MatMul', [probs, v])], perm([0, 2, 1, 3])), hiddenShape]);
    x = g.op(sl, 'Add', [x, linear(`${s}/Wo`, ctx, `${p}.attn.Wo`)]);
    s = `${sl}/mlp`;
    const inner = linear(`${s}/Wi`, layerNorm(`${sl}/mlp_norm`, x, `${p}.mlp_norm`), `${p}.mlp.Wi`);
    const I = cfg.intermediateSize;
    const act = gelu(g, `${s}/act`, slice(s, inner, 0, I, 2), GELU_NAME[o.hiddenActivation]);
    x = g.op(sl, 'Add', [x, linear(`${s}/Wo`, g.op(s, 'Mul', [act, slice(s, inner, I, 2 * I, 2)]), `${p}.mlp.Wo`)]);
  }
  x = layerNorm('/model/final_norm', x, 'model.final_norm');
  x = layerNorm('/head/norm', gelu(g, '/head/act', linear('/head/dense', x, 'head.dense'), GELU_NAME[o.classifierActivation]), 'head.norm');
  linear('/classifier', x, 'classifier', 'logits');

  return tokenClassificationModel(g, model, ['input_ids', 'attention_mask'], `layer types ${o.layerTypes.join(',')}`, opts.producerVersion);
}
