/**
 * The seed's whole recipe, as the seed writes it (a JSON config with the Python Trainer's
 * snake_case names, the old `evaluation_strategy` spelling and a dataset given by name), runs
 * unchanged through `tokentune train --config args.json` against a local stand-in for the hub
 * that serves a small random BERT model and the dataset `token_classification_v2` as parquet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { cli } from './helpers/cli-run.js';
import { BertForTokenClassification, makeConfig, savePretrained } from '../src/models/index.js';
import { HubTestServer } from './helpers/hub-server.js';

const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];
const FIRST = ['anna', 'peter', 'maria', 'ola', 'kari'];
const LAST = ['berg', 'hansen', 'lund'];
const CITIES = ['oslo', 'bergen', 'paris', 'rome'];
const FILLER = ['lives', 'in', 'visited', 'and', 'likes', 'the', 'sea', 'today'];

/** Deterministic little NER sentences: "<first> <last> visited <city> today" and variants. */
function sentences(n: number, offset: number): { tokens: string[]; ner_tags: number[] }[] {
  const out = [];
  for (let i = 0; i < n; i++) {
    const k = i + offset;
    const tokens = [
      FIRST[k % FIRST.length]!,
      LAST[k % LAST.length]!,
      FILLER[k % 3 === 0 ? 0 : 2]!,
      ...(k % 3 === 0 ? ['in'] : []),
      CITIES[k % CITIES.length]!,
      FILLER[7]!,
    ];
    const ner_tags = [1, 2, 0, ...(k % 3 === 0 ? [0] : []), 3, 0];
    out.push({ tokens, ner_tags });
  }
  return out;
}

