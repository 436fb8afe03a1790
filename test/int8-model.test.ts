/**
 * int8 models end to end on a tiny BERT trained here on generated NER data: `saveQuantized` +
 * loading gives int8 encoder layers whose logits stay close to the float model's and whose argmax
 * agrees on nearly every token; the folder loads transparently in the pipeline and `tokentune
 * quantize`; bad folders fail with errors that name the file and the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, tidy } from '../src/engine/index.js';
import { collate } from '../src/data/collate.js';
import { BertForTokenClassification, fromPretrained, savePretrained, type TokenClassifier } from '../src/models/index.js';
import { DEFAULT_WEIGHT_BITS, int8Variant, quantizableLayers, quantizeInMemory, saveQuantized } from '../src/models/quantized.js';
import {
  buildBertOnnxModel,
  exportOnnx,
  loadOnnxRuntime,
  maxAbsDiff,
  onnxLogits,
  ourLogits,
  quantizeOnnxModel,
} from '../src/infer/onnx/index.js';
import { quantizeWeightPerChannel } from '../src/engine/ops/int8.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { Trainer } from '../src/train/trainer.js';
import { pipeline } from '../src/infer/pipeline.js';
import { main } from '../src/cli/main.js';
import { tinyArgs, tinySetup } from './helpers/tiny-setup.js';
import { predictStream } from '../src/infer/index.js';
import { collectResults, connectRedis, enqueueRecords, streamNames } from '../src/queue/index.js';
import { runWorker } from '../src/cli/worker.js';
import { NO_REDIS, redisServerPath, startRedis } from './helpers/redis-server.js';
import { optionalImport } from './helpers/optional-import.js';

const setup = tinySetup({ trainSentences: 240, dropout: 0 });
const dir = mkdtempSync(join(tmpdir(), 'tt-int8-'));
const floatDir = join(dir, 'float'),
  int8Dir = join(dir, 'int8');

await new Trainer({
  model: setup.model,
  tokenizer: setup.tokenizer,
  trainDataset: setup.train,
  args: tinyArgs(join(dir, 'run'), { numTrainEpochs: 3 }),
}).train();
savePretrained(setup.model, floatDir, setup.tokenizer);
saveQuantized(setup.model, int8Dir, setup.tokenizer);

function logits(model: TokenClassifier, skipPadding = false): { values: Float32Array; mask: Int32Array; classes: number } {
  const batch = collate(setup.validation.features, setup.tokenizer.padId);
  const values = noGrad(() => tidy(() => Float32Array.from(model.forward(batch, { training: false, skipPadding }).f)));
  return { values, mask: batch.attentionMask, classes: model.numLabels };
}

test('quantized logits are close to float and the argmax agrees on >= 99% of tokens', async () => {
  const { model: q } = await fromPretrained(int8Dir);
  assert.ok(q instanceof BertForTokenClassification && q.int8Layers?.length === q.config.numHiddenLayers, 'int8 layers attached');
  const f = logits(setup.model),
    g = logits(q);
  let maxAbs = 0,
    maxDiff = 0,
    agree = 0,
    tokens = 0;
  for (let r = 0; r < f.mask.length; r++) {
    if (!f.mask[r]) continue;
    tokens++;
    let af = 0,
      ag = 0;
    for (let c = 0; c < f.classes; c++) {
      const i = r * f.classes + c;
      maxAbs = Math.max(maxAbs, Math.abs(f.values[i]));
      maxDiff = Math.max(maxDiff, Math.abs(f.values[i] - g.values[i]));
      if (f.values[i] > f.values[r * f.classes + af]) af = c;
      if (g.values[i] > g.values[r * g.classes + ag]) ag = c;
    }
    if (af === ag) agree++;
  }
  assert.ok(maxDiff > 0, 'the int8 path ran (logits differ from float in the last bits at least)');
  assert.ok(maxDiff <= 0.05 * maxAbs, `max |logit diff| ${maxDiff} vs max |logit| ${maxAbs}`);
  assert.ok(agree / tokens >= 0.99, `argmax agreement ${agree}/${tokens}`);
  // Padding skipped (what the pipeline runs): real tokens exactly as padded, padding rows 0.
  const skipped = logits(q, true);
  assert.ok(g.mask.includes(0), 'the batch has padding');
  assert.deepEqual(
    skipped.values,
    g.values.map((v, i) => (g.mask[Math.floor(i / g.classes)] ? v : 0)),
  );
  // Quantizing in memory gives the same int8 layers as saving and loading.
  const m2 = new BertForTokenClassification(setup.model.config, setup.model.params);
  quantizeInMemory(m2);
  assert.deepEqual(logits(m2).values, g.values);
  // A graph-recording forward (training) still runs the float weights.
  assert.equal(q.int8Layers![0].qkv.n, 3 * q.config.hiddenSize);
});

test('the folder: I8 weights with per-channel F32 scales, quantization.json, float everything else', () => {
  const st = readSafetensors(join(int8Dir, 'model.safetensors'));
  const name = 'bert.encoder.layer.0.intermediate.dense.weight';
  const rec = st.tensors.get(name)!,
    scale = st.tensors.get(`${name}_scale`)!;
  assert.equal(rec.dtype, 'I8');
  assert.equal(scale.dtype, 'F32');
  const w = setup.model.params.get(name)!;
  const want = quantizeWeightPerChannel(w.f as Float32Array, w.shape[0], w.shape[1], DEFAULT_WEIGHT_BITS);
  assert.deepEqual(Int8Array.from(rec.data as Int32Array), want.q);
  const qmax = DEFAULT_WEIGHT_BITS === 7 ? 63 : 127;
  assert.ok(want.q.every((v) => v >= -qmax && v <= qmax) && want.q.some((v) => Math.abs(v) === qmax), `weights span [-${qmax}, ${qmax}]`);
  assert.deepEqual(scale.data, want.scale);
  assert.equal(st.tensors.get('classifier.weight')!.dtype, 'F32');
  assert.equal(st.tensors.get('bert.embeddings.word_embeddings.weight')!.dtype, 'F32');
  const info = JSON.parse(readFileSync(join(int8Dir, 'quantization.json'), 'utf8'));
  assert.equal(info.format, 'tokentune-dynamic-int8');
  assert.equal(info.weight_bits, DEFAULT_WEIGHT_BITS);
  assert.equal(info.layers.length, 6 * setup.model.config.numHiddenLayers);
});

test('--weight-bits 7 and 8: scales max|w| / 63 and / 127, recorded as weight_bits; a folder without weight_bits loads as 8-bit; a bad value names file and field', async () => {
  const io = { stdout: { write: () => true }, stderr: { write: () => true } } as never;
  const name = 'bert.encoder.layer.0.output.dense';
  const w = setup.model.params.get(`${name}.weight`)!;
  const [n, k] = w.shape as [number, number];
  for (const bits of [7, 8] as const) {
    const out = join(dir, `bits${bits}`);
    assert.equal(await main(['quantize', '--model', floatDir, '--out', out, '--weight-bits', String(bits)], io), 0);
    const info = JSON.parse(readFileSync(join(out, 'quantization.json'), 'utf8'));
    assert.equal(info.weight_bits, bits);
    const st = readSafetensors(join(out, 'model.safetensors'));
    const q = Int8Array.from(st.tensors.get(`${name}.weight`)!.data as Int32Array),
      scale = st.tensors.get(`${name}.weight_scale`)!.data as Float32Array;
    const qmax = bits === 7 ? 63 : 127;
    for (let j = 0; j < n; j++) {
      let mx = 0;
      for (let p = 0; p < k; p++) mx = Math.max(mx, Math.abs(w.f[j * k + p]!));
      assert.equal(scale[j], Math.fround(mx / qmax));
      // Within half a step of the float weight (outside arithmetic: float64).
      for (let p = 0; p < k; p++) assert.ok(Math.abs(q[j * k + p]! * scale[j]! - w.f[j * k + p]!) <= scale[j]! * 0.5 * (1 + 1e-6));
    }
    assert.ok(q.every((v) => Math.abs(v) <= qmax) && q.some((v) => Math.abs(v) === qmax));
    const { model } = await fromPretrained(out);
    assert.ok(model instanceof BertForTokenClassification && model.int8WeightBits === bits);
    assert.equal(model.int8Layers![0]!.output.weights7, bits === 7, 'the AVX2 vpmaddubsw tile only for 7-bit weights');
  }
  // Written before weight_bits existed: 8-bit, the same logits as an 8-bit folder.
  const old = join(dir, 'bits8');
  const info = JSON.parse(readFileSync(join(old, 'quantization.json'), 'utf8'));
  delete info.weight_bits;
  writeFileSync(join(old, 'quantization.json'), JSON.stringify(info));
  const { model: m8 } = await fromPretrained(old);
  assert.ok(m8 instanceof BertForTokenClassification && m8.int8WeightBits === 8);
  const mem = new BertForTokenClassification(setup.model.config, setup.model.params);
  quantizeInMemory(mem, 8);
  assert.deepEqual(logits(m8).values, logits(mem).values);
  for (const bad of [6, '7', null]) {
    writeFileSync(join(old, 'quantization.json'), JSON.stringify({ ...info, weight_bits: bad }));
    await assert.rejects(
      fromPretrained(old),
      /bits8[\\/]quantization\.json: "weight_bits" must be 7 or 8, got (6|"7"|null); re-run tokentune quantize/,
    );
  }
  const err: string[] = [];
  const io2 = { stdout: { write: () => true }, stderr: { write: (s: string) => (err.push(s), true) } } as never;
  assert.equal(await main(['quantize', '--model', floatDir, '--out', join(dir, 'bits9'), '--weight-bits', '9'], io2), 2);
  assert.match(err.join(''), /--weight-bits must be 7 or 8, got '9'/);
});

test('the pipeline loads the quantized folder transparently and tags like the float model', async () => {
  const a = await pipeline(floatDir),
    b = await pipeline(int8Dir);
  assert.ok(b.model instanceof BertForTokenClassification && b.model.int8Layers !== null, 'the pipeline model has int8 layers');
  let same = 0,
    total = 0;
  for (const s of setup.validation.sentences.slice(0, 20)) {
    const text = s.tokens.join(' ');
    const ea = await a.predict(text, { aggregationStrategy: 'first' }),
      eb = await b.predict(text, { aggregationStrategy: 'first' });
    total += Math.max(ea.length, eb.length);
    same += ea.filter((e) =>
      eb.some(
        (f) =>
          f.start === e.start &&
          f.end === e.end &&
          ('entity_group' in f ? f.entity_group : f.entity) === ('entity_group' in e ? e.entity_group : e.entity),
      ),
    ).length;
  }
  assert.ok(total > 0 && same / total >= 0.95, `entities agree ${same}/${total}`);
});

test('tokentune quantize: writes the folder, refuses a quantized input, names the flag', async () => {
  const out: string[] = [],
    err: string[] = [];
  const io = { stdout: { write: (s: string) => (out.push(s), true) }, stderr: { write: (s: string) => (err.push(s), true) } } as never;
  assert.equal(await main(['quantize', '--model', floatDir, '--out', join(dir, 'cli')], io), 0);
  assert.match(out.join(''), /quantized 6 linear layers to int8/);
  assert.deepEqual(readFileSync(join(dir, 'cli', 'model.safetensors')), readFileSync(join(int8Dir, 'model.safetensors')));
  assert.equal(await main(['quantize', '--model', int8Dir, '--out', join(dir, 'x')], io), 2);
  assert.match(err.join(''), /already quantized/);
  assert.equal(await main(['quantize', '--model', floatDir], io), 2);
  assert.match(err.join(''), /--out DIR/);
});

test('a damaged quantized folder fails with the file and the fix', async () => {
  const bad = join(dir, 'cli');
  writeFileSync(join(bad, 'quantization.json'), '{"format": "other", "version": 1}');
  await assert.rejects(
    fromPretrained(bad),
    /quantization\.json: format "other" version 1 is not tokentune-dynamic-int8.*re-run tokentune quantize/,
  );
  writeFileSync(join(bad, 'quantization.json'), '{not json');
  await assert.rejects(fromPretrained(bad), /quantization\.json: not valid JSON/);
  writeFileSync(join(bad, 'quantization.json'), JSON.stringify({ format: 'tokentune-dynamic-int8', version: 1, layers: ['x'] }));
  await assert.rejects(fromPretrained(bad), /quantization\.json: "layers" lists "x", which is not a linear layer of this config's model/);
  // Layers of the model, but not all of its encoder's linear layers.
  const layers = quantizableLayers(setup.model).slice(0, -1);
  writeFileSync(join(bad, 'quantization.json'), JSON.stringify({ format: 'tokentune-dynamic-int8', version: 1, layers }));
  await assert.rejects(
    fromPretrained(bad),
    /quantization\.json: "layers" does not list bert\.encoder\.layer\.0\.output\.dense, whose weight the weights file stores as I8/,
  );
});

test('the Redis worker on the quantized folder tags like predict on it (the int8 path), not like the float model', {
  skip: redisServerPath() ? false : NO_REDIS,
  timeout: 60_000,
}, async () => {
  const server = await startRedis();
  const redis = await connectRedis(server.url);
  try {
    const texts = setup.validation.sentences.slice(0, 12).map((s) => s.tokens.join(' '));
    const file = join(dir, 'worker-input.txt');
    writeFileSync(file, texts.join('\n') + '\n');
    const n = await enqueueRecords(redis, 'int8', createReadStream(file, 'utf8'), { format: 'txt' });
    const ac = new AbortController();
    const quiet = { write: () => true } as unknown as NodeJS.WritableStream;
    const done = runWorker(['--model', int8Dir, '--redis', server.url, '--stream', 'int8', '--consumer', 'q', '--batch-wait-ms', '0'], {
      stdout: quiet,
      stderr: quiet,
      signal: ac.signal,
    });
    const names = streamNames('int8');
    const t0 = Date.now();
    while ((await redis.xlen(names.results)) < n) {
      assert.ok(Date.now() - t0 < 50_000, 'the worker did not finish');
      await new Promise((r) => setTimeout(r, 25));
    }
    ac.abort();
    assert.equal(await done, 0);
    const got = (await collectResults(redis, { results: names.results, dead: names.dead, expect: n })).outputs.join('');
    const predicted = async (model: string): Promise<string> => {
      let out = '';
      const sink = new PassThrough().on('data', (c: Buffer) => (out += c.toString()));
      await predictStream(await pipeline(model), createReadStream(file, 'utf8'), sink, {
        inputFormat: 'txt',
        outputFormat: 'jsonl',
        aggregationStrategy: 'first',
        ignoreLabels: ['O'],
      });
      return out;
    };
    // The worker's defaults are predict's (first, ignore O). Scores: the same to 1e-6 as predict
    // on the int8 folder (which texts share a forward call changes their last bits), further than
    // that from the float model's (or other entities).
    const vsInt8 = maxScoreDiff(got, await predicted(int8Dir)),
      vsFloat = maxScoreDiff(got, await predicted(floatDir));
    assert.ok(vsInt8 <= 1e-6, `worker vs predict on the int8 folder: ${vsInt8}`);
    assert.ok(vsFloat > 1e-5, `worker vs predict on the float folder: ${vsFloat}`);
  } finally {
    redis.disconnect();
    await server.stop();
  }
});

/** Largest difference between the numbers of two jsonl outputs; Infinity when anything else differs. */
function maxScoreDiff(a: string, b: string): number {
  let d = 0;
  const walk = (x: unknown, y: unknown): void => {
    if (typeof x === 'number' && typeof y === 'number') d = Math.max(d, Math.abs(x - y));
    else if (
      x !== null &&
      typeof x === 'object' &&
      y !== null &&
      typeof y === 'object' &&
      Object.keys(x).join() === Object.keys(y).join()
    ) {
      for (const k of Object.keys(x)) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]);
    } else if (x !== y) d = Infinity;
  };
  const la = a.trim().split('\n'),
    lb = b.trim().split('\n');
  if (la.length !== lb.length) return Infinity;
  la.forEach((l, i) => walk(JSON.parse(l), JSON.parse(lb[i]!)));
  return d;
}

