/**
 * TensorBoard event files: TFRecord framing (uint64 length, masked CRC-32C of the length, the
 * record, masked CRC-32C of the record; little-endian) around tensorflow.Event protobufs.
 * Only what a scalar log needs: the file_version event that opens a file, and one Event per
 * scalar holding a Summary with one simple_value, as torch's SummaryWriter.add_scalar writes it.
 *
 * Event: wall_time = 1 (double), step = 2 (int64), file_version = 3 (string), summary = 5.
 * Summary: value = 1 (repeated Value). Value: tag = 1 (string), simple_value = 2 (float).
 */
import { ProtoWriter } from '../../onnx/protobuf.js';
import { maskedCrc32c } from './crc32c.js';

export const FILE_VERSION = 'brain.Event:2';

/** One TFRecord: the framing TensorBoard's reader checks, CRCs included. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(data.length), true);
  dv.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  dv.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

/** The Event every event file starts with: file_version "brain.Event:2" at step 0. */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().float64(1, wallTime).string(3, FILE_VERSION).toBytes();
}

/** An Event with one scalar summary (simple_value, float32 on the wire). */
export function scalarEvent(tag: string, value: number, step: number, wallTime: number): Uint8Array {
  const val = new ProtoWriter().string(1, tag).float32(2, value);
  const summary = new ProtoWriter().message(1, val);
  const ev = new ProtoWriter().float64(1, wallTime);
  // proto3 leaves a zero step out, as torch's writer does.
  if (step !== 0) ev.varint(2, step);
  return ev.message(5, summary).toBytes();
}
