import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { BertForTokenClassification, makeConfig, savePretrained } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { pipeline, predictStream, TokenClassificationPipeline, type PredictFileOptions } from '../src/infer/index.js';
import { runPredict } from '../src/cli/predict.js';
import { runServe } from '../src/cli/serve.js';
import { Sink } from './helpers/cli-run.js';

const VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  '[MASK]',
  'EU',
  'rejects',
  'German',
  'call',
  'to',
  'boycott',
  'British',
  'lamb',
  '.',
  'Peter',
  'Black',
  '##burn',
  'Anna',
  'in',
  'Paris',
];
const LABELS = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
const tokenizer = WordPieceTokenizer.fromTokens(VOCAB, { doLowerCase: false });

let dir = '';
let modelDir = '';
let pipe: TokenClassificationPipeline;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tt-predict-'));
  modelDir = join(dir, 'model');
  const config = makeConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 40,
    id2label: Object.fromEntries(LABELS.map((l, i) => [String(i), l])),
  });
  savePretrained(BertForTokenClassification.create(config, 11), modelDir, tokenizer);
  pipe = await pipeline(modelDir, { onWarning: () => {} });
});

after(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  return { stdout: new Sink(), stderr: new Sink() };
}

function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const json = (x: unknown) => JSON.parse(JSON.stringify(x));

test('predict --file .txt: one JSON line per input line (empty lines too), entities as the pipeline', async () => {
  const lines = ['EU rejects German call to boycott British lamb .', '', 'Peter Blackburn in Paris'];
  const f = file('in.txt', lines.join('\r\n') + '\r\n');
  const o = io();
  assert.equal(await runPredict(['--model', modelDir, '--file', f, '--ignore-labels', ''], o), 0);
  const out = o.stdout.text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(out.length, 3);
  // The CLI's default aggregation is 'first'.
  const expected = await pipe.predict(lines, { aggregationStrategy: 'first', ignoreLabels: [] });
  out.forEach((r, i) => {
    assert.equal(r.text, lines[i]);
    assert.deepEqual(r.entities, json(expected[i]));
  });
  assert.ok(out[0].entities.length > 0, 'ignore-labels "" keeps O groups, so the first line has groups');
  assert.equal(o.stderr.text, '', 'no progress output when stderr is not a terminal');
});

test('predict --file .jsonl: text and tokens records, other fields kept, --out written atomically', async () => {
  const recs = [
    { id: 7, text: 'Anna in Paris' },
    { tokens: ['Peter', 'Blackburn', '', 'Paris'], ner_tags: ['B-PER', 'I-PER', 'O', 'B-LOC'] },
  ];
  const f = file('in.jsonl', recs.map((r) => JSON.stringify(r)).join('\n') + '\n\n');
  const outPath = join(dir, 'out.jsonl');
  const o = io();
  assert.equal(await runPredict(['--model', modelDir, '--file', f, '--out', outPath, '--aggregation', 'first'], o), 0);
  const out = readFileSync(outPath, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(out.length, 2);
  assert.equal(out[0].id, 7);
  assert.deepEqual(out[0].entities, json(await pipe.predict('Anna in Paris', { aggregationStrategy: 'first' })));
  assert.deepEqual(out[1].ner_tags, recs[1]!.ner_tags, 'gold tags are kept beside the predictions');
  const tags = await pipe.predict(recs[1]!.tokens!, { isSplitIntoWords: true, aggregationStrategy: 'first' });
  assert.deepEqual(
    out[1].pred_tags,
    tags.map((t) => t.entity),
  );
  assert.equal(out[1].pred_scores.length, 4);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('.tmp-')),
    [],
    'no temporary file left',
  );
  assert.match(o.stderr.text, /2 records tagged/);
});

