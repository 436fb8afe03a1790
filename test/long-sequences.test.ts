/**
 * Issue 22 item 1: every architecture takes a text longer than its window through evaluate,
 * predict and train. RoBERTa and XLM-R count positions from pad_token_id + 1, so their usable
 * length is max_position_embeddings - pad_token_id - 1 (the e2e fixtures: 258 rows, 256 tokens);
 * capping to max_position_embeddings crashed them in the position table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './helpers/cli-run.js';
import { fixturesDir } from './helpers/fixtures.js';
import { fromPretrained } from '../src/models/index.js';
import { usableSequenceLength } from '../src/models/sequence-limit.js';
import { capSeqLength } from '../src/cli/train-checks.js';
import { pipeline } from '../src/infer/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'tt-long-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const WORDS: [string, string][] = [
  ['Peter', 'B-PER'],
  ['Smith', 'I-PER'],
  ['visited', 'O'],
  ['Paris', 'B-LOC'],
  ['and', 'O'],
  ['then', 'O'],
  ['went', 'O'],
  ['home', 'O'],
];
/** One sentence of `n` words (each at least one token), so longer than any fixture's window. */
function longSentence(n: number): [string, string][] {
  return Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]!);
}

// BERT: bert-tiny (64 positions) has no tokenizer; the DistilBERT fixture's WordPiece vocabulary fits its 1000 ids.
function bertDir(): string {
  const dir = join(tmp, 'bert');
  cpSync(join(fixturesDir, 'bert-tiny'), dir, { recursive: true });
  cpSync(join(fixturesDir, 'e2e', 'distilbert', 'vocab.txt'), join(dir, 'vocab.txt'));
  return dir;
}

const MODELS: [string, () => string, number][] = [
  ['bert', bertDir, 64],
  ['roberta', () => join(fixturesDir, 'e2e', 'roberta'), 256],
  ['xlm-roberta', () => join(fixturesDir, 'e2e', 'xlm-roberta'), 256],
  ['distilbert', () => join(fixturesDir, 'e2e', 'distilbert'), 256],
  ['deberta-v2', () => join(fixturesDir, 'e2e', 'deberta-v3'), 256],
  ['modernbert', () => join(fixturesDir, 'e2e', 'modernbert'), 256],
];

const rows = longSentence(300);
const conll = join(tmp, 'long.conll');
writeFileSync(conll, rows.map(([w, t]) => `${w}\t${t}`).join('\n') + '\n\n' + 'Anna\tB-PER\nsleeps\tO\n\n');
const text = join(tmp, 'long.txt');
writeFileSync(text, rows.map(([w]) => w).join(' ') + '\n');

for (const [arch, dirOf, usable] of MODELS) {
  test(`${arch}: usable length ${usable}, and a ${rows.length}-word text goes through evaluate, predict and train`, async () => {
    const dir = dirOf();
    const { model } = await fromPretrained(dir);
    assert.equal(model.config.modelType, arch);
    assert.equal(usableSequenceLength(model), usable);
    assert.equal(capSeqLength(1024, model, dir).maxSeqLength, usable);

    // evaluate with its default --max-seq-length 512 and with an explicit larger one.
    for (const extra of [[], ['--max-seq-length', '1024']]) {
      const ev = await cli(['evaluate', '--model', dir, '--data', conll, '--json', ...extra]);
      assert.equal(ev.code, 0, ev.err);
      const rec = JSON.parse(ev.out) as Record<string, number>;
      assert.ok(Number.isFinite(rec.eval_loss) && rec.eval_f1 >= 0, ev.out);
    }

    // predict: every word of the long text gets a tag (plain text in, one record out).
    const out = join(tmp, `${arch}.jsonl`);
    const pr = await cli(['predict', '--model', dir, '--file', text, '--out', out, '--aggregation', 'first', '--ignore-labels', '']);
    assert.equal(pr.code, 0, pr.err);
    const entities = JSON.parse(readFileSync(out, 'utf8').trim().split('\n')[0]!) as { entities?: { end: number }[] } | { end: number }[];
    const list = Array.isArray(entities) ? entities : (entities.entities ?? []);
    const lastEnd = Math.max(...list.map((e) => e.end));
    assert.equal(lastEnd, readFileSync(text, 'utf8').trimEnd().length, 'the last word of the long text is tagged');

    // serve and the worker load through pipeline(): the same cap, without their own code.
    assert.equal((await pipeline(dir)).maxLength, usable);
    // ONNX export: the exported tokenizer never asks for more than the model takes.
    const onnx = join(tmp, `${arch}-onnx`);
    const ex = await cli(['export', '--model', dir, '--onnx', onnx]);
    assert.equal(ex.code, 0, ex.err);
    const mml = (JSON.parse(readFileSync(join(onnx, 'tokenizer_config.json'), 'utf8')) as { model_max_length?: number }).model_max_length;
    assert.ok(mml !== undefined && mml <= usable, `exported model_max_length ${mml} <= ${usable}`);

    // train with a --max-seq-length above the limit: windows of the usable length, no crash.
    const o = join(tmp, `${arch}-train`);
    const tr = await cli([
      'train',
      '--model-name-or-path',
      dir,
      '--train-file',
      conll,
      '--output-dir',
      o,
      '--max-steps',
      '2',
      '--per-device-train-batch-size',
      '2',
      '--max-seq-length',
      '1024',
      '--save-strategy',
      'no',
      '--disable-tqdm',
      '--report-to',
      'none',
    ]);
    assert.equal(tr.code, 0, tr.err);
    assert.match(tr.err, new RegExp(`using ${usable}`));
    assert.ok(existsSync(join(o, 'model.safetensors')));
  });
}
