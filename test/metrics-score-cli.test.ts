// `tokentune score` (runScore): conlleval's report on the golden file, strict mode, JSON,
// token-level files, and clear errors for malformed files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScore } from '../src/cli/score.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const goldenDir = path.resolve(repoRoot, '..', 'shared', 'data', 'conlleval-golden');
const goldenFile = path.join(goldenDir, 'ground_truth.txt');
const skipGolden = existsSync(goldenFile) ? false : `shared data not found at ${goldenDir}; golden checks skipped`;

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runScore(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

const dir = mkdtempSync(path.join(tmpdir(), 'tokentune-score-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

test("golden file: output is conlleval.pl's report (EXPECTED.md)", { skip: skipGolden }, async () => {
  const md = readFileSync(path.join(goldenDir, 'EXPECTED.md'), 'utf8');
  const expected = `${md
    .split('\n')
    .filter((l) => l.startsWith('    '))
    .map((l) => l.slice(4))
    .join('\n')}\n`;
  const { code, out, err } = await run([goldenFile]);
  assert.equal(err, '');
  assert.equal(code, 0);
  assert.equal(out, expected);
});

test('golden file: strict IOB2 gives overall FB1 70.46 (EXPECTED.md: F1 0.7046)', { skip: skipGolden }, async () => {
  const { code, out } = await run([goldenFile, '--mode', 'strict', '--scheme', 'IOB2']);
  assert.equal(code, 0);
  assert.match(out.split('\n')[1]!, /FB1: {2}70\.46$/);
  // Token totals do not depend on the mode.
  assert.match(out.split('\n')[0]!, /^processed 961 tokens with 459 phrases;/);
});

test('golden file: --json carries the same numbers as fractions', { skip: skipGolden }, async () => {
  const { code, out } = await run([goldenFile, '--json']);
  assert.equal(code, 0);
  const json = JSON.parse(out) as Record<string, unknown> & { perType: Record<string, Record<string, number>> };
  assert.equal(json['tokens'], 961);
  assert.equal(json['phrases'], 459);
  assert.equal(json['found'], 539);
  assert.equal(json['correct'], 371);
  assert.equal((100 * (json['f1'] as number)).toFixed(2), '74.35');
  assert.deepEqual(Object.keys(json.perType), ['ADJP', 'ADVP', 'NP', 'PP', 'SBAR', 'VP']);
  assert.equal(json.perType['NP']!['found'], 317);
});

test("golden file: --seqeval prints seqeval's table", { skip: skipGolden }, async () => {
  const { code, out } = await run([goldenFile, '--seqeval']);
  assert.equal(code, 0);
  // conlleval's overall 68.83 / 80.83 / 74.35 at 4 digits.
  assert.match(out, /^ {3}micro avg {5}0\.6883 {4}0\.8083 {4}0\.7435 {7}459$/m);
});

test('blank lines, -X- and -DOCSTART- lines separate sentences and are not tokens', async () => {
  const p = file('docs.txt', '-DOCSTART- -X- -X- O\n\nEU NNP B-ORG B-ORG\nrejects VBZ O O\n-X- -X- O O\nGerman JJ I-MISC B-MISC\r\n');
  const { code, out } = await run([p]);
  assert.equal(code, 0);
  assert.equal(out.split('\n')[0], 'processed 3 tokens with 2 phrases; found: 2 phrases; correct: 2.');
});

test('flat tag sets are scored per token (conlleval -r)', async () => {
  const p = file('pos.txt', 'The DT DT\ndog NN NN\nruns VBZ NN\n');
  const { code, out } = await run([p]);
  assert.equal(code, 0);
  assert.equal(
    out,
    [
      'processed 3 tokens with 3 phrases; found: 3 phrases; correct: 2.',
      'accuracy:  66.67%; precision:  66.67%; recall:  66.67%; FB1:  66.67',
      '               DT: precision: 100.00%; recall: 100.00%; FB1: 100.00  1',
      '               NN: precision:  50.00%; recall: 100.00%; FB1:  66.67  2',
      '              VBZ: precision:   0.00%; recall:   0.00%; FB1:   0.00  0',
      '',
    ].join('\n'),
  );
});

test('--delimiter splits on exactly the given separator; --digits widens the numbers', async () => {
  const p = file('tabs.txt', 'New York\tB-LOC\tB-LOC\nis\tO\tO\n');
  const { code, out } = await run([p, '--delimiter', '\t', '--digits', '4']);
  assert.equal(code, 0);
  assert.equal(out.split('\n')[1], 'accuracy: 100.0000%; precision: 100.0000%; recall: 100.0000%; FB1: 100.0000');
});

test('a line with one column is an error naming file and line', async () => {
  const p = file('short.txt', 'a B-PER B-PER\n\nB-PER\n');
  const { code, out, err } = await run([p]);
  assert.equal(code, 1);
  assert.equal(out, '');
  assert.ok(err.includes(`${p}:3:`), err);
  assert.match(err, /gold and the predicted tag/);
});

test('an inconsistent column count is an error naming both lines', async () => {
  const p = file('ragged.txt', 'a NN B-NP B-NP\nb NN I-NP\n');
  const { code, err } = await run([p]);
  assert.equal(code, 1);
  assert.ok(err.includes(`${p}:2: found 3 columns but line 1 has 4`), err);
});

test('strict mode: a tag outside the scheme is reported at its line', async () => {
  const p = file('iobes.txt', 'a B-PER B-PER\nb I-PER E-PER\n');
  const { code, err } = await run([p, '--mode', 'strict', '--scheme', 'IOB2']);
  assert.equal(code, 1);
  assert.ok(err.includes(`${p}:2: predicted tag 'E-PER' is not valid in scheme IOB2`), err);
});

test('usage errors exit 2; a missing file exits 1; --help exits 0', async () => {
  const unknown = await run(['x.txt', '--frobnicate']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /unknown option --frobnicate/);
  assert.equal((await run([])).code, 2);
  assert.equal((await run(['a', '--mode', 'loose'])).code, 2);
  assert.equal((await run(['a', '--scheme', 'IOB2'])).code, 2);
  const missing = await run([path.join(dir, 'does-not-exist.txt')]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /cannot read .*does-not-exist\.txt/);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: tokentune score FILE/);
});

test('issue 22: a file of words and gold tags only (no prediction column) is refused, not scored 0.00%', async () => {
  const ner = file(
    'words-tags.conll',
    'EU B-ORG\nrejects O\nGerman B-MISC\ncall O\nto O\nboycott O\nBritish B-MISC\nlamb O\n. O\n\nPeter B-PER\nBlackburn I-PER\n',
  );
  const r = await run([ner]);
  assert.equal(r.code, 1, r.out);
  assert.equal(r.out, '');
  assert.match(
    r.err,
    new RegExp(
      `${ner.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: the last two columns must be the gold and the predicted tag, but the gold column holds words \\('EU', 'rejects', 'German', \\.\\.\\.`,
    ),
  );
  assert.match(r.err, /add each token's predicted tag as a last column \(WORD GOLD PRED/);
  // Words beside POS tags (token-level scoring) are refused the same way.
  const pos = file('words-pos.txt', 'The DT\ndog NN\nruns VBZ\nfast RB\nand CC\nthe DT\ncat NN\nsleeps VBZ\n');
  const p = await run([pos]);
  assert.equal(p.code, 1);
  assert.match(p.err, /the gold column holds words/);
  // Real gold/prediction pairs still score, even when every prediction is wrong.
  const allWrong = file('all-wrong.conll', 'Peter B-PER O\nBlackburn I-PER O\nvisited O B-LOC\n');
  assert.equal((await run([allWrong])).code, 0);
});
