import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  DatasetAccessError,
  DatasetColumnsError,
  DatasetConfigError,
  DatasetFilesError,
  DatasetNetworkError,
  DatasetNotFoundError,
  loadHubDataset,
  type LoadHubDatasetOptions,
} from '../src/data/hub-dataset.js';
import { defaultConfigName, parseDatasetCard } from '../src/data/hub-dataset-card.js';
import { parseCsv, parseListCell } from '../src/data/hub-dataset-csv.js';
import {
  dataFilesGlob,
  dominantExtension,
  inferSplitPatterns,
  parquetExportConfigs,
  parquetExportSplits,
  resolveSplitPatterns,
} from '../src/data/hub-dataset-files.js';
import { DataFormatError } from '../src/data/errors.js';
import { readTrainingData } from '../src/train/prepare.js';
import type { DownloadProgress } from '../src/io/progress.js';
import { HubTestServer, startHubFixture, type HubFixture, sha256Hex } from './helpers/hub-server.js';

const TOKEN = 'hf_DatasetSecretToken0123456789abcdef';
const NAMES = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];

// ---------------------------------------------------------------------------------------------
// Fixtures: parquet as `datasets` writes it, served by a local hub.

type Col = { name: string; kind: 'string' | 'strings' | 'ints'; data: unknown[] };

