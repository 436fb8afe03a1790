/**
 * ONNX export. References from outside tokentune: the protobuf encoding examples of the
 * protobuf documentation and protobufjs's decoder (our writer), onnxruntime-node (runs the
 * exported graph), PyTorch's logits in test/fixtures/bert-tiny (what onnxruntime must reproduce)
 * and transformers.js (loads the exported folder and tokenizes with our tokenizer.json).
 * onnxruntime-node, protobufjs and @huggingface/transformers are optional: tests that need
 * one skip with a message when it is not installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Rng } from '../src/engine/index.js';
import { BertForTokenClassification, loadModelFromDir, makeConfig, type TokenBatch, type TokenClassifier } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { loadPretrainedDir } from '../src/tokenizers/wordpiece-settings.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import {
  OnnxExportError,
  ProtoWriter,
  ProtobufEncodeError,
  bertTokenizerJson,
  buildBertOnnxModel,
  exportOnnx,
  loadOnnxRuntime,
  maxAbsDiff,
  onnxLogits,
  ourLogits,
  randomBatch,
} from '../src/infer/onnx/index.js';
import { runExport } from '../src/cli/export.js';
import { fixturesDir, sharedDir } from './helpers/fixtures.js';
import { encoderFixture } from './helpers/encoder-parity.js';
import { optionalImport } from './helpers/optional-import.js';

const ort = await loadOnnxRuntime();
const ortSkip = ort ? false : 'onnxruntime-node is not installed (npm test installs it: node scripts/test-deps.mjs)';
const protobufjs = await optionalImport('protobufjs');
const pbSkip = protobufjs ? false : 'protobufjs is not installed (it comes with @huggingface/transformers)';
const transformers = await optionalImport('@huggingface/transformers');
const tjsSkip = transformers ? false : 'transformers.js is not installed (npm install --no-save @huggingface/transformers)';

const tmp = mkdtempSync(join(tmpdir(), 'tt-onnx-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------- protobuf writer

test('protobuf writer reproduces the encoding examples of the protobuf documentation', () => {
  // https://protobuf.dev/programming-guides/encoding/: int32 a = 1 = 150; string b = 2 = "testing";
  // packed repeated int32 f = 4 = [3, 270, 86942]; int64 -2 takes ten bytes (two's complement).
  assert.equal(hex(new ProtoWriter().varint(1, 150).toBytes()), '089601');
  assert.equal(hex(new ProtoWriter().string(2, 'testing').toBytes()), '120774657374696e67');
  assert.equal(hex(new ProtoWriter().packedVarints(4, [3, 270, 86942]).toBytes()), '2206038e029ea705');
  assert.equal(hex(new ProtoWriter().varint(1, -2).toBytes()), '08feffffffffffffffff01');
  assert.equal(hex(new ProtoWriter().varint(1, -2n).toBytes()), '08feffffffffffffffff01');
  // Embedded message c = 3 holding a = 150 (the documentation's Test3).
  assert.equal(hex(new ProtoWriter().message(3, new ProtoWriter().varint(1, 150)).toBytes()), '1a03089601');
  assert.equal(hex(new ProtoWriter().float32(1, 1).toBytes()), '0d0000803f');
  assert.throws(() => new ProtoWriter().varint(1, 2 ** 53), ProtobufEncodeError);
  assert.throws(() => new ProtoWriter().varint(1, 1n << 64n), ProtobufEncodeError);
  assert.throws(() => new ProtoWriter().varint(0, 1), /field number 0/);
});

test('protobuf writer: protobufjs decodes what it writes (property)', { skip: pbSkip }, () => {
  const pb = protobufjs.default ?? protobufjs;
  const Inner = new pb.Type('Inner').add(new pb.Field('x', 1, 'int64')).add(new pb.Field('name', 2, 'string'));
  const Outer = new pb.Type('Outer')
    .add(new pb.Field('u', 1, 'uint64'))
    .add(new pb.Field('i', 2, 'int64'))
    .add(new pb.Field('f', 3, 'float'))
    .add(new pb.Field('s', 4, 'string'))
    .add(new pb.Field('b', 5, 'bytes'))
    .add(new pb.Field('dims', 6, 'int64', 'repeated'))
    .add(new pb.Field('fl', 7, 'float', 'repeated'))
    .add(new pb.Field('inner', 8, 'Inner', 'repeated'))
    .add(new pb.Field('big', 9000, 'bytes'));
  new pb.Root().add(Inner).add(Outer);
  const int64 = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
  const f32 = fc.float({ noDefaultInfinity: true, noNaN: true });
  fc.assert(
    fc.property(
      fc.record({
        u: fc.maxSafeNat(),
        i: int64,
        f: f32,
        s: fc.string({ unit: 'grapheme', maxLength: 20 }),
        b: fc.uint8Array({ maxLength: 40 }),
        dims: fc.array(int64, { maxLength: 6 }),
        fl: fc.array(f32, { maxLength: 5 }),
        inner: fc.array(fc.record({ x: int64, name: fc.string({ maxLength: 8 }) }), { maxLength: 3 }),
        // Over the writer's 4 KiB copy limit: exercises chunks kept by reference.
        big: fc.uint8Array({ minLength: 4097, maxLength: 6000 }),
      }),
      (m) => {
        const w = new ProtoWriter()
          .varint(1, m.u)
          .varint(2, m.i)
          .float32(3, m.f)
          .string(4, m.s)
          .bytes(5, m.b)
          .packedVarints(6, m.dims)
          .packedFloat32(7, m.fl);
        for (const x of m.inner) w.message(8, new ProtoWriter().varint(1, x.x).string(2, x.name));
        w.bytes(9000, m.big);
        const bytes = w.toBytes();
        assert.equal(bytes.length, w.byteLength);
        const d = Outer.toObject(Outer.decode(bytes), { longs: String, bytes: Array, arrays: true, defaults: true });
        assert.equal(d.u, String(m.u));
        assert.equal(d.i, String(m.i));
        assert.ok(Object.is(d.f, m.f), `float ${d.f} vs ${m.f}`);
        assert.equal(d.s, m.s);
        assert.deepEqual(d.b, [...m.b]);
        assert.deepEqual(d.dims, m.dims.map(String));
        assert.deepEqual(d.fl, m.fl);
        assert.deepEqual(
          d.inner,
          m.inner.map((x) => ({ x: String(x.x), name: x.name })),
        );
        assert.deepEqual(d.big, [...m.big]);
      },
    ),
    { numRuns: 60 },
  );
});

// ---------------------------------------------------------------- models

const LABELS = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];

/**
 * A random model with the fixture's sharpening (Linear weights x8, random LayerNorm and bias
 * values): HF's init keeps GELU inputs near 0, where erf and tanh GELU agree to 1e-7, and makes
 * attention near uniform, so a wrong activation or mask would go unnoticed.
 */
