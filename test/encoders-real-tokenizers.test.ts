/**
 * End to end for each architecture with the tokenizer files its real checkpoints ship
 * (test/fixtures/e2e/, made by scripts/fixtures/make-e2e-models.py: byte-level BPE for RoBERTa, SentencePiece
 * Unigram for XLM-R and DeBERTa-v3, WordPiece for DistilBERT, ModernBERT-base's byte-level BPE
 * tokenizer.json for ModernBERT (one global, one sliding-window layer), models saved by transformers).
 *  1. The committed folders predict what transformers' pipeline("token-classification") predicts
 *     on them (expected.json): labels, words, offsets, scores within 1e-4.
 *  2. `tokentune train --model <folder>` fine-tunes each on a WNUT-17 slice (the head is replaced:
 *     the folders carry CoNLL labels), then `predict` on raw text gives spans that map back to the
 *     text, `serve` answers a request with the same entities, and `export` (ONNX; not DeBERTa)
 *     writes a tokenizer that encodes as the trained folder's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../src/cli/main.js';
import { pipeline, type AggregationStrategy } from '../src/infer/index.js';
import { loadTokenizer } from '../src/tokenizers/index.js';
import { fixturesDir, sharedDir } from './helpers/fixtures.js';
import { cli } from './helpers/cli-run.js';

interface HfEntity {
  entity?: string;
  entity_group?: string;
  score: number;
  word: string;
  start: number;
  end: number;
  index?: number;
}
interface Expected {
  transformers: string;
  texts: string[];
  byte_level_decode: [string[], string][];
  models: Record<string, { tokenizer_class: string; results: Record<string, HfEntity[][]> }>;
}

const e2eDir = join(fixturesDir, 'e2e');
const expected = JSON.parse(readFileSync(join(e2eDir, 'expected.json'), 'utf8')) as Expected;
const KINDS = [
  ['roberta', 'RobertaForTokenClassification'],
  ['xlm-roberta', 'XLMRobertaForTokenClassification'],
  ['distilbert', 'DistilBertForTokenClassification'],
  ['deberta-v3', 'DebertaV2ForTokenClassification'],
  ['modernbert', 'ModernBertForTokenClassification'],
] as const;

/** Python's offsets count code points, ours UTF-16 units: index i in code points -> UTF-16. */
function codePointToUtf16(text: string): number[] {
  const cp: number[] = [0];
  for (const ch of text) cp.push(cp[cp.length - 1]! + ch.length);
  return cp;
}

for (const [kind] of KINDS) {
  test(`${kind}: the folder as shipped predicts what transformers ${expected.transformers} pipeline predicts`, async () => {
    const pipe = await pipeline(join(e2eDir, kind));
    const { results } = expected.models[kind]!;
    for (const [strategy, rows] of Object.entries(results)) {
      for (let i = 0; i < rows.length; i++) {
        const text = expected.texts[i]!;
        const cp = codePointToUtf16(text);
        const got = (await pipe.predict(text, {
          aggregationStrategy: strategy as AggregationStrategy,
          ignoreLabels: [],
        })) as unknown as HfEntity[];
        const where = `${kind}, ${strategy}, text ${i}`;
        assert.deepEqual(
          got.map((g) => [g.entity ?? g.entity_group, g.word, g.start, g.end, g.index]),
          rows[i]!.map((w) => [w.entity ?? w.entity_group, w.word, cp[w.start], cp[w.end], w.index]),
          where,
        );
        rows[i]!.forEach((w, k) =>
          assert.ok(Math.abs(got[k]!.score - w.score) <= 1e-4, `${where} #${k}: score ${got[k]!.score} vs ${w.score}`),
        );
      }
    }
  });
}

test('ByteLevel decoding as the Rust decoder: a token with any character outside the byte alphabet is UTF-8 text as it stands', () => {
  const tok = loadTokenizer(join(e2eDir, 'roberta'));
  for (const [tokens, want] of expected.byte_level_decode) assert.equal(tok.convertTokensToString!(tokens), want, JSON.stringify(tokens));
});

// ---- fine-tuning on WNUT-17 through the CLI ----