function parquet(cols: Col[], hfMeta?: unknown): Uint8Array {
  const schema: Record<string, unknown>[] = [{ name: 'root', num_children: cols.length }];
  for (const c of cols) {
    if (c.kind === 'string') schema.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
    else {
      schema.push(
        { name: c.name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      );
      schema.push(
        c.kind === 'ints'
          ? { name: 'element', type: 'INT64', repetition_type: 'OPTIONAL' }
          : { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      );
    }
  }
  const buf = parquetWriteBuffer({
    schema: schema as never,
    columnData: cols.map((c) => ({
      name: c.name,
      data: c.kind === 'ints' ? c.data.map((r) => (r as number[]).map(BigInt)) : c.data,
    })) as never,
    ...(hfMeta === undefined ? {} : { kvMetadata: [{ key: 'huggingface', value: JSON.stringify(hfMeta) }] }),
  });
  return new Uint8Array(buf);
}

const classLabelMeta = (names: string[], column = 'ner_tags') => ({
  info: {
    features: {
      id: { dtype: 'string', _type: 'Value' },
      tokens: { feature: { dtype: 'string', _type: 'Value' }, _type: 'Sequence' },
      [column]: { feature: { names, _type: 'ClassLabel' }, _type: 'Sequence' },
    },
  },
});

interface Row {
  tokens: string[];
  tags: number[];
}
const TRAIN: Row[] = [
  { tokens: ['Anna', 'lives', 'in', 'Oslo'], tags: [1, 0, 0, 3] },
  { tokens: ['Peter', 'Pan'], tags: [1, 2] },
];
const VALID: Row[] = [{ tokens: ['Bergen', 'Town'], tags: [3, 4] }];
const TEST: Row[] = [{ tokens: ['Ola', 'sleeps'], tags: [1, 0] }];

function nerParquet(rows: Row[], meta: unknown = classLabelMeta(NAMES), tagColumn = 'ner_tags'): Uint8Array {
  return parquet(
    [
      { name: 'id', kind: 'string', data: rows.map((_, i) => String(i)) },
      { name: 'tokens', kind: 'strings', data: rows.map((r) => r.tokens) },
      { name: tagColumn, kind: 'ints', data: rows.map((r) => r.tags) },
    ],
    meta,
  );
}

const named = (rows: Row[], names = NAMES) => rows.map((r) => [r.tokens, r.tags.map((t) => names[t])]);
const sentencesOf = (d: { sentences: { tokens: string[]; tags: string[] }[] } | undefined) => d?.sentences.map((s) => [s.tokens, s.tags]);

const CARD = `---
license: mit
dataset_info:
  features:
  - name: id
    dtype: string
  - name: tokens
    sequence: string
  - name: ner_tags
    sequence:
      class_label:
        names:
          '0': O
          '1': B-PER
          '2': I-PER
          '3': B-LOC
          '4': I-LOC
---
# A tiny NER dataset
`;

type Ctx = HubFixture<LoadHubDatasetOptions>;

function setup(t: { after(fn: () => Promise<void> | void): void }): Promise<Ctx> {
  return startHubFixture<LoadHubDatasetOptions>(t, 'tt-hubds-');
}

async function deadEndpoint(): Promise<string> {
  const s = await HubTestServer.start();
  await s.close();
  return s.endpoint;
}

function assertNoSecret(e: unknown): void {
  const err = e as Error;
  assert.ok(!err.message.includes(TOKEN), 'token leaked into the message');
  assert.ok(!(err.stack ?? '').includes(TOKEN), 'token leaked into the stack');
}

// ---------------------------------------------------------------------------------------------
// Which files are which split: the examples of datasets' get_data_patterns docstring.

const splitsOf = (listing: string[]) => {
  const p = inferSplitPatterns(listing);
  return p && resolveSplitPatterns(p, listing).map(([s, f]) => [s, [...f].sort()]);
};

test('split inference follows datasets: shards, then folder names, then file names, then everything', () => {
  assert.deepEqual(splitsOf(['README.md', 'dataset.csv']), [['train', ['dataset.csv']]]);
  assert.deepEqual(inferSplitPatterns(['README.md', 'dataset.csv']), [['train', ['**']]]);
  assert.deepEqual(splitsOf(['README.md', 'train.csv', 'test.csv']), [
    ['train', ['train.csv']],
    ['test', ['test.csv']],
  ]);
  assert.deepEqual(splitsOf(['README.md', 'data/train.csv', 'data/test.csv']), [
    ['train', ['data/train.csv']],
    ['test', ['data/test.csv']],
  ]);
  assert.deepEqual(splitsOf(['train_0.csv', 'train_1.csv', 'test_0.csv', 'test_1.csv', 'README.md']), [
    ['train', ['train_0.csv', 'train_1.csv']],
    ['test', ['test_0.csv', 'test_1.csv']],
  ]);
  assert.deepEqual(splitsOf(['data/train/shard_0.csv', 'data/train/shard_1.csv', 'data/test/shard_0.csv']), [
    ['train', ['data/train/shard_0.csv', 'data/train/shard_1.csv']],
    ['test', ['data/test/shard_0.csv']],
  ]);
  const shards = [
    'data/train-00000-of-00003.csv',
    'data/train-00001-of-00003.csv',
    'data/test-00000-of-00001.csv',
    'data/random-00000-of-00001.csv',
  ];
  assert.deepEqual(
    inferSplitPatterns(shards)!.map(([s]) => s),
    ['train', 'test', 'random'],
  );
  assert.deepEqual(splitsOf(shards)![0], ['train', ['data/train-00000-of-00003.csv', 'data/train-00001-of-00003.csv']]);
  // keywords: dev/valid/val are validation, eval/evaluation are test; a separator must follow
  assert.deepEqual(splitsOf(['en-dev.jsonl', 'en-train.jsonl', 'eval.jsonl']), [
    ['train', ['en-train.jsonl']],
    ['validation', ['en-dev.jsonl']],
    ['test', ['eval.jsonl']],
  ]);
  assert.deepEqual(splitsOf(['cfg/validation/0000.parquet', 'cfg/train/0000.parquet']), [
    ['train', ['cfg/train/0000.parquet']],
    ['validation', ['cfg/validation/0000.parquet']],
  ]);
  // hidden files, __special__ folders and README.md are never data
  assert.deepEqual(splitsOf(['.gitattributes', '.cache/train.csv', '__pycache__/test.csv', 'README.md', 'all.jsonl']), [
    ['train', ['all.jsonl']],
  ]);
  assert.equal(inferSplitPatterns(['.gitattributes', 'README.md']), null);
});

test('the most common data extension decides the format (parquet wins ties)', () => {
  assert.equal(dominantExtension(['a.json', 'b.parquet']), '.parquet');
  assert.equal(dominantExtension(['a.json', 'b.jsonl', 'c.json', 'd.csv']), '.json');
  assert.equal(dominantExtension(['script.py', 'README.md']), null);
  assert.equal(dominantExtension(['a.arrow', 'b.arrow', 'c.csv']), '.arrow');
});

test('parquet export layouts: {config}/{split}/NNNN.parquet and the older {config}/{name}-{split}.parquet', () => {
  const listing = [
    '.gitattributes',
    'wnut_17/train/0000.parquet',
    'wnut_17/train/0001.parquet',
    'wnut_17/test/0000.parquet',
    'other/partial-train/0000.parquet',
    'conll2003/conll2003-train.parquet',
    'conll2003/conll2003-validation-00000-of-00002.parquet',
    'conll2003/conll2003-validation-00001-of-00002.parquet',
  ];
  assert.deepEqual(parquetExportConfigs(listing), ['conll2003', 'other', 'wnut_17']);
  assert.deepEqual(parquetExportSplits(listing, 'wnut_17'), [
    ['train', ['wnut_17/train/0000.parquet', 'wnut_17/train/0001.parquet']],
    ['test', ['wnut_17/test/0000.parquet']],
  ]);
  assert.deepEqual(parquetExportSplits(listing, 'other'), [['partial-train', ['other/partial-train/0000.parquet']]]);
  assert.deepEqual(parquetExportSplits(listing, 'conll2003'), [
    ['train', ['conll2003/conll2003-train.parquet']],
    ['validation', ['conll2003/conll2003-validation-00000-of-00002.parquet', 'conll2003/conll2003-validation-00001-of-00002.parquet']],
  ]);
});

const segment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,7}$/);
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'));
const globEscape = (p: string) => p.replace(/[*?[]/g, (c) => `[${c}]`);

test('data_files globs: literals match themselves, * stays in a segment, ** spans segments', () => {
  fc.assert(
    fc.property(path, path, (a, b) => {
      assert.ok(dataFilesGlob(globEscape(a)).test(a));
      assert.equal(dataFilesGlob(globEscape(a)).test(b), a === b);
      assert.ok(dataFilesGlob('**').test(a));
      assert.equal(dataFilesGlob('*').test(a), !a.includes('/'));
      const last = a.slice(a.lastIndexOf('/') + 1);
      assert.ok(dataFilesGlob(`**/${globEscape(last)}`).test(a), '**/ also matches zero folders');
    }),
  );
  assert.ok(dataFilesGlob('data/train-*').test('data/train-00000-of-00001.parquet'));
  assert.ok(!dataFilesGlob('data/train-*').test('data/x/train-0.parquet'));
  assert.ok(dataFilesGlob('**/train[-._ 0-9]*').test('a/b/train.json'));
  assert.ok(!dataFilesGlob('**/train[-._ 0-9]*').test('trainer.json'));
  assert.ok(dataFilesGlob('[!x]*.csv').test('a.csv') && !dataFilesGlob('[!x]*.csv').test('x.csv'));
});

// ---------------------------------------------------------------------------------------------
// CSV and list cells

function csvField(s: string): string {
  return /[",\r\n]/.test(s) || s === '' ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Python's repr() of a str (the quoting pandas' to_csv leaves in list cells). */
function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\' || ch === q) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return out + q;
}

test('CSV: what Python csv writes parses back (quotes, commas, newlines)', () => {
  const cell = fc.string({ unit: fc.constantFrom('a', 'Z', ' ', ',', '"', '\n', '\r', 'é', "'", '1') });
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }).chain((w) => fc.array(fc.array(cell, { minLength: w, maxLength: w }), { minLength: 1, maxLength: 6 })),
      (table) => {
        const header = table[0]!.map((_, i) => `c${i}`);
        const text = [header, ...table].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
        const parsed = parseCsv(text, 'x.csv');
        assert.deepEqual(parsed.header, header);
        assert.deepEqual(
          parsed.rows.map((r) => r.cells),
          table,
        );
      },
    ),
  );
  const t = parseCsv('a,b\n1,"x\ny"\n\n2,z\n', 'f.csv');
  assert.deepEqual(
    t.rows.map((r) => [r.cells, r.line]),
    [
      [['1', 'x\ny'], 2],
      [['2', 'z'], 5],
    ],
  );
  assert.throws(
    () => parseCsv('a,b\n1,2,3\n', 'f.csv'),
    (e: unknown) => e instanceof DataFormatError && e.message === 'f.csv:2: 3 fields but the header has 2 (a, b)',
  );
  assert.throws(() => parseCsv('a,b\n1,"open\n', 'f.csv'), /^DataFormatError: f\.csv:2: unterminated quoted field/);
  assert.throws(() => parseCsv('a,a\n', 'f.csv'), /column "a" appears twice/);
});