function sharpModel(hiddenAct: string, seed: number, vocabSize = 120): TokenClassifier {
  const config = makeConfig({
    vocab_size: vocabSize,
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    max_position_embeddings: 40,
    hidden_act: hiddenAct,
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
  });
  const model = BertForTokenClassification.create(config, seed);
  const rng = Rng.fromSeed(seed + 1000);
  for (const [name, t] of model.parameters()) {
    const f = t.f;
    const isEmbedding = name.includes('embeddings.') && !name.includes('LayerNorm');
    if (isEmbedding) continue;
    for (let i = 0; i < f.length; i++) {
      if (name.includes('LayerNorm.weight')) f[i] = 1 + 0.1 * rng.normal();
      else if (name.endsWith('.bias')) f[i] = 0.05 * rng.normal();
      else f[i] = f[i]! * 8;
    }
  }
  return model;
}

async function ortLogits(onnxPath: string, batches: TokenBatch[], level: 'disabled' | 'all' = 'all'): Promise<Float32Array[]> {
  const session = await ort!.InferenceSession.create(onnxPath, { graphOptimizationLevel: level, intraOpNumThreads: 1 });
  try {
    assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
    assert.deepEqual([...session.outputNames], ['logits']);
    const out: Float32Array[] = [];
    for (const b of batches) out.push(await onnxLogits(ort!, session, b));
    return out;
  } finally {
    await session.release();
  }
}

