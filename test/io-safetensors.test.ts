import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { CheckpointFormatError, UnsupportedCheckpointError } from '../src/io/errors.js';
import { readSafetensors, serializeSafetensors, writeSafetensors } from '../src/io/safetensors.js';

// Byte vectors from the reference implementation's own tests (huggingface/safetensors,
// safetensors/src/tensor.rs: test_serialization, test_serialization_forced_alignement, test_empty).
const REF_ATTN_DOT_0 = [
  64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34,
  115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34, 58, 91,
  48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
];
const REF_ATTN0_ALIGNED = [
  72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34,
  115, 104, 97, 112, 101, 34, 58, 91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115, 101, 116, 115, 34,
  58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32, 32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0,
  0, 160, 64,
];
const REF_EMPTY = [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32];
const REF_EMPTY_META = [
  40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95, 95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111,
  114, 107, 34, 58, 34, 112, 116, 34, 125, 125, 32, 32, 32, 32, 32,
];

const f32 = (xs: number[]) => new Float32Array(xs);

/** Build a file from a header object (or raw header text) and a data region. */
function build(header: unknown, data: Uint8Array | number[] = [], rawHeaderLen?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const out = Buffer.alloc(8 + json.length + data.length);
  out.writeBigUInt64LE(rawHeaderLen ?? BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(data).copy(out, 8 + json.length);
  return out;
}

function expectFormatError(bytes: Uint8Array, pattern: RegExp, klass: Function = CheckpointFormatError): void {
  assert.throws(
    () => readSafetensors(bytes, { name: 'bad.safetensors' }),
    (e: unknown) => {
      assert.ok(e instanceof klass, `expected ${klass.name}, got ${String(e)}`);
      assert.match((e as Error).message, /^bad\.safetensors: /);
      assert.match((e as Error).message, pattern);
      return true;
    },
  );
}

test('writer output is byte-identical to the reference implementation', () => {
  const data = f32([0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...serializeSafetensors(new Map([['attn.0', { shape: [1, 2, 3], data }]]))], REF_ATTN_DOT_0);
  assert.deepEqual([...serializeSafetensors(new Map([['attn0', { shape: [1, 1, 2, 3], data }]]))], REF_ATTN0_ALIGNED);
  assert.deepEqual([...serializeSafetensors(new Map())], REF_EMPTY);
  assert.deepEqual([...serializeSafetensors(new Map(), { framework: 'pt' })], REF_EMPTY_META);
});

test('reader decodes the reference files', () => {
  const a = readSafetensors(Uint8Array.from(REF_ATTN0_ALIGNED));
  assert.deepEqual([...a.tensors.keys()], ['attn0']);
  const t = a.tensors.get('attn0')!;
  assert.equal(t.dtype, 'F32');
  assert.deepEqual(t.shape, [1, 1, 2, 3]);
  assert.deepEqual([...t.data], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(a.metadata, {});
  assert.deepEqual(readSafetensors(Uint8Array.from(REF_EMPTY_META)).metadata, { framework: 'pt' });
  assert.equal(readSafetensors(Uint8Array.from(REF_EMPTY)).tensors.size, 0);
});

test('reference deserialisation cases: scalar, zero-sized, whitespace-padded header', () => {
  // from tensor.rs: test_empty_shapes_allowed, test_zero_sized_tensor, test_whitespace_padded_header
  const scalar = readSafetensors(build('{"test":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}', [7, 0, 0, 0]));
  assert.deepEqual(scalar.tensors.get('test'), { dtype: 'I32', shape: [], data: new Int32Array([7]) });
  const empty = readSafetensors(build('{"test":{"dtype":"I32","shape":[2,0],"data_offsets":[0, 0]}}'));
  assert.deepEqual(empty.tensors.get('test')!.shape, [2, 0]);
  assert.equal(empty.tensors.get('test')!.data.length, 0);
  const ws = readSafetensors(build('{}\r \t\n'));
  assert.equal(ws.tensors.size, 0);
});

test('F16 and BF16 widen exactly (subnormals, infinities, NaN) — values from numpy', () => {
  const halfBits = [0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x3555, 0x8001];
  // numpy: np.array(bits, np.uint16).view(np.float16).astype(np.float32)
  const halfRef = [
    0,
    -0,
    5.960464477539063e-8,
    6.097555160522461e-5,
    6.103515625e-5,
    1,
    -2,
    65504,
    Infinity,
    -Infinity,
    NaN,
    0.333251953125,
    -5.960464477539063e-8,
  ];
  const bfBits = [0x0000, 0x8000, 0x0001, 0x007f, 0x0080, 0x3f80, 0xc000, 0x7f7f, 0x7f80, 0xff80, 0x7fc0, 0x3eab, 0x8001];
  // numpy: (np.array(bits, np.uint32) << 16).view(np.float32)
  const bfRef = [
    0,
    -0,
    9.183549615799121e-41,
    1.1663108012064884e-38,
    1.1754943508222875e-38,
    1,
    -2,
    3.3895313892515355e38,
    Infinity,
    -Infinity,
    NaN,
    0.333984375,
    -9.183549615799121e-41,
  ];
  const n = halfBits.length;
  const data = Buffer.alloc(4 * n);
  halfBits.forEach((b, i) => data.writeUInt16LE(b, 2 * i));
  bfBits.forEach((b, i) => data.writeUInt16LE(b, 2 * n + 2 * i));
  const file = build(
    {
      h: { dtype: 'F16', shape: [n], data_offsets: [0, 2 * n] },
      b: { dtype: 'BF16', shape: [n], data_offsets: [2 * n, 4 * n] },
    },
    data,
  );
  const { tensors } = readSafetensors(file);
  const h = tensors.get('h')!;
  const b = tensors.get('b')!;
  assert.equal(h.dtype, 'F16');
  assert.ok(h.data instanceof Float32Array && b.data instanceof Float32Array);
  halfRef.forEach((v, i) => assert.ok(Object.is(h.data[i], v), `half ${halfBits[i]!.toString(16)}: ${h.data[i]} != ${v}`));
  bfRef.forEach((v, i) => assert.ok(Object.is(b.data[i], v), `bf16 ${bfBits[i]!.toString(16)}: ${b.data[i]} != ${v}`));
});

test('F64 rounds to float32; integer dtypes load as Int32Array; I64 outside int32 is an error', () => {
  const d = Buffer.alloc(16 + 16 + 2 + 2 + 2);
  d.writeDoubleLE(0.1, 0);
  d.writeDoubleLE(-1e300, 8);
  d.writeBigInt64LE(-5n, 16);
  d.writeBigInt64LE(2147483647n, 24);
  d.writeInt8(-3, 32);
  d.writeInt8(127, 33);
  d.writeUInt8(255, 34);
  d.writeUInt8(0, 35);
  d.writeUInt8(1, 36);
  d.writeUInt8(0, 37);
  const file = build(
    {
      f: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
      l: { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
      c: { dtype: 'I8', shape: [2], data_offsets: [32, 34] },
      u: { dtype: 'U8', shape: [2], data_offsets: [34, 36] },
      b: { dtype: 'BOOL', shape: [2], data_offsets: [36, 38] },
    },
    d,
  );
  const { tensors } = readSafetensors(file);
  assert.deepEqual([...tensors.get('f')!.data], [Math.fround(0.1), -Infinity]);
  assert.deepEqual(tensors.get('l')!.data, new Int32Array([-5, 2147483647]));
  assert.deepEqual(tensors.get('c')!.data, new Int32Array([-3, 127]));
  assert.deepEqual(tensors.get('u')!.data, new Int32Array([255, 0]));
  assert.deepEqual(tensors.get('b')!.data, new Int32Array([1, 0]));

  const big = Buffer.alloc(8);
  big.writeBigInt64LE(2147483648n);
  expectFormatError(build({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big), /tensor 'ids'.*2147483648.*int32/);
});

test('malformed files are refused with the file, tensor and problem named', () => {
  const good = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const z8 = new Uint8Array(8);
  // reference cases (tensor.rs): header too large, invalid header length, non-UTF-8, not JSON,
  // invalid info, validation overflow, incomplete buffer / polyglot
  expectFormatError(Uint8Array.from([60, 0, 0, 0, 0, 0xff, 0xff, 0xff, 123, 125]), /exceeds the 100000000-byte limit/);
  expectFormatError(Uint8Array.from([60, 0, 0, 0, 0, 0, 0, 0]), /runs past the end/);
  expectFormatError(Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0xff]), /not valid UTF-8/);
  expectFormatError(Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 123]), /not valid JSON/);
  expectFormatError(
    build({ test: { dtype: 'I32', shape: [2, 2], data_offsets: [0, 4] } }, new Uint8Array(4)),
    /tensor 'test'.*hold 4 bytes but I32 shape \[2,2\] needs 16/,
  );
  expectFormatError(
    build('{"test":{"dtype":"I32","shape":[2,18446744073709551614],"data_offsets":[0,16]}}', new Uint8Array(16)),
    /tensor 'test': shape .* non-negative integers/,
  );
  expectFormatError(
    build('{"test":{"dtype":"I32","shape":[2,9007199254740991],"data_offsets":[0,16]}}', new Uint8Array(16)),
    /tensor 'test': shape .* too many elements/,
  );
  expectFormatError(build({ test: good }, Buffer.concat([z8, Buffer.from('extra_bogus_data_for_polyglot_file')])), /trailing bytes/);
  expectFormatError(build({ test: good }, new Uint8Array(6)), /tensor 'test'.*run past the 6-byte data region/);
  expectFormatError(new Uint8Array(5), /too small/);
  // our own checks
  expectFormatError(build('[1,2]'), /not an object/);
  expectFormatError(
    build({ a: good, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, z8),
    /tensor 'b' bytes \[4, 8\) overlap tensor 'a'/,
  );
  expectFormatError(
    build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, z8),
    /data bytes \[0, 4\) before tensor 'a' belong to no tensor/,
  );
  expectFormatError(build({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, z8), /tensor 'a'.*begin 8 > end 0/);
  expectFormatError(build({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, z8), /tensor 'a': shape \[-2\]/);
  expectFormatError(build({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, z8), /tensor 'a': shape/);
  expectFormatError(build({ a: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, z8), /tensor 'a': unknown dtype "Q7"/);
  expectFormatError(
    build({ a: { dtype: 'F8_E4M3', shape: [8], data_offsets: [0, 8] } }, z8),
    /tensor 'a': dtype F8_E4M3 is not supported/,
    UnsupportedCheckpointError,
  );
  expectFormatError(build({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, z8), /tensor 'a': data_offsets must be \[begin, end\]/);
  expectFormatError(
    build({ a: { dtype: 'F32', shape: [2], data_offsets: ['0', 8] } }, z8),
    /tensor 'a': data_offsets .* non-negative integers/,
  );
  expectFormatError(build({ a: 3 }), /tensor 'a': entry must be an object/);
  expectFormatError(build({ __metadata__: { k: 1 } }), /__metadata__ value for 'k' must be a string/);
});

test('errors from a path name the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-st-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 'broken.safetensors');
  writeFileSync(p, build({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)));
  assert.throws(
    () => readSafetensors(p),
    (e: unknown) => e instanceof CheckpointFormatError && e.message.startsWith(`${p}: tensor 'w'`),
  );
});

test('writeSafetensors writes atomically, replaces the target and round-trips', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-st-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 'model.safetensors');
  writeFileSync(p, 'old contents');
  const tensors = new Map([
    ['z.weight', { shape: [2, 3], data: f32([1, -2, 3.5, 1e-40, -0, Infinity]) }],
    ['10', { shape: [], data: f32([NaN]) }], // integer-like name keeps its place
    ['a.bias', { shape: [0], data: f32([]) }],
  ]);
  writeSafetensors(p, tensors, { format: 'pt', note: 'ünïcode' });
  assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'no temp file left behind');
  const back = readSafetensors(readFileSync(p));
  assert.deepEqual([...back.tensors.keys()], ['z.weight', '10', 'a.bias']);
  assert.deepEqual(back.metadata, { format: 'pt', note: 'ünïcode' });
  for (const [k, v] of tensors) {
    const r = back.tensors.get(k)!;
    assert.equal(r.dtype, 'F32');
    assert.deepEqual(r.shape, v.shape);
    assert.deepEqual(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength), new Uint8Array(v.data.buffer));
  }
  // data region is 8-byte aligned
  assert.equal(Number(readFileSync(p).readBigUInt64LE(0)) % 8, 0);
  assert.throws(() => writeSafetensors(p, new Map([['x', { shape: [3], data: f32([1, 2]) }]])), /needs 3 values but data has 2/);
  assert.throws(() => writeSafetensors(p, new Map([['__metadata__', { shape: [0], data: f32([]) }]])), /reserved/);
  assert.deepEqual(readdirSync(dir), ['model.safetensors'], 'failed writes leave nothing behind');
});