test('list cells: JSON and Python repr lists of strings and integers', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string({ unit: 'binary' }), fc.integer({ min: -1000, max: 1000 }))), (items) => {
      assert.deepEqual(parseListCell(JSON.stringify(items)), items);
      const repr = `[${items.map((x) => (typeof x === 'string' ? pyRepr(x) : String(x))).join(', ')}]`;
      assert.deepEqual(parseListCell(repr), items);
    }),
  );
  assert.deepEqual(parseListCell(`['EU', "it's", 3,]`), ['EU', "it's", 3]);
  assert.throws(() => parseListCell("['EU' 'rejects']"), /expected ',' or '\]' at character 7/);
  assert.throws(() => parseListCell("['EU'"), /expected ',' or '\]'|unterminated/);
  assert.throws(() => parseListCell('EU rejects'), /expected '\['/);
});

// ---------------------------------------------------------------------------------------------
// Dataset cards

test('dataset card: configs (all data_files forms), default config, ClassLabel names', () => {
  const card = parseDatasetCard(
    `---
configs:
- config_name: en
  default: true
  data_files:
  - split: train
    path: en/train-*
  - split: test
    path: [en/test-a.jsonl, en/test-b.jsonl]
- config_name: de
  data_files: de/*.jsonl
- config_name: fr
  data_dir: fr
dataset_info:
- config_name: en
  features:
  - name: tokens
    list: string
  - name: ner_tags
    list:
      class_label:
        names: [O, B-X, I-X]
- config_name: de
  features:
  - name: pos_tags
    sequence:
      class_label:
        names:
          '1': NN
          '0': DET
---
text`,
    'README.md',
  );
  assert.deepEqual(card.configs, [
    {
      name: 'en',
      dataFiles: [
        ['train', ['en/train-*']],
        ['test', ['en/test-a.jsonl', 'en/test-b.jsonl']],
      ],
      dataDir: '',
      isDefault: true,
    },
    { name: 'de', dataFiles: [['train', ['de/*.jsonl']]], dataDir: '', isDefault: false },
    { name: 'fr', dataFiles: null, dataDir: 'fr', isDefault: false },
  ]);
  assert.equal(defaultConfigName(card.configs), 'en');
  assert.equal(defaultConfigName(card.configs.slice(1)), null);
  assert.equal(defaultConfigName([{ name: 'x' }]), 'x');
  assert.deepEqual(card.features.get('en')?.find((f) => f.name === 'ner_tags')?.classLabelNames, ['O', 'B-X', 'I-X']);
  assert.deepEqual(card.features.get('de')?.[0], { name: 'pos_tags', classLabelNames: ['DET', 'NN'] });
  assert.deepEqual(parseDatasetCard('# no metadata', 'README.md').configs, []);
  assert.throws(
    () => parseDatasetCard('---\na: [1\nb: 2\n---\n', 'R.md'),
    (e: unknown) => e instanceof DataFormatError && /^R\.md:\d+: invalid YAML metadata/.test(e.message),
  );
  assert.throws(
    () =>
      parseDatasetCard(
        '---\ndataset_info:\n  features:\n  - name: t\n    sequence:\n      class_label:\n        names: {"0": O, "2": X}\n---\n',
        'R.md',
      ),
    /class_label: ids must be 0\.\.1, got '2'/,
  );
});