function assertClose(name: string, ours: Float32Array, theirs: Float32Array, tol = 1e-4): void {
  const d = maxAbsDiff(ours, theirs);
  assert.ok(d <= tol, `${name}: max |ours - onnxruntime| = ${d} > ${tol}`);
}

for (const act of ['gelu', 'gelu_new']) {
  test(`random ${act} model: onnxruntime logits equal ours within 1e-4 (padding, token types, dynamic shapes)`, {
    skip: ortSkip,
  }, async () => {
    const model = sharpModel(act, act === 'gelu' ? 3 : 4);
    const dir = join(tmp, `random-${act}`);
    const res = exportOnnx(model, null, dir);
    assert.ok(existsSync(join(dir, 'onnx', 'model.onnx')));
    // Padded batch with mask zeros and a token-type split, then other batch and sequence sizes.
    const batches = [randomBatch(model, 4, 24, 7), randomBatch(model, 1, 5, 8), randomBatch(model, 2, 40, 9)];
    assert.ok(batches[0]!.attentionMask.includes(0) && batches[0]!.tokenTypeIds!.includes(1));
    for (const level of ['disabled', 'all'] as const) {
      const theirs = await ortLogits(res.modelPath, batches, level);
      batches.forEach((b, i) =>
        assertClose(`${act} batch ${b.batchSize}x${b.seqLen} (optimization ${level})`, ourLogits(model, b), theirs[i]!),
      );
    }
  });
}

test('the comparison has teeth: an erf-GELU export does not match the tanh-GELU model', { skip: ortSkip }, async () => {
  const tanhModel = sharpModel('gelu_new', 4);
  const erfModel = new BertForTokenClassification({ ...tanhModel.config, hiddenAct: 'gelu' }, tanhModel.params);
  const dir = join(tmp, 'teeth');
  const res = exportOnnx(erfModel, null, dir);
  const batch = randomBatch(tanhModel, 2, 16, 3);
  const [theirs] = await ortLogits(res.modelPath, [batch]);
  assert.ok(maxAbsDiff(ourLogits(tanhModel, batch), theirs!) > 1e-3, 'erf and tanh GELU should differ on this model');
  // And padding matters: onnxruntime's logits change when a padded key is unmasked.
  const unmasked = { ...batch, attentionMask: new Int32Array(batch.attentionMask.length).fill(1) };
  const [theirsUnmasked] = await ortLogits(res.modelPath, [unmasked]);
  assert.ok(maxAbsDiff(theirs!, theirsUnmasked!) > 1e-3, 'the attention mask should matter');
});

test('bert-tiny fixture: onnxruntime reproduces PyTorch logits within 1e-4 (gelu and gelu_new)', { skip: ortSkip }, async () => {
  const { get, batch } = encoderFixture('bert-tiny');
  const { model } = loadModelFromDir(join(fixturesDir, 'bert-tiny'));
  for (const [act, key] of [
    ['gelu', 'logits'],
    ['gelu_new', 'gelu_new.logits'],
  ] as const) {
    const m = act === 'gelu' ? model : new BertForTokenClassification({ ...model.config, hiddenAct: act }, model.params);
    const res = exportOnnx(m, null, join(tmp, `bert-tiny-${act}`));
    for (const level of ['disabled', 'all'] as const) {
      const [theirs] = await ortLogits(res.modelPath, [batch], level);
      const torch = get(key).data as Float32Array;
      const d = maxAbsDiff(theirs!, torch);
      assert.ok(d <= 1e-4, `${act} (optimization ${level}): max |onnxruntime - torch| = ${d}`);
    }
  }
});

test('export refuses what the graph cannot express', () => {
  const model = sharpModel('gelu', 1);
  const rel = new BertForTokenClassification(
    { ...model.config, raw: { ...model.config.raw, position_embedding_type: 'relative_key' } },
    model.params,
  );
  assert.throws(
    () => buildBertOnnxModel(rel),
    (e: unknown) => e instanceof OnnxExportError && /relative_key/.test((e as Error).message),
  );
});