test('property: any F32 state dict round-trips bit-exactly', () => {
  const tensor = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }).chain((shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc.tuple(fc.constant(shape), fc.array(fc.float(), { minLength: n, maxLength: n }));
  });
  // Names get a letter prefix: empty tensors share an offset, and between those JSON.parse
  // hoists integer-like names, so only their relative order could differ (documented).
  const tensorName = fc.string({ maxLength: 12 }).map((s) => `t${s}`);
  fc.assert(
    fc.property(fc.uniqueArray(fc.tuple(tensorName, tensor), { selector: (x) => x[0], maxLength: 6 }), (entries) => {
      const m = new Map(entries.map(([name, [shape, values]]) => [name, { shape, data: f32(values) }]));
      const back = readSafetensors(serializeSafetensors(m)).tensors;
      assert.deepEqual([...back.keys()], [...m.keys()]);
      for (const [k, v] of m) {
        const r = back.get(k)!;
        assert.deepEqual(r.shape, v.shape);
        assert.deepEqual(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength), new Uint8Array(v.data.buffer));
      }
    }),
    { numRuns: 150 },
  );
});

test('fuzz: mutated files either load or fail with CheckpointFormatError', () => {
  const h = Buffer.alloc(20);
  [0x3c00, 0x7e00, 0x0001].forEach((b, i) => h.writeUInt16LE(b, 2 * i));
  const base = serializeSafetensors(
    new Map([
      ['a', { shape: [2, 2], data: f32([1, 2, 3, 4]) }],
      ['b', { shape: [3], data: f32([5, 6, 7]) }],
    ]),
    { k: 'v' },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.option(fc.nat(), { nil: undefined }),
      (edits, cut) => {
        const b = Uint8Array.from(base);
        for (const [i, v] of edits) b[i % b.length] = v;
        const bytes = cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
        try {
          readSafetensors(bytes);
        } catch (e) {
          assert.ok(e instanceof CheckpointFormatError, `unexpected ${String(e)}`);
        }
      },
    ),
    { numRuns: 400 },
  );
});
