// Derived step counts (HF Trainer.set_initial_training_values and the *_steps ratio rule).

export interface StepPlan {
  /** Optimizer steps per epoch: ceil(batches / gradient_accumulation_steps), at least 1. */
  updateStepsPerEpoch: number;
  /** Total optimizer steps. */
  maxSteps: number;
  /** Whole epochs the loop will start (the last one may be cut short by maxSteps). */
  numTrainEpochs: number;
}

export function planTrainingSteps(p: {
  numBatchesPerEpoch: number;
  gradientAccumulationSteps: number;
  numTrainEpochs: number;
  maxSteps: number;
}): StepPlan {
  const ga = p.gradientAccumulationSteps;
  if (!Number.isInteger(p.numBatchesPerEpoch) || p.numBatchesPerEpoch < 0)
    throw new RangeError(`numBatchesPerEpoch must be a non-negative integer, got ${p.numBatchesPerEpoch}`);
  if (!Number.isInteger(ga) || ga < 1) throw new RangeError(`gradient_accumulation_steps must be a positive integer, got ${ga}`);
  const perEpoch = Math.max(Math.floor(p.numBatchesPerEpoch / ga) + (p.numBatchesPerEpoch % ga > 0 ? 1 : 0), 1);
  if (p.maxSteps > 0) {
    return {
      updateStepsPerEpoch: perEpoch,
      maxSteps: p.maxSteps,
      numTrainEpochs: Math.floor(p.maxSteps / perEpoch) + (p.maxSteps % perEpoch > 0 ? 1 : 0),
    };
  }
  return { updateStepsPerEpoch: perEpoch, maxSteps: Math.ceil(p.numTrainEpochs * perEpoch), numTrainEpochs: Math.ceil(p.numTrainEpochs) };
}

/** logging/eval/save steps below 1 are ratios of the total: ceil(maxSteps * ratio), as HF. */
export function resolveStepInterval(value: number, maxSteps: number): number {
  return value < 1 ? Math.ceil(maxSteps * value) : value;
}
