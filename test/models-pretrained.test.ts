/** Loading and saving Hugging Face model folders: real checkpoint, round trip, new heads, hub. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, tidy } from '../src/engine/index.js';
import {
  BertForTokenClassification,
  buildFromState,
  fromPretrained,
  loadModelFromDir,
  makeConfig,
  savePretrained,
} from '../src/models/index.js';
import { readSafetensors } from '../src/io/safetensors.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { fixturesDir, sharedDir, sharedSkip } from './helpers/fixtures.js';
import { HubTestServer } from './helpers/hub-server.js';
import { cli } from './helpers/cli-run.js';
import { pipeline } from '../src/infer/index.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tt-models-'));
const camphr = join(sharedDir, 'models', 'camphr-tiny-random-bert-ner');

test('the camphr checkpoint (pytorch_model.bin saved by transformers) loads and predicts', { skip: sharedSkip }, async () => {
  const warnings: string[] = [];
  const { model, tokenizer, report } = await fromPretrained(camphr, { onWarning: (w) => warnings.push(w) });
  assert.equal(model.numLabels, 9);
  assert.equal(model.config.labels[3], 'B-PER');
  assert.deepEqual(report.newlyInitialized, []);
  // Its vocab.txt has 405 entries for a 402-row embedding table: said up front, naming the ids.
  assert.ok(
    warnings.some((w) => /405 entries but word_embeddings has 402 rows: token ids 402\.\.404/.test(w)),
    warnings.join('\n'),
  );
  const enc = tokenizer.encode('Hello Paris', { maxLength: 16, truncation: true });
  const ids = Int32Array.from(enc.ids, (id) => (id < 402 ? id : tokenizer.unkId));
  const logits = noGrad(() =>
    tidy(() =>
      model
        .forward(
          { inputIds: ids, attentionMask: new Int32Array(ids.length).fill(1), batchSize: 1, seqLen: ids.length },
          { training: false },
        )
        .f.slice(),
    ),
  );
  assert.equal(logits.length, ids.length * 9);
  assert.ok(logits.every(Number.isFinite));
  // The classifier was read from the file, not initialised: compare with the raw tensor.
  const w = model.params.get('classifier.weight')!;
  assert.ok(w.f.some((v) => v !== 0));
});

test('a random model saved by us reloads bit-identically, config fields preserved', () => {
  const cfg = makeConfig({
    vocab_size: 50,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 32,
    id2label: { 0: 'O', 1: 'B-X', 2: 'I-X' },
  });
  cfg.raw.custom_field = { kept: [1, 2] };
  const model = BertForTokenClassification.create(cfg, 3);
  const dir = tmp();
  savePretrained(model, dir);
  assert.deepEqual(readdirSync(dir).sort(), ['config.json', 'model.safetensors']);
  const back = loadModelFromDir(dir).model;
  for (const [name, t] of model.parameters()) {
    const u = back.params.get(name)!;
    assert.deepEqual(
      Buffer.from(u.f.buffer, u.f.byteOffset, u.f.byteLength),
      Buffer.from(t.f.buffer, t.f.byteOffset, t.f.byteLength),
      name,
    );
  }
  const json = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  assert.deepEqual(json.custom_field, { kept: [1, 2] });
  assert.deepEqual(json.label2id, { O: 0, 'B-X': 1, 'I-X': 2 });
  assert.deepEqual(json.architectures, ['BertForTokenClassification']);
  // Parameter order in the file is HF's module order.
  const names = [...readSafetensors(join(dir, 'model.safetensors')).tensors.keys()];
  assert.equal(names[0], 'bert.embeddings.word_embeddings.weight');
  assert.equal(names[names.length - 1], 'classifier.bias');
});

test('other labels than the checkpoint: the head is re-initialised and reported, HF style', () => {
  const dir = join(fixturesDir, 'bert-tiny');
  const { model, report } = loadModelFromDir(dir, { labels: ['O', 'B-A', 'I-A'] });
  assert.equal(model.numLabels, 3);
  assert.deepEqual(report.newlyInitialized, ['classifier.weight', 'classifier.bias']);
  assert.match(report.warnings[0], /newly initialized: classifier\.weight, classifier\.bias/);
  const b = model.params.get('classifier.bias')!.f;
  assert.ok(
    b.every((v) => v === 0),
    'HF initialises biases to 0',
  );
});

test('bare base-model checkpoints, legacy gamma/beta names, pooler weights, missing and mismatched weights', () => {
  const dir = join(fixturesDir, 'bert-tiny');
  const base = loadModelFromDir(dir).model;
  const state = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const [name, t] of base.parameters()) {
    if (name.startsWith('classifier.')) continue;
    const bare = name
      .replace(/^bert\./, '')
      .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
      .replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    state.set(bare, { dtype: 'F32', shape: [...t.shape], data: t.f as Float32Array });
  }
  state.set('pooler.dense.weight', { dtype: 'F32', shape: [64, 64], data: new Float32Array(64 * 64) });
  const cfg = base.config;
  const { model, report } = buildFromState({ ...cfg, labels: [] }, state, 'base-ckpt', { labels: ['O', 'B-X'] });
  assert.deepEqual(report.unused, ['bert.pooler.dense.weight']);
  assert.deepEqual(report.newlyInitialized, ['classifier.weight', 'classifier.bias']);
  assert.deepEqual(model.params.get('bert.embeddings.LayerNorm.weight')!.f, base.params.get('bert.embeddings.LayerNorm.weight')!.f);

  const missing = new Map(state);
  missing.delete('encoder.layer.1.output.dense.weight');
  assert.throws(
    () => buildFromState({ ...cfg, labels: [] }, missing, 'ckpt'),
    /lacks 1 weight\(s\).*bert\.encoder\.layer\.1\.output\.dense\.weight/,
  );
  const wrong = new Map(state);
  wrong.set('embeddings.word_embeddings.weight', { dtype: 'F32', shape: [10, 64], data: new Float32Array(640) });
  assert.throws(
    () => buildFromState({ ...cfg, labels: [] }, wrong, 'ckpt'),
    /word_embeddings\.weight has shape \[10, 64\] in the checkpoint but the config gives \[1000, 64\]/,
  );
});

test('fromPretrained by hub name downloads into the HF cache layout and then works offline', async () => {
  const cfg = makeConfig({
    vocab_size: 30,
    hidden_size: 8,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 16,
    max_position_embeddings: 16,
    id2label: { 0: 'O', 1: 'B-X' },
  });
  const src = tmp();
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello', 'world', ...Array.from({ length: 23 }, (_, i) => `w${i}`)];
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(src, 'vocab.txt'), vocab.join('\n') + '\n');
  const tok = WordPieceTokenizer.fromVocabFile(join(src, 'vocab.txt'));
  savePretrained(BertForTokenClassification.create(cfg, 1), src, tok);
  const server = await HubTestServer.start();
  const files: Record<string, { content: Uint8Array; lfs?: boolean }> = {};
  for (const f of readdirSync(src)) files[f] = { content: readFileSync(join(src, f)), lfs: f.endsWith('.safetensors') };
  server.addCommit('acme/tiny-ner', files);
  const home = tmp();
  try {
    const hub = { endpoint: server.endpoint, cacheDir: join(home, 'hub'), onProgress: false as const, env: {} };
    const a = await fromPretrained('acme/tiny-ner', { hub });
    assert.match(a.dir, /models--acme--tiny-ner[/\\]snapshots[/\\][0-9a-f]{40}$/);
    assert.equal(a.model.numLabels, 2);
    const served = server.requests.length;
    const b = await fromPretrained('acme/tiny-ner', { hub: { ...hub, offline: true } });
    assert.equal(server.requests.length, served, 'offline load is served from the cache');
    assert.equal(b.dir, a.dir);
    await assert.rejects(fromPretrained('acme/missing', { hub }), /not found/);
  } finally {
    await server.close();
  }
});

/**
 * Repositories shaped like roberta-base without tokenizer.json (vocab.json + merges.txt) and
 * xlm-roberta-base without it (sentencepiece.bpe.model): the test/fixtures/e2e folders less their
 * tokenizer.json, private (the token is needed and must never be shown), with a file the model
 * does not need. `tokentune train --model org/name` downloads the tokenizer files the repo has,
 * and the snapshot predicts what transformers predicts on the full folder (expected.json).
 */