test('predict --file .conll: the predicted tag is appended as a last column, layout kept', async () => {
  const conll = [
    '-DOCSTART- -X- -X- O',
    '',
    'EU NNP B-NP B-ORG',
    'rejects VBZ B-VP O',
    'German JJ B-NP B-MISC',
    '',
    'Peter\tNNP\tB-PER',
    'Blackburn\tNNP\tI-PER',
    '',
  ].join('\n');
  const f = file('in.conll', conll);
  const o = io();
  assert.equal(await runPredict(['--model', modelDir, '--file', f], o), 0);
  const t1 = await pipe.predict(['EU', 'rejects', 'German'], { isSplitIntoWords: true, aggregationStrategy: 'simple' });
  const t2 = await pipe.predict(['Peter', 'Blackburn'], { isSplitIntoWords: true, aggregationStrategy: 'simple' });
  const expected = [
    '-DOCSTART- -X- -X- O O',
    '',
    `EU NNP B-NP B-ORG ${t1[0]!.entity}`,
    `rejects VBZ B-VP O ${t1[1]!.entity}`,
    `German JJ B-NP B-MISC ${t1[2]!.entity}`,
    '',
    `Peter\tNNP\tB-PER\t${t2[0]!.entity}`,
    `Blackburn\tNNP\tI-PER\t${t2[1]!.entity}`,
    '',
    '',
  ].join('\n');
  assert.equal(o.stdout.text, expected);
  // Same input as jsonl output.
  const j = io();
  await runPredict(['--model', modelDir, '--file', f, '--format', 'jsonl'], j);
  const recs = j.stdout.text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    recs.map((r) => r.tokens),
    [
      ['EU', 'rejects', 'German'],
      ['Peter', 'Blackburn'],
    ],
  );
});

test('predict --file .txt --format conll: one line per word of the text', async () => {
  const f = file('words.txt', 'Peter Blackburn, in Paris\n');
  const o = io();
  await runPredict(['--model', modelDir, '--file', f, '--format', 'conll'], o);
  const words = o.stdout.text
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[0]);
  assert.deepEqual(words, ['Peter', 'Blackburn', ',', 'in', 'Paris']);
  for (const l of o.stdout.text.trim().split('\n')) assert.ok(LABELS.includes(l.split(' ')[1]!), l);
});

test('predict --text: a table, or JSON with --json', async () => {
  const text = 'Peter Blackburn in Paris';
  const o = io();
  await runPredict(['--model', modelDir, '--text', text, '--ignore-labels', '', '--json'], o);
  assert.deepEqual(JSON.parse(o.stdout.text), json(await pipe.predict(text, { aggregationStrategy: 'first', ignoreLabels: [] })));
  const t = io();
  await runPredict(['--model', modelDir, '--text', text, '--ignore-labels', ''], t);
  const lines = t.stdout.text.trimEnd().split('\n');
  assert.match(lines[0]!, /^entity\s+score\s+start\s+end\s+text$/);
  assert.equal(lines.length, 1 + JSON.parse(o.stdout.text).length);
});

test('predict: clear errors for bad input files and flags', async () => {
  const bad = file('bad.jsonl', '{"text": "ok"}\n{"text": 3}\n');
  await assert.rejects(runPredict(['--model', modelDir, '--file', bad], io()), /bad\.jsonl:2: "text" must be a string, got number/);
  const broken = file('broken.jsonl', '{"text": "ok"}\n\n{"text": \n');
  await assert.rejects(runPredict(['--model', modelDir, '--file', broken], io()), /broken\.jsonl:3: not valid JSON/);
  const tokens = file('tok.jsonl', '{"tokens": ["a", 1]}\n');
  await assert.rejects(
    runPredict(['--model', modelDir, '--file', tokens], io()),
    /tok\.jsonl:1: "tokens"\[1\] is number, expected a string/,
  );
  await assert.rejects(
    runPredict(['--model', modelDir, '--file', file('x.docx', '')], io()),
    /cannot tell the input format.*--input-format/,
  );
  await assert.rejects(runPredict(['--model', modelDir], io()), /exactly one of --text TEXT or --file FILE/);
  await assert.rejects(runPredict(['--model', modelDir, '--text', 'a', '--aggregation', 'best'], io()), /expected one of 'none', 'simple'/);
  const outPath = join(dir, 'never.jsonl');
  await assert.rejects(runPredict(['--model', modelDir, '--file', bad, '--out', outPath], io()));
  assert.equal(existsSync(outPath), false, 'a failed run leaves no output file');
});