// ---------------------------------------------------------------- export --onnx --int8
const ort = await loadOnnxRuntime();
const ortSkip = ort ? false : 'onnxruntime-node is not installed';
const transformers = await optionalImport('@huggingface/transformers');

test('the int8 ONNX graph: DynamicQuantizeLinear + MatMulInteger on every encoder MatMul, classifier float', () => {
  const { model: q, quantized } = quantizeOnnxModel(buildBertOnnxModel(setup.model), quantizableLayers(setup.model));
  const L = setup.model.config.numHiddenLayers;
  const count = (op: string) => q.graph.nodes.filter((n) => n.opType === op).length;
  assert.equal(quantized, 6 * L);
  assert.equal(count('MatMulInteger'), 6 * L);
  // One per quantized activation: the layer input (shared by Q, K, V), the context, x1, the GELU output.
  assert.equal(count('DynamicQuantizeLinear'), 4 * L);
  const inits = new Map(q.graph.initializers.map((t) => [t.name, t]));
  for (const n of q.graph.nodes.filter((nd) => nd.opType === 'MatMul')) {
    assert.ok(!inits.has(n.inputs[1]!) || n.inputs[1] === 'classifier.weight.T', `${n.name} still multiplies a float weight`);
  }
  const w = inits.get('bert.encoder.layer.0.intermediate.dense.weight_quantized')!;
  assert.deepEqual([w.dataType, ...w.dims], [3, setup.model.config.hiddenSize, setup.model.config.intermediateSize]);
  assert.ok(!inits.has('bert.encoder.layer.0.intermediate.dense.weight.T'), 'the float weight is dropped');
});