const SECRET = 'hf_TokenThatMustNeverBeShown0123456789';
const HUB_TRAIN = [
  'tok\tO',
  'Anna\tB-person',
  'visits\tO',
  'Paris\tB-location',
  '',
  'Ola\tB-person',
  'likes\tO',
  'Oslo\tB-location',
  '',
].join('\n');

async function withHubEnv<T>(server: HubTestServer, fn: (home: string) => Promise<T>): Promise<T> {
  const keys = ['HF_ENDPOINT', 'HF_HOME', 'HF_HUB_CACHE', 'HF_TOKEN', 'HF_HUB_OFFLINE'] as const;
  const saved = keys.map((k) => process.env[k]);
  const home = tmp();
  Object.assign(process.env, { HF_ENDPOINT: server.endpoint, HF_HOME: home, HF_TOKEN: SECRET });
  delete process.env.HF_HUB_CACHE;
  delete process.env.HF_HUB_OFFLINE;
  try {
    return await fn(home);
  } finally {
    keys.forEach((k, i) => (saved[i] === undefined ? delete process.env[k] : (process.env[k] = saved[i])));
  }
}

function repoFiles(kind: string): Record<string, { content: Uint8Array; lfs?: boolean }> {
  const dir = join(fixturesDir, 'e2e', kind);
  const files: Record<string, { content: Uint8Array; lfs?: boolean }> = { 'README.md': { content: Buffer.from('# tiny\n') } };
  for (const f of readdirSync(dir))
    if (f !== 'tokenizer.json') files[f] = { content: readFileSync(join(dir, f)), lfs: f.endsWith('.safetensors') || f.endsWith('.model') };
  return files;
}

