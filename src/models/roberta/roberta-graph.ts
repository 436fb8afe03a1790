/**
 * RoBERTa's and XLM-RoBERTa's embeddings in the shared encoder graph (encoder-graph.ts), inputs
 * as optimum exports them (no token_type_ids): word + token type row 0 + positions counted from
 * padding_idx + 1 over the non-pad tokens.
 */
import { DataType } from '../../onnx/onnx-proto.js';
import { encoderGraph, gatherRows } from '../encoder/encoder-graph.js';

export const robertaOnnxGraph = encoderGraph({
  inputs: ['input_ids', 'attention_mask'],
  sum(g, w, cfg, e, s) {
    let x = gatherRows(g, s, w.init(`${e}.word_embeddings.weight`), 'input_ids');
    // No token_type_ids input: HF embeds the all-zero default, i.e. row 0 of the table.
    const H = cfg.hiddenSize;
    x = g.op(s, 'Add', [
      x,
      g.floatInit(`${e}.token_type_embeddings.weight.row0`, [H], w.param(`${e}.token_type_embeddings.weight`).slice(0, H)),
    ]);
    // create_position_ids_from_input_ids: cumsum(id != pad) * (id != pad) + pad.
    const pad = g.int64([cfg.padTokenId]);
    const notPad = g.op(
      s,
      'Cast',
      [g.op(s, 'Not', [g.op(s, 'Equal', ['input_ids', pad])])],
      [{ name: 'to', type: 'int', value: DataType.INT64 }],
    );
    const count = g.op(s, 'CumSum', [notPad, g.int64([1], [])]);
    const positions = gatherRows(g, s, w.init(`${e}.position_embeddings.weight`), g.op(s, 'Add', [g.op(s, 'Mul', [count, notPad]), pad]));
    return g.op(s, 'Add', [x, positions]);
  },
});
