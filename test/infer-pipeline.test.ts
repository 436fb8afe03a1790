import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Tensor } from '../src/engine/index.js';
import { BertForTokenClassification, makeConfig, savePretrained, type TokenBatch } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import {
  aggregate,
  pipeline,
  TokenClassificationPipeline,
  type Entity,
  type GroupedEntity,
  type PipelineModel,
  type PreEntity,
  type TokenEntity,
} from '../src/infer/index.js';

const LABELS = ['O', 'B-MISC', 'I-MISC', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC'];
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const WORDS = ['Anna', 'and', 'Bob', 'Ra', '##ma', '##zotti', 'lives', 'in', 'Paris', 'Zoë', 'met', 'Çelik', 'zoe', 'New', 'York', '.'];
const NUMBERED = Array.from({ length: 60 }, (_, i) => `w${i}`);
const cased = WordPieceTokenizer.fromTokens([...SPECIALS, ...WORDS, ...NUMBERED], { doLowerCase: false });
const uncased = WordPieceTokenizer.fromTokens([...SPECIALS, ...WORDS, ...NUMBERED], { doLowerCase: true });

/** A probability row: `p` on `label`, the rest shared evenly. */
function peaked(label: string, p: number, labels = LABELS): number[] {
  const k = labels.indexOf(label);
  assert.ok(k >= 0, label);
  return labels.map((_, i) => (i === k ? p : (1 - p) / (labels.length - 1)));
}

/**
 * The test seam: a "model" whose logits are log(probabilities) chosen per token (and, if
 * wanted, per position in the window), so softmax gives the crafted probabilities back.
 */
class CraftedModel implements PipelineModel {
  readonly config: { labels: readonly string[]; maxPositionEmbeddings: number };
  /** Token ids of every row of every forward call (padding dropped). */
  readonly rows: number[][] = [];
  calls = 0;
  constructor(
    labels: readonly string[],
    private readonly probs: (tokenId: number, position: number) => number[],
    maxPositionEmbeddings = 512,
  ) {
    this.config = { labels, maxPositionEmbeddings };
  }
  forward(batch: TokenBatch): Tensor {
    this.calls++;
    const L = this.config.labels.length;
    const { batchSize: B, seqLen: T } = batch;
    const out = new Float32Array(B * T * L);
    for (let b = 0; b < B; b++) {
      const row: number[] = [];
      for (let t = 0; t < T; t++) {
        if (!batch.attentionMask[b * T + t]) continue;
        const id = batch.inputIds[b * T + t]!;
        row.push(id);
        const p = this.probs(id, t);
        for (let c = 0; c < L; c++) out[(b * T + t) * L + c] = Math.log(p[c]!);
      }
      this.rows.push(row);
    }
    return Tensor.from(out, [B * T, L]);
  }
}

/** Probabilities by token string; specials and unlisted tokens get O. */
function byToken(tok: WordPieceTokenizer, table: Record<string, number[]>, labels = LABELS): (id: number) => number[] {
  return (id) => table[tok.convertIdsToTokens(id)] ?? peaked('O', 0.9, labels);
}

function close(actual: Entity[], expected: Entity[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length, `${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    assert.deepEqual(Object.keys(a), Object.keys(e), 'same keys in the same order as HF');
    assert.ok(Math.abs(a.score - e.score) <= tol, `score ${a.score} vs ${e.score} at ${i}`);
    assert.deepEqual({ ...a, score: 0 }, { ...e, score: 0 });
  });
}

const grp = (entity_group: string, score: number, word: string, start: number, end: number): GroupedEntity => ({
  entity_group,
  score,
  word,
  start,
  end,
});
const tokE = (entity: string, score: number, index: number, word: string, start: number, end: number): TokenEntity => ({
  entity,
  score,
  index,
  word,
  start,
  end,
});

// --- HF's own examples (tests/pipelines/test_pipelines_token_classification.py), on aggregate() ---

const hfText = {
  unkId: -1,
  convertIdsToTokens: () => '',
  tokensToString: (t: readonly string[]) => t.map((x, i) => (i > 0 && x.startsWith('##') ? x.slice(2) : (i > 0 ? ' ' : '') + x)).join(''),
};
const pre = (scores: number[], index: number, isSubword: boolean, word: string, start: number, end: number): PreEntity => ({
  scores: Float64Array.from(LABELS.map((_, i) => scores[i] ?? 0)),
  index,
  isSubword,
  word,
  start,
  end,
});

test('aggregate reproduces HF test_aggregation_strategy_example2 (Ramazotti) for none/first/max/average', () => {
  const example = [
    pre([0, 0.55, 0, 0.45, 0, 0, 0, 0, 0], 1, false, 'Ra', 0, 2),
    pre([0, 0, 0, 0.2, 0, 0, 0, 0.8, 0], 2, true, '##ma', 2, 4),
    pre([0, 0, 0, 0.4, 0, 0, 0.6, 0, 0], 3, true, '##zotti', 11, 13),
  ];
  close(aggregate(example, 'none', LABELS, hfText, []), [
    tokE('B-MISC', 0.55, 1, 'Ra', 0, 2),
    tokE('B-LOC', 0.8, 2, '##ma', 2, 4),
    tokE('I-ORG', 0.6, 3, '##zotti', 11, 13),
  ]);
  close(aggregate(example, 'first', LABELS, hfText), [grp('MISC', 0.55, 'Ramazotti', 0, 13)]);
  close(aggregate(example, 'max', LABELS, hfText), [grp('LOC', 0.8, 'Ramazotti', 0, 13)]);
  close(aggregate(example, 'average', LABELS, hfText), [grp('PER', 0.35, 'Ramazotti', 0, 13)]);
});

test('aggregate reproduces HF test_aggregation_strategy (Enzo ... UN) for every strategy', () => {
  const example = [
    pre([0, 0, 0, 0, 0.9968166351318359, 0, 0, 0], 1, false, 'En', 0, 2),
    pre([0, 0, 0, 0, 0.9957635998725891, 0, 0, 0], 2, true, '##zo', 2, 4),
    pre([0, 0, 0, 0, 0, 0.9986497163772583, 0, 0], 7, false, 'UN', 11, 13),
  ];
  const t = 1e-3; // HF compares after nested_simplify (3 decimals)
  close(
    aggregate(example, 'none', LABELS, hfText),
    [tokE('I-PER', 0.997, 1, 'En', 0, 2), tokE('I-PER', 0.996, 2, '##zo', 2, 4), tokE('B-ORG', 0.999, 7, 'UN', 11, 13)],
    t,
  );
  close(aggregate(example, 'simple', LABELS, hfText), [grp('PER', 0.996, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 11, 13)], t);
  close(aggregate(example, 'first', LABELS, hfText), [grp('PER', 0.997, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 11, 13)], t);
  close(aggregate(example, 'max', LABELS, hfText), [grp('PER', 0.997, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 11, 13)], t);
  close(aggregate(example, 'average', LABELS, hfText), [grp('PER', 0.996, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 11, 13)], t);
});

test('aggregate reproduces HF test_aggregation_strategy_no_b_i_prefix (labels without B-/I-)', () => {
  const labels = ['O', 'MISC', 'PER', 'ORG', 'LOC'];
  const p = (s: number[], i: number, sub: boolean, w: string, a: number, b: number): PreEntity => ({
    scores: Float64Array.from(s),
    index: i,
    isSubword: sub,
    word: w,
    start: a,
    end: b,
  });
  const example = [
    p([0, 0, 0, 0, 0.9968166351318359], 1, false, 'En', 0, 2),
    p([0, 0, 0, 0, 0.9957635998725891], 2, true, '##zo', 2, 4),
    p([0, 0, 0, 0.9986497163772583, 0], 7, false, 'UN', 11, 13),
  ];
  close(
    aggregate(example, 'none', labels, hfText),
    [tokE('LOC', 0.997, 1, 'En', 0, 2), tokE('LOC', 0.996, 2, '##zo', 2, 4), tokE('ORG', 0.999, 7, 'UN', 11, 13)],
    1e-3,
  );
  close(aggregate(example, 'simple', labels, hfText), [grp('LOC', 0.996, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 11, 13)], 1e-3);
});

// --- End to end through the tokenizer and a crafted model ---

test('B-PER O I-PER gives two PER entities: grouping happens before O is dropped (every strategy)', async () => {
  const table = { Anna: peaked('B-PER', 0.9), and: peaked('O', 0.8), Bob: peaked('I-PER', 0.7) };
  const pipe = new TokenClassificationPipeline(new CraftedModel(LABELS, byToken(cased, table)), cased);
  const text = 'Anna and Bob';
  for (const s of ['simple', 'first', 'average', 'max'] as const) {
    close(await pipe.predict(text, { aggregationStrategy: s }), [grp('PER', 0.9, 'Anna', 0, 4), grp('PER', 0.7, 'Bob', 9, 12)]);
  }
  close(await pipe.predict(text), [tokE('B-PER', 0.9, 1, 'Anna', 0, 4), tokE('I-PER', 0.7, 3, 'Bob', 9, 12)]);
  // With O kept, the O group sits between them.
  close(await pipe.predict(text, { aggregationStrategy: 'simple', ignoreLabels: [] }), [
    grp('PER', 0.9, 'Anna', 0, 4),
    grp('O', 0.8, 'and', 5, 8),
    grp('PER', 0.7, 'Bob', 9, 12),
  ]);
});

test('subword merging: simple splits a word, first/average/max give it one label (HF semantics)', async () => {
  const table = {
    Ra: [0, 0.55, 0, 0.45, 0, 0, 0, 0, 0],
    '##ma': [0, 0, 0, 0.2, 0, 0, 0, 0.8, 0],
    '##zotti': [0, 0, 0, 0.4, 0, 0, 0.6, 0, 0],
    lives: peaked('O', 0.99),
  };
  const pipe = new TokenClassificationPipeline(new CraftedModel(LABELS, byToken(cased, table)), cased);
  const text = 'Ramazotti lives';
  assert.deepEqual(cased.encode(text, { addSpecialTokens: false }).tokens, ['Ra', '##ma', '##zotti', 'lives']);
  close(await pipe.predict(text, { aggregationStrategy: 'none' }), [
    tokE('B-MISC', 0.55, 1, 'Ra', 0, 2),
    tokE('B-LOC', 0.8, 2, '##ma', 2, 4),
    tokE('I-ORG', 0.6, 3, '##zotti', 4, 9),
  ]);
  // As HF: a group that starts with a subword keeps its "##" in `word`.
  close(await pipe.predict(text, { aggregationStrategy: 'simple' }), [
    grp('MISC', 0.55, 'Ra', 0, 2),
    grp('LOC', 0.8, '##ma', 2, 4),
    grp('ORG', 0.6, '##zotti', 4, 9),
  ]);
  close(await pipe.predict(text, { aggregationStrategy: 'first' }), [grp('MISC', 0.55, 'Ramazotti', 0, 9)]);
  close(await pipe.predict(text, { aggregationStrategy: 'max' }), [grp('LOC', 0.8, 'Ramazotti', 0, 9)]);
  close(await pipe.predict(text, { aggregationStrategy: 'average' }), [grp('PER', 0.35, 'Ramazotti', 0, 9)]);
});

test('simple groups I- continuations across words; B- starts a new group; mean score', async () => {
  const table = { New: peaked('B-LOC', 0.9), York: peaked('I-LOC', 0.7), Paris: peaked('B-LOC', 0.6), '.': peaked('O', 0.9) };
  const pipe = new TokenClassificationPipeline(new CraftedModel(LABELS, byToken(cased, table)), cased, { aggregationStrategy: 'simple' });
  close(await pipe.predict('New York Paris.'), [grp('LOC', 0.8, 'New York', 0, 8), grp('LOC', 0.6, 'Paris', 9, 14)]);
});

test('offsets slice the original text exactly: accents, emoji ([UNK]), extra spaces, tabs', async () => {
  const text = '  Zoë   met 😀 Çelik\t in  Paris  ';
  const table = { Zoë: peaked('B-PER', 0.9), '[UNK]': peaked('B-MISC', 0.6), Çelik: peaked('B-PER', 0.8), Paris: peaked('B-LOC', 0.7) };
  const pipe = new TokenClassificationPipeline(new CraftedModel(LABELS, byToken(cased, table)), cased);
  const all = (await pipe.predict(text, { ignoreLabels: [] })) as TokenEntity[];
  assert.deepEqual(
    all.map((e) => e.word),
    ['Zoë', 'met', '😀', 'Çelik', 'in', 'Paris'],
  );
  for (const e of all) assert.equal(text.slice(e.start, e.end), e.word);
  const groups = (await pipe.predict(text, { aggregationStrategy: 'simple' })) as GroupedEntity[];
  assert.deepEqual(
    groups.map((g) => [g.entity_group, text.slice(g.start, g.end), g.word]),
    [
      ['PER', 'Zoë', 'Zoë'],
      ['MISC', '😀', '😀'],
      ['PER', 'Çelik', 'Çelik'],
      ['LOC', 'Paris', 'Paris'],
    ],
  );
  assert.deepEqual([groups[1]!.start, groups[1]!.end], [12, 14], 'UTF-16 offsets: the emoji is two code units');
  // Uncased: `word` is the decoded (lowercased, accent-stripped) token as in HF; start/end still slice the original.
  const up = new TokenClassificationPipeline(new CraftedModel(LABELS, byToken(uncased, { zoe: peaked('B-PER', 0.9) })), uncased, {
    aggregationStrategy: 'first',
  });
  const [e] = (await up.predict('Hi ZOË!')) as GroupedEntity[];
  assert.equal(e!.word, 'zoe');
  assert.equal('Hi ZOË!'.slice(e!.start, e!.end), 'ZOË');
});

test('ignoreLabels: default O, empty keeps everything, a list drops those groups', async () => {
  const table = { Anna: peaked('B-PER', 0.9), Paris: peaked('B-LOC', 0.9) };
  const pipe = new TokenClassificationPipeline(new CraftedModel(LABELS, byToken(cased, table)), cased, { aggregationStrategy: 'simple' });
  const text = 'Anna lives in Paris';
  assert.deepEqual(
    (await pipe.predict(text)).map((g) => (g as GroupedEntity).entity_group),
    ['PER', 'LOC'],
  );
  assert.deepEqual(
    (await pipe.predict(text, { ignoreLabels: [] })).map((g) => (g as GroupedEntity).entity_group),
    ['PER', 'O', 'LOC'],
  );
  assert.deepEqual(
    (await pipe.predict(text, { ignoreLabels: ['O', 'PER'] })).map((g) => (g as GroupedEntity).entity_group),
    ['LOC'],
  );
  // For 'none' the filter applies to the full B-/I- label, as HF.
  assert.deepEqual(
    (await pipe.predict(text, { aggregationStrategy: 'none', ignoreLabels: ['O', 'B-PER'] })).map((g) => (g as TokenEntity).entity),
    ['B-LOC'],
  );
});

test('texts in one call are padded into shared forward calls (batchSize), results unchanged', async () => {
  const model = new CraftedModel(LABELS, byToken(cased, { Anna: peaked('B-PER', 0.9), Paris: peaked('B-LOC', 0.8) }));
  const pipe = new TokenClassificationPipeline(model, cased, { aggregationStrategy: 'simple' });
  const texts = ['Anna', 'Anna lives in Paris', 'Paris', '', 'Bob and Anna met in New York .'];
  const one = await Promise.all(texts.map((t) => pipe.predict(t)));
  model.calls = 0;
  const batched = await pipe.predict(texts, { batchSize: 2 });
  assert.equal(model.calls, 2, '4 non-empty texts, 2 per forward (the empty one needs none)');
  assert.deepEqual(batched, one);
  model.calls = 0;
  await pipe.predict(texts, { batchSize: 32 });
  assert.equal(model.calls, 1);
});

const longText = NUMBERED.join(' ');

test('long text: windows of at most maxLength, every token predicted once, same result as one pass', async () => {
  const probs = (id: number) => {
    const k = id % LABELS.length;
    return peaked(LABELS[k]!, 0.5 + (id % 7) / 20);
  };
  const full = new TokenClassificationPipeline(new CraftedModel(LABELS, probs), cased);
  const small = new CraftedModel(LABELS, probs);
  const windowed = new TokenClassificationPipeline(small, cased, { maxLength: 10, stride: 3, batchSize: 4 });
  for (const s of ['none', 'simple', 'first', 'average', 'max'] as const) {
    close(
      await windowed.predict(longText, { aggregationStrategy: s, ignoreLabels: [] }),
      await full.predict(longText, { aggregationStrategy: s, ignoreLabels: [] }),
      0,
    );
  }
  assert.ok(
    small.rows.every((r) => r.length <= 10),
    'no window longer than maxLength',
  );
  const tokens = (await windowed.predict(longText, { ignoreLabels: [] })) as TokenEntity[];
  assert.deepEqual(
    tokens.map((t) => t.index),
    NUMBERED.map((_, i) => i + 1),
  );
  // Every character of the text is covered exactly once (spaces by nothing).
  const cover = new Uint8Array(longText.length);
  for (const t of tokens) for (let c = t.start; c < t.end; c++) cover[c]!++;
  for (let c = 0; c < longText.length; c++) assert.equal(cover[c], longText[c] === ' ' ? 0 : 1, `character ${c}`);
});

test('long text: each token takes the prediction of the window where it is most central', async () => {
  // The "model" labels each token with its position in the window: P1 = first token after [CLS].
  const P = Array.from({ length: 12 }, (_, i) => `P${i}`);
  const model = new CraftedModel(P, (_id, pos) => peaked(`P${pos}`, 0.9, P));
  const pipe = new TokenClassificationPipeline(model, cased, { maxLength: 10, stride: 5 });
  const n = NUMBERED.length;
  const got = (await pipe.predict(longText, { ignoreLabels: [] })) as TokenEntity[];
  // The windows the model saw, as [start, end) over the text's tokens (w_k has id offset + k).
  const first = cased.convertTokensToIds('w0');
  const windows = model.rows.map((r) => ({ start: r[1]! - first, end: r[r.length - 2]! - first + 1 })).sort((a, b) => a.start - b.start);
  assert.ok(windows.length > 2);
  for (let k = 0; k < n; k++) {
    let best = -1,
      owner = -1;
    windows.forEach((w, i) => {
      if (k < w.start || k >= w.end) return;
      const c = Math.min(w.start === 0 ? Infinity : k - w.start, w.end === n ? Infinity : w.end - 1 - k);
      if (c > best) {
        best = c;
        owner = i;
      }
    });
    const pos = Number(got[k]!.entity.slice(1));
    assert.equal(k - (pos - 1), windows[owner]!.start, `token ${k} predicted in window starting at ${k - (pos - 1)}`);
  }
});

test('property: windowed prediction equals one pass for any length, window and stride', async () => {
  const probs = (id: number) => peaked(LABELS[(id * 7) % LABELS.length]!, 0.6);
  const full = new TokenClassificationPipeline(new CraftedModel(LABELS, probs), cased, { aggregationStrategy: 'simple' });
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 3, max: 20 }),
      fc.nat(),
      fc.integer({ min: 1, max: 5 }),
      async (n, maxLength, strideSeed, batchSize) => {
        const text = NUMBERED.slice(0, n).join(' ');
        const stride = strideSeed % (maxLength - 2);
        const w = new TokenClassificationPipeline(new CraftedModel(LABELS, probs), cased, {
          maxLength,
          stride,
          batchSize,
          aggregationStrategy: 'simple',
        });
        assert.deepEqual(await w.predict(text, { ignoreLabels: [] }), await full.predict(text, { ignoreLabels: [] }));
      },
    ),
    { numRuns: 60 },
  );
});

test('pre-tokenized input: one tag per word, first/average/max over its pieces, offsets into the joined words', async () => {
  const table = {
    Ra: [0, 0.55, 0, 0.45, 0, 0, 0, 0, 0],
    '##ma': [0, 0, 0, 0.2, 0, 0, 0, 0.8, 0],
    '##zotti': [0, 0, 0, 0.4, 0, 0, 0.6, 0, 0],
    Paris: peaked('B-LOC', 0.75),
  };
  const pipe = new TokenClassificationPipeline(new CraftedModel(LABELS, byToken(cased, table)), cased);
  const words = ['Ramazotti', 'lives', '\u0000', 'in', 'Paris'];
  const first = await pipe.predict(words, { isSplitIntoWords: true, aggregationStrategy: 'first' });
  assert.deepEqual(
    first.map((w) => w.entity),
    ['B-MISC', 'O', 'O', 'O', 'B-LOC'],
  );
  assert.deepEqual(
    first.map((w) => [w.word, w.index, w.start, w.end]),
    [
      ['Ramazotti', 0, 0, 9],
      ['lives', 1, 10, 15],
      ['\u0000', 2, 16, 17],
      ['in', 3, 18, 20],
      ['Paris', 4, 21, 26],
    ],
  );
  assert.equal(first[2]!.score, 0, 'a word with no tokens gets O with score 0');
  assert.ok(Math.abs(first[0]!.score - 0.55) < 1e-6);
  const avg = await pipe.predict(words, { isSplitIntoWords: true, aggregationStrategy: 'average' });
  assert.equal(avg[0]!.entity, 'B-PER');
  assert.ok(Math.abs(avg[0]!.score - 0.35) < 1e-6);
  const max = await pipe.predict([words, ['Paris']], { isSplitIntoWords: true, aggregationStrategy: 'max' });
  assert.deepEqual(
    max.map((s) => s.map((w) => w.entity)),
    [['B-LOC', 'O', 'O', 'O', 'B-LOC'], ['B-LOC']],
  );
});

test('bad options are rejected with clear errors', async () => {
  const pipe = new TokenClassificationPipeline(new CraftedModel(LABELS, () => peaked('O', 0.9)), cased, { maxLength: 10 });
  await assert.rejects(pipe.predict('x', { aggregationStrategy: 'fancy' as never }), /aggregation strategy must be one of none, simple/);
  await assert.rejects(pipe.predict('x', { stride: 8 }), /stride must be an integer in \[0, 7\]/);
  await assert.rejects(pipe.predict(['x'], { batchSize: 0 }), /batchSize must be a positive integer/);
  assert.throws(() => new TokenClassificationPipeline(new CraftedModel([], () => []), cased), /no labels/);
});

// --- A real (random) BERT ---

function tinyBert(labels = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']): BertForTokenClassification {
  const config = makeConfig({
    vocab_size: cased.vocabSize,
    hidden_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 64,
    id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
  });
  return BertForTokenClassification.create(config, 7);
}

test('real BERT: padding in a shared batch does not change predictions; windows cover long text', async () => {
  const pipe = new TokenClassificationPipeline(tinyBert(), cased, { aggregationStrategy: 'none' });
  const texts = ['Anna and Bob', 'Zoë met Çelik in New York .', longText.slice(0, 40)];
  const alone = await Promise.all(texts.map((t) => pipe.predict(t, { ignoreLabels: [] })));
  const together = await pipe.predict(texts, { ignoreLabels: [] });
  together.forEach((ents, i) => {
    const a = alone[i]! as TokenEntity[];
    assert.deepEqual(
      ents.map((e) => (e as TokenEntity).entity),
      a.map((e) => e.entity),
    );
    ents.forEach((e, j) => assert.ok(Math.abs(e.score - a[j]!.score) < 1e-5));
  });
  const windowed = new TokenClassificationPipeline(tinyBert(), cased, { maxLength: 12, stride: 4 });
  const all = (await windowed.predict(longText, { ignoreLabels: [] })) as TokenEntity[];
  assert.equal(all.length, NUMBERED.length, 'a 62-token text through a 12-token model: nothing truncated');
});

test('pipeline(dir) loads a saved model folder and its tokenizer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-infer-'));
  try {
    savePretrained(tinyBert(), join(dir, 'ner-model'), cased);
    const pipe = await pipeline(join(dir, 'ner-model'), { aggregationStrategy: 'simple', onWarning: () => {} });
    assert.equal(pipe.name, 'ner-model');
    assert.deepEqual(pipe.labels, ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC']);
    assert.equal(pipe.maxLength, 64);
    const out = (await pipe.predict('Anna lives in Paris', { ignoreLabels: [] })) as GroupedEntity[];
    assert.ok(out.length >= 1);
    assert.equal(out[0]!.start, 0);
    assert.equal(out[out.length - 1]!.end, 19);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// --- Real vocabularies and checkpoints from ../shared (skipped when absent) ---

const repoRoot = (() => {
  let d = resolve(fileURLToPath(import.meta.url), '..');
  while (!existsSync(join(d, 'package.json'))) d = resolve(d, '..');
  return d;
})();
const shared = resolve(repoRoot, '..', 'shared');
const casedVocab = join(shared, 'models', 'bert-base-cased-vocab', 'vocab.txt');
const camphr = join(shared, 'models', 'camphr-tiny-random-bert-ner');

test('bert-base-cased vocabulary: reproduces HF test_dbmdz_english (offsets, index, word) for every strategy', {
  skip: existsSync(casedVocab) ? false : `${casedVocab} is absent`,
}, async () => {
  const tok = WordPieceTokenizer.fromVocabFile(casedVocab, { doLowerCase: false });
  const sentence = 'Enzo works at the the UN';
  // The probabilities HF's dbmdz/bert-large-cased-finetuned-conll03-english gives (its tests print them).
  const table: Record<string, number[]> = {
    En: peaked('I-PER', 0.9968166351318359),
    '##zo': peaked('I-PER', 0.9957635998725891),
    UN: peaked('I-ORG', 0.9986497163772583),
  };
  const pipe = new TokenClassificationPipeline(new CraftedModel(LABELS, byToken(tok, table)), tok);
  const t = 1e-3; // HF's expected values are rounded to 3 decimals
  close(
    await pipe.predict(sentence),
    [tokE('I-PER', 0.997, 1, 'En', 0, 2), tokE('I-PER', 0.996, 2, '##zo', 2, 4), tokE('I-ORG', 0.999, 7, 'UN', 22, 24)],
    t,
  );
  close(
    await pipe.predict(sentence, { aggregationStrategy: 'simple' }),
    [grp('PER', 0.996, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 22, 24)],
    t,
  );
  close(
    await pipe.predict(sentence, { aggregationStrategy: 'first' }),
    [grp('PER', 0.997, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 22, 24)],
    t,
  );
  close(
    await pipe.predict(sentence, { aggregationStrategy: 'max' }),
    [grp('PER', 0.997, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 22, 24)],
    t,
  );
  close(
    await pipe.predict(sentence, { aggregationStrategy: 'average' }),
    [grp('PER', 0.996, 'Enzo', 0, 4), grp('ORG', 0.999, 'UN', 22, 24)],
    t,
  );
});

test('camphr tiny checkpoint (max_position_embeddings 16): a 19-token text is windowed, each token predicted once', {
  skip: existsSync(camphr) ? false : `${camphr} is absent`,
}, async () => {
  const pipe = await pipeline(camphr, { onWarning: () => {} });
  assert.equal(pipe.maxLength, 16);
  const text = 'Angela Merkel visited Paris and Berlin with the Beatles and a concert in New York City on Friday.';
  const n = pipe.tokenizer.encode(text, { addSpecialTokens: false }).ids.length;
  assert.ok(n > 14, `${n} tokens need more than one window`);
  const all = (await pipe.predict(text, { ignoreLabels: [] })) as TokenEntity[];
  assert.deepEqual(
    all.map((e) => e.index),
    Array.from({ length: n }, (_, i) => i + 1),
  );
  for (const e of all) assert.ok(pipe.labels.includes(e.entity) && e.score > 0 && e.score <= 1);
  const words = await pipe.predict(text.split(' '), { isSplitIntoWords: true });
  assert.equal(words.length, text.split(' ').length);
});
