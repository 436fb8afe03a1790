/**
 * A small helper for writing ONNX graphs by hand: each `op` call adds one node with a unique,
 * readable name (torch.onnx style, `/bert/encoder/layer.0/attention/self/query/MatMul`) and
 * returns its output name; constants become initializers.
 */
import { DataType, type AttributeDef, type GraphDef, type NodeDef, type TensorDef, type ValueInfoDef } from './onnx-proto.js';

export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly initializers: TensorDef[] = [];
  private readonly names = new Set<string>();
  private constCount = 0;

  /**
   * Adds node `opType` under `scope`; returns the name of its output (`output`, such as a graph
   * output's name, or `<node name>_output_0`).
   */
  op(scope: string, opType: string, inputs: readonly string[], attributes: readonly AttributeDef[] = [], output?: string): string {
    let name = `${scope}/${opType}`;
    for (let i = 1; this.names.has(name); i++) name = `${scope}/${opType}_${i}`;
    this.names.add(name);
    const out = output ?? `${name}_output_0`;
    if (output !== undefined) {
      if (this.names.has(output)) throw new Error(`ONNX graph: the name ${output} is used twice`);
      this.names.add(output);
    }
    this.nodes.push({ opType, name, inputs, outputs: [out], attributes });
    return out;
  }

  /** A float32 initializer (weights are copied into little-endian raw bytes). */
  floatInit(name: string, dims: readonly number[], data: Float32Array): string {
    this.addInit({ name, dataType: DataType.FLOAT, dims, raw: littleEndianBytes(data) });
    return name;
  }

  /** A float32 scalar constant (0-d tensor). */
  scalar(value: number): string {
    return this.floatInit(`const_${this.constCount++}`, [], Float32Array.of(value));
  }

  /** An int64 constant (1-d unless `dims` says otherwise), e.g. a Reshape target or Unsqueeze axes. */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = `const_${this.constCount++}`;
    this.addInit({ name, dataType: DataType.INT64, dims, raw: littleEndianBytes(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }

  graph(name: string, inputs: readonly ValueInfoDef[], outputs: readonly ValueInfoDef[], docString?: string): GraphDef {
    return { name, nodes: this.nodes, initializers: this.initializers, inputs, outputs, docString };
  }

  private addInit(t: TensorDef): void {
    if (this.names.has(t.name)) throw new Error(`ONNX graph: the name ${t.name} is used twice`);
    this.names.add(t.name);
    this.initializers.push(t);
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The array's bytes in little-endian order (ONNX raw_data), sharing memory where the host is LE. */
export function littleEndianBytes(a: Float32Array | BigInt64Array | Int32Array): Uint8Array {
  const view = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE_ENDIAN) return view;
  const out = new Uint8Array(view.length);
  const w = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < view.length; i += w) for (let j = 0; j < w; j++) out[i + j] = view[i + w - 1 - j]!;
  return out;
}