test('model_quantized.onnx in onnxruntime-node is close to tokentune int8 and agrees on the argmax', { skip: ortSkip }, async () => {
  const out = join(dir, 'onnx');
  const res = exportOnnx(setup.model, setup.tokenizer, out, { int8: true });
  assert.ok(res.files.includes('onnx/model_quantized.onnx'));
  // No dtype pinned for transformers.js: a browser takes its default, q8 (model_quantized.onnx).
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config'], undefined);
  const session = await ort!.InferenceSession.create(res.quantizedPath!);
  const batch = collate(setup.validation.features, setup.tokenizer.padId);
  const theirs = await onnxLogits(ort!, session, batch);
  await session.release();
  const ours = ourLogits(int8Variant(setup.model), batch),
    fp32 = ourLogits(setup.model, batch);
  const C = setup.model.numLabels;
  let agree = 0,
    tokens = 0,
    maxAbs = 0;
  const argmax = (a: Float32Array, r: number) => {
    let b = 0;
    for (let c = 1; c < C; c++) if (a[r * C + c]! > a[r * C + b]!) b = c;
    return b;
  };
  for (let r = 0; r < batch.attentionMask.length; r++) {
    if (!batch.attentionMask[r]) continue;
    tokens++;
    if (argmax(theirs, r) === argmax(ours, r)) agree++;
    for (let c = 0; c < C; c++) maxAbs = Math.max(maxAbs, Math.abs(fp32[r * C + c]!));
  }
  const real = (a: Float32Array) => a.filter((_, i) => batch.attentionMask[Math.floor(i / C)]);
  const dq = maxAbsDiff(real(theirs), real(ours)),
    df = maxAbsDiff(real(theirs), real(fp32));
  assert.ok(dq > 0 && dq <= 0.05 * maxAbs, `onnxruntime int8 vs tokentune int8: max |diff| ${dq} (max |logit| ${maxAbs})`);
  assert.ok(df <= 0.05 * maxAbs, `onnxruntime int8 vs fp32: max |diff| ${df}`);
  assert.ok(agree / tokens >= 0.99, `argmax agreement ${agree}/${tokens}`);
});

