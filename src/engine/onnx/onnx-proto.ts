/**
 * A minimal writer of ONNX models (protobuf wire format) for graphs the engine builds in memory: float32
 * tensors, nodes with integer-list attributes (a Conv's pads), inputs and outputs with fixed or named dims.
 * Enough for the h-net graph (h-net-session.ts); anything larger comes from the Python tools as a file.
 *
 * Field numbers from onnx.proto (checked against the onnx package's descriptors): ModelProto ir_version 1,
 * producer_name 2, graph 7, opset_import 8; OperatorSetIdProto domain 1, version 2; GraphProto node 1,
 * name 2, initializer 5, input 11, output 12; NodeProto input 1, output 2, name 3, op_type 4, attribute 5;
 * AttributeProto name 1, ints 8, type 20 (AttributeType INTS = 7); TensorProto
 * dims 1, data_type 2, name 8, raw_data 9 (little-endian); ValueInfoProto name 1, type 2; TypeProto
 * tensor_type 1; TypeProto.Tensor elem_type 1, shape 2; TensorShapeProto dim 1; Dimension dim_value 1,
 * dim_param 2. onnx.proto is proto2, so repeated scalars (dims) are written unpacked, one tag each.
 */

const FLOAT = 1;
const ATTRIBUTE_INTS = 7;

/** Protobuf bytes of one message under construction. */
class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }

  private varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`protobuf varint: ${v} is not a non-negative safe integer`);
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.push(Uint8Array.from(out));
  }

  /** Wire type 0 (varint). */
  int(field: number, v: number): this {
    this.varint(field * 8);
    this.varint(v);
    return this;
  }

  /** Wire type 2 (length-delimited). */
  bytes(field: number, b: Uint8Array): this {
    this.varint(field * 8 + 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** A dim: a fixed size, or a name for one chosen per run. */
export type Dim = number | string;

export interface OnnxNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer-list attributes by name (non-negative values only), e.g. a Conv's `pads`. */
  readonly attributes?: Readonly<Record<string, readonly number[]>>;
}

export interface OnnxValue {
  readonly name: string;
  readonly dims: readonly Dim[];
}

export interface OnnxInitializer {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxInitializer[];
  /** float32 tensors, all of them. */
  readonly inputs: readonly OnnxValue[];
  readonly outputs: readonly OnnxValue[];
}

function tensorProto(t: OnnxInitializer): ProtoWriter {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) throw new RangeError(`initializer ${t.name}: dims [${t.dims.join(',')}] need ${count} values; it has ${t.data.length}`);
  const w = new ProtoWriter();
  for (const d of t.dims) w.int(1, d);
  w.int(2, FLOAT).string(8, t.name);
  const raw = new Uint8Array(t.data.length * 4);
  const view = new DataView(raw.buffer);
  t.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return w.bytes(9, raw);
}

function valueInfo(v: OnnxValue): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensor = new ProtoWriter().int(1, FLOAT).message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensor));
}

/** The serialized ModelProto (IR version 8, default-domain opset 13) of `g`. */
export function encodeOnnxModel(g: OnnxGraph, producer = 'asyrp'): Uint8Array {
  const graph = new ProtoWriter();
  g.nodes.forEach((n, i) => {
    const node = new ProtoWriter();
    for (const x of n.inputs) node.string(1, x);
    for (const y of n.outputs) node.string(2, y);
    node.string(3, `${n.op.toLowerCase()}_${i}`).string(4, n.op);
    for (const [name, ints] of Object.entries(n.attributes ?? {})) {
      const a = new ProtoWriter().string(1, name);
      for (const v of ints) a.int(8, v);
      node.message(5, a.int(20, ATTRIBUTE_INTS));
    }
    graph.message(1, node);
  });
  graph.string(2, g.name);
  for (const t of g.initializers) graph.message(5, tensorProto(t));
  for (const v of g.inputs) graph.message(11, valueInfo(v));
  for (const v of g.outputs) graph.message(12, valueInfo(v));
  return new ProtoWriter()
    .int(1, 8)
    .string(2, producer)
    .message(7, graph)
    .message(8, new ProtoWriter().string(1, '').int(2, 13))
    .finish();
}
