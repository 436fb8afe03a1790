/**
 * End to end with DeBERTa-v2: `tokentune train` on WNUT-17 (../shared) from the folder that
 * transformers' save_pretrained wrote (test/fixtures/deberta-v3: log buckets, shared keys, c2p and
 * p2c), then `tokentune predict` on the result. The fixture's vocabulary has 100 rows, so the
 * folder gets a 100-entry WordPiece vocab.txt (the special tokens and WNUT's most frequent words)
 * until DeBERTa-v3's SentencePiece tokenizer is supported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTrain } from '../src/cli/train.js';
import { runPredict } from '../src/cli/predict.js';
import { loadModelFromDir } from '../src/models/index.js';
import { Sink } from './helpers/cli-run.js';
import { fixturesDir, sharedDir, sharedSkip } from './helpers/fixtures.js';

const io = () => ({ stdout: new Sink(), stderr: new Sink() });

test('tokentune train on WNUT-17 from a transformers DeBERTa-v2 folder, then predict', { skip: sharedSkip }, async () => {
  const wnut = join(sharedDir, 'data', 'wnut17');
  const dir = mkdtempSync(join(tmpdir(), 'tt-deberta-e2e-'));
  try {
    const model = join(dir, 'model'),
      out = join(dir, 'out');
    mkdirSync(model);
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(fixturesDir, 'deberta-v3', f), join(model, f));
    const counts = new Map<string, number>();
    for (const line of readFileSync(join(wnut, 'wnut17train.conll'), 'utf8').split('\n')) {
      const w = line.split('\t')[0].trim();
      if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const words = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([w]) => w);
    const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words.filter((w) => !w.startsWith('[')).slice(0, 95)];
    writeFileSync(join(model, 'vocab.txt'), vocab.join('\n') + '\n');
    writeFileSync(join(model, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));

    const t = io();
    const rc = await runTrain(
      [
        '--model',
        model,
        '--train-file',
        join(wnut, 'wnut17train.conll'),
        '--validation-file',
        join(wnut, 'emerging.dev.conll'),
        '--output-dir',
        out,
        '--do-train',
        '--do-eval',
        '--max-steps',
        '40',
        '--per-device-train-batch-size',
        '8',
        '--learning-rate',
        '3e-3',
        '--max-seq-length',
        '64',
        '--logging-steps',
        '10',
        '--disable-tqdm',
        '--seed',
        '5',
      ],
      t,
    );
    assert.equal(rc, 0, t.stderr.text);
    // WNUT's 13 labels replace the fixture's 5: a new head, reported as HF does.
    assert.match(t.stderr.text + t.stdout.text, /newly initialized: classifier\.weight, classifier\.bias/);
    const logs = readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const losses = logs.filter((r) => typeof r.loss === 'number').map((r) => r.loss);
    assert.ok(losses.length >= 3 && losses[losses.length - 1] < losses[0], `training loss did not fall: ${losses.join(', ')}`);
    // The final evaluation on the WNUT dev set is printed as HF's metrics block.
    const evalLoss = /eval_loss\s*=\s*([0-9.]+)/.exec(t.stdout.text);
    assert.ok(evalLoss && Number.isFinite(Number(evalLoss[1])) && /eval_f1\s*=/.test(t.stdout.text), t.stdout.text);

    const saved = loadModelFromDir(out).model;
    assert.equal(saved.architecture, 'DebertaV2ForTokenClassification');
    assert.equal(saved.config.labels.length, 13);
    assert.equal(saved.config.raw.position_buckets, 8);

    const input = join(dir, 'in.txt');
    writeFileSync(input, 'the new york times said so\nlol i am going to london\n');
    const p = io();
    assert.equal(await runPredict(['--model', out, '--file', input, '--ignore-labels', '', '--aggregation', 'none'], p), 0, p.stderr.text);
    const lines = p.stdout.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { entities: { word: string; entity: string }[] });
    assert.equal(lines.length, 2);
    // With no label ignored, every token comes back tagged with one of WNUT's labels.
    assert.equal(lines[0].entities.length, 6);
    for (const e of lines.flatMap((l) => l.entities)) assert.ok(saved.config.labels.includes(e.entity), e.entity);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
