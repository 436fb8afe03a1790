import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointFormatError, CheckpointNotFoundError } from '../src/io/errors.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { findCheckpoint, loadStateDict, normaliseLegacyKey, normaliseStateDictKeys } from '../src/io/state-dict.js';
import type { StateDict } from '../src/io/tensor-record.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tinyBin = join(repoRoot, '..', 'shared', 'models', 'camphr-tiny-random-bert-ner', 'pytorch_model.bin');
const skipTiny = existsSync(tinyBin) ? false : `shared model fixture missing: ${tinyBin}`;

function tmp(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tt-sd-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const f32 = (xs: number[]) => new Float32Array(xs);

test('a folder with pytorch_model.bin only loads the torch checkpoint', { skip: skipTiny }, (t) => {
  const dir = tmp(t);
  copyFileSync(tinyBin, join(dir, 'pytorch_model.bin'));
  assert.equal(findCheckpoint(dir).format, 'torch');
  const sd = loadStateDict(dir);
  assert.equal(sd.size, 24);
  assert.deepEqual(sd.get('classifier.weight')!.shape, [9, 16]);
});

test('model.safetensors is preferred over pytorch_model.bin; a file path also works', { skip: skipTiny }, (t) => {
  const dir = tmp(t);
  copyFileSync(tinyBin, join(dir, 'pytorch_model.bin'));
  writeSafetensors(join(dir, 'model.safetensors'), new Map([['only', { shape: [2], data: f32([1, 2]) }]]));
  const loc = findCheckpoint(dir);
  assert.equal(loc.format, 'safetensors');
  assert.deepEqual([...loadStateDict(dir).keys()], ['only']);
  assert.equal(loadStateDict(join(dir, 'pytorch_model.bin')).size, 24);
});

test('sharded safetensors are merged in weight_map order', (t) => {
  const dir = tmp(t);
  writeSafetensors(
    join(dir, 'model-00001-of-00002.safetensors'),
    new Map([
      ['b', { shape: [1], data: f32([2]) }],
      ['a', { shape: [1], data: f32([1]) }],
    ]),
  );
  writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), new Map([['c', { shape: [2], data: f32([3, 4]) }]]));
  const index = {
    metadata: { total_size: 16 },
    weight_map: { a: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors', b: 'model-00001-of-00002.safetensors' },
  };
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
  const sd = loadStateDict(dir);
  assert.deepEqual([...sd.keys()], ['a', 'c', 'b']);
  assert.deepEqual([...sd.get('c')!.data], [3, 4]);

  // a tensor the index promises but the shard lacks
  writeFileSync(
    join(dir, 'model.safetensors.index.json'),
    JSON.stringify({ weight_map: { ...index.weight_map, d: 'model-00002-of-00002.safetensors' } }),
  );
  assert.throws(
    () => loadStateDict(dir),
    (e: unknown) =>
      e instanceof CheckpointFormatError && /tensor 'd' listed in model\.safetensors\.index\.json is not in this shard/.test(e.message),
  );
  // shard names must stay inside the folder
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: '../model-00001-of-00002.safetensors' } }));
  assert.throws(() => loadStateDict(dir), /weight_map entry 'a' names an invalid shard file/);
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model-00009.safetensors' } }));
  assert.throws(
    () => loadStateDict(dir),
    (e: unknown) => e instanceof CheckpointNotFoundError && /shard 'model-00009\.safetensors' \(holding 'a'\) is missing/.test(e.message),
  );
  writeFileSync(join(dir, 'model.safetensors.index.json'), '{"weight_map": [');
  assert.throws(() => loadStateDict(dir), /shard index is not valid JSON/);
});

test('a folder without weights says what it looked for and what it found', (t) => {
  const dir = tmp(t);
  writeFileSync(join(dir, 'config.json'), '{}');
  assert.throws(
    () => loadStateDict(dir),
    (e: unknown) =>
      e instanceof CheckpointNotFoundError &&
      e.message.includes('model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json') &&
      e.message.includes('(found: config.json)'),
  );
});

test('legacy LayerNorm gamma/beta names are normalised, other names untouched', () => {
  assert.equal(normaliseLegacyKey('bert.embeddings.LayerNorm.gamma'), 'bert.embeddings.LayerNorm.weight');
  assert.equal(normaliseLegacyKey('bert.encoder.layer.3.output.LayerNorm.beta'), 'bert.encoder.layer.3.output.LayerNorm.bias');
  assert.equal(normaliseLegacyKey('LayerNorm.gamma'), 'LayerNorm.weight');
  assert.equal(normaliseLegacyKey('encoder.layer_norm.beta'), 'encoder.layer_norm.bias');
  assert.equal(normaliseLegacyKey('bert.embeddings.LayerNorm.weight'), 'bert.embeddings.LayerNorm.weight');
  assert.equal(normaliseLegacyKey('classifier.beta'), 'classifier.beta');
  assert.equal(normaliseLegacyKey('alphabeta.gamma_proj.weight'), 'alphabeta.gamma_proj.weight');

  const rec = { dtype: 'F32' as const, shape: [1], data: f32([0]) };
  const sd: StateDict = new Map([
    ['x.LayerNorm.gamma', rec],
    ['x.LayerNorm.beta', rec],
    ['y.weight', rec],
  ]);
  const { stateDict, renamed } = normaliseStateDictKeys(sd);
  assert.deepEqual([...stateDict.keys()], ['x.LayerNorm.weight', 'x.LayerNorm.bias', 'y.weight']);
  assert.deepEqual(renamed, [
    ['x.LayerNorm.gamma', 'x.LayerNorm.weight'],
    ['x.LayerNorm.beta', 'x.LayerNorm.bias'],
  ]);
  assert.throws(
    () =>
      normaliseStateDictKeys(
        new Map([
          ['n.LayerNorm.gamma', rec],
          ['n.LayerNorm.weight', rec],
        ]),
      ),
    /keys 'n\.LayerNorm\.gamma' and 'n\.LayerNorm\.weight' both map to 'n\.LayerNorm\.weight'/,
  );
});