// ---------------------------------------------------------------------------------------------
// Loading from the (local) hub

test('repo data files: README ClassLabel names turn ids into tags; cached like huggingface_hub; offline works', async (t) => {
  const { server, home, opts } = await setup(t);
  const sha = server.addCommit(
    'acme/tiny-ner',
    {
      'README.md': CARD,
      '.gitattributes': '*.parquet filter=lfs\n',
      // no `huggingface` metadata in these files: the names must come from the card
      'data/train-00000-of-00001.parquet': { content: nerParquet(TRAIN, undefined), lfs: true },
      'data/validation-00000-of-00001.parquet': { content: nerParquet(VALID, undefined), lfs: true },
      'data/test-00000-of-00001.parquet': { content: nerParquet(TEST, undefined), lfs: true },
    },
    { type: 'dataset' },
  );
  const progress: DownloadProgress[] = [];
  const ds = await loadHubDataset('acme/tiny-ner', opts({ onProgress: (p) => progress.push({ ...p }) }));
  assert.deepEqual(sentencesOf(ds.splits.train), named(TRAIN));
  assert.deepEqual(sentencesOf(ds.splits.validation), named(VALID));
  assert.deepEqual(sentencesOf(ds.splits.test), named(TEST));
  assert.deepEqual(ds.labelNames, NAMES);
  assert.equal(ds.tagColumn, 'ner_tags');
  assert.equal(ds.tokensColumn, 'tokens');
  assert.equal(ds.config, 'default');
  assert.equal(ds.origin, 'data-files');
  assert.equal(ds.cacheDir, join(home, 'hub', 'datasets--acme--tiny-ner', 'snapshots', sha));
  assert.ok(statSync(join(home, 'hub', 'datasets--acme--tiny-ner', 'blobs', sha256Hex(nerParquet(TRAIN, undefined)))).isFile());
  assert.ok(!existsSync(join(ds.cacheDir, '.gitattributes')), 'only the files needed are downloaded');
  assert.ok(progress.some((p) => p.file === 'data/train-00000-of-00001.parquet' && p.fileBytes === p.fileTotal));

  // again: nothing is downloaded; only the revision is looked up
  server.requests.length = 0;
  const again = await loadHubDataset('acme/tiny-ner', opts());
  assert.deepEqual(sentencesOf(again.splits.train), named(TRAIN));
  assert.deepEqual(server.fileRequests(), []);

  // offline (either variable), even with the hub gone
  const dead = await deadEndpoint();
  for (const v of ['HF_DATASETS_OFFLINE', 'HF_HUB_OFFLINE']) {
    const off = await loadHubDataset('acme/tiny-ner', { ...opts(), env: { HF_HOME: home, HF_ENDPOINT: dead, [v]: '1' } });
    assert.deepEqual(sentencesOf(off.splits.test), named(TEST));
    assert.equal(off.cacheDir, ds.cacheDir);
  }
  // only the splits asked for
  const onlyTest = await loadHubDataset('acme/tiny-ner', opts({ splits: ['test'] }));
  assert.deepEqual(Object.keys(onlyTest.splits), ['test']);
});

