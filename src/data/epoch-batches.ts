import { collate } from './collate.js';
import type { Batch, CollateOptions } from './collate.js';
import type { Feature } from './features.js';
import { lengthGroupedOrder, sequentialOrder, shuffledOrder } from './samplers.js';

export type SamplerKind = 'sequential' | 'random' | 'length-grouped';

export interface LoaderOptions extends CollateOptions {
  batchSize: number;
  /** Default 'sequential'. */
  sampler?: SamplerKind;
  /** Seed for 'random' and 'length-grouped'. Default 42 (HF's TrainingArguments default). */
  seed?: number;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  padId: number;
}

/**
 * Yields padded batches. The order of epoch e depends only on (seed, epoch), so a run resumed
 * at global step N recomputes the same order and skips the batches already done:
 * `batchesForEpoch(e, { skip: N - e * batchesPerEpoch })`.
 */
export class DataLoader {
  readonly batchSize: number;
  readonly sampler: SamplerKind;
  readonly seed: number;

  constructor(
    readonly features: readonly Feature[],
    private readonly opts: LoaderOptions,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
      throw new RangeError(`batchSize must be a positive integer, got ${opts.batchSize}`);
    this.batchSize = opts.batchSize;
    this.sampler = opts.sampler ?? 'sequential';
    this.seed = opts.seed ?? 42;
  }

  get batchesPerEpoch(): number {
    const n = this.features.length;
    return this.opts.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Feature indices of epoch `epoch`, in the order they are served. */
  order(epoch: number): Int32Array {
    const n = this.features.length;
    switch (this.sampler) {
      case 'sequential':
        return sequentialOrder(n);
      case 'random':
        return shuffledOrder(n, this.seed, epoch);
      case 'length-grouped':
        return lengthGroupedOrder(
          this.features.map((f) => f.inputIds.length),
          this.batchSize,
          this.seed,
          epoch,
        );
    }
  }

  /** Feature indices per batch for an epoch. */
  batchIndices(epoch: number): Int32Array[] {
    const order = this.order(epoch);
    const out: Int32Array[] = [];
    for (let i = 0; i < this.batchesPerEpoch; i++)
      out.push(order.subarray(i * this.batchSize, Math.min((i + 1) * this.batchSize, order.length)));
    return out;
  }

  /** Batches of one epoch, optionally skipping the first `skip` (for resuming mid-epoch). */
  *batchesForEpoch(epoch: number, opts: { skip?: number } = {}): Generator<Batch> {
    const skip = opts.skip ?? 0;
    if (!Number.isInteger(skip) || skip < 0) throw new RangeError(`skip must be a non-negative integer, got ${skip}`);
    const batches = this.batchIndices(epoch);
    for (let i = skip; i < batches.length; i++) {
      const idx = batches[i]!;
      yield collate(
        Array.from(idx, (j) => this.features[j]!),
        this.opts.padId,
        this.opts,
      );
    }
  }
}
