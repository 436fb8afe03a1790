/**
 * A model's weights inside a GraphBuilder graph: initializers named as Hugging Face names the
 * parameters, and the two weight-bearing operations every encoder graph uses (Linear, LayerNorm).
 * Linear weights are stored transposed ([in, out], named `<hf name>.T`) so each projection is a
 * plain MatMul (+ Add), the form onnxruntime's optimizer fuses.
 */
import type { Tensor } from '../engine/index.js';
import type { GraphBuilder } from './graph-builder.js';

export class OnnxExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxExportError';
  }
}

export interface GraphWeights {
  has(name: string): boolean;
  /** The parameter's values as float32. */
  param(name: string): Float32Array;
  shape(name: string): readonly number[];
  /** The parameter as an initializer of its own shape (embeddings, LayerNorm, biases). */
  init(name: string): string;
  /** x @ W^T (+ b when the model has `<name>.bias`) for HF's Linear(weight [out, in]). */
  linear(scope: string, x: string, name: string, output?: string): string;
  /** LayerNormalization over the last axis (bias-free when the model has no `<name>.bias`). */
  layerNorm(scope: string, x: string, name: string, eps: number): string;
}

export function graphWeights(g: GraphBuilder, params: Map<string, Tensor>): GraphWeights {
  const tensor = (name: string): Tensor => {
    const t = params.get(name);
    if (!t) throw new OnnxExportError(`the model lacks parameter ${name}`);
    return t;
  };
  const has = (name: string): boolean => params.has(name);
  const param = (name: string): Float32Array => {
    const f = tensor(name).f;
    return f instanceof Float32Array ? f : Float32Array.from(f);
  };
  const shape = (name: string): readonly number[] => tensor(name).shape;
  // Each initializer once, however many nodes use it (DeBERTa's shared keys project twice).
  const made = new Set<string>();
  const once = (name: string, make: () => string): string => (made.has(name) ? name : (made.add(name), make()));
  const init = (name: string): string => once(name, () => g.floatInit(name, shape(name), param(name)));
  return {
    has,
    param,
    shape,
    init,
    linear(scope, x, name, output) {
      const [out, inF] = shape(`${name}.weight`) as [number, number];
      const wt = once(`${name}.weight.T`, () => g.floatInit(`${name}.weight.T`, [inF, out], transpose(param(`${name}.weight`), out, inF)));
      if (!has(`${name}.bias`)) return g.op(scope, 'MatMul', [x, wt], [], output);
      return g.op(scope, 'Add', [g.op(scope, 'MatMul', [x, wt]), init(`${name}.bias`)], [], output);
    },
    layerNorm(scope, x, name, eps) {
      return g.op(
        scope,
        'LayerNormalization',
        [x, init(`${name}.weight`), ...(has(`${name}.bias`) ? [init(`${name}.bias`)] : [])],
        [
          { name: 'axis', type: 'int', value: -1 },
          { name: 'epsilon', type: 'float', value: eps },
        ],
      );
    },
  };
}

/** [rows, cols] -> [cols, rows], row-major. */
export function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[c * rows + r] = a[o + c]!;
  }
  return out;
}
