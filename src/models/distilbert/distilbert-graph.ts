/** DistilBERT's embeddings in the shared encoder graph (encoder-graph.ts): word + position rows 0..T-1, no token types. */
import { encoderGraph, gatherRows, sequentialPositions } from '../encoder/encoder-graph.js';

export const distilbertOnnxGraph = encoderGraph({
  inputs: ['input_ids', 'attention_mask'],
  sum(g, w, _cfg, e, s) {
    const x = gatherRows(g, s, w.init(`${e}.word_embeddings.weight`), 'input_ids');
    return g.op(s, 'Add', [x, sequentialPositions(g, w, e, s)]);
  },
});
