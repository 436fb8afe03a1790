import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { BertForTokenClassification, makeConfig } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { createServer, MicroBatcher, TokenClassificationPipeline, type Entity, type TextRequest } from '../src/infer/index.js';

const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'Anna',
  'and',
  'Bob',
  'live',
  'in',
  'Paris',
  'Berlin',
  '.',
  ',',
  'the',
  'city',
  '##s',
];
const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
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
const pipe = new TokenClassificationPipeline(BertForTokenClassification.create(config, 3), tokenizer, { name: 'tiny-ner' });

let server: http.Server;
let port = 0;
const serverErrors: string[] = [];

before(async () => {
  server = createServer(pipe, { batchWaitMs: 40, maxBatchTexts: 64, maxTextChars: 500, maxTexts: 10, log: (l) => serverErrors.push(l) });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

function request(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON (the page) */
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const post = (body: unknown) => request('POST', '/predict', typeof body === 'string' ? body : JSON.stringify(body));

test('GET /health: model name, labels, uptime', async () => {
  const r = await request('GET', '/health');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.equal(r.json.status, 'ok');
  assert.equal(r.json.model, 'tiny-ner');
  assert.deepEqual(r.json.labels, LABELS);
  assert.equal(typeof r.json.uptime_s, 'number');
  assert.ok(r.json.uptime_s >= 0);
});

test('POST /predict: one text and a batch of texts, same entities as the pipeline', async () => {
  const text = 'Anna and Bob live in Paris .';
  const direct = await pipe.predict(text, { aggregationStrategy: 'simple', ignoreLabels: [] });
  const one = await post({ text, ignore_labels: [] });
  assert.equal(one.status, 200);
  assert.deepEqual(one.json, { entities: JSON.parse(JSON.stringify(direct)) });
  const texts = ['Anna', 'Berlin , the city', ''];
  const many = await post({ texts, aggregation_strategy: 'none', ignore_labels: [] });
  assert.equal(many.status, 200);
  const expected = await pipe.predict(texts, { aggregationStrategy: 'none', ignoreLabels: [] });
  assert.deepEqual(many.json, { results: expected.map((entities) => ({ entities: JSON.parse(JSON.stringify(entities)) })) });
  assert.equal(many.json.results[2].entities.length, 0);
});

test('concurrent requests are micro-batched into shared forward calls', async () => {
  const texts = Array.from({ length: 12 }, (_, i) => `Anna and Bob live in ${i % 2 ? 'Paris' : 'Berlin'} ${'.'.repeat(i % 4)}`);
  const expected = await pipe.predict(texts, { aggregationStrategy: 'simple' });
  const before = pipe.forwardCalls;
  const replies = await Promise.all(texts.map((text) => post({ text })));
  const calls = pipe.forwardCalls - before;
  replies.forEach((r, i) => {
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.entities, JSON.parse(JSON.stringify(expected[i])));
  });
  assert.ok(calls <= 2, `12 concurrent requests took ${calls} forward calls; expected them batched into 1-2`);
});

test('bad input gets 4xx with a JSON reason, and the server survives all of it', async () => {
  const cases: [string, Promise<Reply>, number, RegExp][] = [
    ['malformed JSON', post('{"text": "Anna'), 400, /malformed JSON/],
    ['not an object', post('[1, 2]'), 400, /expected a JSON object/],
    ['missing field', post({ txt: 'Anna' }), 400, /missing field/],
    ['both fields', post({ text: 'a', texts: ['b'] }), 400, /not both/],
    ['text not a string', post({ text: 42 }), 400, /"text" must be a string/],
    ['texts not a list', post({ texts: 'Anna' }), 400, /"texts" must be a list/],
    ['texts item not a string', post({ texts: ['a', null] }), 400, /"texts"\[1\] must be a string, got null/],
    ['bad strategy', post({ text: 'a', aggregation_strategy: 'best' }), 400, /aggregation_strategy must be one of/],
    ['bad ignore_labels', post({ text: 'a', ignore_labels: 'O' }), 400, /ignore_labels must be a list/],
    ['invalid UTF-8', request('POST', '/predict', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d])), 400, /not valid UTF-8/],
    ['text too long', post({ text: 'Anna '.repeat(200) }), 413, /has 1000 characters; the limit is 500/],
    ['too many texts', post({ texts: Array(11).fill('a') }), 413, /11 texts in one request; the limit is 10/],
    ['unknown path', request('GET', '/nope'), 404, /no such endpoint/],
    ['wrong method', request('GET', '/predict'), 405, /use POST/],
  ];
  for (const [name, p, status, reason] of cases) {
    const r = await p;
    assert.equal(r.status, status, `${name}: ${r.text}`);
    assert.match(String(r.headers['content-type']), /application\/json/, name);
    assert.match(r.json.error, reason, name);
  }
  assert.equal((await request('GET', '/health')).status, 200);
});

