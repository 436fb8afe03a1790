/** Trap #10: `tokentune serve` answers Hugging Face Inference's body as it answers its own, at its URLs too (issue 22 #3). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BertForTokenClassification, makeConfig } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { createServer, pipeline, TokenClassificationPipeline } from '../src/infer/index.js';
import { fromHfInferenceBody } from '../src/infer/hf-inference-body.js';
import { cli } from './helpers/cli-run.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'Anna', 'and', 'Bob', 'live', 'in', 'Paris', 'Berlin', '.'];
const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];

test('{"inputs", "parameters"} gives the same answers as {"text"/"texts", "aggregation_strategy"}', async () => {
  const tokenizer = WordPieceTokenizer.fromTokens(VOCAB, { doLowerCase: false });
  const config = makeConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 32,
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
  });
  const pipe = new TokenClassificationPipeline(BertForTokenClassification.create(config, 3), tokenizer, { name: 'tiny' });
  const server = createServer(pipe, { batchWaitMs: 1 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/predict`;
  const post = async (body: unknown) => {
    const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: r.status, json: (await r.json()) as unknown };
  };
  try {
    const text = 'Anna and Bob live in Paris .';
    for (const strategy of ['none', 'simple', 'first', 'max']) {
      const own = await post({ text, aggregation_strategy: strategy, ignore_labels: [] });
      const hf = await post({ inputs: text, parameters: { aggregation_strategy: strategy, ignore_labels: [] } });
      assert.equal(hf.status, 200);
      // HF's answer shape: the list itself (tokentune's own wraps it as {"entities": [...]}).
      assert.deepEqual(hf.json, (own.json as { entities: unknown }).entities, strategy);
      assert.ok(Array.isArray(hf.json) && hf.json.length > 0, JSON.stringify(hf.json));
    }
    const many = await post({ inputs: [text, 'Bob .'] });
    assert.deepEqual(
      many.json,
      ((await post({ texts: [text, 'Bob .'] })).json as { results: { entities: unknown }[] }).results.map((r) => r.entities),
    );
    const bad = await post({ inputs: 3 });
    assert.equal(bad.status, 400);
    assert.match((bad.json as { error: string }).error, /"inputs" must be a string or a list of strings/);
    const unknown = await post({ inputs: text, parameters: { top_k: 3 } });
    assert.equal(unknown.status, 400);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
  assert.deepEqual(fromHfInferenceBody({ text: 'a' }), { text: 'a' });
});

test('serve --help documents the request and response bodies', async () => {
  const r = await cli(['serve', '--help']);
  assert.equal(r.code, 0);
  for (const s of ['{"text":', '{"texts":', '{"inputs":', 'entity_group', '"start"', '"error"']) assert.ok(r.out.includes(s), s);
});

/** Issue 22 #3: what huggingface_hub's InferenceClient sent and parsed (scripts/fixtures/make-hf-inference-client-fixture.py). */
const HF_CALLS = fileURLToPath(new URL('../../test/fixtures/hf-inference-client/calls.json', import.meta.url));

test("InferenceClient's requests at the root and at /models/NAME, replayed: the answers it parsed", async () => {
  const rec = JSON.parse(readFileSync(HF_CALLS, 'utf8')) as {
    model: string;
    calls: {
      url: string;
      request: { method: string; path: string; content_type: string; body: string };
      parsed: Record<string, unknown>[];
    }[];
  };
  const model = fileURLToPath(new URL(`../../${rec.model}`, import.meta.url));
  const server = createServer(await pipeline(model, { onWarning: () => {} }), { batchWaitMs: 1 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    assert.deepEqual([...new Set(rec.calls.map((c) => c.request.path))], ['/', '/models/tokentune', '/models/org/any-name']);
    for (const c of rec.calls) {
      const r = await fetch(base + c.request.path, {
        method: c.request.method,
        headers: { 'content-type': c.request.content_type },
        body: c.request.body,
      });
      const got = (await r.json()) as Record<string, unknown>[];
      assert.equal(r.status, 200, `${c.request.path}: ${JSON.stringify(got)}`);
      assert.equal(got.length, c.parsed.length, c.request.body);
      got.forEach((e, k) => {
        for (const [key, want] of Object.entries(c.parsed[k]!)) {
          if (want === null) assert.ok(e[key] === undefined || e[key] === null, key);
          else if (key === 'score') assert.ok(Math.abs((e.score as number) - (want as number)) < 1e-5, `${e.score} vs ${want}`);
          else assert.deepEqual(e[key], want, `${c.request.path} ${c.request.body} #${k}.${key}`);
        }
      });
    }
    // A wrong method or path names the URL that works.
    for (const [method, path, allow, url] of [
      ['GET', '/models/x', 'POST', `POST ${base}/models/x`],
      ['PUT', '/', 'GET, HEAD, POST', `POST ${base}/predict`],
      ['GET', '/predict', 'POST', `POST ${base}/predict`],
      ['DELETE', '/health', 'GET, HEAD', `GET ${base}/health`],
      ['POST', '/v1/whatever', undefined, `POST ${base}/predict`],
    ] as const) {
      const r = await fetch(base + path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : '{}',
      });
      assert.equal(r.status, allow ? 405 : 404, `${method} ${path}`);
      if (allow) assert.equal(r.headers.get('allow'), allow, `${method} ${path}`);
      const error = ((await r.json()) as { error: string }).error;
      assert.ok(error.includes(url), `${method} ${path}: ${error}`);
    }
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