test('README configs: default config, choosing one, missing and ambiguous configs list what exists', async (t) => {
  const { server, opts } = await setup(t);
  const jsonl = (rows: { tokens: string[]; tags: string[] }[]) =>
    rows.map((r) => JSON.stringify({ tokens: r.tokens, ner_tags: r.tags })).join('\n') + '\n';
  const en = [{ tokens: ['Anna', 'runs'], tags: ['B-PER', 'O'] }];
  const de = [{ tokens: ['Berlin', 'ist', 'groß'], tags: ['B-LOC', 'O', 'O'] }];
  const configs = (defaultLine: string) => `---
configs:
- config_name: english
${defaultLine}  data_files:
  - split: train
    path: en/train.jsonl
  - split: validation
    path: en/dev.jsonl
- config_name: german
  data_files:
  - split: train
    path: de/*.jsonl
---
`;
  const files = { 'en/train.jsonl': jsonl(en), 'en/dev.jsonl': jsonl(en), 'de/part-0.jsonl': jsonl(de), 'de/part-1.jsonl': jsonl(de) };
  server.addCommit('acme/multi', { 'README.md': configs('  default: true\n'), ...files }, { type: 'dataset' });
  const dflt = await loadHubDataset('acme/multi', opts());
  assert.equal(dflt.config, 'english');
  assert.deepEqual(Object.keys(dflt.splits), ['train', 'validation']);
  assert.equal(dflt.labelNames, null, 'string tags have no ClassLabel');
  const german = await loadHubDataset('acme/multi', opts({ config: 'german' }));
  assert.deepEqual(
    sentencesOf(german.splits.train),
    [...de, ...de].map((r) => [r.tokens, r.tags]),
  );
  assert.deepEqual(german.files.train, ['de/part-0.jsonl', 'de/part-1.jsonl']);
  await assert.rejects(loadHubDataset('acme/multi', opts({ config: 'french' })), (e: unknown) => {
    assert.ok(e instanceof DatasetConfigError);
    assert.equal(
      e.message,
      "dataset 'acme/multi' has no config 'french'; its configs are: 'english', 'german' (set --dataset-config-name to one of them)",
    );
    assert.deepEqual(e.configs, ['english', 'german']);
    return true;
  });
  server.addCommit('acme/multi2', { 'README.md': configs(''), ...files }, { type: 'dataset' });
  await assert.rejects(
    loadHubDataset('acme/multi2', opts()),
    (e: unknown) =>
      e instanceof DatasetConfigError &&
      /several configs and none is the default: choose one with --dataset-config-name/.test(e.message) &&
      /'english', 'german'/.test(e.message),
  );
  // a repo without configs has only 'default'
  server.addCommit('acme/plain', { 'train.jsonl': jsonl(en) }, { type: 'dataset' });
  await assert.rejects(
    loadHubDataset('acme/plain', opts({ config: 'large' })),
    (e: unknown) => e instanceof DatasetConfigError && /no config 'large'; its configs are: 'default'/.test(e.message),
  );
  assert.equal((await loadHubDataset('acme/plain', opts({ config: 'default' }))).config, 'default');
});

