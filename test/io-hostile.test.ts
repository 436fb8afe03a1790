/**
 * Hostile checkpoints and configs (issue 15, "Broken"): each input here once hung the loader,
 * expanded to gigabytes, or aborted V8. Each must now be refused fast, in bounded memory, with an
 * error that names the file and the field or tensor at fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointFormatError, UnsafePickleError } from '../src/io/errors.js';
import { parseTorchPickle } from '../src/io/torch-pickle.js';
import { readTorchCheckpoint } from '../src/io/torch-zip.js';
import { loadStateDict } from '../src/io/state-dict.js';
import { BertForTokenClassification, loadModelFromDir, makeConfig, savePretrained } from '../src/models/index.js';
import { ConfigError, configToJson, parseConfig, readConfig } from '../src/models/config.js';
import { readSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { f32Storage, statePickle, torchArchive, type ViewSpec } from './helpers/torch-zip-builder.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tt-hostile-'));

/** Runs `fn`, returning its wall time and the heap/external/array-buffer growth it caused. */
function measured(fn: () => void): { ms: number; grewMB: number } {
  globalThis.gc?.();
  const m0 = process.memoryUsage();
  const t0 = performance.now();
  let peak = 0;
  try {
    fn();
  } finally {
    const m1 = process.memoryUsage();
    peak = m1.heapUsed + m1.arrayBuffers - (m0.heapUsed + m0.arrayBuffers);
  }
  return { ms: performance.now() - t0, grewMB: peak / 2 ** 20 };
}

function refused(fn: () => unknown, pattern: RegExp, klass: Function = CheckpointFormatError): { ms: number; grewMB: number } {
  let err: unknown;
  const m = measured(() => {
    try {
      fn();
    } catch (e) {
      err = e;
    }
  });
  assert.ok(err instanceof klass, `expected ${klass.name}, got ${String(err)}`);
  assert.match((err as Error).message, pattern);
  assert.ok((err as Error).message.length < 2000, `error message of ${(err as Error).message.length} chars`);
  return m;
}

test('pickle LONG1/LONG4 with a huge length is refused at once, not built byte by byte', () => {
  for (const n of [1 << 20, 1 << 17, 255]) {
    const long4 = Buffer.alloc(7 + n, 0x7f);
    long4.set([0x80, 2, 0x8b, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff]);
    long4[long4.length - 1] = 0x2e;
    const m = refused(() => parseTorchPickle(long4, 'x.pkl'), new RegExp(`x\\.pkl: pickle byte 2: LONG of ${n} bytes`));
    assert.ok(m.ms < 500, `LONG4 of ${n} bytes took ${m.ms} ms`);
  }
  refused(() => parseTorchPickle(Uint8Array.from([0x80, 2, 0x8a, 200, ...new Uint8Array(200), 0x2e])), /LONG of 200 bytes/);
  // Real LONG1 values still decode (two's complement, little-endian), as Python's pickle writes them.
  const v = (bytes: number[]) => parseTorchPickle(Uint8Array.from([0x80, 2, 0x8a, bytes.length, ...bytes, 0x2e]));
  assert.equal(v([0x00, 0x00, 0x00, 0x80, 0x00]), 2 ** 31); // pickle.dumps(2**31, 2)
  assert.equal(v([0xff, 0xff, 0xff, 0x7f, 0xff]), -(2 ** 31) - 1); // pickle.dumps(-2**31-1, 2)
  assert.equal(v([]), 0);
  assert.equal(v([0, 0, 0, 0, 0, 0, 0, 0x80, 0]), 2n ** 63n); // beyond 2^53 stays exact as a bigint
});