// ---------------------------------------------------------------- CLI

function capture(): { io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }; out: () => string; err: () => string } {
  let out = '',
    err = '';
  const sink = (f: (s: string) => void) =>
    ({ write: (s: string | Uint8Array) => (f(String(s)), true) }) as unknown as NodeJS.WritableStream;
  return { io: { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) }, out: () => out, err: () => err };
}

test('tokentune export writes the folder (and --verify checks it when onnxruntime-node is installed)', async () => {
  const dir = join(tmp, 'cli-out');
  const c = capture();
  const code = await runExport(['--model', join(fixturesDir, 'bert-tiny'), '--onnx', dir, ...(ort ? ['--verify'] : [])], c.io);
  assert.equal(code, 0, c.err());
  assert.match(c.out(), /onnx\/model\.onnx \(0\.\d MB\)/);
  assert.ok(existsSync(join(dir, 'onnx', 'model.onnx')));
  if (ort) assert.match(c.out(), /verify: .* max \|diff\| .*\(ok/);
  assert.match(c.err(), /no tokenizer/); // the fixture has no vocabulary
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(cfg['architectures'], ['BertForTokenClassification']);
  assert.equal((cfg['id2label'] as Record<string, string>)['1'], 'B-PER');
  // transformers.js in a browser would otherwise look for onnx/model_quantized.onnx
  assert.deepEqual(cfg['transformers.js_config'], { dtype: 'fp32' });
});

test('tokentune export: usage errors', async () => {
  await assert.rejects(runExport(['--model', 'x'], capture().io), /--onnx OUTDIR/);
  await assert.rejects(runExport(['--onnx', 'x'], capture().io), /--model DIR/);
  const c = capture();
  assert.equal(await runExport(['--help'], c.io), 0);
  assert.match(c.out(), /--verify/);
});

const TJS_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'the',
  'cat',
  'sat',
  'on',
  'mat',
  'john',
  'smith',
  'lives',
  'in',
  'paris',
  '.',
  ',',
  '##s',
  '##ing',
  'new',
  'york',
  'liv',
  '##e',
  'caf',
  '##é',
];

