/**
 * DebertaV2ForTokenClassification (DeBERTa-v3) as an ONNX graph (opset 17) with optimum's
 * interface: input_ids, attention_mask (and token_type_ids when type_vocab_size > 0), output
 * logits. It spells out transformers' modeling_deberta_v2.py:
 *   x      = LN(embed_proj(word[ids] [+ position[0..T-1]] [+ token_type[types]])) * mask
 *   rel    = LN(rel_embeddings) when norm_rel_ebd has layer_norm, shared by every layer
 *   scores = q k^T / s + c2p + p2c, s = sqrt(head_dim * (1 + #c2p + #p2c)), with
 *            c2p[i, j] = q_i . pos_key[idx(i, j)] / s and p2c[i, j] = k_j . pos_query[idx(i, j)] / s
 *   probs  = softmax(where(mask_i and mask_j, scores, float32.min)) (masked_fill, as transformers)
 *   layer  = LN(x + Wo(probs V)); LN(. + W2 GELU(W1 .)); logits = classifier(x)
 * idx(i, j) = clamp(bucket(i - j) + span, 0, 2 span - 1) comes from a table over the relative
 * distance, built here with the same float32 log-bucket arithmetic as the model: beyond
 * +-max(span, max_relative_positions) every index is already clamped, so the table clips the
 * distance and serves any sequence length.
 */
import type { TokenClassifier } from '../forward.js';
import { DebertaV2ForTokenClassification } from './deberta-v2.js';
import { logBucketPosition } from './deberta-v2-config.js';
import { DataType, type ModelDef } from '../../onnx/onnx-proto.js';
import { GraphBuilder } from '../../onnx/graph-builder.js';
import { graphWeights, OnnxExportError } from '../../onnx/graph-weights.js';
import { FLOAT32_MIN, gelu, scopeOf, tokenClassificationModel } from '../token-classification-graph.js';

/** The relative-index table over distances -reach..reach and its reach (see the file comment). */
export function relativeIndexTable(o: DebertaV2ForTokenClassification['options']): { table: number[]; reach: number } {
  const reach = Math.max(o.span, o.maxRelativePositions);
  const table = new Array<number>(2 * reach + 1);
  for (let d = -reach; d <= reach; d++) {
    const r = o.positionBuckets > 0 ? logBucketPosition(d, o.positionBuckets, o.maxRelativePositions) : d;
    table[d + reach] = Math.min(Math.max(r + o.span, 0), 2 * o.span - 1);
  }
  return { table, reach };
}

