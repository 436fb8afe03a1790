import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { bufferSource } from '../src/io/byte-source.js';
import { CheckpointFormatError, UnsafePickleError, UnsupportedCheckpointError } from '../src/io/errors.js';
import { isTensorRef, parseTorchPickle, PyDict, PyTuple } from '../src/io/torch-pickle.js';
import { readTorchCheckpoint } from '../src/io/torch-zip.js';
import { openZip } from '../src/io/zip.js';
import * as fx from './helpers/io-torch-fixtures.js';

// dist/test/x.js -> repo root is two levels up from this file's folder
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tinyDir = join(repoRoot, '..', 'shared', 'models', 'camphr-tiny-random-bert-ner');
const tinyBin = join(tinyDir, 'pytorch_model.bin');
const skipTiny = existsSync(tinyBin) ? false : `shared model fixture missing: ${tinyBin}`;

const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function throwsFormat(fn: () => unknown, pattern: RegExp, klass: Function = CheckpointFormatError): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof klass, `expected ${klass.name}, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

/** Offset of the central-directory entry for `name` in a zip (for targeted corruption). */
function centralEntry(zip: Uint8Array, name: string): number {
  const buf = Buffer.from(zip);
  for (let p = buf.indexOf('PK\x01\x02', 0, 'latin1'); p >= 0; p = buf.indexOf('PK\x01\x02', p + 1, 'latin1')) {
    const n = buf.readUInt16LE(p + 28);
    if (buf.toString('utf8', p + 46, p + 46 + n) === name) return p;
  }
  throw new Error(`no central entry ${name}`);
}

// Reference values read from the same file by Python's own pickle.Unpickler (find_class mapping
// torch's globals to numpy, persistent_load -> np.frombuffer of archive/data/<key>) and numpy
// as_strided; torch was not available. [shape, first, last, element numel//2, float64 sum]
const TINY_REF: Record<string, [number[], number, number, number, number]> = {
  'bert.embeddings.position_ids': [[1, 16], 0, 15, 8, 120],
  'bert.embeddings.word_embeddings.weight': [[402, 16], 0, 0.012775674, -0.02727238, -3.0939727409017905],
  'bert.embeddings.position_embeddings.weight': [[16, 16], -0.003908874, -0.026573645, 0.02908089, -0.5740132577921031],
  'bert.embeddings.token_type_embeddings.weight': [[2, 16], -0.021525498, -0.014063234, 0.016562035, -0.04030654300004244],
  'bert.embeddings.LayerNorm.weight': [[16], 1, 1, 1, 16],
  'bert.embeddings.LayerNorm.bias': [[16], 0, 0, 0, 0],
  'bert.encoder.layer.0.attention.self.query.weight': [[16, 16], -0.024006011, 0.0034691608, -0.011934623, 0.39885023103124695],
  'bert.encoder.layer.0.attention.self.query.bias': [[16], 0, 0, 0, 0],
  'bert.encoder.layer.0.attention.self.key.weight': [[16, 16], -0.029408766, -0.009441097, -0.009761813, 0.48799265969137195],
  'bert.encoder.layer.0.attention.self.key.bias': [[16], 0, 0, 0, 0],
  'bert.encoder.layer.0.attention.self.value.weight': [[16, 16], -0.005353456, 0.00091220916, -5.4091124e-5, -0.18979658196076343],
  'bert.encoder.layer.0.attention.self.value.bias': [[16], 0, 0, 0, 0],
  'bert.encoder.layer.0.attention.output.dense.weight': [[16, 16], 0.025024211, 0.0053583705, 0.006844666, 0.4451915813406231],
  'bert.encoder.layer.0.attention.output.dense.bias': [[16], 0, 0, 0, 0],
  'bert.encoder.layer.0.attention.output.LayerNorm.weight': [[16], 1, 1, 1, 16],
  'bert.encoder.layer.0.attention.output.LayerNorm.bias': [[16], 0, 0, 0, 0],
  'bert.encoder.layer.0.intermediate.dense.weight': [[64, 16], 0.00760762, -0.009479595, -0.016849756, 0.23019025458052056],
  'bert.encoder.layer.0.intermediate.dense.bias': [[64], 0, 0, 0, 0],
  'bert.encoder.layer.0.output.dense.weight': [[16, 64], -0.027246086, -0.036910858, -0.03206887, -0.17735138690113672],
  'bert.encoder.layer.0.output.dense.bias': [[16], 0, 0, 0, 0],
  'bert.encoder.layer.0.output.LayerNorm.weight': [[16], 1, 1, 1, 16],
  'bert.encoder.layer.0.output.LayerNorm.bias': [[16], 0, 0, 0, 0],
  'classifier.weight': [[9, 16], -0.00028611475, 0.00438644, 0.024341341, 0.11149306794686709],
  'classifier.bias': [[9], 0, 0, 0, 0],
};

test('tiny BERT pytorch_model.bin: every key, shape and spot value', { skip: skipTiny }, () => {
  const sd = readTorchCheckpoint(tinyBin);
  assert.deepEqual([...sd.keys()], Object.keys(TINY_REF));
  let params = 0;
  for (const [name, [shape, first, last, mid, sum]] of Object.entries(TINY_REF)) {
    const t = sd.get(name)!;
    assert.deepEqual(t.shape, shape, name);
    assert.equal(
      t.data.length,
      shape.reduce((a, b) => a * b, 1),
    );
    const isIds = name.endsWith('position_ids');
    assert.equal(t.dtype, isIds ? 'I64' : 'F32', name);
    assert.ok(isIds ? t.data instanceof Int32Array : t.data instanceof Float32Array, name);
    assert.equal(t.data[0], Math.fround(first), `${name}[0]`);
    assert.equal(t.data[t.data.length - 1], Math.fround(last), `${name}[-1]`);
    assert.equal(t.data[Math.floor(t.data.length / 2)], Math.fround(mid), `${name}[mid]`);
    let s = 0;
    for (const v of t.data) s += v;
    assert.ok(Math.abs(s - sum) < 1e-9, `${name} sum ${s} vs ${sum}`);
    params += t.data.length;
  }
  assert.equal(params, 10201, 'SOURCE.md: 10,201 parameters');
  assert.deepEqual(
    [...sd.get('bert.embeddings.position_ids')!.data],
    Array.from({ length: 16 }, (_, i) => i),
  );
});

test('tiny BERT shapes agree with its config.json', { skip: skipTiny }, () => {
  const cfg = JSON.parse(readFileSync(join(tinyDir, 'config.json'), 'utf8'));
  const sd = readTorchCheckpoint(readFileSync(tinyBin));
  const H = cfg.hidden_size;
  const shape = (k: string) => sd.get(k)?.shape;
  assert.deepEqual(shape('bert.embeddings.word_embeddings.weight'), [cfg.vocab_size, H]);
  assert.deepEqual(shape('bert.embeddings.position_embeddings.weight'), [cfg.max_position_embeddings, H]);
  assert.deepEqual(shape('bert.embeddings.token_type_embeddings.weight'), [cfg.type_vocab_size, H]);
  assert.deepEqual(shape('bert.embeddings.position_ids'), [1, cfg.max_position_embeddings]);
  for (let l = 0; l < cfg.num_hidden_layers; l++) {
    const p = `bert.encoder.layer.${l}`;
    for (const m of ['query', 'key', 'value']) assert.deepEqual(shape(`${p}.attention.self.${m}.weight`), [H, H]);
    assert.deepEqual(shape(`${p}.intermediate.dense.weight`), [cfg.intermediate_size, H]);
    assert.deepEqual(shape(`${p}.output.dense.weight`), [H, cfg.intermediate_size]);
  }
  assert.ok(!sd.has(`bert.encoder.layer.${cfg.num_hidden_layers}.output.dense.weight`));
  const numLabels = Object.keys(cfg.id2label).length;
  assert.deepEqual(shape('classifier.weight'), [numLabels, H]);
  assert.deepEqual(shape('classifier.bias'), [numLabels]);
});

function checkViews(bytes: Uint8Array): void {
  const sd = readTorchCheckpoint(bytes, { name: 'views.bin' });
  assert.deepEqual([...sd.keys()], Object.keys(fx.VIEWS_EXPECTED));
  const dtypes: Record<string, string> = {
    half: 'F16',
    bf16: 'BF16',
    ids: 'I64',
    mask: 'BOOL',
    double: 'F64',
    int: 'I32',
    char: 'I8',
    byte: 'U8',
  };
  for (const [name, exp] of Object.entries(fx.VIEWS_EXPECTED)) {
    const t = sd.get(name)!;
    assert.equal(t.dtype, dtypes[name] ?? 'F32', name);
    assert.deepEqual(t.shape, exp.shape, name);
    const want = exp.values.map((v) => (typeof v === 'string' ? Number(v) : v));
    assert.equal(t.data.length, want.length, name);
    want.forEach((v, i) => {
      const w = t.data instanceof Float32Array ? Math.fround(v) : v;
      assert.ok(Object.is(t.data[i], w), `${name}[${i}] = ${t.data[i]}, expected ${w}`);
    });
  }
  // tensors that share a storage do not alias each other in memory
  sd.get('w')!.data[0] = 99;
  assert.equal(sd.get('w.t')!.data[0], 0);
}

test('views, offsets, shared storages and all storage dtypes (Python-written, protocol 2)', () => {
  checkViews(b64(fx.VIEWS_P2_ZIP));
});

test('protocol 4 pickle (FRAME, MEMOIZE, STACK_GLOBAL) inside a ZIP64 archive with another top folder', () => {
  const bytes = b64(fx.VIEWS_P4_ZIP64);
  const zip = openZip(bufferSource(bytes));
  assert.ok([...zip.entries.keys()].every((n) => n.startsWith('my_model/')));
  checkViews(bytes);
});

test('archives that declare big-endian storages are byte-swapped', () => {
  const z = b64(fx.VIEWS_P2_ZIP);
  const p = centralEntry(z, 'views/byteorder');
  const local = Buffer.from(z.buffer).readUInt32LE(p + 42);
  const at = local + 30 + 'views/byteorder'.length; // python's zipfile writes no local extra field
  assert.equal(Buffer.from(z.subarray(at, at + 6)).toString(), 'little');
  z.set(Buffer.from('big   '), at); // trailing whitespace is ignored; the CRC no longer matches
  // read as-is, the little-endian int64 2147483647 (ff ff ff 7f 00 00 00 00) is -0x8100000000 in big-endian
  assert.throws(() => readTorchCheckpoint(z, { verifyCrc: false }), /tensor 'ids': I64 value -554050781184 at element 2 does not fit/);
  // store the I64 storage big-endian for real; the other storages stay little-endian bytes
  const d = centralEntry(z, 'views/data/3');
  const ids = Buffer.from(z.buffer).readUInt32LE(d + 42) + 30 + 'views/data/3'.length;
  for (let i = 0; i < 4; i++) z.subarray(ids + 8 * i, ids + 8 * i + 8).reverse();
  const sd = readTorchCheckpoint(z, { verifyCrc: false });
  assert.deepEqual([...sd.get('ids')!.data], [0, -1, 2147483647, -2147483648]);
  // LE bytes 07 00 00 00 / f8 ff ff ff read as big-endian int32
  assert.deepEqual([...sd.get('int')!.data], [0x07000000, -117440513]);
  assert.deepEqual([...sd.get('char')!.data], [-128, 127], 'single bytes are unaffected');
});

test('the state dict metadata (BUILD state) is read, not executed', () => {
  const zip = openZip(bufferSource(b64(fx.VIEWS_P2_ZIP)));
  const root = parseTorchPickle(zip.read('views/data.pkl'));
  assert.ok(root instanceof PyDict);
  assert.ok(isTensorRef(root.map.get('w')), '_rebuild_parameter yields its tensor');
  assert.ok(root.attrs instanceof PyDict && (root.attrs as PyDict).map.has('_metadata'));
});

test('plain pickle values decode as Python wrote them', () => {
  // pickle.dumps([1, -1, 1000, 70000, 2**40, -2**70, 1.5, True, False, None, 'é', (1,2,3), {'k': [1, 2]}, []], protocol=2)
  const hex =
    '80025d7100284b014affffffff4de8034a701101008a060000000000018a090000000000000000c0473ff800000000000088894e5802000000c3a971014b014b024b038771027d710358010000006b71045d7105284b014b0265735d7106652e';
  const v = parseTorchPickle(Buffer.from(hex, 'hex')) as unknown[];
  assert.deepEqual(v.slice(0, 11), [1, -1, 1000, 70000, 2 ** 40, -(2n ** 70n), 1.5, true, false, null, 'é']);
  assert.deepEqual(v[11], new PyTuple([1, 2, 3]));
  assert.ok(v[12] instanceof PyDict);
  assert.deepEqual([...(v[12] as PyDict).map], [['k', [1, 2]]]);
  assert.deepEqual(v[13], []);
  // pickle.dumps([b'xy', 'a' * 300], protocol=3)
  const p3 = Buffer.concat([
    Buffer.from('80035d710028430278797101582c010000', 'hex'),
    Buffer.alloc(300, 'a'),
    Buffer.from('7102652e', 'hex'),
  ]);
  assert.deepEqual(parseTorchPickle(p3), [Uint8Array.from([0x78, 0x79]), 'a'.repeat(300)]);
});

test('malicious pickles are refused, naming the global', () => {
  throwsFormat(
    () => parseTorchPickle(b64(fx.EVIL_OS_SYSTEM_PKL), 'evil.pkl'),
    /evil\.pkl: refusing to load pickle global 'posix\.system'/,
    UnsafePickleError,
  );
  throwsFormat(() => parseTorchPickle(b64(fx.EVIL_EVAL_P4_PKL)), /'builtins\.eval'/, UnsafePickleError);
  throwsFormat(
    () => readTorchCheckpoint(b64(fx.EVIL_OS_SYSTEM_ZIP), { name: 'model.bin' }),
    /^model\.bin:archive\/data\.pkl: refusing.*'posix\.system'/,
    UnsafePickleError,
  );
  // GLOBAL naming a torch function outside the allow-list is refused as well
  const g = Buffer.concat([Buffer.from([0x80, 2, 0x63]), Buffer.from('torch\nload\n'), Buffer.from([0x2e])]);
  throwsFormat(() => parseTorchPickle(g), /'torch\.load'/, UnsafePickleError);
});

test('legacy, compressed, encrypted and non-zip files get clear refusals', () => {
  throwsFormat(
    () => readTorchCheckpoint(b64(fx.LEGACY_MAGIC_PKL), { name: 'old.bin' }),
    /^old\.bin: legacy \(pre-1\.6\) torch\.save format is not supported; re-save with torch>=1\.6 or convert to safetensors$/,
    UnsupportedCheckpointError,
  );
  throwsFormat(
    () => readTorchCheckpoint(b64(fx.VIEWS_DEFLATED_ZIP)),
    /entry 'views\/[a-z.]+' is compressed \(method 8\); torch.save writes stored entries only/,
    UnsupportedCheckpointError,
  );
  const enc = b64(fx.VIEWS_P2_ZIP);
  const p = centralEntry(enc, 'views/data.pkl');
  enc[p + 8]! |= 1;
  throwsFormat(() => readTorchCheckpoint(enc), /entry 'views\/data\.pkl' is encrypted/, UnsupportedCheckpointError);
  throwsFormat(() => readTorchCheckpoint(Buffer.from('{"not": "a checkpoint"}')), /not a PyTorch checkpoint/);
  throwsFormat(() => readTorchCheckpoint(new Uint8Array(0)), /not a PyTorch checkpoint/);
});

test('corrupt pickles: truncation, bad memo, underflow, unknown opcodes', () => {
  const pkl = openZip(bufferSource(b64(fx.VIEWS_P2_ZIP))).read('views/data.pkl');
  for (let n = 0; n < pkl.length; n++) {
    throwsFormat(() => parseTorchPickle(pkl.subarray(0, n), 'cut.pkl'), /^cut\.pkl: pickle byte \d+: /);
  }
  throwsFormat(() => parseTorchPickle(Uint8Array.from([0x80, 2, 0x68, 5, 0x2e])), /memo index 5 was never stored/);
  throwsFormat(() => parseTorchPickle(Uint8Array.from([0x80, 2, 0x2e])), /pickle byte 2: stack underflow/);
  throwsFormat(() => parseTorchPickle(Uint8Array.from([0x80, 2, 0x74, 0x2e])), /no MARK to pop to/);
  throwsFormat(() => parseTorchPickle(Uint8Array.from([0x80, 2, 0x7d, 0x28, 0x4b, 1, 0x75, 0x2e])), /odd number/);
  throwsFormat(() => parseTorchPickle(Uint8Array.from([0x80, 2, 0x4b, 1, 0x29, 0x52, 0x2e])), /REDUCE on a int/);
  throwsFormat(() => parseTorchPickle(Uint8Array.from([0x80, 2, 0x69, 0x2e])), /unsupported pickle opcode 0x69/);
  throwsFormat(
    () => parseTorchPickle(Uint8Array.from([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x2e])),
    /truncated pickle: BINUNICODE needs 2147483647 bytes/,
  );
  throwsFormat(() => parseTorchPickle(Uint8Array.from([0x80, 2, 0x28, 0x4b, 1, 0x2e])), /STOP inside an unclosed MARK/);
});

test('bad offsets: views past their storage, zip entries out of range, missing end record', () => {
  throwsFormat(
    () => readTorchCheckpoint(b64(fx.OUT_OF_BOUNDS_VIEW_ZIP)),
    /tensor 'bad': view \(offset 2, size \[3\], stride \[1\]\) reaches element 4 of a 4-element storage '0'/,
  );
  const z = b64(fx.VIEWS_P2_ZIP);
  const p = centralEntry(z, 'views/data/0');
  Buffer.from(z.buffer).writeUInt32LE(0x7ffffff0, p + 42);
  throwsFormat(() => readTorchCheckpoint(z), /entry 'views\/data\/0': local header offset 2147483632 is out of range/);
  const full = b64(fx.VIEWS_P2_ZIP);
  throwsFormat(() => readTorchCheckpoint(full.subarray(0, full.length - 10)), /end-of-central-directory record not found/);
  const crc = b64(fx.VIEWS_P2_ZIP);
  const d = centralEntry(crc, 'views/data/3');
  const local = Buffer.from(crc.buffer).readUInt32LE(d + 42);
  crc[local + 30 + 'views/data/3'.length + 1]! ^= 0xff; // flip a data byte (no extra field)
  throwsFormat(() => readTorchCheckpoint(crc), /entry 'views\/data\/3': CRC-32 mismatch/);
});

function onlyFormatErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CheckpointFormatError, `unexpected ${(e as Error)?.stack ?? String(e)}`);
  }
}

test('fuzz: byte mutations of a checkpoint only ever raise CheckpointFormatError', { timeout: 60_000 }, () => {
  const base = b64(fx.VIEWS_P2_ZIP);
  const pkl = openZip(bufferSource(base)).read('views/data.pkl');
  const mutation = (len: number) => fc.array(fc.tuple(fc.nat(len - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 });
  fc.assert(
    fc.property(mutation(base.length), fc.boolean(), fc.option(fc.nat(base.length), { nil: undefined }), (edits, crc, cut) => {
      const b = Uint8Array.from(base);
      for (const [i, v] of edits) b[i] = v;
      onlyFormatErrors(() => readTorchCheckpoint(cut === undefined ? b : b.subarray(0, cut), { verifyCrc: crc }));
    }),
    { numRuns: 400 },
  );
  // The pickle itself, past the zip's CRC: mutations land in opcodes and arguments.
  fc.assert(
    fc.property(mutation(pkl.length), (edits) => {
      const b = Uint8Array.from(pkl);
      for (const [i, v] of edits) b[i] = v;
      onlyFormatErrors(() => parseTorchPickle(b));
    }),
    { numRuns: 1500 },
  );
});

test('fuzz: the real tiny checkpoint with mutations and CRC checks off', { skip: skipTiny, timeout: 60_000 }, () => {
  const base = new Uint8Array(readFileSync(tinyBin));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
      const b = Uint8Array.from(base);
      for (const [i, v] of edits) b[i] = v;
      onlyFormatErrors(() => readTorchCheckpoint(b, { verifyCrc: false }));
    }),
    { numRuns: 150 },
  );
});
