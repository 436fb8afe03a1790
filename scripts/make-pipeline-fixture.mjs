// Makes test/fixtures/pipeline-wnut/: a tiny BERT trained by tokentune on WNUT-17 (vocabulary
// built from its training data), and transformers' own pipeline outputs on the first 60 WNUT-17
// test sentences (scripts/hf-pipeline-parity.py). Needs ../shared and /tmp/hfenv (transformers 5).
//   node scripts/make-pipeline-fixture.mjs [PYTHON]
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDataFile } from '../dist/src/data/read-data-file.js';
import { buildVocab } from '../dist/src/data/synthetic.js';
import { main } from '../dist/src/cli/main.js';

const python = process.argv[2] ?? '/tmp/hfenv/bin/python';
const shared = '../shared/data/wnut17';
const out = 'test/fixtures/pipeline-wnut';
const work = join(out, '.work');
rmSync(out, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const train = await readDataFile(join(shared, 'wnut17train.conll'));
writeFileSync(join(work, 'vocab.txt'), buildVocab([train], 1200).join('\n') + '\n');
const vocabSize = buildVocab([train], 1200).length;
writeFileSync(join(work, 'config.json'), JSON.stringify({
  model_type: 'bert', vocab_size: vocabSize, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2,
  intermediate_size: 32, max_position_embeddings: 128,
}));
const code = await main(['train', '--config-name', join(work, 'config.json'), '--tokenizer-name', join(work, 'vocab.txt'),
  '--train-file', join(shared, 'wnut17train.conll'), '--output-dir', join(out, 'model'), '--max-steps', '300',
  '--learning-rate', '3e-3', '--per-device-train-batch-size', '32', '--save-strategy', 'no', '--logging-steps', '50',
  '--max-seq-length', '128', '--seed', '5', '--disable-tqdm']);
if (code !== 0) process.exit(code);
// Only the files a model folder needs.
for (const f of ['log.jsonl', 'training_curves.svg', 'README.md', 'all_results.json', 'train_results.json', 'trainer_state.json', 'training_args.json']) rmSync(join(out, 'model', f), { force: true });
rmSync(work, { recursive: true, force: true });
execFileSync(python, ['scripts/hf-pipeline-parity.py', join(out, 'model'), join(shared, 'emerging.test.annotated'), '60', join(out, 'expected.json')], { stdio: 'inherit' });
