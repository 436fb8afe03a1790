// Entity metrics against seqeval's documented behaviour. Expected values are copied from
// seqeval's own docstrings and test-suite (chakki-works/seqeval: seqeval/metrics/
// sequence_labeling.py and v1.py docstrings, tests/test_v1.py, tests/test_metrics.py,
// tests/test_scheme.py); the source of each block is named above it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MetricsInputError,
  accuracyScore,
  autoDetectScheme,
  classificationReport,
  computeNerMetrics,
  f1Score,
  formatClassificationReport,
  getEntities,
  getStrictEntities,
  precisionScore,
  recallScore,
  reportToDict,
  strictSentenceEntities,
  type SchemeName,
} from '../src/metrics/index.js';

// tests/test_v1.py (TestClassificationReport.test_output_dict, test_scores, test_average_scores)
// and the task brief: gold B-A B-B O B-A, predicted O B-B B-C B-A.
const ABC_TRUE = [['B-A', 'B-B', 'O', 'B-A']];
const ABC_PRED = [['O', 'B-B', 'B-C', 'B-A']];

test('seqeval test_output_dict: per-type and averaged scores, exact doubles', () => {
  for (const mode of ['default', 'strict'] as const) {
    const dict = reportToDict(classificationReport(ABC_TRUE, ABC_PRED, { mode, scheme: 'IOB2' }));
    assert.deepEqual(dict, {
      A: { 'f1-score': 0.6666666666666666, precision: 1.0, recall: 0.5, support: 2 },
      B: { 'f1-score': 1.0, precision: 1.0, recall: 1.0, support: 1 },
      C: { 'f1-score': 0.0, precision: 0.0, recall: 0.0, support: 0 },
      'macro avg': { 'f1-score': 0.5555555555555555, precision: 0.6666666666666666, recall: 0.5, support: 3 },
      'micro avg': {
        'f1-score': 0.6666666666666666,
        precision: 0.6666666666666666,
        recall: 0.6666666666666666,
        support: 3,
      },
      'weighted avg': { 'f1-score': 0.7777777777777777, precision: 1.0, recall: 0.6666666666666666, support: 3 },
    });
  }
});

test('seqeval test_output_string: the text report, digits=2', () => {
  const expected = `              precision    recall  f1-score   support

           A       1.00      0.50      0.67         2
           B       1.00      1.00      1.00         1
           C       0.00      0.00      0.00         0

   micro avg       0.67      0.67      0.67         3
   macro avg       0.67      0.50      0.56         3
weighted avg       1.00      0.67      0.78         3
`;
  assert.equal(formatClassificationReport(classificationReport(ABC_TRUE, ABC_PRED), 2), expected);
});

test('the brief: A/B/C case printed with 4 digits', () => {
  const text = formatClassificationReport(classificationReport(ABC_TRUE, ABC_PRED));
  assert.match(text, /^ {11}A {5}1\.0000 {4}0\.5000 {4}0\.6667 {9}2$/m);
  assert.match(text, /^ {11}C {5}0\.0000 {4}0\.0000 {4}0\.0000 {9}0$/m);
  assert.match(text, /^ {3}macro avg {5}0\.6667 {4}0\.5000 {4}0\.5556 {9}3$/m);
  assert.match(text, /^weighted avg {5}1\.0000 {4}0\.6667 {4}0\.7778 {9}3$/m);
});

test('the brief: I-ORG I-ORG scores 1.0 in default mode and 0.0 in strict IOB2', () => {
  const gold = [['B-ORG', 'I-ORG']];
  const pred = [['I-ORG', 'I-ORG']];
  assert.equal(f1Score(gold, pred), 1.0);
  assert.equal(f1Score(gold, pred, { mode: 'strict', scheme: 'IOB2' }), 0.0);
});

