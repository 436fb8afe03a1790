// Properties that hold for any tag sequences, checked on random IOB/IOBES/flat inputs, plus
// the conlleval-style reader's round trip.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classificationReport, conllevalCount, parseConllevalText, toConllevalRows, type MetricsOptions } from '../src/metrics/index.js';

const TYPES = ['PER', 'LOC', 'ORG-X'];

/** Random tag from a prefix alphabet (or a flat label when `flat`). */
function tagArb(prefixes: readonly string[], flat: boolean): fc.Arbitrary<string> {
  if (flat) return fc.constantFrom('NN', 'VB', 'DT', 'O');
  return fc.oneof(
    fc.constant('O'),
    fc.tuple(fc.constantFrom(...prefixes), fc.constantFrom(...TYPES)).map(([p, t]) => `${p}-${t}`),
  );
}

interface Case {
  gold: string[][];
  pred: string[][];
  opts: MetricsOptions;
}

const caseArb: fc.Arbitrary<Case> = fc
  .constantFrom(
    { prefixes: ['B', 'I'], opts: {} as MetricsOptions, flat: false },
    { prefixes: ['B', 'I'], opts: { mode: 'strict', scheme: 'IOB2' } as MetricsOptions, flat: false },
    { prefixes: ['B', 'I', 'E', 'S'], opts: { mode: 'strict', scheme: 'IOBES' } as MetricsOptions, flat: false },
    { prefixes: ['B', 'I', 'E', 'S'], opts: {} as MetricsOptions, flat: false },
    { prefixes: [], opts: {} as MetricsOptions, flat: true },
  )
  .chain(({ prefixes, opts, flat }) =>
    fc.array(fc.array(fc.tuple(tagArb(prefixes, flat), tagArb(prefixes, flat)), { maxLength: 12 }), { maxLength: 6 }).map((sents) => ({
      gold: sents.map((s) => s.map(([g]) => g)),
      pred: sents.map((s) => s.map(([, p]) => p)),
      opts,
    })),
  );

const inUnit = (x: number) => x >= 0 && x <= 1;

test('precision, recall and F1 lie in [0, 1] for every row', () => {
  fc.assert(
    fc.property(caseArb, ({ gold, pred, opts }) => {
      const r = classificationReport(gold, pred, opts);
      const rows = [...r.labels.map((l) => r.perType[l]!), r['micro avg'], r['weighted avg']];
      if (r.labels.length > 0) rows.push(r['macro avg']);
      return rows.every((row) => inUnit(row.precision) && inUnit(row.recall) && inUnit(row.f1));
    }),
    { numRuns: 300 },
  );
});

test('a perfect prediction scores 1.0 whenever there is something to find', () => {
  fc.assert(
    fc.property(caseArb, ({ gold, opts }) => {
      const r = classificationReport(gold, gold, opts);
      fc.pre(r['micro avg'].support > 0);
      const micro = r['micro avg'];
      return micro.precision === 1 && micro.recall === 1 && micro.f1 === 1 && r['macro avg'].f1 === 1;
    }),
    { numRuns: 300 },
  );
});

test('reordering sentences does not change any score', () => {
  fc.assert(
    fc.property(caseArb, fc.integer({ min: 0, max: 1000 }), ({ gold, pred, opts }, seed) => {
      // A deterministic shuffle driven by the generated seed.
      const order = gold.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101));
      const a = classificationReport(gold, pred, opts);
      const b = classificationReport(
        order.map((i) => gold[i]!),
        order.map((i) => pred[i]!),
        opts,
      );
      assert.deepEqual(b.perType, a.perType);
      assert.deepEqual(b['micro avg'], a['micro avg']);
      assert.deepEqual(b['weighted avg'], a['weighted avg']);
      return true;
    }),
    { numRuns: 200 },
  );
});

test('micro F1 is the harmonic mean of micro precision and recall', () => {
  fc.assert(
    fc.property(caseArb, ({ gold, pred, opts }) => {
      const { precision: p, recall: r, f1 } = classificationReport(gold, pred, opts)['micro avg'];
      const expected = p + r === 0 ? 0 : (2 * p * r) / (p + r);
      return Math.abs(f1 - expected) <= 1e-15;
    }),
    { numRuns: 300 },
  );
});

test('flat label sets: micro precision = recall = token accuracy without O', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.tuple(fc.constantFrom('NN', 'VB', 'DT'), fc.constantFrom('NN', 'VB', 'DT')), { minLength: 1, maxLength: 8 }), {
        minLength: 1,
        maxLength: 5,
      }),
      (sents) => {
        const gold = sents.map((s) => s.map(([g]) => g));
        const pred = sents.map((s) => s.map(([, p]) => p));
        const r = classificationReport(gold, pred);
        const tokens = sents.flat();
        const acc = tokens.filter(([g, p]) => g === p).length / tokens.length;
        return r.level === 'token' && r['micro avg'].precision === acc && r['micro avg'].recall === acc;
      },
    ),
    { numRuns: 200 },
  );
});

test('conlleval reader: sentences written out and read back give the same tags and counts', () => {
  fc.assert(
    fc.property(caseArb, fc.constantFrom(' ', '\t'), ({ gold, pred }, sep) => {
      const nonEmpty = gold.map((g, i) => [g, pred[i]!] as const).filter(([g]) => g.length > 0);
      const text = nonEmpty.map(([g, p]) => g.map((t, i) => ['tok', 'POS', t, p[i]].join(sep)).join('\n')).join('\n\n');
      const parsed = parseConllevalText(text, { file: 'gen.txt' });
      assert.deepEqual(
        parsed.gold,
        nonEmpty.map(([g]) => g),
      );
      assert.deepEqual(
        parsed.pred,
        nonEmpty.map(([, p]) => p),
      );
      const counts = conllevalCount(toConllevalRows(parsed));
      return counts.tokens === nonEmpty.reduce((n, [g]) => n + g.length, 0);
    }),
    { numRuns: 200 },
  );
});

test('conlleval reader never throws anything but a ConllFormatError on arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      try {
        parseConllevalText(text, { file: 'fuzz.txt' });
      } catch (err) {
        assert.equal((err as Error).name, 'ConllFormatError');
        assert.match((err as Error).message, /^fuzz\.txt:\d+: /);
      }
      return true;
    }),
    { numRuns: 500 },
  );
});
