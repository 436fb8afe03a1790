import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  DataFormatError,
  UnknownLabelError,
  detectFormat,
  findSplitFiles,
  firstInvalidUtf8Offset,
  formatConll,
  loadSplits,
  parseConll,
  parseConllu,
  parseJsonl,
  readConll,
  readConllu,
  readDataFile,
  readJsonl,
  readParquet,
  splitOfFileName,
} from '../src/data/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tokentune-data-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
function file(name: string, content: string | Uint8Array): string {
  const d = join(dir, String(fileNo++));
  mkdirSync(d);
  const p = join(d, name);
  writeFileSync(p, content);
  return p;
}

/** Asserts that fn throws a DataFormatError naming `path` and `line`, with `problem` in the message. */
function throwsAt(fn: () => unknown, path: string, line: number, problem: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, `expected DataFormatError, got ${String(e)}`);
    assert.equal(e.file, path);
    assert.equal(e.line, line);
    assert.ok(e.message.startsWith(`${path}:${line}:`), e.message);
    assert.match(e.message, problem);
    return true;
  });
}
async function rejectsAt(p: Promise<unknown>, path: string, line: number, problem: RegExp, unit = ''): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataFormatError, String(e));
    assert.equal(e.file, path);
    assert.equal(e.line, line);
    assert.ok(e.message.startsWith(`${path}:${unit}${line}:`), e.message);
    assert.match(e.message, problem);
    return true;
  });
}

test('CoNLL: DOCSTART skipped, blank / whitespace-only / TAB lines split, CRLF, trailing sentence kept', () => {
  const p = file(
    'a.txt',
    '-DOCSTART- -X- O O\r\n\r\nEU NNP I-NP B-ORG\r\nrejects VBZ I-VP O\r\n \r\nPeter NNP I-NP B-PER\r\nBlackburn NNP I-NP I-PER',
  );
  const d = readConll(p);
  assert.deepEqual(
    d.sentences.map((s) => [s.tokens, s.tags, s.line]),
    [
      [['EU', 'rejects'], ['B-ORG', 'O'], 3],
      [['Peter', 'Blackburn'], ['B-PER', 'I-PER'], 6],
    ],
  );
  assert.equal(d.source, p);
  assert.deepEqual(d.warnings, []);
  // Other columns on request.
  assert.deepEqual(readConll(p, { tagColumn: 1, checkPrefixes: false }).sentences[0]!.tags, ['NNP', 'VBZ']);
  assert.deepEqual(readConll(p, { tagColumn: -2 }).sentences[1]!.tags, ['I-NP', 'I-NP']);

  const wnut = file('w.conll', 'Empire\tB-location\nState\tI-location\n\t\nFrom\tO\n');
  assert.deepEqual(
    readConll(wnut).sentences.map((s) => s.tokens),
    [['Empire', 'State'], ['From']],
  );
});

test('CoNLL: TAB separator keeps spaces inside tokens; explicit space separator', () => {
  const p = file('t.tsv', 'New York\tB-LOC\nis\tO\n');
  assert.deepEqual(readConll(p).sentences[0]!.tokens, ['New York', 'is']);
  const q = file('s.txt', 'a  O\nb\tO\n');
  assert.deepEqual(readConll(q, { separator: 'space' }).sentences[0]!.tokens, ['a', 'b']);
});