test('transformers.js loads model_quantized.onnx (dtype q8, the browser default) and tags like onnxruntime on it', {
  skip: ortSkip || (transformers ? false : 'transformers.js is not installed'),
}, async () => {
  const { env, pipeline: tjsPipeline } = transformers!;
  env.allowRemoteModels = false;
  env.localModelPath = dir + '/';
  const ner = await tjsPipeline('token-classification', 'onnx', { dtype: 'q8' });
  const text = setup.validation.sentences[0]!.tokens.join(' ');
  const got = (await ner(text, { ignore_labels: [] })) as { entity: string; score: number; index: number }[];
  const session = await ort!.InferenceSession.create(join(dir, 'onnx', 'onnx', 'model_quantized.onnx'));
  const enc = setup.tokenizer.encode(text);
  const T = enc.ids.length,
    C = setup.model.numLabels;
  const logits = await onnxLogits(ort!, session, {
    inputIds: Int32Array.from(enc.ids),
    attentionMask: new Int32Array(T).fill(1),
    tokenTypeIds: new Int32Array(T),
    batchSize: 1,
    seqLen: T,
  });
  await session.release();
  assert.ok(got.length > 0);
  for (const g of got) {
    const row = Array.from(logits.subarray(g.index * C, (g.index + 1) * C));
    const max = Math.max(...row),
      sum = row.reduce((s, v) => s + Math.exp(v - max), 0);
    assert.ok(
      Math.abs(g.score - 1 / sum) <= 1e-4,
      `token ${g.index}: transformers.js score ${g.score} vs onnxruntime on model_quantized.onnx ${1 / sum}`,
    );
    assert.equal(g.entity, setup.model.config.labels[row.indexOf(max)]);
  }
});