// --- The parsers, property-based: any CoNLL / JSONL input comes back with one tag per token ---

const token = fc.stringMatching(/^[A-Za-z.,'-]{1,8}$/).filter((t) => !t.startsWith('-DOCSTART-'));
const sentence = fc.array(fc.tuple(token, fc.constantFrom('NN', 'VB', 'JJ')), { minLength: 1, maxLength: 12 });

async function stream(
  input: string,
  o: Partial<PredictFileOptions> & Pick<PredictFileOptions, 'inputFormat' | 'outputFormat'>,
): Promise<string> {
  const sink = new Sink();
  await predictStream(pipe, Readable.from([input]), sink, { chunkSize: 3, ...o });
  return sink.text;
}

test('property: CoNLL in, CoNLL out keeps every line and adds exactly one known tag', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(sentence, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.boolean(), async (sents, tabs, crlf) => {
      const sep = tabs ? '\t' : ' ';
      const nl = crlf ? '\r\n' : '\n';
      const input = sents.map((s) => s.map(([w, p]) => `${w}${sep}${p}`).join(nl)).join(nl + nl) + nl;
      const out = await stream(input, { inputFormat: 'conll', outputFormat: 'conll' });
      const blocks = out.split('\n\n').filter((b) => b.length > 0);
      assert.equal(blocks.length, sents.length);
      blocks.forEach((b, i) => {
        const rows = b.split('\n');
        assert.equal(rows.length, sents[i]!.length);
        rows.forEach((r, j) => {
          const cols = r.split(sep);
          assert.deepEqual(cols.slice(0, 2), sents[i]![j]);
          assert.equal(cols.length, 3);
          assert.ok(LABELS.includes(cols[2]!));
        });
      });
    }),
    { numRuns: 40 },
  );
});

test('property: JSONL records keep their fields, in order, with entities or one tag per token', async () => {
  const rec = fc.oneof(
    fc.record({ text: fc.string({ maxLength: 40 }), id: fc.nat() }),
    fc.record({ tokens: fc.array(fc.string({ maxLength: 6 }), { maxLength: 10 }), id: fc.nat() }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(rec, { maxLength: 8 }), async (recs) => {
      const out = await stream(recs.map((r) => JSON.stringify(r)).join('\n'), {
        inputFormat: 'jsonl',
        outputFormat: 'jsonl',
        aggregationStrategy: 'simple',
      });
      const back = out
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l));
      assert.equal(back.length, recs.length);
      back.forEach((b, i) => {
        const r = recs[i]!;
        assert.equal(b.id, r.id);
        if ('text' in r) {
          assert.equal(b.text, r.text);
          for (const e of b.entities) assert.ok(e.start >= 0 && e.end <= r.text.length && e.start < e.end);
        } else {
          assert.deepEqual(b.tokens, r.tokens);
          assert.equal(b.pred_tags.length, r.tokens.length);
        }
      });
    }),
    { numRuns: 40 },
  );
});

test('serve: listens, answers /health, stops on abort', async () => {
  const o = io();
  const ac = new AbortController();
  const done = runServe(['--model', modelDir, '--port', '0'], { ...o, signal: ac.signal });
  for (let i = 0; i < 200 && !o.stdout.text.includes('http://'); i++) await new Promise((r) => setTimeout(r, 10));
  const url = /http:\/\/\S+\//.exec(o.stdout.text)![0];
  const health = (await (await fetch(url + 'health')).json()) as { model: string };
  assert.equal(health.model, 'model');
  const pred = (await (
    await fetch(url + 'predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Anna in Paris' }),
    })
  ).json()) as { entities: unknown };
  assert.ok(Array.isArray(pred.entities));
  ac.abort();
  assert.equal(await done, 0);
  assert.match(o.stdout.text, /server stopped/);
});
