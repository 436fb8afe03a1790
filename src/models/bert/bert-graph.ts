/** BERT's embeddings in the shared encoder graph (encoder-graph.ts): word + token type + position rows 0..T-1. */
import { encoderGraph, gatherRows, sequentialPositions } from '../encoder/encoder-graph.js';

export const bertOnnxGraph = encoderGraph({
  inputs: ['input_ids', 'attention_mask', 'token_type_ids'],
  sum(g, w, _cfg, e, s) {
    // HF's order: (inputs_embeds + token_type_embeddings) + position_embeddings.
    let x = gatherRows(g, s, w.init(`${e}.word_embeddings.weight`), 'input_ids');
    x = g.op(s, 'Add', [x, gatherRows(g, s, w.init(`${e}.token_type_embeddings.weight`), 'token_type_ids')]);
    return g.op(s, 'Add', [x, sequentialPositions(g, w, e, s)]);
  },
});