export function buildDebertaV2OnnxModel(model: TokenClassifier, opts: { producerVersion?: string } = {}): ModelDef {
  if (!(model instanceof DebertaV2ForTokenClassification)) {
    throw new OnnxExportError(`buildDebertaV2OnnxModel: this model is ${model.architecture} (model_type '${model.config.modelType}')`);
  }
  const cfg = model.config,
    o = model.options;
  if (model.numLabels < 1) throw new OnnxExportError('the model has no token-classification head (config.json id2label is empty)');
  const H = cfg.hiddenSize,
    nh = cfg.numAttentionHeads,
    hd = H / nh;
  const g = new GraphBuilder();
  const w = graphWeights(g, model.params);
  const layerNorm = (s: string, x: string, name: string): string => w.layerNorm(s, x, name, cfg.layerNormEps);
  const axis = (v: number) => [{ name: 'axis', type: 'int' as const, value: v }];
  const perm = (p: number[]) => [{ name: 'perm', type: 'ints' as const, value: p }];
  const toFloat = [{ name: 'to', type: 'int' as const, value: DataType.FLOAT }];
  const withTypes = cfg.typeVocabSize > 0;

  // Embeddings.
  const e = 'deberta.embeddings';
  let s = scopeOf(e);
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
  let x = g.op(s, 'Gather', [w.init(`${e}.word_embeddings.weight`), 'input_ids'], axis(0));
  if (o.positionBiasedInput) {
    // Rows 0..T-1 of the table (position ids default to arange(T)).
    x = g.op(s, 'Add', [
      x,
      g.op(s, 'Slice', [w.init(`${e}.position_embeddings.weight`), g.int64([0]), g.op(s, 'Unsqueeze', [T, g.int64([0])]), g.int64([0])]),
    ]);
  }
  if (withTypes) x = g.op(s, 'Add', [x, g.op(s, 'Gather', [w.init(`${e}.token_type_embeddings.weight`), 'token_type_ids'], axis(0))]);
  if (o.embeddingSize !== H) x = w.linear(`${s}/embed_proj`, x, `${e}.embed_proj`);
  x = layerNorm(`${s}/LayerNorm`, x, `${e}.LayerNorm`);
  const maskF = g.op(s, 'Cast', ['attention_mask'], toFloat);
  x = g.op(s, 'Mul', [x, g.op(s, 'Unsqueeze', [maskF, g.int64([2])])]);

  // Masks [B, 1, T, T]: a query row and a key column both real (get_attention_mask's product).
  s = '/deberta/encoder/attention_mask';
  const real = g.op(s, 'Cast', ['attention_mask'], [{ name: 'to', type: 'int', value: DataType.BOOL }]);
  const mask2d = g.op(s, 'And', [g.op(s, 'Unsqueeze', [real, g.int64([1, 3])]), g.op(s, 'Unsqueeze', [real, g.int64([1, 2])])]);

  // Relative positions: idx [T, T] from the distance table, and the relative embeddings.
  let relIdxT: { c2p: string; p2c: string } | null = null;
  let rel: string | null = null;
  if (o.relativeAttention) {
    s = '/deberta/encoder/relative_position';
    const { table, reach } = relativeIndexTable(o);
    const tableName = g.int64(table);
    const pos = g.op(s, 'Range', [g.int64([0], []), T, g.int64([1], [])]);
    const dist = g.op(s, 'Sub', [g.op(s, 'Unsqueeze', [pos, g.int64([1])]), g.op(s, 'Unsqueeze', [pos, g.int64([0])])]);
    const clipped = g.op(s, 'Min', [g.op(s, 'Max', [dist, g.int64([-reach], [])]), g.int64([reach], [])]);
    const idx = g.op(s, 'Gather', [tableName, g.op(s, 'Add', [clipped, g.int64([reach], [])])], axis(0));
    // p2c gathers along its key rows: index [j, i] = idx[i, j] (the buckets are antisymmetric).
    relIdxT = { c2p: idx, p2c: g.op(s, 'Transpose', [idx], perm([1, 0])) };
    const rw = 'deberta.encoder.rel_embeddings.weight';
    rel = o.normRelEmbeddings ? layerNorm('/deberta/encoder/LayerNorm', w.init(rw), 'deberta.encoder.LayerNorm') : w.init(rw);
  }

  const factor = 1 + (o.c2p ? 1 : 0) + (o.p2c ? 1 : 0);
  const scale = g.scalar(Math.sqrt(hd * factor));
  const headShape = g.int64([0, 0, nh, hd]);
  const relHeadShape = g.int64([2 * o.span, nh, hd]);
  const hiddenShape = g.int64([0, 0, H]);
  for (let l = 0; l < cfg.numHiddenLayers; l++) {
    const p = `deberta.encoder.layer.${l}`,
      a = `${p}.attention.self`;
    s = scopeOf(a);
    const heads = (name: string, order: number[]): string => {
      const sc = scopeOf(`${a}.${name}`);
      return g.op(sc, 'Transpose', [g.op(sc, 'Reshape', [w.linear(sc, x, `${a}.${name}`), headShape])], perm(order));
    };
    const q = heads('query_proj', [0, 2, 1, 3]); // [B, nh, T, hd]
    const kT = heads('key_proj', [0, 2, 3, 1]); // [B, nh, hd, T]
    const v = heads('value_proj', [0, 2, 1, 3]);
    let scores = g.op(s, 'Div', [g.op(s, 'MatMul', [q, kT]), scale]);
    if (rel && relIdxT) {
      // The relative embeddings through this layer's projections: [nh, hd, 2 span].
      const relHeads = (name: string): string => {
        const sc = `${s}/${name}/rel`;
        return g.op(sc, 'Transpose', [g.op(sc, 'Reshape', [w.linear(sc, rel, `${a}.${name}`), relHeadShape])], perm([1, 2, 0]));
      };
      const gatherRel = (sc: string, all: string, index: string): string =>
        g.op(sc, 'GatherElements', [all, g.op(sc, 'Expand', [index, g.op(sc, 'Shape', [scores])])], axis(-1));
      if (o.c2p) {
        const sc = `${s}/c2p`;
        const all = g.op(sc, 'MatMul', [q, relHeads(o.shareAttKey ? 'key_proj' : 'pos_key_proj')]); // [B, nh, T, 2 span]
        scores = g.op(sc, 'Add', [scores, g.op(sc, 'Div', [gatherRel(sc, all, relIdxT.c2p), scale])]);
      }
      if (o.p2c) {
        const sc = `${s}/p2c`;
        const k = g.op(sc, 'Transpose', [kT], perm([0, 1, 3, 2]));
        const all = g.op(sc, 'MatMul', [k, relHeads(o.shareAttKey ? 'query_proj' : 'pos_query_proj')]); // [B, nh, T(keys), 2 span]
        const byKey = gatherRel(sc, all, relIdxT.p2c);
        scores = g.op(sc, 'Add', [scores, g.op(sc, 'Div', [g.op(sc, 'Transpose', [byKey], perm([0, 1, 3, 2])), scale])]);
      }
    }
    const masked = g.op(s, 'Where', [mask2d, scores, g.scalar(FLOAT32_MIN)]);
    const probs = g.op(s, 'Softmax', [masked], axis(-1));
    const ctx = g.op(s, 'Reshape', [g.op(s, 'Transpose', [g.op(s, 'MatMul', [probs, v])], perm([0, 2, 1, 3])), hiddenShape]);

    const o1 = `${p}.attention.output`;
    const x1 = layerNorm(
      scopeOf(`${o1}.LayerNorm`),
      g.op(scopeOf(o1), 'Add', [w.linear(scopeOf(`${o1}.dense`), ctx, `${o1}.dense`), x]),
      `${o1}.LayerNorm`,
    );
    const inter = gelu(
      g,
      `${scopeOf(`${p}.intermediate`)}/act`,
      w.linear(scopeOf(`${p}.intermediate.dense`), x1, `${p}.intermediate.dense`),
      cfg.hiddenAct,
    );
    const o2 = `${p}.output`;
    x = layerNorm(
      scopeOf(`${o2}.LayerNorm`),
      g.op(scopeOf(o2), 'Add', [w.linear(scopeOf(`${o2}.dense`), inter, `${o2}.dense`), x1]),
      `${o2}.LayerNorm`,
    );
  }
  w.linear('/classifier', x, 'classifier', 'logits');

  const inputs = withTypes ? ['input_ids', 'attention_mask', 'token_type_ids'] : ['input_ids', 'attention_mask'];
  const detail = o.relativeAttention
    ? `relative attention span ${o.span}, buckets ${o.positionBuckets}, ${[o.c2p && 'c2p', o.p2c && 'p2c'].filter(Boolean).join('+')}`
    : 'no relative attention';
  return tokenClassificationModel(g, model, inputs, detail, opts.producerVersion);
}