test('script datasets load from the parquet export (refs/convert/parquet), names from the parquet metadata', async (t) => {
  const { server, home, opts } = await setup(t);
  server.addCommit('wnut_17', { 'README.md': '# WNUT 17\n', 'wnut_17.py': 'import datasets\n' }, { type: 'dataset' });
  const exportSha = server.addCommit(
    'wnut_17',
    {
      '.gitattributes': '',
      'wnut_17/train/0000.parquet': { content: nerParquet(TRAIN.slice(0, 1)), lfs: true },
      'wnut_17/train/0001.parquet': { content: nerParquet(TRAIN.slice(1)), lfs: true },
      'wnut_17/validation/0000.parquet': nerParquet(VALID),
      'wnut_17/test/0000.parquet': nerParquet(TEST),
    },
    { type: 'dataset', refs: ['refs/convert/parquet'] },
  );
  const ds = await loadHubDataset('wnut_17', opts());
  assert.equal(ds.origin, 'parquet-export');
  assert.equal(ds.config, 'wnut_17');
  assert.deepEqual(ds.labelNames, NAMES);
  assert.deepEqual(sentencesOf(ds.splits.train), named(TRAIN));
  assert.deepEqual(sentencesOf(ds.splits.test), named(TEST));
  assert.equal(ds.cacheDir, join(home, 'hub', 'datasets--wnut_17', 'snapshots', exportSha));
  assert.ok(server.requests.some((r) => r.path === '/api/datasets/wnut_17/revision/refs%2Fconvert%2Fparquet'));

  // the older layout, several configs: pick one, and a missing one lists them
  server.addCommit('conll2003', { 'conll2003.py': '' }, { type: 'dataset' });
  server.addCommit(
    'conll2003',
    {
      'conll2003/conll2003-train.parquet': nerParquet(TRAIN),
      'conll2003/conll2003-validation.parquet': nerParquet(VALID),
      'pos/conll2003-train.parquet': nerParquet(TRAIN, classLabelMeta(['NN', 'VB', 'DT', 'IN', 'JJ'], 'pos_tags'), 'pos_tags'),
    },
    { type: 'dataset', refs: ['refs/convert/parquet'] },
  );
  const conll = await loadHubDataset('conll2003', opts({ config: 'conll2003' }));
  assert.deepEqual(Object.keys(conll.splits), ['train', 'validation']);
  assert.deepEqual(sentencesOf(conll.splits.validation), named(VALID));
  const pos = await loadHubDataset('conll2003', opts({ config: 'pos', task: 'pos' }));
  assert.equal(pos.tagColumn, 'pos_tags');
  assert.deepEqual(pos.splits.train?.sentences[0]?.tags, ['VB', 'NN', 'NN', 'IN']);
  await assert.rejects(
    loadHubDataset('conll2003', opts()),
    (e: unknown) => e instanceof DatasetConfigError && e.requested === null && /'conll2003', 'pos'/.test(e.message),
  );
  await assert.rejects(
    loadHubDataset('conll2003', opts({ config: 'conll2012' })),
    (e: unknown) =>
      e instanceof DatasetConfigError &&
      e.message ===
        "dataset 'conll2003' has no config 'conll2012'; its configs are: 'conll2003', 'pos' (set --dataset-config-name to one of them)",
  );

  // a script and no export: say so
  server.addCommit('acme/script-only', { 'README.md': '# x', 'acme.py': '' }, { type: 'dataset' });
  await assert.rejects(
    loadHubDataset('acme/script-only', opts()),
    (e: unknown) =>
      e instanceof DatasetFilesError &&
      /no data files tokentune can read/.test(e.message) &&
      /loading script, acme\.py/.test(e.message) &&
      /refs\/convert\/parquet/.test(e.message) &&
      /--train-file/.test(e.message),
  );
});