/** A parquet shard as `datasets` writes it, with the ClassLabel names in the `huggingface` metadata. */
function shard(rows: { tokens: string[]; ner_tags: number[] }[]): Uint8Array {
  const list = (name: string, element: Record<string, unknown>) => [
    { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL', ...element },
  ];
  const schema = [
    { name: 'root', num_children: 3 },
    { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    ...list('tokens', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    ...list('ner_tags', { type: 'INT64' }),
  ];
  const meta = {
    info: {
      features: {
        id: { dtype: 'string', _type: 'Value' },
        tokens: { feature: { dtype: 'string', _type: 'Value' }, _type: 'Sequence' },
        ner_tags: { feature: { names: LABELS, _type: 'ClassLabel' }, _type: 'Sequence' },
      },
    },
  };
  return new Uint8Array(
    parquetWriteBuffer({
      schema: schema as never,
      columnData: [
        { name: 'id', data: rows.map((_, i) => String(i)) },
        { name: 'tokens', data: rows.map((r) => r.tokens) },
        { name: 'ner_tags', data: rows.map((r) => r.ner_tags.map(BigInt)) },
      ] as never,
      kvMetadata: [{ key: 'huggingface', value: JSON.stringify(meta) }],
    }),
  );
}

/** A small random BertForTokenClassification in HF's folder layout (a base model: LABEL_0/LABEL_1). */
function modelRepoFiles(dir: string): Record<string, string | Uint8Array | { content: Uint8Array; lfs: boolean }> {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...FIRST, ...LAST, ...CITIES, ...FILLER];
  const config = makeConfig({
    vocab_size: vocab.length,
    hidden_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 64,
    max_position_embeddings: 64,
  });
  savePretrained(BertForTokenClassification.create(config, 5), dir);
  writeFileSync(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  return {
    'config.json': readFileSync(join(dir, 'config.json')),
    'model.safetensors': { content: readFileSync(join(dir, 'model.safetensors')), lfs: true },
    'vocab.txt': readFileSync(join(dir, 'vocab.txt')),
  };
}

const HF_VARS = [
  'HF_ENDPOINT',
  'HF_HOME',
  'HF_HUB_CACHE',
  'HUGGINGFACE_HUB_CACHE',
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'HF_TOKEN_PATH',
  'HF_HUB_OFFLINE',
  'HF_DATASETS_OFFLINE',
  'TRANSFORMERS_OFFLINE',
  'XDG_CACHE_HOME',
];

test('the seed recipe (snake_case JSON, dataset by name) runs unchanged through tokentune train --config', async (t) => {
  const server = await HubTestServer.start();
  const home = mkdtempSync(join(tmpdir(), 'tt-seed-home-'));
  const work = mkdtempSync(join(tmpdir(), 'tt-seed-work-'));
  const modelDir = mkdtempSync(join(tmpdir(), 'tt-seed-model-'));
  const savedEnv = Object.fromEntries(HF_VARS.map((k) => [k, process.env[k]]));
  const savedCwd = process.cwd();
  t.after(async () => {
    process.chdir(savedCwd);
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await server.close();
    for (const d of [home, work, modelDir]) rmSync(d, { recursive: true, force: true });
  });

  server.addCommit('acme/tiny-random-bert', modelRepoFiles(modelDir));
  // The dataset is what keeps this fast: 16 training sentences are one batch of 16, so the recipe's
  // 20 epochs are 20 optimizer steps and eval_steps 10 evaluates twice. No setting is overridden.
  server.addCommit(
    'token_classification_v2',
    {
      'README.md': '# token_classification_v2\n',
      'data/train-00000-of-00001.parquet': { content: shard(sentences(16, 0)), lfs: true },
      'data/validation-00000-of-00001.parquet': shard(sentences(8, 100)),
      'data/test-00000-of-00001.parquet': shard(sentences(8, 200)),
    },
    { type: 'dataset' },
  );

  // The seed's recipe, exactly as the seed writes it.
  const recipe = {
    output_dir: './results',
    evaluation_strategy: 'steps',
    eval_steps: 10,
    learning_rate: 1.5e-5,
    per_device_train_batch_size: 16,
    per_device_eval_batch_size: 16,
    num_train_epochs: 20,
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_epsilon: 1e-8,
    dataset_name: 'token_classification_v2',
    model_name_or_path: 'acme/tiny-random-bert',
  };
  writeFileSync(join(work, 'args.json'), JSON.stringify(recipe, null, 2) + '\n');

  for (const k of HF_VARS) delete process.env[k];
  process.env.HF_ENDPOINT = server.endpoint;
  process.env.HF_HOME = home;
  process.chdir(work); // the recipe's output_dir is relative: ./results

  const { code, out, err } = await cli(['train', '--config', 'args.json']);
  assert.equal(code, 0, `tokentune train failed:\n${err}\n${out}`);
  assert.doesNotMatch(err, /unknown (key|option)|not supported/, 'every setting of the recipe is understood');

  // the four metrics, for validation and test
  // the test split's metrics carry predict_* on the console as in predict_results.json (issue 22)
  for (const prefix of ['eval', 'predict']) {
    for (const m of ['precision', 'recall', 'f1', 'accuracy']) {
      assert.match(out, new RegExp(`^\\s*${prefix}_${m}\\s+=\\s+[0-9.]+\\s*$`, 'm'), `${prefix}_${m} printed`);
    }
  }

  // results land in ./results of the working folder
  const results = join(work, 'results');
  for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'log.jsonl']) assert.ok(existsSync(join(results, f)), `results/${f}`);
  const saved = JSON.parse(readFileSync(join(results, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
  // tag ids became the dataset's ClassLabel names, in the dataset's order (as run_ner.py builds its
  // label list), including I-LOC which never occurs in this data
  assert.deepEqual(Object.values(saved.id2label), LABELS);
  // evaluation_strategy=steps with eval_steps=10 over 20 steps: evaluations at steps 10 and 20
  const log = readFileSync(join(results, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const evalSteps = log.filter((r) => typeof r.eval_f1 === 'number').map((r) => r.step ?? r.global_step);
  assert.deepEqual(evalSteps.slice(0, 2), [10, 20]);
  // both repos were fetched into the huggingface_hub cache under HF_HOME
  assert.ok(existsSync(join(home, 'hub', 'models--acme--tiny-random-bert')));
  assert.ok(existsSync(join(home, 'hub', 'datasets--token_classification_v2')));
});
