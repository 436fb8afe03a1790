/** The engine: tensors, autograd, ops and kernels. */
export { Tensor, tidy, clearPool, poolStats, sizeOf, shapeStr, type DType, type TensorData, type GradNode } from './tensor.js';
export { backward, noGrad, isGradEnabled, needsGrad, record, gradOf } from './autograd.js';
export { parameter, flattenParameters, adjacentView, storeAdjacent, type FlatParameters } from './parameters.js';
export { packForInference, weightsChanged } from './packed-weights.js';
export { bf16Refusal, kernels, kernelsFor, setKernels } from './backend.js';
export { refKernels } from './ref-kernels.js';
export { dropoutHash, dropoutThreshold, type Kernels, type FloatArray } from './kernels.js';
export * as ops from './ops/index.js';
export { Rng, deriveSeed } from './random.js';