test('CSV and JSON data files; text/label column names; columns missing are listed', async (t) => {
  const { server, opts } = await setup(t);
  server.addCommit(
    'acme/csv-ner',
    {
      'train.csv': "id,words,labels\n0,\"['Anna', 'lives', 'in', 'Oslo']\",\"['B-PER', 'O', 'O', 'B-LOC']\"\n",
      'test.csv': 'id,words,labels\n0,"[""Ola"", ""sleeps""]","[""B-PER"", ""O""]"\n',
    },
    { type: 'dataset' },
  );
  const csv = await loadHubDataset('acme/csv-ner', opts());
  assert.equal(csv.tokensColumn, 'words');
  assert.equal(csv.tagColumn, 'labels');
  assert.deepEqual(sentencesOf(csv.splits.train), named(TRAIN.slice(0, 1)));
  assert.deepEqual(sentencesOf(csv.splits.test), named(TEST));

  // a dataset for another task: no token/tag columns -> the columns it has
  server.addCommit(
    'acme/sentiment',
    {
      'data/train-00000-of-00001.parquet': parquet([
        { name: 'text', kind: 'string', data: ['good film'] },
        { name: 'label', kind: 'ints', data: [[1]] },
      ]),
    },
    { type: 'dataset' },
  );
  await assert.rejects(loadHubDataset('acme/sentiment', opts()), (e: unknown) => {
    assert.ok(e instanceof DatasetColumnsError);
    assert.match(
      e.message,
      /^dataset 'acme\/sentiment' \(config 'default'\), file data\/train-00000-of-00001\.parquet has no token column \(looked for 'tokens', 'words'\); its columns are: text, label\. Name the right one with --text-column-name$/,
    );
    assert.deepEqual(e.columns, ['text', 'label']);
    return true;
  });
  await assert.rejects(loadHubDataset('acme/tiny', opts()), DatasetNotFoundError);
  server.addCommit(
    'acme/renamed-cols',
    {
      'train.jsonl': JSON.stringify({ toks: ['Anna'], ner: ['B-PER'], misc: 1 }) + '\n',
    },
    { type: 'dataset' },
  );
  await assert.rejects(
    loadHubDataset('acme/renamed-cols', opts({ textColumn: 'toks' })),
    (e: unknown) =>
      e instanceof DatasetColumnsError &&
      /no tag column \(looked for 'ner_tags', 'pos_tags', 'chunk_tags', 'tags', 'labels'\); its columns are: toks, ner, misc/.test(
        e.message,
      ),
  );
  await assert.rejects(
    loadHubDataset('acme/renamed-cols', opts({ textColumn: 'toks', labelColumn: 'tagz' })),
    (e: unknown) =>
      e instanceof DatasetColumnsError && /has no column 'tagz' \(--label-column-name\); its columns are: toks, ner, misc/.test(e.message),
  );
  const ok = await loadHubDataset('acme/renamed-cols', opts({ textColumn: 'toks', labelColumn: 'ner' }));
  assert.deepEqual(sentencesOf(ok.splits.train), [[['Anna'], ['B-PER']]]);

  // integer tags with no ClassLabel names anywhere; data in a format tokentune cannot read
  server.addCommit('acme/ids-only', { 'train.jsonl': JSON.stringify({ tokens: ['Anna'], ner_tags: [1] }) + '\n' }, { type: 'dataset' });
  await assert.rejects(
    loadHubDataset('acme/ids-only', opts()),
    (e: unknown) =>
      e instanceof DatasetFilesError &&
      /tag column 'ner_tags' holds integer ids, but neither README\.md \(dataset_info features\) nor the data files give their ClassLabel names/.test(
        e.message,
      ) &&
      /train\.jsonl:1/.test(e.message),
  );
  server.addCommit('acme/arrow', { 'data/train.arrow': 'x', 'data/test.arrow': 'y' }, { type: 'dataset' });
  await assert.rejects(
    loadHubDataset('acme/arrow', opts()),
    (e: unknown) =>
      e instanceof DatasetFilesError && /stores its data as \.arrow files \(data\/train\.arrow, data\/test\.arrow\)/.test(e.message),
  );
  // shard split names other than train/validation/test: 'dev' serves as validation, others are listed
  server.addCommit(
    'acme/dev-split',
    {
      'data/train-00000-of-00001.parquet': nerParquet(TRAIN),
      'data/dev-00000-of-00001.parquet': nerParquet(VALID),
      'data/extra-00000-of-00001.parquet': nerParquet(TEST),
    },
    { type: 'dataset' },
  );
  const dev = await loadHubDataset('acme/dev-split', opts());
  assert.deepEqual(Object.keys(dev.splits), ['train', 'validation']);
  assert.deepEqual(sentencesOf(dev.splits.validation), named(VALID));
  assert.deepEqual(dev.availableSplits, ['train', 'dev', 'extra']);
  await assert.rejects(
    loadHubDataset('acme/dev-split', opts({ splits: ['test'] })),
    (e: unknown) => e instanceof DatasetFilesError && /has the splits 'train', 'dev', 'extra' but none of test/.test(e.message),
  );
});

test('not found, private, gated: clear errors that never show the token', async (t) => {
  const { server, opts } = await setup(t);
  await assert.rejects(loadHubDataset('acme/nothing', opts()), (e: unknown) => {
    assert.ok(e instanceof DatasetNotFoundError);
    assert.match(
      e.message,
      /^dataset 'acme\/nothing' not found on the hub \(http:\/\/127\.0\.0\.1:\d+\/datasets\/acme\/nothing does not exist\)/,
    );
    assert.match(e.message, /set HF_TOKEN/);
    assert.match(e.message, /--train-file/);
    return true;
  });
  server.addCommit('acme/private', { 'train.jsonl': '{"tokens":["a"],"tags":["O"]}\n' }, { type: 'dataset', token: TOKEN });
  server.addCommit('acme/gated', { 'train.jsonl': '{"tokens":["a"],"tags":["O"]}\n' }, { type: 'dataset', token: TOKEN, gated: true });
  await assert.rejects(
    loadHubDataset('acme/private', opts({ token: false })),
    (e: unknown) =>
      e instanceof DatasetAccessError &&
      e.status === 401 &&
      /private or does not exist \(HTTP 401\)/.test(e.message) &&
      /set HF_TOKEN/.test(e.message),
  );
  await assert.rejects(
    loadHubDataset('acme/gated', opts({ token: false })),
    (e: unknown) =>
      e instanceof DatasetAccessError &&
      e.status === 403 &&
      /gated or private \(HTTP 403\)/.test(e.message) &&
      /datasets\/acme\/gated/.test(e.message) &&
      /HF_TOKEN/.test(e.message),
  );
  const wrong = `${TOKEN}x`;
  await assert.rejects(loadHubDataset('acme/private', opts({ token: wrong })), (e: unknown) => {
    assert.ok(e instanceof DatasetAccessError && /refused the access token/.test(e.message));
    assert.ok(!(e as Error).message.includes(wrong));
    return true;
  });
  const base = opts();
  const withToken = await loadHubDataset('acme/private', { ...base, env: { ...base.env, HF_TOKEN: TOKEN } });
  assert.deepEqual(sentencesOf(withToken.splits.train), [[['a'], ['O']]]);
  await assert.rejects(
    loadHubDataset('acme/private', opts({ revision: 'v9', token: TOKEN })),
    (e: unknown) => e instanceof DatasetNotFoundError && /has no revision 'v9'/.test(e.message),
  );
  await assert.rejects(
    loadHubDataset('./no/such/folder', opts()),
    (e: unknown) => e instanceof DatasetNotFoundError && /neither a local folder/.test(e.message),
  );
});