test('oversized body: 413 with a reason (declared or streamed), then the server still answers', async () => {
  const big = Buffer.alloc(2 << 20, 0x61);
  const declared = await request('POST', '/predict', big);
  assert.equal(declared.status, 413);
  assert.match(declared.json.error, /limit is 1048576/);
  // Chunked upload without Content-Length: the limit is enforced while reading.
  const streamed = await new Promise<Reply>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/predict',
        agent: false,
        headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    for (let i = 0; i < 8; i++) req.write(Buffer.alloc(256 << 10, 0x62));
    req.end();
  });
  assert.equal(streamed.status, 413);
  assert.match(streamed.json.error, /exceeds the limit of 1048576 bytes/);
  const ok = await post({ text: 'Anna' });
  assert.equal(ok.status, 200);
});

test('garbage on the socket gets a 400 and does not take the server down', async () => {
  const reply = await new Promise<string>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('THIS IS NOT HTTP\r\n\r\n'));
    let data = '';
    s.on('data', (c) => (data += c));
    s.on('end', () => resolve(data));
    s.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 400/);
  assert.equal((await request('GET', '/health')).status, 200);
  assert.deepEqual(serverErrors, [], 'no 5xx was logged');
});

test('GET / is a self-contained page with a strict CSP', async () => {
  const r = await request('GET', '/');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /text\/html/);
  assert.match(String(r.headers['content-security-policy']), /default-src 'none'; script-src 'sha256-/);
  assert.match(r.text, /<textarea id="text"/);
  assert.match(r.text, /tiny-ner/);
  assert.doesNotMatch(r.text, /(src|href)=["']?(https?:)?\/\//, 'no external assets');
});

test('MicroBatcher: a failing request fails alone; its neighbours get their answers', async () => {
  let calls = 0;
  const predictor = {
    async predictMany(reqs: readonly TextRequest[]): Promise<Entity[][]> {
      calls++;
      if (reqs.some((r) => r.text === 'boom')) throw new Error('cannot tag boom');
      return reqs.map((r) => [{ entity_group: 'X', score: 1, word: r.text, start: 0, end: r.text.length }]);
    },
  };
  const b = new MicroBatcher(predictor, { maxWaitMs: 20, maxBatchTexts: 100 });
  const results = await Promise.allSettled([
    b.submit([{ text: 'a' }]),
    b.submit([{ text: 'boom' }]),
    b.submit([{ text: 'c' }, { text: 'd' }]),
  ]);
  assert.equal(results[0]!.status, 'fulfilled');
  assert.equal(results[1]!.status, 'rejected');
  assert.deepEqual(
    (results[2] as PromiseFulfilledResult<Entity[][]>).value.map((e) => e[0]!.word),
    ['c', 'd'],
  );
  assert.equal(calls, 4, 'one shared try, then each request alone');
  assert.equal(b.batches, 1);
  // maxBatchTexts closes a batch at once, without waiting for the timer.
  const quick = new MicroBatcher(predictor, { maxWaitMs: 10_000, maxBatchTexts: 2 });
  const t0 = Date.now();
  await quick.submit([{ text: 'x' }, { text: 'y' }]);
  assert.ok(Date.now() - t0 < 1000);
  quick.close();
  b.close();
});
