/** A tiny random BERT saved as a model folder and a text file of the demo corpus's sentences, for the queue tests and bench. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVocab, syntheticNer } from '../../src/data/synthetic.js';
import { BertForTokenClassification, makeConfig, savePretrained } from '../../src/models/index.js';
import { WordPieceTokenizer } from '../../src/tokenizers/index.js';

export const QUEUE_LABELS = ['O', 'B-PER', 'I-PER', 'B-ORG', 'I-ORG', 'B-LOC', 'I-LOC', 'B-MISC', 'I-MISC'];

/** Writes the model folder and `sentences` lines of text; returns their paths (under one temp dir). */
export function makeQueueFixture(
  sentences: number,
  o: { hidden?: number; layers?: number } = {},
): { dir: string; model: string; input: string; texts: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tt-queue-'));
  const data = syntheticNer(sentences, 17);
  const vocabFile = join(dir, 'vocab.txt');
  writeFileSync(vocabFile, buildVocab([syntheticNer(500, 1)]).join('\n') + '\n');
  const tokenizer = WordPieceTokenizer.fromVocabFile(vocabFile, { doLowerCase: false });
  const hidden = o.hidden ?? 32;
  const config = makeConfig({
    vocab_size: tokenizer.vocabSize,
    hidden_size: hidden,
    num_hidden_layers: o.layers ?? 1,
    num_attention_heads: 2,
    intermediate_size: hidden * 2,
    max_position_embeddings: 128,
    id2label: Object.fromEntries(QUEUE_LABELS.map((l, i) => [String(i), l])),
  });
  const model = join(dir, 'model');
  savePretrained(BertForTokenClassification.create(config, 5), model, tokenizer);
  const texts = data.sentences.map((s) => s.tokens.join(' '));
  const input = join(dir, 'input.txt');
  writeFileSync(input, texts.join('\n') + '\n');
  return { dir, model, input, texts };
}