test('CoNLL bad input: each error names file and 1-based line', () => {
  let p = file('cols.txt', 'EU B-ORG\nrejects O\n\nPeter NNP B-PER\n');
  throwsAt(() => readConll(p), p, 4, /expected 2 space-separated columns \(as on line 1\) but found 3/);
  p = file('empty-tag.tsv', 'EU\tB-ORG\nrejects\t\n');
  throwsAt(() => readConll(p), p, 2, /empty tag/);
  p = file('b-alone.txt', 'EU B-ORG\n\nx O\ny B-\n');
  throwsAt(() => readConll(p), p, 4, /prefix but no entity type/);
  p = file('x-per.txt', 'EU X-PER\n');
  throwsAt(() => readConll(p), p, 1, /illegal tag prefix in "X-PER"/);
  p = file('mixed.txt', 'EU B-ORG\nrejects O\n\nPeter PER\n');
  throwsAt(() => readConll(p), p, 4, /mixes tag styles/);
  p = file('utf8.txt', new Uint8Array([...Buffer.from('a O\nb O\n\nc O\nd'), 0xff, ...Buffer.from(' O\n')]));
  throwsAt(() => readConll(p), p, 5, /invalid UTF-8 at byte offset 14 \(bytes ff 20 4f 0a\)/);
  p = file('overlong.txt', new Uint8Array([...Buffer.from('a O\n'), 0xc0, 0x80, ...Buffer.from(' O\n')]));
  throwsAt(() => readConll(p), p, 2, /invalid UTF-8/);
  p = file('empty.txt', '');
  assert.throws(
    () => readConll(p),
    (e: unknown) => e instanceof DataFormatError && e.message === `${p}: file is empty`,
  );
  p = file('blank.txt', '-DOCSTART- -X- O O\n\n \n');
  assert.throws(() => readConll(p), /no sentences found/);
  p = file('col.txt', 'a O\n');
  throwsAt(() => readConll(p, { tagColumn: 5 }), p, 1, /tagColumn=5 is out of range for a line with 2 columns/);
  assert.throws(() => readConll(join(dir, 'missing.txt')), /missing\.txt: cannot read file/);
});

test('CoNLL unknown labels: error, warn, or map to O, never silent', () => {
  const p = file('unk.txt', 'EU B-ORG\nrejects O\nBob B-PER\n');
  const labelSet = ['O', 'B-ORG', 'I-ORG'];
  assert.throws(
    () => readConll(p, { labelSet }),
    (e: unknown) =>
      e instanceof UnknownLabelError && e.line === 3 && e.message.startsWith(`${p}:3: label "B-PER" is not in the model's label set`),
  );
  const warned = readConll(p, { labelSet, onUnknownLabel: 'warn' });
  assert.deepEqual(warned.sentences[0]!.tags, ['B-ORG', 'O', 'B-PER']);
  assert.deepEqual(warned.warnings, [`${p}:3: label "B-PER" is not in the model's label set; kept`]);
  const mapped = readConll(p, { labelSet, onUnknownLabel: 'map-to-O' });
  assert.deepEqual(mapped.sentences[0]!.tags, ['B-ORG', 'O', 'O']);
  assert.deepEqual(mapped.warnings, [`${p}:3: label "B-PER" is not in the model's label set; mapped to O`]);
});

// Tokens without whitespace; tags drawn from a valid IOB2-ish alphabet.
const tokenArb = fc
  .string({ minLength: 1, maxLength: 8, unit: fc.constantFrom('a', 'Z', 'é', '€', '😀', '.', '-', '#', '0', '\u00ad') })
  .filter((t) => t !== '-DOCSTART-');
const tagArb = fc.constantFrom('O', 'B-PER', 'I-PER', 'B-creative-work', 'I-creative-work', 'S-LOC', 'E-LOC');
const sentenceArb = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.record({
    tokens: fc.array(tokenArb, { minLength: n, maxLength: n }),
    tags: fc.array(tagArb, { minLength: n, maxLength: n }),
  }),
);