test('stride-0 views of a 4-byte storage cannot expand the file to gigabytes', () => {
  // 32 views of [4096, 4096] with strides [0, 0] over one float: once 2.1 GB before the error.
  const views: ViewSpec[] = Array.from({ length: 32 }, (_, i) => ({
    name: `w${i}`,
    storage: '0',
    storageNumel: 1,
    offset: 0,
    shape: [4096, 4096],
    stride: [0, 0],
  }));
  const zip = torchArchive(views, new Map([['0', f32Storage(1)]]));
  assert.ok(zip.length < 8192, `${zip.length} bytes`);
  const m = refused(
    () => readTorchCheckpoint(zip, { name: 'evil.bin' }),
    /evil\.bin: tensor 'w0' needs 16777216 elements but only 65538 remain of the budget of twice the 1 elements the file stores/,
  );
  assert.ok(m.grewMB < 32, `grew ${m.grewMB} MB`);
  assert.ok(m.ms < 1000, `${m.ms} ms`);
});

test('overlapping [4096, 4096] views with strides [1, 1] are refused before materialising', () => {
  const views: ViewSpec[] = Array.from({ length: 8 }, (_, i) => ({
    name: `o${i}`,
    storage: '0',
    storageNumel: 8191,
    offset: 0,
    shape: [4096, 4096],
    stride: [1, 1],
  }));
  const zip = torchArchive(views, new Map([['0', f32Storage(8191)]]));
  const m = refused(() => readTorchCheckpoint(zip), /tensor 'o0' needs 16777216 elements but only 81918 remain/);
  assert.ok(m.grewMB < 32, `grew ${m.grewMB} MB`);
  // A caller's own budget replaces the default one.
  refused(
    () => readTorchCheckpoint(torchArchive(views.slice(0, 1), new Map([['0', f32Storage(8191)]])), { maxElements: 100 }),
    /budget of 100 elements/,
  );
});

test('tied weights and small expanded views still load, with the right values', () => {
  const views: ViewSpec[] = [
    { name: 'emb', storage: '0', storageNumel: 6, offset: 0, shape: [2, 3], stride: [3, 1] },
    { name: 'tied', storage: '0', storageNumel: 6, offset: 0, shape: [2, 3], stride: [3, 1] },
    { name: 'col', storage: '0', storageNumel: 6, offset: 1, shape: [2], stride: [3] },
    { name: 'bcast', storage: '1', storageNumel: 1, offset: 0, shape: [4, 2], stride: [0, 0] },
  ];
  const sd = readTorchCheckpoint(
    torchArchive(
      views,
      new Map([
        ['0', f32Storage(6)],
        ['1', f32Storage(1)],
      ]),
    ),
  );
  assert.deepEqual([...sd.get('emb')!.data], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...sd.get('tied')!.data], [0, 1, 2, 3, 4, 5]);
  assert.notEqual(sd.get('emb')!.data, sd.get('tied')!.data); // aliasing storages are copied apart
  assert.deepEqual([...sd.get('col')!.data], [1, 4]);
  assert.deepEqual([...sd.get('bcast')!.data], new Array(8).fill(0));
  // `select` sees the listing before any data and decides what is read.
  let listed: string[] = [];
  const only = readTorchCheckpoint(
    torchArchive(
      views,
      new Map([
        ['0', f32Storage(6)],
        ['1', f32Storage(1)],
      ]),
    ),
    {
      select: (l) => {
        listed = l.map((i) => `${i.name}:${i.shape.join('x')}`);
        return ['col'];
      },
    },
  );
  assert.deepEqual(listed, ['emb:2x3', 'tied:2x3', 'col:2', 'bcast:4x2']);
  assert.deepEqual([...only.keys()], ['col']);
});

