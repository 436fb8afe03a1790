/** ONNX export of token classifiers (own protobuf writer, no dependency) and its check with onnxruntime. */
export { exportOnnx, buildBertOnnxModel, buildEncoderOnnxModel, type OnnxExportOptions, type OnnxExportResult } from './export.js';
export { ONNX_OPSET, ONNX_IR_VERSION, type OnnxGraphOptions as BertOnnxOptions } from '../../models/token-classification-graph.js';
export { OnnxExportError } from '../../onnx/graph-weights.js';
export { buildDebertaV2OnnxModel, relativeIndexTable } from '../../models/deberta-v2/deberta-v2-graph.js';
export { buildModernBertOnnxModel } from '../../models/modernbert/modernbert-graph.js';
export {
  encodeModel,
  writeModelFile,
  DataType,
  type ModelDef,
  type GraphDef,
  type NodeDef,
  type TensorDef,
  type ValueInfoDef,
  type AttributeDef,
} from '../../onnx/onnx-proto.js';
export { ProtoWriter, ProtobufEncodeError, PROTOBUF_MAX_BYTES } from '../../onnx/protobuf.js';
export { bertTokenizerJson } from './bert-converter.js';
export {
  loadOnnxRuntime,
  onnxLogits,
  ourLogits,
  randomBatch,
  maxAbsDiff,
  verifyWithOnnxRuntime,
  type OrtModule,
  type OrtSession,
  type OrtTensor,
  type VerifyResult,
} from './onnxruntime.js';
export { quantizeOnnxModel, type QuantizeGraphResult } from './quantize-graph.js';
