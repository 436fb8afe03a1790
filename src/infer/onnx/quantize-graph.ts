/**
 * The int8 ONNX graph (`export --onnx --int8` -> onnx/model_quantized.onnx): the fp32 export with
 * every encoder MatMul against a weight initializer rewritten the way onnxruntime's
 * quantize_dynamic rewrites it,
 *   x -> DynamicQuantizeLinear -> (x_q u8, x_scale, x_zero_point)
 *   MatMulInteger(x_q, W_q s8 [in, out], x_zero_point, W_zero_point = 0 [out]) -> int32
 *   Cast(float) * (x_scale * W_scale)
 * with tokentune's per-output-channel s8 weights (the same bytes `tokentune quantize` stores;
 * onnxruntime's default is one scale per tensor). DynamicQuantizeLinear quantizes the whole
 * activation tensor with one scale (the operator's definition), where tokentune's own int8 kernel
 * uses one per row, so the two agree closely but not bit for bit. The classifier, attention
 * products, LayerNorm and embeddings stay float, as in tokentune's int8 model.
 */
import { quantizeWeightPerChannel, type WeightBits } from '../../engine/ops/int8.js';
import { DataType, type ModelDef, type NodeDef, type TensorDef } from '../../onnx/onnx-proto.js';
import { littleEndianBytes } from '../../onnx/graph-builder.js';

export interface QuantizeGraphResult {
  model: ModelDef;
  /** Number of MatMul nodes rewritten. */
  quantized: number;
}

/**
 * Rewrites `fp32` (not modified): the MatMuls against the weights of `layers` (HF names, whose
 * transposed weights the export names `<layer>.weight.T`; models/quantized.ts quantizableLayers
 * gives the encoder's). The float weights are quantized per output channel; for a model loaded
 * from a quantized folder they are its dequantized int8 weights, which give the same bytes back
 * when `weightBits` is the folder's.
 */
export function quantizeOnnxModel(fp32: ModelDef, layers: readonly string[], weightBits: WeightBits = 8): QuantizeGraphResult {
  const quantizedWeights = new Set(layers.map((l) => `${l}.weight.T`));
  const inits = new Map(fp32.graph.initializers.map((t) => [t.name, t]));
  const replaced = new Set<string>();
  const newInits: TensorDef[] = [];
  const nodes: NodeDef[] = [];
  let quantized = 0;
  for (const node of fp32.graph.nodes) {
    const w = node.opType === 'MatMul' ? inits.get(node.inputs[1] ?? '') : undefined;
    if (!w || !quantizedWeights.has(w.name) || w.dataType !== DataType.FLOAT || w.dims.length !== 2) {
      nodes.push(node);
      continue;
    }
    const [k, n] = w.dims as [number, number];
    const { q, scale } = quantizeWeightPerChannel(transposeFloat(floatsOf(w), k, n), n, k, weightBits);
    // MatMulInteger wants B as [in, out]: the transpose of torch's [out, in].
    const qt = new Int8Array(k * n);
    for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) qt[p * n + j] = q[j * k + p];
    const base = w.name.slice(0, -2);
    newInits.push(
      { name: `${base}_quantized`, dataType: DataType.INT8, dims: [k, n], raw: new Uint8Array(qt.buffer) },
      { name: `${base}_scale`, dataType: DataType.FLOAT, dims: [n], raw: littleEndianBytes(scale) },
      { name: `${base}_zero_point`, dataType: DataType.INT8, dims: [n], raw: new Uint8Array(n) },
    );
    replaced.add(w.name);
    const x = node.inputs[0]!,
      s = node.name.replace(/\/MatMul(_\d+)?$/, '');
    const xq = `${x}_quantized`,
      xs = `${x}_scale`,
      xz = `${x}_zero_point`;
    // One DynamicQuantizeLinear per activation, shared by the MatMuls that read it (Q, K and V).
    if (!nodes.some((nd) => nd.opType === 'DynamicQuantizeLinear' && nd.inputs[0] === x)) {
      nodes.push({ opType: 'DynamicQuantizeLinear', name: `${x}_QuantizeLinear`, inputs: [x], outputs: [xq, xs, xz] });
    }
    const mm = `${s}/MatMulInteger_${quantized}_output_0`,
      cast = `${s}/Cast_${quantized}_output_0`,
      sc = `${s}/scale_${quantized}_output_0`;
    nodes.push(
      {
        opType: 'MatMulInteger',
        name: `${s}/MatMulInteger_${quantized}`,
        inputs: [xq, `${base}_quantized`, xz, `${base}_zero_point`],
        outputs: [mm],
      },
      {
        opType: 'Cast',
        name: `${s}/Cast_${quantized}`,
        inputs: [mm],
        outputs: [cast],
        attributes: [{ name: 'to', type: 'int', value: DataType.FLOAT }],
      },
      { opType: 'Mul', name: `${s}/ScaleMul_${quantized}`, inputs: [xs, `${base}_scale`], outputs: [sc] },
      { opType: 'Mul', name: `${s}/OutputMul_${quantized}`, inputs: [cast, sc], outputs: node.outputs },
    );
    quantized++;
  }
  const initializers = [...fp32.graph.initializers.filter((t) => !replaced.has(t.name)), ...newInits];
  return {
    model: {
      ...fp32,
      graph: { ...fp32.graph, nodes, initializers },
      metadata: {
        ...(fp32.metadata ?? {}),
        quantization: 'dynamic int8 (DynamicQuantizeLinear + MatMulInteger), s8 weights per output channel',
      },
    },
    quantized,
  };
}

/** A FLOAT initializer's values (raw_data is little-endian). */
function floatsOf(t: TensorDef): Float32Array {
  const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  return Float32Array.from({ length: t.raw.byteLength / 4 }, (_, i) => dv.getFloat32(4 * i, true));
}

function transposeFloat(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}
