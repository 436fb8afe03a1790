import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  LabelMapError,
  bToIMap,
  buildLabelMap,
  convertTags,
  detectScheme,
  iob1ToIob2,
  iob2ToIob1,
  iob2ToIobes,
  iobesToIob2,
  labelMapFromConfig,
  labelsIn,
  tagProblem,
} from '../src/data/index.js';

test('detectScheme', () => {
  assert.equal(detectScheme([['I-ORG', 'O', 'I-MISC', 'B-MISC']]), 'IOB1');
  assert.equal(detectScheme([['B-ORG', 'O', 'B-MISC', 'I-MISC']]), 'IOB2');
  assert.equal(detectScheme([['S-ORG', 'O', 'B-PER', 'E-PER']]), 'IOBES');
  assert.equal(detectScheme([['U-ORG', 'O', 'B-PER', 'L-PER']]), 'BILOU');
  assert.equal(detectScheme([['NNP', 'VBZ', '.']]), 'none');
  assert.equal(detectScheme([['O', 'O']]), 'none');
  // An I- after a different type starts a chunk: IOB1, not IOB2.
  assert.equal(detectScheme([['B-PER', 'I-ORG']]), 'IOB1');
  assert.throws(() => detectScheme([['B-PER', 'PER']]), /mixed tag styles/);
  assert.throws(() => detectScheme([['S-PER', 'U-PER']]), /both BILOU/);
});

test('tagProblem', () => {
  assert.equal(tagProblem('B-PER'), null);
  assert.equal(tagProblem('O'), null);
  assert.equal(tagProblem('-LRB-'), null);
  assert.equal(tagProblem('PRP$'), null);
  assert.match(tagProblem('X-PER')!, /illegal tag prefix/);
  assert.match(tagProblem('B-')!, /no entity type/);
  assert.match(tagProblem('')!, /empty tag/);
  assert.match(tagProblem('B PER')!, /whitespace/);
});

test('IOB1 -> IOB2 on the CoNLL-2003 conventions (hand-checked)', () => {
  // "I-X everywhere; B-X only when two same-type entities are adjacent".
  assert.deepEqual(iob1ToIob2(['I-ORG', 'O', 'I-MISC', 'O', 'I-PER', 'I-PER', 'B-PER', 'I-LOC', 'I-PER']), [
    'B-ORG',
    'O',
    'B-MISC',
    'O',
    'B-PER',
    'I-PER',
    'B-PER',
    'B-LOC',
    'B-PER',
  ]);
  assert.deepEqual(iob2ToIob1(['B-ORG', 'O', 'B-PER', 'I-PER', 'B-PER', 'B-LOC']), ['I-ORG', 'O', 'I-PER', 'I-PER', 'B-PER', 'I-LOC']);
});

test('IOB2 <-> IOBES / BILOU (hand-checked)', () => {
  const iob2 = ['B-PER', 'I-PER', 'I-PER', 'O', 'B-LOC', 'B-LOC', 'I-LOC', 'O', 'B-ORG'];
  assert.deepEqual(iob2ToIobes(iob2), ['B-PER', 'I-PER', 'E-PER', 'O', 'S-LOC', 'B-LOC', 'E-LOC', 'O', 'S-ORG']);
  assert.deepEqual(iob2ToIobes(iob2, true), ['B-PER', 'I-PER', 'L-PER', 'O', 'U-LOC', 'B-LOC', 'L-LOC', 'O', 'U-ORG']);
  assert.deepEqual(iobesToIob2(['S-LOC', 'B-PER', 'E-PER', 'U-X', 'B-Y', 'L-Y']), ['B-LOC', 'B-PER', 'I-PER', 'B-X', 'B-Y', 'I-Y']);
  assert.deepEqual(convertTags(['I-ORG', 'I-ORG', 'O'], 'IOB1', 'BILOU'), ['B-ORG', 'L-ORG', 'O']);
  assert.throws(() => convertTags(['NN'], 'none', 'IOB2'), /cannot convert/);
});

