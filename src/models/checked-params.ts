/**
 * What every architecture's class shares: parameters checked against the architecture's specs
 * (every name, every shape) when it is built, in HF order, and the label count of its head.
 */
import type { Tensor } from '../engine/index.js';
import type { ModelConfig } from './model-config.js';
import type { ParamSpec } from './init.js';

export abstract class CheckedParams {
  /** `params` must hold every name of `specs` with its shape; errors name `className`. */
  constructor(
    readonly config: ModelConfig,
    readonly params: Map<string, Tensor>,
    specs: readonly ParamSpec[],
    className: string,
  ) {
    for (const s of specs) {
      const t = params.get(s.name);
      if (!t) throw new Error(`${className}: missing parameter ${s.name}`);
      if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
        throw new Error(`${className}: ${s.name} has shape [${t.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
      }
    }
  }

  get numLabels(): number {
    return this.config.labels.length;
  }

  /** Parameters in HF order. */
  parameters(): [string, Tensor][] {
    return [...this.params.entries()];
  }

  protected p(name: string): Tensor {
    return this.params.get(name)!;
  }
}
