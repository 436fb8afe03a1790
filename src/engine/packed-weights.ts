/**
 * Linear weights packed once for inference. Every GEMM packs its B operand (the weight, for
 * x W^T) into the micro-kernel's panel layout; a model that only predicts would repack the same
 * weights on every forward pass (a tenth of a batch-1 BERT-base pass on AVX-512). A caller that owns
 * a model for inference (the pipeline) opts its parameters in with `packForInference`; the linear
 * ops then use the packed copy in passes without a graph. Packs are made on first use (only
 * matrices that are multiplied get one) and cost the weights' size in memory once more.
 *
 * Packs follow the weights' values through `weightsChanged()`, which whatever writes parameters
 * in place calls (the optimizer step, checkpoint loads); a pack made before it is remade on its
 * next use. Code that writes parameter arrays directly must call it too.
 */
import { isGradEnabled } from './autograd.js';
import type { Kernels } from './kernels.js';
import { matmulPrecision } from './ops/precision.js';
import type { Tensor } from './tensor.js';

interface Pack {
  generation: number;
  kernels: Kernels;
  packed: Float32Array | null;
}

/** Buffers whose matrices may be packed, each with its packs by offset and shape. */
const buffers = new WeakMap<ArrayBufferLike, Map<string, Pack>>();
let generation = 0;

/** Lets the linear ops keep packed copies of these tensors' weights (and of views into their buffers). */
export function packForInference(tensors: Iterable<Tensor>): void {
  for (const t of tensors) {
    if (t.data instanceof Float32Array && !buffers.has(t.data.buffer)) buffers.set(t.data.buffer, new Map());
  }
}

/** Parameters were written in place: packs made before are remade on their next use. */
export function weightsChanged(): void {
  generation++;
}

/**
 * The packed op(B) of weight w ([n, k], used as x W^T) for K.gemm, or null: not opted in, a pass
 * that records a graph (training updates the weights after it), bf16 matmuls, or kernels without
 * a packed layout.
 */
export function packedWeight(K: Kernels, w: Tensor, n: number, k: number): Float32Array | null {
  const f = w.data;
  if (!(f instanceof Float32Array) || isGradEnabled() || matmulPrecision() !== 'fp32') return null;
  const packs = buffers.get(f.buffer);
  if (!packs) return null;
  const key = `${f.byteOffset}:${n}:${k}`;
  let p = packs.get(key);
  if (!p || p.generation !== generation || p.kernels !== K) {
    p = { generation, kernels: K, packed: K.packGemmB(f, true, n, k) };
    packs.set(key, p);
  }
  return p.packed;
}
