/**
 * Malformed and hostile data files (issue 15, "Weak: data"): each once read as garbage without
 * a word, read without bound, or failed with a message that named neither the file nor the fix.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { DataFormatError, readDataFile } from '../src/data/index.js';
import { firstInvalidUtf8Offset, MAX_TEXT_BYTES, readBoundedFile } from '../src/data/text-file.js';
import { strictUtf8Stream } from '../src/data/strict-utf8-stream.js';
import { printable } from '../src/util/printable.js';
import { runScore } from '../src/cli/score.js';

const dir = mkdtempSync(join(tmpdir(), 'tt-data-hostile-'));
const file = (name: string, content: string | Uint8Array): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, `expected DataFormatError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  });
}

test('CR-only line endings are refused with the line, in every text format', async () => {
  await rejects(
    readDataFile(file('cr.txt', 'EU B-ORG\rrejects O\r\rGerman B-MISC\r')),
    /cr\.txt:1: carriage return \(CR\) without a line feed: the file has CR-only/,
  );
  await rejects(
    readDataFile(file('cr.jsonl', '{"tokens":["a"],"tags":["O"]}\n{"tokens":["b"],"tags":["O"]}\r{"tokens":["c"],"tags":["O"]}\n')),
    /cr\.jsonl:2: carriage return/,
  );
  await rejects(readDataFile(file('cr.conllu', '1\ta\ta\tX\tX\t_\t0\troot\t_\t_\r\r')), /cr\.conllu:1: carriage return/);
  // CRLF stays fine.
  const ds = await readDataFile(file('crlf.txt', 'EU B-ORG\r\nrejects O\r\n\r\nGerman B-MISC\r\n'));
  assert.deepEqual(
    ds.sentences.map((s) => s.tags),
    [['B-ORG', 'O'], ['B-MISC']],
  );
});

test('a device, a binary file or a file over the size limit is refused early, in bounded memory', async () => {
  if (existsSync('/dev/zero')) {
    const m0 = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    await rejects(readDataFile('/dev/zero', { format: 'conll' }), /\/dev\/zero:1: binary data \(a NUL byte\) at byte offset 0/);
    await rejects(readDataFile('/dev/zero'), /\/dev\/zero:1: binary data/); // format detection reads it too
    assert.ok(performance.now() - t0 < 1000);
    assert.ok(process.memoryUsage().arrayBuffers - m0 < 64 * 2 ** 20);
  }
  await rejects(readDataFile(file('bin.txt', Buffer.from('a O\nb O\n\0\0\0'))), /bin\.txt:3: binary data \(a NUL byte\) at byte offset 8/);
  assert.throws(
    () => readBoundedFile(file('big.txt', 'a O\n'.repeat(1000)), 3999),
    /big\.txt: is larger than 3999 bytes, the most one text file may hold.*split it/,
  );
  assert.equal(readBoundedFile(join(dir, 'big.txt'), 4000).length, 4000);
  // A (sparse) file past what one string can hold is refused unread, not reported as bad UTF-8 at its end.
  const huge = file('huge.txt', 'a O\n');
  truncateSync(huge, MAX_TEXT_BYTES + 1);
  const t0 = performance.now();
  await rejects(readDataFile(huge), new RegExp(`huge\\.txt: is larger than ${MAX_TEXT_BYTES} bytes`));
  assert.ok(performance.now() - t0 < 1000);
});

test('a folder given as a file names the path; a .jsonl of arrays is read as JSON, not CoNLL', async () => {
  const sub = join(dir, 'train.txt');
  mkdirSync(sub, { recursive: true });
  await rejects(readDataFile(sub), new RegExp(`${sub.replace(/[/.]/g, '\\$&')}: is a folder, expected a data file`));
  await rejects(readDataFile(sub, { format: 'jsonl' }), /train\.txt: is a folder/);
  await rejects(
    readDataFile(file('arrays.jsonl', '["EU", "rejects"]\n["B-ORG", "O"]\n')),
    /arrays\.jsonl:1: expected a JSON object like \{"tokens"/,
  );
  await rejects(readDataFile(file('arrays.json', '[["EU"], ["B-ORG"]]')), /arrays\.json:item 1: expected a JSON object/);
  // Errors quote a bounded excerpt of what the file holds.
  const long = JSON.stringify({ tokens: [['x'.repeat(1_000_000)]], tags: ['O'] });
  await assert.rejects(
    readDataFile(file('long.jsonl', long + '\n')),
    (e: unknown) => e instanceof DataFormatError && e.message.length < 800,
  );
});

test('a damaged parquet footer gets a plain message, never an internal TypeError', async () => {
  const buf = new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'tokens', data: [['a', 'b'], ['c']] },
        { name: 'ner_tags', data: [['O', 'O'], ['O']] },
      ],
    }),
  );
  const footer = new DataView(buf.buffer, buf.byteOffset).getUint32(buf.length - 8, true);
  const p = join(dir, 'bad.parquet');
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(fc.nat(footer - 1), fc.integer({ min: 0, max: 255 }), async (at, v) => {
      const b = Uint8Array.from(buf);
      b[buf.length - 8 - footer + at] = v;
      writeFileSync(p, b);
      try {
        await readDataFile(p);
      } catch (e) {
        refused++;
        assert.ok(e instanceof DataFormatError, String(e));
        assert.doesNotMatch((e as Error).message, /Cannot read properties|undefined|Cannot destructure/);
      }
    }),
    { numRuns: 300 },
  );
  assert.ok(refused > 0);
});

test('strictUtf8Stream: same text as a whole-file decode however the bytes are chunked, same error offset', async () => {
  const decodeStream = async (chunks: Uint8Array[]): Promise<string> => {
    let out = '';
    for await (const s of strictUtf8Stream(Readable.from(chunks.map((c) => Buffer.from(c))), 'in.txt')) out += String(s);
    return out;
  };
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ unit: 'binary' }).map((s) => new Uint8Array(Buffer.from(s.replace(/\0/g, ''), 'utf8'))),
        fc.uint8Array({ maxLength: 64 }).map((b) => b.map((x) => x || 1)),
      ),
      fc.array(fc.nat(64), { maxLength: 5 }),
      async (bytes, cuts) => {
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((s, i, a) => bytes.subarray(s, a[i + 1] ?? bytes.length)).filter((c) => c.length > 0);
        const bad = firstInvalidUtf8Offset(bytes);
        if (bad < 0) assert.equal(await decodeStream(chunks), new TextDecoder().decode(bytes));
        else {
          await assert.rejects(decodeStream(chunks), (e: unknown) => {
            assert.ok(e instanceof DataFormatError);
            const m = /byte offset (\d+)/.exec((e as Error).message);
            // A truncated last sequence is reported at the end; anything else exactly.
            assert.ok(m && (Number(m[1]) === bad || Number(m[1]) === bytes.length - 1), `${(e as Error).message} vs ${bad}`);
            return true;
          });
        }
      },
    ),
    { numRuns: 500 },
  );
  await assert.rejects(decodeStream([Buffer.from('ok\n'), Buffer.from('a\0')]), /in\.txt:2: binary data \(a NUL byte\) at byte offset 4/);
});

async function score(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runScore(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

test('score: invalid UTF-8 and CR-only files are refused as train/evaluate refuse them; control bytes are escaped', async () => {
  const bad = await score([file('bad8.txt', Buffer.from([0x61, 0x20, 0x4f, 0x20, 0x4f, 0xff, 0x0a]))]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /bad8\.txt:1: invalid UTF-8 at byte offset 5 \(bytes ff 0a\)/);
  const cr = await score([file('cr-score.txt', 'a O O\rb O O\r')]);
  assert.equal(cr.code, 1);
  assert.match(cr.err, /cr-score\.txt:1: carriage return/);
  const esc = await score([file('esc.txt', 'a B-\x1b[2J\x1b]0;pwned\x07X B-\x1b[2J\x1b]0;pwned\x07X\n')]);
  assert.equal(esc.code, 0);
  assert.doesNotMatch(esc.out, /[\x1b\x07]/);
  assert.match(esc.out, /\\x1b\[2J\\x1b\]0;pwned\\x07X: precision: 100\.00%/);
  assert.equal(printable('tab\tand\nline \u009b ok'), 'tab\tand\nline \\x9b ok');
});