test('pickle errors quote a bounded excerpt, however long the hostile string', () => {
  const huge = 'm'.repeat(10_000_000);
  const pkl = Buffer.concat([Buffer.from([0x80, 2, 0x63]), Buffer.from(`${huge}\nsystem\n`), Buffer.from([0x2e])]);
  const m = refused(() => parseTorchPickle(pkl, 'evil.pkl'), /refusing to load pickle global 'mmm.*chars cut/, UnsafePickleError);
  assert.ok(m.ms < 1000);
  const e = new CheckpointFormatError('f', 'x'.repeat(1_000_000));
  assert.ok(e.message.length < 700, `${e.message.length}`);
});

/** A tiny BERT folder (config.json + model.safetensors) and its state as torch views. */
function tinyModelDir(layers = 2): { dir: string; views: ViewSpec[]; storages: Map<string, Uint8Array> } {
  const cfg = makeConfig({
    vocab_size: 30,
    hidden_size: 8,
    num_hidden_layers: layers,
    num_attention_heads: 2,
    intermediate_size: 16,
    max_position_embeddings: 16,
    id2label: { 0: 'O', 1: 'B-X' },
  });
  const dir = tmp();
  savePretrained(BertForTokenClassification.create(cfg, 2), dir);
  const views: ViewSpec[] = [];
  const storages = new Map<string, Uint8Array>();
  for (const [name, t] of readSafetensors(join(dir, 'model.safetensors')).tensors) {
    const key = String(storages.size);
    const data = t.data as Float32Array;
    storages.set(key, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const stride = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    views.push({ name, storage: key, storageNumel: data.length, offset: 0, shape: t.shape, stride });
  }
  return { dir, views, storages };
}

test('a model folder reads only the tensors its model needs: a hostile extra view is never materialised', () => {
  const { dir, views, storages } = tinyModelDir();
  const bin = tmp();
  writeFileSync(join(bin, 'config.json'), JSON.stringify(readConfig(join(dir, 'config.json')).raw));
  // 32 expanding views riding along with the real weights: unused, so never read.
  storages.set('junk', f32Storage(1));
  const junk = Array.from({ length: 32 }, (_, i) => ({
    name: `cls.junk${i}`,
    storage: 'junk',
    storageNumel: 1,
    offset: 0,
    shape: [4096, 4096],
    stride: [0, 0],
  }));
  writeFileSync(join(bin, 'pytorch_model.bin'), torchArchive([...views, ...junk], storages));
  let report: { unused: string[] } | undefined;
  const m = measured(() => {
    report = loadModelFromDir(bin).report;
  });
  assert.equal(report!.unused.length, 32);
  assert.equal(report!.unused[0], 'cls.junk0');
  assert.ok(m.grewMB < 32, `grew ${m.grewMB} MB`);
  // The bare state dict loader (no model) refuses the same file by its default budget.
  assert.throws(() => loadStateDict(bin), /tensor 'cls\.junk0' needs 16777216 elements/);
  // A needed tensor that expands past the model's own size is refused by the model's budget.
  const ex = views.map((v) => (v.name.endsWith('word_embeddings.weight') ? { ...v, storage: 'junk', storageNumel: 1, stride: [0, 0] } : v));
  writeFileSync(join(bin, 'pytorch_model.bin'), torchArchive(ex, storages));
  const loaded = loadModelFromDir(bin).model.params.get('bert.embeddings.word_embeddings.weight')!;
  assert.ok(loaded.f.every((x) => x === 0)); // legal: 240 elements of a broadcast zero, within the model's count
});

test('config size fields are bounded and checked against the checkpoint, the error naming the field', () => {
  const base = { vocab_size: 30, hidden_size: 8, num_attention_heads: 2, intermediate_size: 16 };
  for (const [field, value] of [
    ['num_hidden_layers', 10_000_000],
    ['num_hidden_layers', 1e9],
    ['vocab_size', 1e12],
    ['hidden_size', 1 << 20],
    ['intermediate_size', 1e15],
    ['max_position_embeddings', 2 ** 40],
    ['type_vocab_size', 1e9],
    ['num_attention_heads', 1e6],
  ] as const) {
    const t0 = performance.now();
    assert.throws(
      () => parseConfig({ ...base, [field]: value }, 'cfg.json'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match((e as Error).message, new RegExp(`^cfg\\.json: ${field} must be an integer in \\[\\d+, \\d+\\], got ${value}`));
        return true;
      },
    );
    assert.ok(performance.now() - t0 < 100);
  }
  assert.throws(
    () => parseConfig({ ...base, vocab_size: 1 << 24, hidden_size: 1024 }),
    /vocab_size 16777216 x hidden_size 1024 = 17179869184 weights in one matrix/,
  );
  assert.throws(() => parseConfig({ ...base, pad_token_id: 30 }), /pad_token_id 30 must be below vocab_size 30/);
  assert.throws(
    () => parseConfig({ ...base, vocab_size: 'x'.repeat(1_000_000) }),
    (e: unknown) => (e as Error).message.length < 300,
  );
  assert.doesNotThrow(() => parseConfig({ ...base, num_hidden_layers: 48, vocab_size: 250_002, hidden_size: 1024 }));

  // Against the checkpoint: more layers in config than weights, fewer, and a wrong vocabulary.
  const { dir } = tinyModelDir(2);
  const raw = configToJson(readConfig(join(dir, 'config.json')), 'BertForTokenClassification');
  for (const layers of [1000, 3, 1]) {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...raw, num_hidden_layers: layers }));
    assert.throws(
      () => loadModelFromDir(dir),
      new RegExp(`config\\.json: num_hidden_layers is ${layers} but the checkpoint holds 2 layer\\(s\\)`),
    );
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...raw, vocab_size: 1000 }));
  assert.throws(
    () => loadModelFromDir(dir),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(
        (e as Error).message,
        /word_embeddings\.weight has shape \[30, 8\] in the checkpoint but the config gives \[1000, 8\] \(from config\.json vocab_size\)/,
      );
      return true;
    },
  );
});