const wnut = join(sharedDir, 'data', 'wnut17');
const wnutSkip = existsSync(join(wnut, 'wnut17train.conll')) ? false : `WNUT-17 is absent (${wnut}); these tests fine-tune on it`;
const tmp = mkdtempSync(join(tmpdir(), 'tt-e2e-real-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The first n sentences of a CoNLL file (blank-line separated). */
function conllSlice(file: string, n: number): string {
  return (
    readFileSync(file, 'utf8')
      .split(/\r?\n\r?\n/)
      .filter((s) => s.trim())
      .slice(0, n)
      .join('\n\n') + '\n'
  );
}

const TEXT = 'Peter Blackburn visited Paris with @john_doe on Monday.';

for (const [kind, arch] of KINDS) {
  test(`${kind}: tokentune train fine-tunes the folder on WNUT-17, then predict and serve tag raw text`, { skip: wnutSkip }, async () => {
    const train = join(tmp, 'train.conll'),
      dev = join(tmp, 'dev.conll');
    if (!existsSync(train)) {
      writeFileSync(train, conllSlice(join(wnut, 'wnut17train.conll'), 48));
      writeFileSync(dev, conllSlice(join(wnut, 'emerging.dev.conll'), 16));
    }
    const out = join(tmp, `${kind}-out`);
    const r = await cli([
      'train',
      '--model',
      join(e2eDir, kind),
      '--train-file',
      train,
      '--validation-file',
      dev,
      '--do-train',
      '--do-eval',
      '--max-steps',
      '6',
      '--per-device-train-batch-size',
      '8',
      '--learning-rate',
      '1e-2',
      '--max-seq-length',
      '96',
      '--output-dir',
      out,
      '--save-strategy',
      'no',
      '--disable-tqdm',
      '--seed',
      '5',
      '--threads',
      '1',
    ]);
    assert.equal(r.code, 0, r.err + r.out);
    // WNUT-17's 13 labels replace the folder's CoNLL head, and the report says so, as transformers does.
    assert.match(r.err, new RegExp(`${arch} were not initialized .* newly initialized: classifier\\.weight, classifier\\.bias`));
    const loss = Number(/eval_loss\s+=\s+([0-9.]+)/.exec(r.out)?.[1]);
    assert.ok(Number.isFinite(loss) && loss > 0, `eval_loss ${loss}\n${r.out}`);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { architectures: string[]; id2label: Record<string, string> };
    assert.deepEqual(cfg.architectures, [arch]);
    assert.ok(Object.values(cfg.id2label).includes('B-person') && Object.keys(cfg.id2label).length === 13, JSON.stringify(cfg.id2label));
    assert.ok(
      readdirSync(out).some((f) => /^(tokenizer\.json|vocab\.txt|spm\.model|sentencepiece\.bpe\.model)$/.test(f)),
      readdirSync(out).join(' '),
    );

    // Every label kept (O included): the word groups must tile the text's words, each span's text
    // being the group's word (up to case and spaces: WordPiece lowercases, BPE keeps the space).
    const pred = await cli(['predict', '--model', out, '--text', TEXT, '--json', '--ignore-labels', 'none-ignored']);
    assert.equal(pred.code, 0, pred.err);
    const ents = JSON.parse(pred.out) as HfEntity[];
    const squash = (s: string) => s.toLowerCase().replace(/\s+/g, '');
    let covered = '';
    for (const e of ents) {
      assert.equal(squash(e.word), squash(TEXT.slice(e.start, e.end)), `${JSON.stringify(e)} vs "${TEXT.slice(e.start, e.end)}"`);
      assert.ok(e.start >= covered.length, `spans overlap or go back: ${pred.out}`);
      covered = TEXT.slice(0, e.end);
    }
    assert.equal(squash(ents.map((e) => TEXT.slice(e.start, e.end)).join('')), squash(TEXT), `every word is tagged\n${pred.out}`);

    const served = await serveOnce(out, { text: TEXT, ignore_labels: [] });
    assert.deepEqual(served, { entities: ents });

    // ONNX export (not for DeBERTa) carries the tokenizer over: the exported one encodes as the trained folder's.
    if (kind === 'deberta-v3') return;
    const onnx = join(tmp, `${kind}-onnx`);
    const ex = await cli(['export', '--model', out, '--onnx', onnx]);
    assert.equal(ex.code, 0, ex.err);
    assert.ok(existsSync(join(onnx, 'onnx', 'model.onnx')) && existsSync(join(onnx, 'tokenizer.json')), readdirSync(onnx).join(' '));
    assert.deepEqual([...loadTokenizer(onnx).encode(TEXT).ids], [...loadTokenizer(out).encode(TEXT).ids]);
  });
}

/** `tokentune serve --port 0`: one POST /predict, then the server is stopped. */
async function serveOnce(model: string, body: unknown): Promise<unknown> {
  const stdout = new PassThrough(),
    stderr = new PassThrough();
  let out = '',
    err = '';
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const listening = new Promise<string>((resolve) =>
    stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /on (http:\/\/[^/]+)\//.exec(out);
      if (m) resolve(m[1]!);
    }),
  );
  const stop = new AbortController();
  const done = main(['serve', '--model', model, '--port', '0'], { stdout, stderr, signal: stop.signal } as Parameters<typeof main>[1]);
  const url = await Promise.race([
    listening,
    done.then((code) => {
      throw new Error(`serve exited with ${code}: ${err}`);
    }),
  ]);
  try {
    const res = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 200, err);
    return await res.json();
  } finally {
    stop.abort();
    assert.equal(await done, 0, err);
  }
}
