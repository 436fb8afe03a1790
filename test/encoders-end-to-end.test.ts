/**
 * End to end with checkpoints transformers wrote (test/fixtures/roberta-bare, distilbert-bare: a
 * RobertaModel and a DistilBertModel, no head): `tokentune train` fine-tunes them on a small
 * synthetic NER set, the result predicts through `tokentune predict`. The fixtures have no
 * tokenizer, so a WordPiece vocab.txt of their 100 ids is written beside them (for RoBERTa with
 * [PAD] at id 1, its pad_token_id).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../src/cli/main.js';
import { fixturesDir } from './helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'tt-enc-e2e-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const PEOPLE = ['anna', 'peter', 'maria', 'ola', 'kari', 'nils'];
const PLACES = ['oslo', 'bergen', 'paris', 'rome', 'lima'];
const FILLER = ['lives', 'in', 'visited', 'and', 'likes', 'the', 'sea', 'today', 'went', 'to'];

function vocab(specials: string[]): string[] {
  const words = [...specials, ...PEOPLE, ...PLACES, ...FILLER];
  while (words.length < 100) words.push(`unused${words.length}`);
  return words;
}

function conll(n: number, offset: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i + offset;
    const p = PEOPLE[k % PEOPLE.length]!,
      q = PLACES[(k * 7) % PLACES.length]!;
    const rows =
      k % 2
        ? [
            [p, 'B-PER'],
            ['visited', 'O'],
            [q, 'B-LOC'],
            ['today', 'O'],
          ]
        : [
            ['the', 'O'],
            ['sea', 'O'],
            ['in', 'O'],
            [q, 'B-LOC'],
            ['and', 'O'],
            [p, 'B-PER'],
          ];
    lines.push(...rows.map(([w, t]) => `${w}\t${t}`), '');
  }
  return lines.join('\n');
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough(),
    stderr = new PassThrough();
  let out = '',
    err = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await main(argv, { stdout, stderr });
  return { code, out, err };
}

writeFileSync(join(tmp, 'train.conll'), conll(120, 0));
writeFileSync(join(tmp, 'dev.conll'), conll(30, 1000));

for (const [fixture, arch, specials] of [
  ['roberta-bare', 'RobertaForTokenClassification', ['[CLS]', '[PAD]', '[SEP]', '[UNK]', '[MASK]']],
  ['distilbert-bare', 'DistilBertForTokenClassification', ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']],
] as const) {
  test(`${fixture}: tokentune train fine-tunes a checkpoint transformers saved, then predict tags with it`, async () => {
    const src = join(tmp, fixture);
    cpSync(join(fixturesDir, fixture), src, { recursive: true });
    writeFileSync(join(src, 'vocab.txt'), vocab([...specials]).join('\n') + '\n');
    const out = join(tmp, `${fixture}-out`);
    const train = await run([
      'train',
      '--model',
      src,
      '--train-file',
      join(tmp, 'train.conll'),
      '--validation-file',
      join(tmp, 'dev.conll'),
      '--do-train',
      '--do-eval',
      '--num-train-epochs',
      '6',
      '--learning-rate',
      '5e-3',
      '--per-device-train-batch-size',
      '8',
      '--output-dir',
      out,
      '--save-strategy',
      'no',
      '--disable-tqdm',
      '--seed',
      '3',
      '--threads',
      '1',
    ]);
    assert.equal(train.code, 0, train.err + train.out);
    assert.match(train.err, new RegExp(`${arch} were not initialized .* newly initialized: classifier.weight, classifier.bias`));
    const f1 = Number(/eval_f1\s+=\s+([0-9.]+)/.exec(train.out)?.[1]);
    assert.ok(f1 >= 0.9, `eval_f1 ${f1} after fine-tuning on a trivially learnable set\n${train.out}`);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(cfg.architectures, [arch]);

    const pred = await run(['predict', '--model', out, '--text', 'anna visited paris today', '--json']);
    assert.equal(pred.code, 0, pred.err);
    const ents = JSON.parse(pred.out) as { entity_group: string; word: string }[];
    assert.deepEqual(
      ents.map((e) => [e.entity_group, e.word]),
      [
        ['PER', 'anna'],
        ['LOC', 'paris'],
      ],
    );
  });
}