test('no network: say how to go offline or use local files; offline cache misses say what is missing', async (t) => {
  const { home, opts } = await setup(t);
  const dead = await deadEndpoint();
  await assert.rejects(loadHubDataset('acme/tiny-ner', opts({ endpoint: dead, token: TOKEN })), (e: unknown) => {
    assert.ok(e instanceof DatasetNetworkError);
    assert.match(e.message, /^cannot load dataset 'acme\/tiny-ner' from http:\/\/127\.0\.0\.1:\d+: could not reach/);
    assert.match(e.message, /ECONNREFUSED/);
    assert.match(e.message, /HF_HUB_OFFLINE=1 \(or HF_DATASETS_OFFLINE=1\)/);
    assert.match(e.message, /--train-file/);
    assert.doesNotMatch(e.message, /model folder/);
    assertNoSecret(e);
    return true;
  });
  const base = opts();
  await assert.rejects(
    loadHubDataset('acme/tiny-ner', { ...base, env: { ...base.env, HF_DATASETS_OFFLINE: '1' } }),
    (e: unknown) =>
      e instanceof DatasetNetworkError &&
      e.message.startsWith("HF_DATASETS_OFFLINE is set and dataset 'acme/tiny-ner' at revision 'main' is not in the cache") &&
      e.message.includes(join(home, 'hub')) &&
      /--train-file/.test(e.message),
  );
});

test('an interrupted download resumes on the next run', async (t) => {
  const { server, opts } = await setup(t);
  const big = nerParquet(Array.from({ length: 300 }, (_, i) => ({ tokens: ['Anna', `w${i}`, 'Oslo'], tags: [1, 0, 3] })));
  server.addCommit('acme/big', { 'train.parquet': { content: big, lfs: true } }, { type: 'dataset' });
  server.cutTransfer(sha256Hex(big), Math.floor(big.length / 2));
  await assert.rejects(
    loadHubDataset('acme/big', opts({ maxRetries: 0 })),
    (e: unknown) => e instanceof DatasetNetworkError && /interrupted/.test(e.message) && /Run again to resume/.test(e.message),
  );
  server.requests.length = 0;
  const ds = await loadHubDataset('acme/big', opts({ maxRetries: 0 }));
  assert.equal(ds.splits.train?.sentences.length, 300);
  const gets = server.requests.filter((r) => r.server === 'cdn' && r.method === 'GET');
  assert.equal(gets.length, 1);
  assert.match(String(gets[0]!.headers.range), /^bytes=\d+-$/);
});

test('a local folder laid out like a hub dataset; readTrainingData uses dataset_name only without files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-localds-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'README.md'), CARD);
  writeFileSync(join(dir, 'data', 'train.parquet'), nerParquet(TRAIN, undefined));
  writeFileSync(join(dir, 'data', 'dev.parquet'), nerParquet(VALID, undefined));
  const ds = await loadHubDataset(dir);
  assert.equal(ds.origin, 'local-folder');
  assert.deepEqual(sentencesOf(ds.splits.validation), named(VALID));

  const args = {
    trainFile: null,
    validationFile: null,
    testFile: null,
    datasetName: dir,
    datasetConfigName: null,
    textColumnName: null,
    labelColumnName: null,
    taskName: 'ner',
  };
  const fromName = await readTrainingData(args);
  assert.deepEqual(sentencesOf(fromName.splits.train), named(TRAIN));
  assert.deepEqual(fromName.labelNames, NAMES);
  const file = join(dir, 'local.jsonl');
  writeFileSync(file, JSON.stringify({ tokens: ['x'], ner_tags: ['O'] }) + '\n');
  const fromFile = await readTrainingData({ ...args, trainFile: file });
  assert.deepEqual(sentencesOf(fromFile.splits.train), [[['x'], ['O']]]);
  assert.match(fromFile.splits.train!.warnings.join('\n'), /dataset_name '.*' is ignored because data files are given/);
  await assert.rejects(readTrainingData({ ...args, datasetName: null }), /no data: give --dataset-name/);
});