// sequence_labeling.py docstrings of f1_score / precision_score / recall_score.
test('seqeval docstring: micro, macro and weighted averages', () => {
  const yTrue = [
    ['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'O', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  const yPred = [
    ['O', 'O', 'B-MISC', 'I-MISC', 'B-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  for (const score of [f1Score, precisionScore, recallScore]) {
    assert.equal(score(yTrue, yPred, { average: 'micro' }), 0.6666666666666666);
    assert.equal(score(yTrue, yPred, { average: 'macro' }), 0.75);
    assert.equal(score(yTrue, yPred, { average: 'weighted' }), 0.6666666666666666);
  }
  const report = classificationReport(yTrue, yPred);
  assert.deepEqual(
    report.labels.map((l) => report.perType[l]!.f1),
    [0.5, 1.0],
  );
});

// README / classification_report docstring (seqeval 1.x).
test('seqeval README: MISC/PER example, scores, accuracy and text report', () => {
  const yTrue = [
    ['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  const yPred = [
    ['O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'I-MISC', 'O'],
    ['B-PER', 'I-PER', 'O'],
  ];
  assert.equal(f1Score(yTrue, yPred), 0.5);
  assert.equal(precisionScore(yTrue, yPred), 0.5);
  assert.equal(recallScore(yTrue, yPred), 0.5);
  assert.equal(accuracyScore(yTrue, yPred), 0.8);
  const expected = `              precision    recall  f1-score   support

        MISC       0.00      0.00      0.00         1
         PER       1.00      1.00      1.00         1

   micro avg       0.50      0.50      0.50         2
   macro avg       0.50      0.50      0.50         2
weighted avg       0.50      0.50      0.50         2
`;
  assert.equal(formatClassificationReport(classificationReport(yTrue, yPred), 2), expected);
  const ner = computeNerMetrics(yTrue, yPred);
  assert.deepEqual({ p: ner.precision, r: ner.recall, f: ner.f1, a: ner.accuracy }, { p: 0.5, r: 0.5, f: 0.5, a: 0.8 });
  assert.deepEqual(Object.keys(ner.perType), ['MISC', 'PER']);
  assert.equal(ner.perType['PER']!.f1, 1);
});

// get_entities docstring and tests/test_metrics.py test_get_entities*.
test('seqeval get_entities: offsets, suffix style', () => {
  assert.deepEqual(getEntities(['B-PER', 'I-PER', 'O', 'B-LOC']), [
    ['PER', 0, 1],
    ['LOC', 3, 3],
  ]);
  assert.deepEqual(getEntities(['O', 'O', 'O', 'B-MISC', 'I-MISC', 'I-MISC', 'O', 'B-PER', 'I-PER']), [
    ['MISC', 3, 5],
    ['PER', 7, 8],
  ]);
  assert.deepEqual(getEntities(['O', 'O', 'O', 'MISC-B', 'MISC-I', 'MISC-I', 'O', 'PER-B', 'PER-I'], true), [
    ['MISC', 3, 5],
    ['PER', 7, 8],
  ]);
});

// conlleval semantics that seqeval's default mode keeps (conlleval.pl startOfChunk/endOfChunk).
test('default mode: I- after O opens a chunk, a type change opens a chunk', () => {
  assert.deepEqual(getEntities(['O', 'I-PER', 'I-PER', 'I-LOC']), [
    ['PER', 1, 2],
    ['LOC', 3, 3],
  ]);
  // Sentences are flattened with an O between them, so chunks never cross sentences.
  assert.deepEqual(getEntities([['I-PER'], ['I-PER']]), [
    ['PER', 0, 0],
    ['PER', 2, 2],
  ]);
});

test('strict mode without a scheme detects it from the gold tags (seqeval v1 auto_detect)', () => {
  const gold = [['B-ORG', 'I-ORG']];
  const pred = [['I-ORG', 'I-ORG']];
  const report = classificationReport(gold, pred, { mode: 'strict' });
  assert.equal(report.scheme, 'IOB2');
  assert.equal(report['micro avg'].f1, 0);
});

// tests/test_v1.py test_weighted_true_sum_zero and test_length; test_unique_labels.
test('seqeval edge cases: no gold entities, length mismatch, label union', () => {
  const r = classificationReport([['O']], [['O']], { mode: 'strict', scheme: 'IOB2' });
  assert.deepEqual(r['weighted avg'], { precision: 0, recall: 0, f1: 0, support: 0 });
  assert.throws(() => classificationReport([['B-PER']], [['B-PER', 'O']]), MetricsInputError);
  const cases: Array<[string[][], string[][], string[]]> = [
    [[[]], [[]], []],
    [[['B-PER']], [[]], ['PER']],
    [[[]], [['B-PER']], ['PER']],
    [[['B-PER', 'I-PER']], [[]], ['PER']],
    [[['B-PER']], [['B-ORG']], ['ORG', 'PER']],
  ];
  for (const [t, p, labels] of cases) {
    // seqeval's test pads the lengths by hand; here both sides get equal-length O padding.
    const n = Math.max(t[0]!.length, p[0]!.length);
    const pad = (s: string[]) => [...s, ...Array<string>(n - s.length).fill('O')];
    const report = classificationReport([pad(t[0]!)], [pad(p[0]!)], { mode: 'strict', scheme: 'IOB2' });
    assert.deepEqual(report.labels, labels);
  }
});

test('zeroDivision=1 sets undefined ratios to 1 like seqeval/sklearn', () => {
  // Type C is predicted but absent from gold: its recall is 0/0.
  const r = classificationReport(ABC_TRUE, ABC_PRED, { zeroDivision: 1 });
  assert.equal(r.perType['C']!.recall, 1);
  assert.equal(r.perType['C']!.precision, 0);
  const none = classificationReport([['O']], [['O']], { zeroDivision: 1, level: 'entity' });
  assert.deepEqual(none['micro avg'], { precision: 1, recall: 1, f1: 1, support: 0 });
});

// tests/test_scheme.py: entities per scheme as (type, start, end) with exclusive end.
const SCHEME_TABLES: Record<Exclude<SchemeName, 'BILOU'>, Array<[string[], Array<[string, number, number]>]>> = {
  IOB1: [
    [[], []],
    [['B-PER'], []],
    [['I-PER'], [['PER', 0, 1]]],
    [['O'], []],
    [['O', 'I-PER'], [['PER', 1, 2]]],
    [['O', 'B-PER'], []],
    [['I-PER', 'O'], [['PER', 0, 1]]],
    [['I-PER', 'I-PER'], [['PER', 0, 2]]],
    [
      ['I-PER', 'I-ORG'],
      [
        ['PER', 0, 1],
        ['ORG', 1, 2],
      ],
    ],
    [
      ['I-PER', 'B-PER'],
      [
        ['PER', 0, 1],
        ['PER', 1, 2],
      ],
    ],
    [['I-PER', 'B-ORG'], [['PER', 0, 1]]],
    [['B-PER', 'O'], []],
    [['B-PER', 'I-PER'], [['PER', 1, 2]]],
    [['B-PER', 'I-ORG'], [['ORG', 1, 2]]],
    [['B-PER', 'B-PER'], [['PER', 1, 2]]],
    [['B-PER', 'B-ORG'], []],
    [
      ['I', 'B'],
      [
        ['_', 0, 1],
        ['_', 1, 2],
      ],
    ],
    [['B', 'B'], [['_', 1, 2]]],
  ],
  IOB2: [
    [[], []],
    [['B-PER'], [['PER', 0, 1]]],
    [['I-PER'], []],
    [['O'], []],
    [['O', 'I-PER'], []],
    [['O', 'B-PER'], [['PER', 1, 2]]],
    [['I-PER', 'O'], []],
    [['I-PER', 'I-PER'], []],
    [['I-PER', 'I-ORG'], []],
    [['I-PER', 'B-PER'], [['PER', 1, 2]]],
    [['I-PER', 'B-ORG'], [['ORG', 1, 2]]],
    [['B-PER', 'O'], [['PER', 0, 1]]],
    [['B-PER', 'I-PER'], [['PER', 0, 2]]],
    [['B-PER', 'I-ORG'], [['PER', 0, 1]]],
    [
      ['B-PER', 'B-PER'],
      [
        ['PER', 0, 1],
        ['PER', 1, 2],
      ],
    ],
    [
      ['B-PER', 'B-ORG'],
      [
        ['PER', 0, 1],
        ['ORG', 1, 2],
      ],
    ],
    [['B', 'I'], [['_', 0, 2]]],
  ],
  IOE1: [
    [[], []],
    [['E-PER'], []],
    [['I-PER'], [['PER', 0, 1]]],
    [['O'], []],
    [['O', 'I-PER'], [['PER', 1, 2]]],
    [['O', 'E-PER'], []],
    [['I-PER', 'O'], [['PER', 0, 1]]],
    [['I-PER', 'I-PER'], [['PER', 0, 2]]],
    [
      ['I-PER', 'I-ORG'],
      [
        ['PER', 0, 1],
        ['ORG', 1, 2],
      ],
    ],
    [['I-PER', 'E-ORG'], [['PER', 0, 1]]],
    [['E-PER', 'O'], []],
    [['E-PER', 'I-PER'], [['PER', 1, 2]]],
    [['E-PER', 'I-ORG'], [['ORG', 1, 2]]],
    [['E-PER', 'E-PER'], []],
    [['E-PER', 'E-ORG'], []],
  ],
  IOE2: [
    [[], []],
    [['E-PER'], [['PER', 0, 1]]],
    [['I-PER'], []],
    [['O'], []],
    [['O', 'I-PER'], []],
    [['O', 'E-PER'], [['PER', 1, 2]]],
    [['I-PER', 'O'], []],
    [['I-PER', 'I-PER'], []],
    [['I-PER', 'I-ORG'], []],
    [['I-PER', 'E-PER'], [['PER', 0, 2]]],
    [['I-PER', 'E-ORG'], [['ORG', 1, 2]]],
    [['E-PER', 'O'], [['PER', 0, 1]]],
    [['E-PER', 'I-PER'], [['PER', 0, 1]]],
    [['E-PER', 'I-ORG'], [['PER', 0, 1]]],
    [
      ['E-PER', 'E-PER'],
      [
        ['PER', 0, 1],
        ['PER', 1, 2],
      ],
    ],
    [
      ['E-PER', 'E-ORG'],
      [
        ['PER', 0, 1],
        ['ORG', 1, 2],
      ],
    ],
  ],
  IOBES: [
    [['O'], []],
    [['I-PER'], []],
    [['B-PER'], []],
    [['E-PER'], []],
    [['S-PER'], [['PER', 0, 1]]],
    [['O', 'S-PER'], [['PER', 1, 2]]],
    [['I-PER', 'I-PER'], []],
    [['I-PER', 'B-PER'], []],
    [['I-PER', 'E-PER'], []],
    [['I-PER', 'S-PER'], [['PER', 1, 2]]],
    [['B-PER', 'O'], []],
    [['B-PER', 'I-PER'], []],
    [['B-PER', 'B-PER'], []],
    [['B-PER', 'E-PER'], [['PER', 0, 2]]],
    [['B-PER', 'E-ORG'], []],
    [['B-PER', 'S-PER'], [['PER', 1, 2]]],
    [['E-PER', 'S-PER'], [['PER', 1, 2]]],
    [['S-PER', 'O'], [['PER', 0, 1]]],
    [['S-PER', 'I-PER'], [['PER', 0, 1]]],
    [['S-PER', 'B-PER'], [['PER', 0, 1]]],
    [['S-PER', 'E-PER'], [['PER', 0, 1]]],
    [
      ['S-PER', 'S-PER'],
      [
        ['PER', 0, 1],
        ['PER', 1, 2],
      ],
    ],
    [['B', 'E'], [['_', 0, 2]]],
  ],
};

function entitiesOf(tokens: string[], scheme: SchemeName): Array<[string, number, number]> {
  return strictSentenceEntities(tokens, scheme).map((e) => [e.type, e.start, e.end]);
}

for (const [scheme, rows] of Object.entries(SCHEME_TABLES) as Array<[SchemeName, (typeof SCHEME_TABLES)['IOB1']]>) {
  test(`seqeval test_scheme: ${scheme} entities`, () => {
    for (const [tokens, expected] of rows) {
      assert.deepEqual(entitiesOf(tokens, scheme), expected, `${scheme} ${JSON.stringify(tokens)}`);
    }
  });
}

test('BILOU is IOBES with U for S and L for E (seqeval scheme.py tables)', () => {
  const rename: Record<string, string> = { S: 'U', E: 'L' };
  for (const [tokens, expected] of SCHEME_TABLES.IOBES) {
    const bilou = tokens.map((t) => (rename[t[0]!] ?? t[0]!) + t.slice(1));
    assert.deepEqual(entitiesOf(bilou, 'BILOU'), expected, JSON.stringify(bilou));
  }
});

// tests/test_scheme.py test_token_tag: types keep inner dashes and non-ASCII text.
test('strict tags: dashes inside types, bare prefixes, suffix style', () => {
  assert.deepEqual(entitiesOf(['B-ORG-COMPANY'], 'IOB2'), [['ORG-COMPANY', 0, 1]]);
  assert.deepEqual(entitiesOf(['B-組織'], 'IOB2'), [['組織', 0, 1]]);
  const suffixed = strictSentenceEntities(['ORG-COMPANY-B', 'ORG-COMPANY-I'], 'IOB2', { suffix: true });
  assert.deepEqual(
    suffixed.map((e) => [e.type, e.start, e.end]),
    [['ORG-COMPANY', 0, 2]],
  );
  assert.deepEqual(
    getStrictEntities([['B-PER'], ['O', 'B-LOC']], 'IOB2').map((e) => [e.sentence, e.type, e.start, e.end]),
    [
      [0, 'PER', 0, 1],
      [1, 'LOC', 1, 2],
    ],
  );
});

// tests/test_scheme.py test_invalid_prefix and TestTokens: prefixes outside the scheme raise.
test('strict mode rejects tags outside the scheme, naming sentence and token', () => {
  const invalid: Array<[string, SchemeName]> = [
    ['E', 'IOB1'],
    ['S', 'IOB1'],
    ['E', 'IOB2'],
    ['S', 'IOB2'],
    ['B', 'IOE1'],
    ['S', 'IOE1'],
    ['B', 'IOE2'],
    ['S', 'IOE2'],
  ];
  for (const [tag, scheme] of invalid) {
    assert.throws(() => strictSentenceEntities([tag], scheme), MetricsInputError, `${tag} in ${scheme}`);
  }
  assert.throws(
    () => classificationReport([['O', 'B-PER']], [['O', 'E-PER']], { mode: 'strict', scheme: 'IOB2' }),
    (err: unknown) =>
      err instanceof MetricsInputError &&
      err.sentence === 0 &&
      err.position === 1 &&
      err.side === 'predicted' &&
      /E-PER/.test(err.message) &&
      /IOB2/.test(err.message),
  );
  assert.throws(() => strictSentenceEntities(['T-PER'], 'IOB2'), /no scheme prefix/);
});

// tests/test_scheme.py TestAutoDetect.
test('seqeval auto_detect', () => {
  const valid: Array<[string[], SchemeName]> = [
    [['B', 'I', 'O'], 'IOB2'],
    [['B', 'I'], 'IOB2'],
    [['B', 'O'], 'IOB2'],
    [['B'], 'IOB2'],
    [['I', 'O', 'E'], 'IOE2'],
    [['I', 'E'], 'IOE2'],
    [['E', 'O'], 'IOE2'],
    [['E'], 'IOE2'],
    [['I', 'O', 'B', 'E', 'S'], 'IOBES'],
    [['I', 'B', 'E', 'S'], 'IOBES'],
    [['I', 'O', 'B', 'E'], 'IOBES'],
    [['O', 'B', 'E', 'S'], 'IOBES'],
    [['I', 'B', 'E'], 'IOBES'],
    [['B', 'E', 'S'], 'IOBES'],
    [['O', 'B', 'E'], 'IOBES'],
    [['B', 'E'], 'IOBES'],
    [['S'], 'IOBES'],
  ];
  for (const [seq, scheme] of valid) assert.equal(autoDetectScheme([seq]), scheme, JSON.stringify(seq));
  assert.throws(() => autoDetectScheme([['I', 'O']]), MetricsInputError);
  assert.throws(() => autoDetectScheme([['H']]), MetricsInputError);
});

test('input checks: sentence counts, lengths and empty tags are reported precisely', () => {
  assert.throws(() => f1Score([['O']], []), /gold has 1 sentences but predicted has 0/);
  assert.throws(() => f1Score([['O'], ['O', 'O']], [['O'], ['O']]), /sentence 1: gold has 2 tags but predicted has 1/);
  assert.throws(() => accuracyScore([['O', '']], [['O', 'O']]), /sentence 0, token 1: gold tag is empty/);
});