test('a tokenizer.json in the source folder is copied as it is, not regenerated', () => {
  const tokenizer = WordPieceTokenizer.fromTokens(TJS_VOCAB, { doLowerCase: true });
  const model = sharpModel('gelu', 12, TJS_VOCAB.length);
  const src = join(tmp, 'copy-src');
  exportOnnx(model, tokenizer, src);
  const generated = JSON.parse(readFileSync(join(src, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  assert.equal((generated['model'] as { vocab: Record<string, number> }).vocab['##s'], TJS_VOCAB.indexOf('##s'));
  const compact = JSON.stringify(generated); // differs from what the export writes (indented)
  writeFileAtomic(join(src, 'tokenizer.json'), compact);
  const res = exportOnnx(model, tokenizer, join(tmp, 'copy-out'), { sourceDir: src });
  assert.equal(readFileSync(join(tmp, 'copy-out', 'tokenizer.json'), 'utf8'), compact);
  assert.ok(res.files.includes('tokenizer.json'));
  // Exporting into the source folder itself keeps the file intact.
  exportOnnx(model, tokenizer, src, { sourceDir: src });
  assert.equal(readFileSync(join(src, 'tokenizer.json'), 'utf8'), compact);
});

// ---------------------------------------------------------------- transformers.js

test('transformers.js loads the exported folder and its pipeline agrees with our logits', { skip: tjsSkip || ortSkip }, async () => {
  const tokenizer = WordPieceTokenizer.fromTokens(TJS_VOCAB, { doLowerCase: true });
  const model = sharpModel('gelu', 11, TJS_VOCAB.length);
  const root = join(tmp, 'tjs');
  const res = exportOnnx(model, tokenizer, join(root, 'tiny-ner'));
  assert.deepEqual([...res.files].sort(), [
    'config.json',
    'onnx/model.onnx',
    'special_tokens_map.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'vocab.txt',
  ]);
  const { env, pipeline } = transformers;
  env.allowRemoteModels = false;
  env.localModelPath = root + '/';
  const ner = await pipeline('token-classification', 'tiny-ner');
  const text = 'John Smith lives in New York, the cats sat on mats. Café!';
  const got = (await ner(text, { ignore_labels: [] })) as { entity: string; score: number; index: number; word: string }[];

  const enc = tokenizer.encode(text);
  const T = enc.ids.length;
  const logits = ourLogits(model, {
    inputIds: Int32Array.from(enc.ids),
    attentionMask: new Int32Array(T).fill(1),
    batchSize: 1,
    seqLen: T,
  });
  const L = LABELS.length;
  // Every token but the special ones ([CLS], [SEP], [UNK] for "!") comes back, in order, with
  // the softmax score and label of the argmax.
  const expected = enc.ids.flatMap((id, j) => (tokenizer.isSpecialId(id) ? [] : [j]));
  assert.ok(expected.length >= 15 && expected.length < T - 2, `${T} tokens, ${expected.length} not special`);
  assert.deepEqual(
    got.map((g) => g.index),
    expected,
  );
  for (const g of got) {
    const row = Array.from(logits.subarray(g.index * L, (g.index + 1) * L));
    const max = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - max));
    const probs = exps.map((e) => e / exps.reduce((a, b) => a + b, 0));
    const order = probs.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
    assert.ok(Math.abs(g.score - order[0]![0]) <= 1e-4, `token ${g.index}: score ${g.score} vs ours ${order[0]![0]}`);
    if (order[0]![0] - order[1]![0] > 1e-3) assert.equal(g.entity, LABELS[order[0]![1]], `token ${g.index}`);
    assert.equal(g.word, tokenizer.convertIdsToTokens(enc.ids[g.index]!));
  }
  // A text longer than max_position_embeddings (40) is truncated by transformers.js, because the
  // export writes model_max_length 40 (instead of "no limit") into tokenizer_config.json.
  // (transformers.js 4.3 cuts the final [SEP] when it truncates, so 39 tokens come back, not 38.)
  const long = (await ner('the cat sat on the mat . '.repeat(12), { ignore_labels: [] })) as unknown[];
  assert.ok(long.length >= 38 && long.length <= 39, `${long.length} tokens`);
});

const SHARED_VOCAB = join(sharedDir, 'models', 'bert-base-uncased-vocab', 'vocab.txt');
const CASED_VOCAB = join(sharedDir, 'models', 'bert-base-cased-vocab', 'vocab.txt');
const sharedVocabSkip =
  existsSync(SHARED_VOCAB) && existsSync(CASED_VOCAB) ? false : `the BERT vocabularies under ${sharedDir}/models are absent`;

test('tokenizer.json we write tokenizes like our tokenizer in transformers.js (real BERT vocabularies)', {
  skip: tjsSkip || sharedVocabSkip,
}, async () => {
  const texts = [
    'Hello, World! naïve café résumé',
    'Ünïcödé 中文字 test — “quotes” and ‘single’',
    "don't stop-believing: 123.45 $%&",
    'a [MASK] token and [SEP] inside',
    '  multiple   spaces\tand\nnewlines\u0000control',
    'unaffable antidisestablishmentarianism Zürich Ελληνικά',
  ];
  const { AutoTokenizer, env } = transformers;
  env.allowRemoteModels = false;
  const root = join(tmp, 'tok');
  env.localModelPath = root + '/';
  for (const [name, vocab, lower] of [
    ['uncased', SHARED_VOCAB, true],
    ['cased', CASED_VOCAB, false],
  ] as const) {
    const ours = WordPieceTokenizer.fromVocabFile(vocab, { doLowerCase: lower });
    const dir = join(root, name);
    ours.saveVocab(dir);
    writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(bertTokenizerJson(loadPretrainedDir(dir)).json));
    const theirs = await AutoTokenizer.from_pretrained(name);
    for (const t of texts) assert.deepEqual(theirs.encode(t), ours.encode(t).ids, `${name}: ${JSON.stringify(t)}`);
  }
});