/** Random valid IOB2 sequences: chunks of random type and length separated by O or adjacency. */
const iob2Arb = fc
  .array(
    fc.record({
      type: fc.constantFrom('PER', 'LOC', 'creative-work'),
      len: fc.integer({ min: 0, max: 3 }),
      gap: fc.integer({ min: 0, max: 2 }),
    }),
    { maxLength: 8 },
  )
  .map((chunks) => {
    const out: string[] = [];
    for (const c of chunks) {
      for (let i = 0; i < c.gap; i++) out.push('O');
      for (let i = 0; i < c.len; i++) out.push(`${i === 0 ? 'B' : 'I'}-${c.type}`);
    }
    return out;
  });

test('property: conversions round-trip through IOB2 and are detected correctly', () => {
  fc.assert(
    fc.property(iob2Arb, (iob2) => {
      assert.deepEqual(iob1ToIob2(iob2), iob2);
      for (const s of ['IOB1', 'IOBES', 'BILOU'] as const) {
        const conv = convertTags(iob2, 'IOB2', s);
        assert.equal(conv.length, iob2.length);
        assert.deepEqual(convertTags(conv, s, 'IOB2'), iob2, s);
      }
      const scheme = detectScheme([iob2]);
      assert.ok(scheme === 'IOB2' || scheme === 'none');
      if (iob2.some((t) => t !== 'O')) assert.equal(detectScheme([convertTags(iob2, 'IOB2', 'IOBES')]), 'IOBES');
    }),
    { numRuns: 500 },
  );
});

const splits = [
  { sentences: [{ tags: ['O', 'B-PER', 'I-PER', 'B-LOC', 'B-MISC', 'I-MISC', 'B-ORG'] }] },
  { sentences: [{ tags: ['I-ORG', 'I-LOC', 'O'] }] },
];

test('buildLabelMap: union over splits; entity order and run_ner order', () => {
  assert.deepEqual(buildLabelMap(splits).labels, ['O', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC', 'B-ORG', 'I-ORG', 'B-PER', 'I-PER']);
  // run_ner.py: sorted(set(labels)) — code-point order.
  assert.deepEqual(buildLabelMap(splits, 'run_ner').labels, [
    'B-LOC',
    'B-MISC',
    'B-ORG',
    'B-PER',
    'I-LOC',
    'I-MISC',
    'I-ORG',
    'I-PER',
    'O',
  ]);
  assert.deepEqual(buildLabelMap([{ sentences: [{ tags: ['S-X', 'E-X', 'B-X', 'I-X', 'O'] }] }]).labels, ['O', 'B-X', 'I-X', 'E-X', 'S-X']);
  assert.deepEqual(buildLabelMap([{ sentences: [{ tags: ['VERB', 'ADJ', 'NOUN'] }] }]).labels, ['ADJ', 'NOUN', 'VERB']);
  assert.throws(() => buildLabelMap([]), LabelMapError);
  const m = buildLabelMap(splits);
  assert.deepEqual(Array.from(bToIMap(m)), [0, 2, 2, 4, 4, 6, 6, 8, 8]);
});

test("labelMapFromConfig: the model's id2label, with unknown data labels listed", () => {
  const config = {
    id2label: {
      '0': 'O',
      '1': 'B-MISC',
      '2': 'I-MISC',
      '3': 'B-PER',
      '4': 'I-PER',
      '5': 'B-ORG',
      '6': 'I-ORG',
      '7': 'B-LOC',
      '8': 'I-LOC',
    },
  };
  const m = labelMapFromConfig(config, labelsIn(splits));
  assert.deepEqual(m.labels, ['O', 'B-MISC', 'I-MISC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC']);
  assert.equal(m.label2id.get('B-LOC'), 7);
  assert.throws(
    () => labelMapFromConfig(config, ['O', 'B-product', 'B-PER', 'I-product']),
    (e: unknown) =>
      e instanceof LabelMapError &&
      e.message.startsWith('the data uses labels the model does not have: B-product, I-product (model labels: O, B-MISC'),
  );
  assert.throws(() => labelMapFromConfig({ id2label: { '0': 'O', '2': 'B-X' } }), /not an id in 0\.\.1/);
  assert.throws(() => labelMapFromConfig({ id2label: { '0': 'O', '1': 'B-X' }, label2id: { 'B-X': 0 } }), /disagrees/);
  assert.throws(() => labelMapFromConfig({}), /no id2label/);
});
