/**
 * The parts of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that an inference graph
 * needs: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and
 * TypeProto, as plain objects plus encoders. Field numbers are the schema's.
 *
 * Size: a ModelProto is one protobuf message, so everything (weights included) must stay under
 * 2 GiB (PROTOBUF_MAX_BYTES). BERT-base is ~430 MB and BERT-large ~1.3 GB; bigger models would
 * need ONNX external data (TensorProto.data_location = EXTERNAL), which is not implemented: the
 * encoder refuses such a model with a clear error instead of writing an unreadable file.
 */
import { writeChunksAtomic } from '../io/atomic.js';
import { PROTOBUF_MAX_BYTES, ProtoWriter, ProtobufEncodeError } from './protobuf.js';

/** TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface TensorDef {
  name: string;
  dataType: DataTypeCode;
  dims: readonly number[];
  /** Little-endian element bytes, row-major (TensorProto.raw_data). */
  raw: Uint8Array;
}

export type AttributeDef =
  | { name: string; type: 'float'; value: number }
  | { name: string; type: 'int'; value: number }
  | { name: string; type: 'string'; value: string }
  | { name: string; type: 'tensor'; value: TensorDef }
  | { name: string; type: 'floats'; value: readonly number[] }
  | { name: string; type: 'ints'; value: readonly number[] }
  | { name: string; type: 'strings'; value: readonly string[] };

export interface NodeDef {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly AttributeDef[];
  /** Operator domain; '' (the default ONNX domain) when absent. */
  domain?: string;
}

/** A dimension: a fixed size, or a symbolic name (dynamic axis) such as 'batch_size'. */
export type Dim = number | string;

export interface ValueInfoDef {
  name: string;
  elemType: DataTypeCode;
  shape: readonly Dim[];
}

export interface GraphDef {
  name: string;
  nodes: readonly NodeDef[];
  initializers: readonly TensorDef[];
  inputs: readonly ValueInfoDef[];
  outputs: readonly ValueInfoDef[];
  docString?: string;
}

export interface ModelDef {
  irVersion: number;
  opsetImports: readonly { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: GraphDef;
  docString?: string;
  /** ModelProto.metadata_props: free-form key/value strings. */
  metadata?: Readonly<Record<string, string>>;
}

export function encodeTensor(t: TensorDef): ProtoWriter {
  const n = t.dims.reduce((a, b) => a * b, 1);
  const width = BYTES_PER_ELEMENT[t.dataType];
  if (width !== undefined && t.raw.length !== n * width) {
    throw new ProtobufEncodeError(`tensor ${t.name}: raw_data has ${t.raw.length} bytes, shape [${t.dims.join(', ')}] needs ${n * width}`);
  }
  return new ProtoWriter().packedVarints(1, t.dims).varint(2, t.dataType).string(8, t.name).bytes(9, t.raw);
}

const BYTES_PER_ELEMENT: Partial<Record<number, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.BOOL]: 1,
  [DataType.DOUBLE]: 8,
};

export function encodeAttribute(a: AttributeDef): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  switch (a.type) {
    case 'float':
      return w.varint(20, AttrType.FLOAT).float32(2, a.value);
    case 'int':
      return w.varint(20, AttrType.INT).varint(3, a.value);
    case 'string':
      return w.varint(20, AttrType.STRING).string(4, a.value);
    case 'tensor':
      return w.varint(20, AttrType.TENSOR).message(5, encodeTensor(a.value));
    case 'floats':
      return w.varint(20, AttrType.FLOATS).packedFloat32(7, a.value);
    case 'ints':
      return w.varint(20, AttrType.INTS).packedVarints(8, a.value);
    case 'strings': {
      w.varint(20, AttrType.STRINGS);
      for (const s of a.value) w.string(9, s);
      return w;
    }
  }
}

export function encodeNode(n: NodeDef): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, encodeAttribute(a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

export function encodeValueInfo(v: ValueInfoDef): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.varint(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().varint(1, v.elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

export function encodeGraph(g: GraphDef): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  if (g.docString) w.string(10, g.docString);
  for (const i of g.inputs) w.message(11, encodeValueInfo(i));
  for (const o of g.outputs) w.message(12, encodeValueInfo(o));
  return w;
}

/** The whole ModelProto; throws when it would exceed protobuf's 2 GiB message limit. */
export function encodeModel(m: ModelDef): ProtoWriter {
  const w = new ProtoWriter().varint(1, m.irVersion);
  w.string(2, m.producerName).string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, encodeGraph(m.graph));
  for (const op of m.opsetImports) w.message(8, new ProtoWriter().string(1, op.domain).varint(2, op.version));
  for (const [k, v] of Object.entries(m.metadata ?? {})) w.message(14, new ProtoWriter().string(1, k).string(2, v));
  if (w.byteLength > PROTOBUF_MAX_BYTES) {
    throw new ProtobufEncodeError(
      `the ONNX model would be ${w.byteLength} bytes, over protobuf's 2 GiB limit for one message; ` +
        'models this large need ONNX external data, which tokentune does not write',
    );
  }
  return w;
}

/**
 * Streams the encoded model to `path` chunk by chunk (no contiguous copy of the weights), under a
 * temporary name renamed at the end, so a crash never leaves a truncated model.onnx.
 */
export function writeModelFile(path: string, m: ModelDef): number {
  return writeChunksAtomic(path, encodeModel(m).chunks());
}
