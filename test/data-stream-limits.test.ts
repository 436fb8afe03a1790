/**
 * Huge inputs (issue 21, weak items): `predict --file` on a 1 GB single line died in readline with
 * a RangeError stack; a line past the cap is now refused by file and line number, and errors
 * quote at most a short excerpt of the offending text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { strictUtf8Stream } from '../src/data/strict-utf8-stream.js';
import { DataFormatError } from '../src/data/errors.js';
import { ConllFormatError, MetricsInputError } from '../src/metrics/errors.js';

async function drain(r: Readable): Promise<string> {
  let s = '';
  for await (const c of r) s += String(c);
  return s;
}

test('a streamed line longer than the cap is refused naming the source and line', async () => {
  const input = Readable.from([Buffer.from('ok line\n'), Buffer.from('x'.repeat(700)), Buffer.from('x'.repeat(700) + '\n')]);
  await assert.rejects(
    drain(strictUtf8Stream(input, 'big.txt', 1000)),
    (e: unknown) => e instanceof DataFormatError && /^big\.txt:2: line is longer than 1000 bytes/.test((e as Error).message),
  );
  // Lines under the cap pass untouched.
  assert.equal(await drain(strictUtf8Stream(Readable.from([Buffer.from('a\nbb\n')]), 'small.txt', 3)), 'a\nbb\n');
});

test('metrics errors quote a short excerpt, not a 4 MB line', () => {
  const huge = 'y'.repeat(4 << 20);
  assert.ok(new ConllFormatError('gold.txt', 3, `bad line ${huge}`).message.length < 1000);
  assert.ok(new MetricsInputError(`tag ${huge} is not in the scheme`).message.length < 1000);
});
