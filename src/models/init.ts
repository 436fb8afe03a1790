/** Parameter specs and Hugging Face's weight initialisation (_init_weights). */
import { Rng, Tensor, parameter, deriveSeed } from '../engine/index.js';

export interface ParamSpec {
  name: string;
  shape: number[];
  /**
   * normal(0, initializer_range) for Linear/Embedding weights, zeros for biases, ones for LayerNorm
   * weights; 'sinusoidal': DistilBERT's fixed sin/cos position table (sinusoidal_pos_embds).
   */
  init: 'normal' | 'zeros' | 'ones' | 'sinusoidal';
  /** Embedding row that HF zeroes after init (padding_idx). */
  paddingIdx?: number;
  /** Standard deviation for 'normal' when it differs from the config's initializer_range. */
  std?: number;
  /** Truncation of 'normal' at +-cutoff * std (torch's trunc_normal_, redrawn outside the bounds). */
  cutoff?: number;
}

/** Fresh tensor for one spec. Each parameter gets its own RNG stream, so adding one never shifts the others. */
export function initParameter(spec: ParamSpec, std: number, seed: number): Tensor {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  if (spec.init === 'ones') data.fill(1);
  else if (spec.init === 'sinusoidal') sinusoidalTable(data, spec.shape[0]!, spec.shape[1]!);
  else if (spec.init === 'normal') {
    const rng = Rng.fromSeed(deriveSeed(seed, spec.name));
    const sd = spec.std ?? std,
      c = spec.cutoff ?? Infinity;
    for (let i = 0; i < n; i++) {
      let z = rng.normal();
      while (Math.abs(z) > c) z = rng.normal();
      data[i] = z * sd;
    }
    if (spec.paddingIdx !== undefined && spec.paddingIdx < spec.shape[0]) {
      const d = spec.shape[1];
      data.fill(0, spec.paddingIdx * d, (spec.paddingIdx + 1) * d);
    }
  }
  return parameter(data, spec.shape, spec.name);
}

export function initParameters(specs: readonly ParamSpec[], std: number, seed: number): Map<string, Tensor> {
  return new Map(specs.map((s) => [s.name, initParameter(s, std, seed)]));
}

/**
 * modeling_distilbert's _create_sinusoidal_embeddings: angle pos / 10000^(2 floor(j/2) / dim) in
 * float64, sin in even columns, cos in odd ones, rounded to float32.
 */
function sinusoidalTable(out: Float32Array, nPos: number, dim: number): void {
  for (let pos = 0; pos < nPos; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / 10000 ** ((2 * Math.floor(j / 2)) / dim);
      out[pos * dim + j] = j % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
    }
  }
}
