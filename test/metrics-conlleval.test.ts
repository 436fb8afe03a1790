// conlleval reproduction: the golden file in /work/shared (seqeval's tests/data/ground_truth.txt
// with conlleval.pl's printed output recorded in EXPECTED.md), plus small cases whose expected
// counts follow from conlleval.pl's startOfChunk/endOfChunk rules (quoted where used).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  classificationReport,
  computeNerMetrics,
  conllevalCount,
  formatConllevalReport,
  parseConllevalText,
  toConllevalRows,
  type ConllevalRow,
} from '../src/metrics/index.js';

// dist/test/<file>.js -> repository root is two levels up.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const goldenDir = path.resolve(repoRoot, '..', 'shared', 'data', 'conlleval-golden');
const skipGolden = existsSync(path.join(goldenDir, 'ground_truth.txt'))
  ? false
  : `shared data not found at ${goldenDir}; golden conlleval checks skipped`;

/** The indented report block of EXPECTED.md, as conlleval.pl printed it. */
function expectedReport(): string {
  const md = readFileSync(path.join(goldenDir, 'EXPECTED.md'), 'utf8');
  const lines = md
    .split('\n')
    .filter((l) => l.startsWith('    '))
    .map((l) => l.slice(4));
  assert.ok(lines.length >= 3, 'EXPECTED.md has an indented conlleval report');
  return `${lines.join('\n')}\n`;
}

function loadGolden() {
  return parseConllevalText(readFileSync(path.join(goldenDir, 'ground_truth.txt'), 'utf8'), {
    file: 'ground_truth.txt',
  });
}

test('golden file: conlleval report equals conlleval.pl output byte for byte', { skip: skipGolden }, () => {
  const counts = conllevalCount(toConllevalRows(loadGolden()));
  assert.equal(formatConllevalReport(counts), expectedReport());
});

test("golden file: seqeval default mode gives conlleval's numbers", { skip: skipGolden }, () => {
  const input = loadGolden();
  const m = computeNerMetrics(input.gold, input.pred);
  // EXPECTED.md: accuracy 84.08%, precision 68.83%, recall 80.83%, FB1 74.35.
  assert.equal((100 * m.accuracy).toFixed(2), '84.08');
  assert.equal((100 * m.precision).toFixed(2), '68.83');
  assert.equal((100 * m.recall).toFixed(2), '80.83');
  assert.equal((100 * m.f1).toFixed(2), '74.35');
  const report = classificationReport(input.gold, input.pred);
  // EXPECTED.md per type: "ADVP: precision: 45.45%; recall: 62.50%; FB1: 52.63  11".
  assert.equal((100 * report.perType['ADVP']!.precision).toFixed(2), '45.45');
  assert.equal(report.counts['ADVP']!.predicted, 11);
  assert.equal(report.counts['NP']!.predicted, 317);
  assert.deepEqual(report.labels, ['ADJP', 'ADVP', 'NP', 'PP', 'SBAR', 'VP']);
});

test('golden file: strict IOB2 overall F1 is 0.7046 (EXPECTED.md)', { skip: skipGolden }, () => {
  const input = loadGolden();
  const report = classificationReport(input.gold, input.pred, { mode: 'strict', scheme: 'IOB2' });
  assert.equal(report['micro avg'].f1.toFixed(4), '0.7046');
});

function rows(pairs: Array<[string, string] | null>): ConllevalRow[] {
  return pairs.map((p) => (p === null ? { boundary: true } : { boundary: false, gold: p[0], pred: p[1] }));
}

test('conlleval: "I" after "O" starts a chunk; a chunk is correct only if start, end and type agree', () => {
  const c = conllevalCount(
    rows([
      ['B-NP', 'I-NP'], // startOfChunk(O, I) holds: both open an NP here
      ['I-NP', 'I-NP'],
      ['O', 'O'],
      ['B-VP', 'B-VP'],
      ['I-VP', 'B-VP'], // endOfChunk(B, B): the prediction closes its VP one token early
      ['O', 'O'],
    ]),
  );
  assert.deepEqual(
    { tokens: c.tokens, correctTags: c.correctTags, gold: c.gold, found: c.found, correct: c.correct },
    { tokens: 6, correctTags: 4, gold: 2, found: 3, correct: 1 },
  );
  assert.deepEqual(c.perType['VP'], { gold: 1, found: 2, correct: 0 });
});

test('conlleval: sentence breaks end chunks and are not counted as tokens', () => {
  const c = conllevalCount(rows([['I-NP', 'I-NP'], null, ['I-NP', 'I-NP']]));
  assert.deepEqual({ tokens: c.tokens, gold: c.gold, found: c.found, correct: c.correct }, { tokens: 2, gold: 2, found: 2, correct: 2 });
});

test('conlleval: E- tags (IOE) chunk the way conlleval.pl does', () => {
  // Gold E E: startOfChunk(O, E) opens the first chunk, endOfChunk(E, E) and startOfChunk(E, E)
  // split it from the second. Predicted I E: "I" then "E" neither ends nor starts a chunk.
  const c = conllevalCount(
    rows([
      ['E-NP', 'I-NP'],
      ['E-NP', 'E-NP'],
      ['O', 'O'],
    ]),
  );
  assert.deepEqual({ gold: c.gold, found: c.found, correct: c.correct }, { gold: 2, found: 1, correct: 0 });
});

test('conlleval -r (raw): every non-O tag is a one-token chunk', () => {
  const c = conllevalCount(
    rows([
      ['NN', 'NN'],
      ['NN', 'VB'],
      ['O', 'NN'],
    ]),
    { raw: true },
  );
  assert.deepEqual(c.perType['NN'], { gold: 2, found: 2, correct: 1 });
  assert.deepEqual(c.perType['VB'], { gold: 0, found: 1, correct: 0 });
  assert.equal(formatConllevalReport(c).split('\n')[3], '               VB: precision:   0.00%; recall:   0.00%; FB1:   0.00  1');
});

test('conlleval report: no tokens leaves out the accuracy line; wide types are not cut', () => {
  assert.equal(formatConllevalReport(conllevalCount([])), 'processed 0 tokens with 0 phrases; found: 0 phrases; correct: 0.\n');
  const c = conllevalCount(rows([['B-A_VERY_LONG_TYPE_NAME', 'B-A_VERY_LONG_TYPE_NAME']]));
  assert.equal(formatConllevalReport(c).split('\n')[2], 'A_VERY_LONG_TYPE_NAME: precision: 100.00%; recall: 100.00%; FB1: 100.00  1');
});
