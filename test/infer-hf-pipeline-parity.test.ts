/**
 * Our pipeline against transformers' own pipeline("token-classification") (fixture made by
 * scripts/fixtures/make-pipeline-fixture.mjs + scripts/parity/hf-pipeline-parity.py): a tiny BERT trained by
 * tokentune on WNUT-17, the first 60 WNUT-17 test sentences, every aggregation strategy, every
 * label kept (ignore_labels=[]): the same entities (label, word, start, end, index) and scores
 * within 1e-4. Offsets: Python counts code points, we count UTF-16 units; the test maps one to the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pipeline, type AggregationStrategy } from '../src/infer/index.js';

const dir = fileURLToPath(new URL('../../test/fixtures/pipeline-wnut/', import.meta.url));
interface HfEntity {
  entity?: string;
  entity_group?: string;
  score: number;
  word: string;
  start: number;
  end: number;
  index?: number;
}
const expected = JSON.parse(readFileSync(`${dir}expected.json`, 'utf8')) as {
  transformers: string;
  texts: string[];
  results: Record<string, HfEntity[][]>;
};

test(`pipeline = transformers ${expected.transformers} pipeline("token-classification") for each aggregation strategy`, async () => {
  const pipe = await pipeline(`${dir}model`);
  for (const [strategy, rows] of Object.entries(expected.results)) {
    assert.equal(rows.length, expected.texts.length);
    for (let i = 0; i < rows.length; i++) {
      // Python's offsets count code points, ours UTF-16 units (JavaScript string indices): map them.
      const cp: number[] = [0];
      for (const ch of expected.texts[i]!) cp.push(cp[cp.length - 1]! + ch.length);
      const got = (await pipe.predict(expected.texts[i]!, {
        aggregationStrategy: strategy as AggregationStrategy,
        ignoreLabels: [],
      })) as unknown as HfEntity[];
      const want = rows[i]!;
      const where = `${strategy}, text ${i}`;
      assert.equal(got.length, want.length, `${where}: ${got.length} entities vs ${want.length}`);
      want.forEach((w, k) => {
        const g = got[k]!;
        assert.equal(g.entity ?? g.entity_group, w.entity ?? w.entity_group, `${where} #${k} label`);
        assert.equal(g.word, w.word, `${where} #${k} word`);
        assert.equal(g.start, cp[w.start], `${where} #${k} start`);
        assert.equal(g.end, cp[w.end], `${where} #${k} end`);
        if (w.index !== undefined) assert.equal(g.index, w.index, `${where} #${k} index`);
        assert.ok(Math.abs(g.score - w.score) <= 1e-4, `${where} #${k} score ${g.score} vs ${w.score}`);
      });
    }
  }
});