test('the pickle writer of these tests round-trips through the reader (so the hostile cases test what they claim)', () => {
  const views: ViewSpec[] = [{ name: 'a.b', storage: '7', storageNumel: 4, offset: 1, shape: [3], stride: [1] }];
  const sd = readTorchCheckpoint(torchArchive(views, new Map([['7', f32Storage(4)]])));
  assert.deepEqual([...sd.get('a.b')!.data], [1, 2, 3]);
  assert.equal(statePickle(views)[0], 0x80);
});

test('a pickle of a million DUPs is refused by its stack bound, not held', () => {
  const pkl = Buffer.alloc(3 + 1_100_000 + 1, 0x32);
  pkl.set([0x80, 2, 0x4e]); // PROTO 2, NONE, then DUP x 1.1M
  pkl[pkl.length - 1] = 0x2e;
  const m = refused(() => parseTorchPickle(pkl), /more than 1048576 values on the pickle stack/);
  assert.ok(m.ms < 1000);
});

test('sharded checkpoints: one listing across shards, one selection, one budget', () => {
  const dir = tmp();
  const t = (n: number) => ({ shape: [n], data: Float32Array.from({ length: n }, (_, i) => i) });
  writeFileSync(
    join(dir, 'model-00001-of-00002.safetensors'),
    serializeSafetensors(
      new Map([
        ['a', t(4)],
        ['b', t(8)],
      ]),
    ),
  );
  writeFileSync(join(dir, 'model-00002-of-00002.safetensors'), serializeSafetensors(new Map([['c', t(16)]])));
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({
      weight_map: { c: 'model-00002-of-00002.safetensors', a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors' },
    }),
  );
  let seen: string[] = [];
  const sd = loadStateDict(dir, {
    select: (l) => {
      seen = l.map((i) => i.name);
      return ['c', 'a'];
    },
    maxElements: 20,
  });
  assert.deepEqual(seen, ['c', 'a', 'b']);
  assert.deepEqual([...sd.keys()], ['c', 'a']);
  assert.throws(
    () => loadStateDict(dir, { maxElements: 27 }),
    /tensor '(c|b)' needs (16|8) elements but only \d+ remain of the expected 27 elements/,
  );
  assert.equal(loadStateDict(dir, { maxElements: 28 }).size, 3);
});