for (const [kind, tokFiles] of [
  ['roberta', ['vocab.json', 'merges.txt']],
  ['xlm-roberta', ['sentencepiece.bpe.model']],
] as const) {
  test(`hub: tokentune train --model acme/${kind} fetches ${tokFiles.join(' + ')} (no tokenizer.json) and predicts as transformers`, async () => {
    const server = await HubTestServer.start();
    try {
      server.addCommit(`acme/${kind}`, repoFiles(kind), { token: SECRET });
      await withHubEnv(server, async (home) => {
        const data = join(home, 'train.conll');
        const { writeFileSync } = await import('node:fs');
        writeFileSync(data, HUB_TRAIN + '\n');
        const r = await cli([
          'train',
          '--model',
          `acme/${kind}`,
          '--train-file',
          data,
          '--do-train',
          '--max-steps',
          '2',
          '--output-dir',
          join(home, 'out'),
          '--save-strategy',
          'no',
          '--disable-tqdm',
          '--threads',
          '1',
        ]);
        assert.equal(r.code, 0, r.err + r.out);
        // Every file asked for is HEADed on the hub first (LFS content then comes from the CDN by hash).
        const fetched = new Set(
          server.requests.filter((q) => q.server === 'hub' && q.method === 'HEAD').map((q) => decodeURIComponent(q.path.split('/').pop()!)),
        );
        for (const f of ['config.json', ...tokFiles]) assert.ok(fetched.has(f), `${f} downloaded (${[...fetched].join(' ')})`);
        assert.ok(!fetched.has('README.md'), 'files the model does not need stay on the hub');
        assert.ok(
          server.requests.every((q) => q.server === 'cdn' || q.headers.authorization === `Bearer ${SECRET}`),
          'the token went to the hub',
        );
        assert.ok(!(r.out + r.err).includes(SECRET));

        // The snapshot (legacy tokenizer files only) predicts what transformers' pipeline gives on the full folder.
        const expected = JSON.parse(readFileSync(join(fixturesDir, 'e2e', 'expected.json'), 'utf8')) as {
          texts: string[];
          models: Record<
            string,
            { results: Record<string, { entity: string; word: string; start: number; end: number; score: number }[][]> }
          >;
        };
        const pipe = await pipeline(`acme/${kind}`);
        const text = expected.texts[0]!; // ASCII: offsets in code points and UTF-16 units agree
        const got = await pipe.predict(text, { aggregationStrategy: 'none', ignoreLabels: [] });
        const want = expected.models[kind]!.results['none']![0]!;
        assert.deepEqual(
          got.map((e) => ['entity' in e ? e.entity : '', e.word, e.start, e.end]),
          want.map((e) => [e.entity, e.word, e.start, e.end]),
        );
      });
    } finally {
      await server.close();
    }
  });
}

test('hub: a tokenizer file that vanished (404) is skipped; any other failure stops the download, token never shown', async () => {
  const server = await HubTestServer.start();
  try {
    const files = repoFiles('roberta');
    server.addCommit('acme/racy', { ...files, 'added_tokens.json': { content: Buffer.from('{}') } }, { token: SECRET });
    server.dropFile('acme/racy', 'added_tokens.json'); // listed by the revision, 404 on download
    server.addCommit('acme/down', files, { token: SECRET });
    server.failFile('acme/down', 'merges.txt', 500);
    server.addCommit('acme/noconfig', files, { token: SECRET });
    server.dropFile('acme/noconfig', 'config.json');
    await withHubEnv(server, async () => {
      const ok = await fromPretrained('acme/racy', { hub: { onProgress: false } });
      assert.deepEqual(readdirSync(ok.dir).sort(), ['config.json', 'merges.txt', 'model.safetensors', 'vocab.json']);
      await assert.rejects(
        fromPretrained('acme/down', { hub: { onProgress: false, maxRetries: 0 } }),
        (e: Error) =>
          /unexpected HTTP 500 .* file 'merges\.txt'/.test(e.message) && !e.message.includes(SECRET) && !(e.stack ?? '').includes(SECRET),
      );
      await assert.rejects(
        fromPretrained('acme/noconfig', { hub: { onProgress: false } }),
        (e: Error) => /file 'config\.json' not found/.test(e.message) && !e.message.includes(SECRET),
      );
      const r = await cli(['predict', '--model', 'acme/down', '--text', 'x']);
      assert.equal(r.code, 1);
      assert.match(r.err, /HTTP 500/);
      assert.ok(!r.err.includes(SECRET));
    });
  } finally {
    await server.close();
  }
});