test('export --onnx --int8 of a 7-bit folder writes its weight bytes and verifies in onnxruntime', { skip: ortSkip }, async () => {
  const src = join(dir, 'bits7-export');
  const io = { stdout: { write: () => true }, stderr: { write: () => true } } as never;
  assert.equal(await main(['quantize', '--model', floatDir, '--out', src, '--weight-bits', '7'], io), 0);
  const out: string[] = [];
  const io2 = { stdout: { write: (s: string) => (out.push(s), true) }, stderr: { write: (s: string) => (out.push(s), true) } } as never;
  assert.equal(await main(['export', '--model', src, '--onnx', join(dir, 'bits7-onnx'), '--int8', '--verify'], io2), 0, out.join(''));
  assert.match(out.join(''), /verify int8: onnxruntime on model_quantized\.onnx vs tokentune int8: max \|diff\| \S+ \(ok/);
  // The graph's weights are the folder's 7-bit values (transposed to [in, out]), not a requantization.
  const st = readSafetensors(join(src, 'model.safetensors'));
  const name = 'bert.encoder.layer.0.intermediate.dense';
  const q = Int8Array.from(st.tensors.get(`${name}.weight`)!.data as Int32Array);
  const [n, k] = st.tensors.get(`${name}.weight`)!.shape as [number, number];
  const { model } = await fromPretrained(src);
  const graph = quantizeOnnxModel(buildBertOnnxModel(model), quantizableLayers(model), 7).model;
  const t = graph.graph.initializers.find((i) => i.name === `${name}.weight_quantized`)!;
  const qt = new Int8Array(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength);
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) assert.equal(qt[p * n + j], q[j * k + p]);
});
