/** Embedding lookup; its backward is a scatter-add that sums repeated ids. */
import { needsGrad, record, gradOf } from '../autograd.js';
import { kernelsFor } from '../backend.js';
import { Tensor, shapeStr } from '../tensor.js';
import { ShapeError, checked, floatDtype } from './common.js';

/**
 * table [vocab, dim], ids int32 of any shape -> [...ids.shape, dim].
 * `paddingIdx` (torch's padding_idx): that row receives no gradient.
 */
export function embedding(table: Tensor, ids: Tensor, paddingIdx?: number): Tensor {
  const dt = floatDtype('embedding', table);
  if (table.shape.length !== 2) throw new ShapeError('embedding', 'table must be 2-D [vocab, dim]', table);
  const [vocab, dim] = table.shape;
  const idv = ids.i;
  for (let i = 0; i < idv.length; i++) {
    if (idv[i] < 0 || idv[i] >= vocab) {
      throw new RangeError(
        `embedding ${table.name ?? ''}: id ${idv[i]} at position ${i} of ids ${shapeStr(ids.shape)} is outside [0, ${vocab})`,
      );
    }
  }
  const K = kernelsFor(table.f);
  const y = Tensor.empty([...ids.shape, dim], dt);
  K.embeddingForward(table.f, idv, y.f, idv.length, dim);
  if (needsGrad(table)) {
    record(y, 'embedding', [table], (g) => {
      const gt = gradOf(table);
      const pad = paddingIdx !== undefined && paddingIdx >= 0 && paddingIdx < vocab ? paddingIdx * dim : -1;
      // Restoring the padding row afterwards keeps the kernel simple and the row's gradient unchanged.
      const saved = pad >= 0 ? gt.slice(pad, pad + dim) : null;
      K.embeddingBackward(g, idv, gt, idv.length, dim);
      if (saved) gt.set(saved, pad);
    });
  }
  return checked('embedding', y);
}
