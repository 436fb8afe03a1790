/**
 * The highlighting page in a real headless Chromium (Debian's `chromium` package) driven by
 * playwright-core (test/helpers/chromium.ts). Skips when either is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Tensor } from '../src/engine/index.js';
import type { TokenBatch } from '../src/models/index.js';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { createServer, TokenClassificationPipeline } from '../src/infer/index.js';
import { chromiumSkip as skip, launchChromium, waitUntil } from './helpers/chromium.js';

const SCREENSHOT = '/tmp/tokentune-page.png';

const LABELS = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
const TAGS: Record<string, string> = {
  Angela: 'B-PER',
  Merkel: 'I-PER',
  Paris: 'B-LOC',
  Microsoft: 'B-ORG',
  Olympics: 'B-MISC',
  Zoë: 'B-PER',
  '[UNK]': 'B-MISC',
};
const tokenizer = WordPieceTokenizer.fromTokens(
  [
    '[PAD]',
    '[UNK]',
    '[CLS]',
    '[SEP]',
    '[MASK]',
    ...Object.keys(TAGS).filter((t) => t !== '[UNK]'),
    'visited',
    'with',
    'for',
    'the',
    'and',
    '.',
    '<',
    '>',
    'b',
    '/',
    'x',
    '&',
  ],
  { doLowerCase: false },
);

/** A model whose logits tag the tokens above (the page test needs known entities). */
const model = {
  config: { labels: LABELS, maxPositionEmbeddings: 128 },
  forward(batch: TokenBatch): Tensor {
    const L = LABELS.length;
    const out = new Float32Array(batch.batchSize * batch.seqLen * L);
    for (let r = 0; r < batch.batchSize * batch.seqLen; r++) {
      const tag = TAGS[tokenizer.convertIdsToTokens(batch.inputIds[r]!)] ?? 'O';
      out[r * L + LABELS.indexOf(tag)] = 6;
    }
    return Tensor.from(out, [batch.batchSize * batch.seqLen, L]);
  },
};

test('the page highlights entities in headless Chromium', { skip, timeout: 60_000 }, async () => {
  const pipe = new TokenClassificationPipeline(model, tokenizer, { name: 'demo-ner' });
  const server = createServer(pipe);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 640 } });
    const problems: string[] = [];
    page.on('pageerror', (e: Error) => problems.push(`page error: ${e.message}`));
    page.on('console', (m: { type(): string; text(): string }) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('request', (r: { url(): string }) => {
      if (!r.url().startsWith(base)) problems.push(`external request: ${r.url()}`);
    });
    await page.goto(base);
    assert.match(await page.title(), /demo-ner/);

    const text = 'Angela Merkel visited Paris  with Microsoft for the Olympics 😀 and Zoë. <b>x</b> & Paris';
    await page.fill('#text', text);
    await page.click('#go');
    await page.waitForSelector('mark.entity');
    await waitUntil(page, `/entit/.test(document.getElementById('status').textContent)`);
    const marks = (await page.evaluate(`[...document.querySelectorAll('mark.entity')].map((m) => ({
      label: m.dataset.label, text: m.firstChild.textContent, tag: m.querySelector('.label').textContent, bg: m.style.background,
    }))`)) as { label: string; text: string; tag: string; bg: string }[];
    assert.deepEqual(
      marks.map((m) => [m.label, m.text]),
      [
        ['PER', 'Angela Merkel'],
        ['LOC', 'Paris'],
        ['ORG', 'Microsoft'],
        ['MISC', 'Olympics'],
        ['MISC', '😀'],
        ['PER', 'Zoë'],
        ['LOC', 'Paris'],
      ],
    );
    for (const m of marks) {
      assert.equal(m.tag, m.label, 'each highlight carries its type name');
      assert.ok(m.bg.length > 0, 'and a background colour');
    }
    assert.equal(marks[0]!.bg, marks[5]!.bg, 'one colour per type');
    assert.notEqual(marks[0]!.bg, marks[1]!.bg);
    // The text around the highlights is the original, markup shown as text (never parsed as HTML).
    const shown = (await page.evaluate(`(() => {
      const el = document.getElementById('result');
      const c = el.cloneNode(true);
      c.querySelectorAll('.label').forEach((l) => l.remove());
      return { text: c.textContent, bolds: el.querySelectorAll('b').length };
    })()`)) as { text: string; bolds: number };
    assert.equal(shown.text, text);
    assert.equal(shown.bolds, 0);
    const rows = await page.evaluate(`[...document.querySelectorAll('#rows tr')].map((tr) => tr.children[1].textContent)`);
    assert.deepEqual(rows, ['Angela Merkel', 'Paris', 'Microsoft', 'Olympics', '😀', 'Zoë', 'Paris']);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Another strategy from the page's menu goes to the server.
    await page.selectOption('#agg', 'none');
    await page.click('#go');
    await waitUntil(page, `document.querySelector('mark.entity')?.dataset.label === 'B-PER'`);
    assert.equal(await page.evaluate(`document.querySelectorAll('mark.entity').length`), 8, 'none: Angela and Merkel are separate tokens');
    // An empty text is refused politely in the page.
    await page.fill('#text', '   ');
    await page.click('#go');
    assert.match((await page.textContent('#status')) ?? '', /Type or paste some text/);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