test('property: CoNLL write then read gives the same sentences (space/TAB, LF/CRLF, with/without final blank)', () => {
  fc.assert(
    fc.property(
      fc.array(sentenceArb, { minLength: 1, maxLength: 8 }),
      fc.constantFrom('\t', ' ' as const),
      fc.boolean(),
      fc.boolean(),
      (sents, sep, crlf, trailingBlank) => {
        let text = formatConll(sents, sep as '\t' | ' ');
        if (!trailingBlank) text = text.replace(/\n\n$/, '');
        if (crlf) text = text.replace(/\n/g, '\r\n');
        const back = parseConll(text, 'mem.txt').sentences.map((s) => ({ tokens: s.tokens, tags: s.tags }));
        assert.deepEqual(
          back,
          sents.map((s) => ({ tokens: [...s.tokens], tags: [...s.tags] })),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test('property: first invalid UTF-8 offset agrees with the WHATWG fatal decoder', () => {
  const bytesArb = fc.array(
    fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0x80, 0xbf, 0x9f, 0xa0, 0x8f, 0x90)),
    { maxLength: 24 },
  );
  fc.assert(
    fc.property(bytesArb, (arr) => {
      const bytes = Uint8Array.from(arr);
      let valid = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        valid = false;
      }
      const off = firstInvalidUtf8Offset(bytes);
      assert.equal(off < 0, valid);
      if (!valid) {
        // Everything before the reported offset decodes cleanly on its own.
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, off));
      }
    }),
    { numRuns: 2000 },
  );
});

test('CoNLL-U: comments, multiword ranges and empty nodes skipped; UPOS or XPOS', () => {
  const row = (id: string, form: string, upos: string, xpos: string): string =>
    [id, form, '_', upos, xpos, '_', '_', '_', '_', '_'].join('\t');
  const p = file(
    'x.conllu',
    [
      '# sent_id = 1',
      '# text = Vámonos al mar.',
      row('1-2', 'Vámonos', '_', '_'),
      row('1', 'Vamos', 'VERB', 'VMM'),
      row('2', 'nos', 'PRON', 'PP'),
      row('3-4', 'al', '_', '_'),
      row('3', 'a', 'ADP', 'SPS'),
      row('4', 'el', 'DET', 'DA'),
      row('4.1', 'x', '_', '_'),
      row('5', 'mar', 'NOUN', 'NC'),
      '',
      row('1', 'Hola', 'INTJ', 'I'),
    ].join('\n'),
  );
  const d = readConllu(p);
  assert.deepEqual(
    d.sentences.map((s) => [s.tokens, s.tags, s.line]),
    [
      [['Vamos', 'nos', 'a', 'el', 'mar'], ['VERB', 'PRON', 'ADP', 'DET', 'NOUN'], 4],
      [['Hola'], ['INTJ'], 12],
    ],
  );
  assert.deepEqual(readConllu(p, { tagField: 'xpos' }).sentences[1]!.tags, ['I']);
  assert.equal(detectFormat(p), 'conllu');

  const bad = file('bad.conllu', `${row('1', 'a', 'NOUN', 'N')}\n1\ta\t_\tNOUN\n`);
  throwsAt(() => readConllu(bad), bad, 2, /10 TAB-separated fields, found 4/);
  const seq = file('seq.conllu', `${row('1', 'a', 'NOUN', 'N')}\n${row('3', 'b', 'NOUN', 'N')}\n`);
  throwsAt(() => readConllu(seq), seq, 2, /word id 3 out of sequence \(expected 2\)/);
  const noXpos = file('nox.conllu', `${row('1', 'a', 'NOUN', '_')}\n`);
  throwsAt(() => readConllu(noXpos, { tagField: 'xpos' }), noXpos, 1, /empty XPOS field/);
});

test('JSON lines: string tags, integer ids via labelNames, auto field, errors with line', () => {
  const p = file(
    'train.jsonl',
    [
      JSON.stringify({ id: '0', tokens: ['EU', 'rejects'], pos_tags: [22, 42], ner_tags: [3, 0] }),
      '',
      JSON.stringify({ id: '1', tokens: ['Peter'], pos_tags: [22], ner_tags: [1] }),
    ].join('\n') + '\n',
  );
  const labelNames = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG'];
  const d = readJsonl(p, { labelNames });
  assert.deepEqual(
    d.sentences.map((s) => [s.tokens, s.tags, s.line]),
    [
      [['EU', 'rejects'], ['B-ORG', 'O'], 1],
      [['Peter'], ['B-PER'], 3],
    ],
  );
  throwsAt(() => readJsonl(p), p, 1, /integer 3 but no label names are known/);
  throwsAt(() => readJsonl(p, { labelNames: ['O', 'B-PER'] }), p, 1, /tag id 3 \(tag 0\) is out of range for 2 label names/);

  const s = file('dev.json', '[{"words": ["a", "b"], "tags": ["O", "B-LOC"]}, {"words": ["c"], "tags": ["O", "O"]}]');
  assert.equal(detectFormat(s), 'jsonl');
  assert.throws(
    () => readJsonl(s),
    (e: unknown) => e instanceof DataFormatError && e.message === `${s}:item 2: 1 tokens but 2 tags in "tags"`,
  );
  const broken = file('b.jsonl', '{"tokens": ["a"], "tags": ["O"]}\n{"tokens": ["a"], "tags": ["O"]\n');
  throwsAt(() => readJsonl(broken), broken, 2, /invalid JSON/);
  const notok = file('n.jsonl', '{"text": "a", "tags": ["O"]}\n');
  throwsAt(() => readJsonl(notok), notok, 1, /no token field/);
  const badTag = file('t.jsonl', '{"tokens": ["a", "b"], "tags": ["O", 1.5]}\n');
  throwsAt(() => readJsonl(badTag, { labelNames }), badTag, 1, /tag 1 is 1.5; expected a string or an integer id/);
  const unk = file('u.jsonl', '{"tokens": ["a"], "ner_tags": ["B-XYZ"]}\n');
  throwsAt(() => readJsonl(unk, { labelSet: labelNames }), unk, 1, /label "B-XYZ" is not in the model's label set/);
});

function hfParquet(rows: { tokens: string[]; ner_tags: number[] | string[] }[], hfMeta: unknown): Uint8Array {
  const intTags = typeof rows[0]?.ner_tags[0] === 'number';
  const schema = [
    { name: 'root', num_children: 3 },
    { name: 'id', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const },
    { name: 'tokens', repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
    { name: 'element', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const },
    { name: 'ner_tags', repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
    intTags
      ? { name: 'element', type: 'INT64' as const, repetition_type: 'OPTIONAL' as const }
      : { name: 'element', type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const },
  ];
  const buf = parquetWriteBuffer({
    schema,
    columnData: [
      { name: 'id', data: rows.map((_, i) => String(i)) },
      { name: 'tokens', data: rows.map((r) => r.tokens) },
      { name: 'ner_tags', data: rows.map((r) => (intTags ? (r.ner_tags as number[]).map(BigInt) : r.ner_tags)) },
    ],
    ...(hfMeta === undefined ? {} : { kvMetadata: [{ key: 'huggingface', value: JSON.stringify(hfMeta) }] }),
  });
  return new Uint8Array(buf);
}

const NAMES = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];
const rows = [
  { tokens: ['EU', 'rejects', 'German'], ner_tags: [3, 0, 7] },
  { tokens: ['Peter', 'Blackburn'], ner_tags: [1, 2] },
];

test('parquet: ClassLabel names from HF metadata (Sequence form and List form)', async () => {
  for (const wrap of ['Sequence', 'List']) {
    const meta = {
      info: {
        features: {
          id: { dtype: 'string', _type: 'Value' },
          tokens: { feature: { dtype: 'string', _type: 'Value' }, _type: wrap },
          ner_tags: { feature: { names: NAMES, _type: 'ClassLabel' }, _type: wrap },
        },
      },
    };
    const p = file(`train-${wrap}.parquet`, hfParquet(rows, meta));
    const d = await readParquet(p);
    assert.deepEqual(d.labelNames, NAMES);
    assert.deepEqual(
      d.sentences.map((s) => [s.tokens, s.tags, s.line]),
      [
        [['EU', 'rejects', 'German'], ['B-ORG', 'O', 'B-MISC'], 1],
        [['Peter', 'Blackburn'], ['B-PER', 'I-PER'], 2],
      ],
    );
    assert.equal(detectFormat(p), 'parquet');
  }
});

test('parquet: string tags, missing names, bad ids, bad files', async () => {
  const strTags = file('s.parquet', hfParquet([{ tokens: ['a', 'b'], ner_tags: ['B-X', 'I-X'] }], undefined));
  assert.deepEqual((await readParquet(strTags)).sentences[0]!.tags, ['B-X', 'I-X']);
  const noMeta = file('n.parquet', hfParquet(rows, undefined));
  await rejectsAt(readParquet(noMeta), noMeta, 1, /no label names are known/, 'row ');
  assert.deepEqual((await readParquet(noMeta, { labelNames: NAMES })).sentences[1]!.tags, ['B-PER', 'I-PER']);
  const few = file(
    'f.parquet',
    hfParquet(rows, {
      info: { features: { ner_tags: { feature: { names: ['O', 'B-PER', 'I-PER'], _type: 'ClassLabel' }, _type: 'Sequence' } } },
    }),
  );
  await rejectsAt(readParquet(few), few, 1, /tag id 3 \(tag 0\) is out of range for 3 label names/, 'row ');
  const junk = file('j.parquet', 'not parquet at all, just text that is long enough');
  await assert.rejects(
    readParquet(junk),
    (e: unknown) => e instanceof DataFormatError && e.message.startsWith(`${junk}: not a readable parquet file`),
  );
  await assert.rejects(readParquet(noMeta, { tagsField: 'pos_tags' }), /no tag column "pos_tags"; columns are id, tokens, ner_tags/);
});

test('loadSplits: files found by name in a folder, format chosen by content', async () => {
  const folder = join(dir, 'splits');
  mkdirSync(folder);
  writeFileSync(join(folder, 'train.txt'), 'EU B-ORG\nrejects O\n');
  writeFileSync(join(folder, 'dev.jsonl'), '{"tokens": ["Peter"], "ner_tags": ["B-PER"]}\n');
  writeFileSync(
    join(folder, 'test.parquet'),
    hfParquet(rows, { info: { features: { ner_tags: { feature: { names: NAMES, _type: 'ClassLabel' }, _type: 'Sequence' } } } }),
  );
  writeFileSync(join(folder, 'README.md'), '# not data\n');
  const s = await loadSplits(folder);
  assert.deepEqual(s.train!.sentences[0]!.tokens, ['EU', 'rejects']);
  assert.deepEqual(s.validation!.sentences[0]!.tags, ['B-PER']);
  assert.deepEqual(s.test!.sentences[1]!.tags, ['B-PER', 'I-PER']);
  writeFileSync(join(folder, 'valid.conll'), 'x O\n');
  assert.throws(() => findSplitFiles(folder), /several files look like the validation split: dev\.jsonl, valid\.conll/);
  // JSON lines in a .txt file still read as JSON; '[' as a CoNLL token does not fool detection.
  const j = file('train.txt', '{"tokens": ["a"], "tags": ["O"]}\n');
  assert.equal((await readDataFile(j)).sentences[0]!.tokens[0], 'a');
  const b = file('bracket.txt', '[ O\n] O\n');
  assert.equal(detectFormat(b), 'conll');
  assert.deepEqual((await readDataFile(b)).sentences[0]!.tokens, ['[', ']']);
});

test('split names: HF, CoNLL-2003 and WNUT-17 conventions', () => {
  const cases: [string, string | null][] = [
    ['train.txt', 'train'],
    ['wnut17train.conll', 'train'],
    ['eng.train', 'train'],
    ['valid.txt', 'validation'],
    ['validation.parquet', 'validation'],
    ['emerging.dev.conll', 'validation'],
    ['eng.testa', 'validation'],
    ['eng.testb', 'test'],
    ['test-00000-of-00001.parquet', 'test'],
    ['README.md', null],
  ];
  for (const [name, split] of cases) assert.equal(splitOfFileName(name), split, name);
});

test('property: JSON lines and CoNLL-U round-trip', () => {
  fc.assert(
    fc.property(fc.array(sentenceArb, { minLength: 1, maxLength: 6 }), (sents) => {
      const plain = sents.map((s) => ({ tokens: [...s.tokens], tags: [...s.tags] }));
      const jsonl = sents.map((s) => JSON.stringify({ tokens: s.tokens, ner_tags: s.tags })).join('\n');
      assert.deepEqual(
        parseJsonl(jsonl, 'mem.jsonl').sentences.map((s) => ({ tokens: s.tokens, tags: s.tags })),
        plain,
      );
      const conllu = sents
        .map((s) => s.tokens.map((t, i) => [i + 1, t, '_', s.tags[i], '_', '_', '_', '_', '_', '_'].join('\t')).join('\n') + '\n')
        .join('\n');
      assert.deepEqual(
        parseConllu(conllu, 'mem.conllu').sentences.map((s) => ({ tokens: s.tokens, tags: s.tags })),
        plain,
      );
    }),
    { numRuns: 200 },
  );
});

test('property: arbitrary text never crashes a parser with anything but a DataFormatError', () => {
  const textArb = fc.string({
    maxLength: 80,
    unit: fc.constantFrom(
      'a',
      'B-',
      'I-X',
      'O',
      ' ',
      '\t',
      '\n',
      '\r',
      '-DOCSTART-',
      '{',
      '}',
      '[',
      ']',
      '"',
      ':',
      ',',
      '1',
      '#',
      '-',
      '.',
      '_',
    ),
  });
  fc.assert(
    fc.property(textArb, (text) => {
      for (const parse of [parseConll, parseConllu, parseJsonl]) {
        try {
          const d = parse(text, 'fuzz.txt');
          for (const s of d.sentences) assert.equal(s.tokens.length, s.tags.length);
        } catch (e) {
          assert.ok(e instanceof DataFormatError, `${parse.name}: ${String(e)}`);
          assert.ok(e.message.startsWith('fuzz.txt:'), e.message);
        }
      }
    }),
    { numRuns: 1000 },
  );
});
