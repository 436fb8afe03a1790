/**
 * AdamW over one flat parameter buffer, as torch.optim.AdamW with the two parameter groups the
 * HF Trainer builds: weight decay for weights, none for biases and LayerNorm weights. Parameters
 * are laid out decay-group first, so each group is one contiguous slice and one fused kernel call.
 */
import { flattenParameters, kernels, weightsChanged, type FlatParameters, type Tensor } from '../engine/index.js';

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * HF Trainer's rule (transformers 5's get_decay_parameter_names): no decay for a parameter whose
 * lower-cased name contains "bias", "layernorm" or "rmsnorm", or a `norm` / `*_norm` module name
 * (LayerNorm modules are all named so in the architectures we load).
 */
const NO_DECAY = [/bias/, /layernorm/, /rmsnorm/, /(?:^|\.)norm(?:$|\.)/, /_norm(?:$|\.)/];
export function decays(name: string): boolean {
  const n = name.toLowerCase();
  return !NO_DECAY.some((re) => re.test(n));
}

export interface OptimizerState {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

export class AdamW {
  readonly flat: FlatParameters;
  /** Number of parameters in the decay group (they come first in the flat buffer). */
  readonly decayCount: number;
  step = 0;
  readonly m: Float32Array;
  readonly v: Float32Array;

  constructor(
    params: readonly [string, Tensor][],
    readonly opts: AdamWOptions,
  ) {
    const withDecay = params.filter(([n]) => decays(n)).map(([, t]) => t);
    const without = params.filter(([n]) => !decays(n)).map(([, t]) => t);
    this.flat = flattenParameters([...withDecay, ...without]);
    this.decayCount = withDecay.reduce((a, t) => a + t.size, 0);
    this.m = new Float32Array(this.flat.data.length);
    this.v = new Float32Array(this.flat.data.length);
  }

  zeroGrad(): void {
    this.flat.grad.fill(0);
  }

  /** Global L2 norm of the gradients (float64 accumulation). */
  gradNorm(): number {
    return Math.sqrt(kernels().sumSquares(this.flat.grad, this.flat.grad.length));
  }

  /** torch.nn.utils.clip_grad_norm_: scale by max/(norm + 1e-6) when norm > max. Returns the norm before clipping. */
  clipGradNorm(maxNorm: number): number {
    const norm = this.gradNorm();
    const f = clipFactor(norm, maxNorm);
    if (f !== 1) {
      const g = this.flat.grad;
      kernels().scale(g, f, g, g.length);
    }
    return norm;
  }

  /** One update with learning rate `lr` (the schedule's value for this step). */
  update(lr: number): void {
    this.apply(lr, 1, false);
  }

  /**
   * The Trainer's step: clip_grad_norm_(maxGradNorm) (0 = no clipping), the update, zero_grad(), with
   * the clipping factor applied and the gradients zeroed inside the update's single pass over them
   * (bit-identical to the three calls). Returns the gradient norm before clipping.
   */
  fusedStep(lr: number, maxGradNorm: number): number {
    const norm = this.gradNorm();
    this.apply(lr, clipFactor(norm, maxGradNorm), true);
    return norm;
  }

  private apply(lr: number, gradScale: number, zeroGrad: boolean): void {
    this.step++;
    weightsChanged();
    const { beta1, beta2, eps, weightDecay } = this.opts;
    const K = kernels();
    const { data, grad } = this.flat;
    const d = this.decayCount,
      n = data.length;
    K.adamw(
      data.subarray(0, d),
      grad.subarray(0, d),
      this.m.subarray(0, d),
      this.v.subarray(0, d),
      d,
      lr,
      beta1,
      beta2,
      eps,
      weightDecay,
      this.step,
      gradScale,
      zeroGrad,
    );
    K.adamw(
      data.subarray(d),
      grad.subarray(d),
      this.m.subarray(d),
      this.v.subarray(d),
      n - d,
      lr,
      beta1,
      beta2,
      eps,
      0,
      this.step,
      gradScale,
      zeroGrad,
    );
  }

  state(): OptimizerState {
    return { step: this.step, m: this.m, v: this.v };
  }

  loadState(s: OptimizerState): void {
    if (s.m.length !== this.m.length || s.v.length !== this.v.length) {
      throw new Error(`optimizer state has ${s.m.length} moments but the model has ${this.m.length} parameters`);
    }
    this.step = s.step;
    this.m.set(s.m);
    this.v.set(s.v);
  }
}

/** clip_grad_norm_'s factor: max / (norm + 1e-6) when norm exceeds max (> 0), else 1. */
function clipFactor(norm: number, maxNorm: number): number {
  return maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
}
