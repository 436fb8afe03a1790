/**
 * Tokenizer throughput on WNUT-17 train + CoNLL-2003 train (../shared/data): encodeWords per
 * sentence (is_split_into_words, what training does) and encode of the space-joined sentence, for
 * the cased and uncased BERT vocabularies. "cold" = a fresh tokenizer (empty word cache), "warm" =
 * the same tokenizer again. Reports input words/s, output tokens/s and sentences/s.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { runTokenizerJsonBench } from './tokenizer-json.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = resolve(repoRoot, '..', 'shared');

function readSentences(path: string, sep: string): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    // WNUT-17 train separates sentences with a line holding one TAB; CoNLL has -DOCSTART- lines.
    if (line.trim() === '' || line.startsWith('-DOCSTART-')) {
      if (cur.length > 0) out.push(cur);
      cur = [];
      continue;
    }
    cur.push(line.split(sep)[0]!);
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

interface Row {
  vocab: string;
  mode: string;
  cache: string;
  seconds: number;
  sentencesPerS: number;
  wordsPerS: number;
  tokensPerS: number;
}

function time(fn: () => number): [number, number] {
  const t0 = process.hrtime.bigint();
  const tokens = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, tokens];
}

export function runTokenizerBench(): Row[] {
  const wnut = join(shared, 'data', 'wnut17', 'wnut17train.conll');
  const conll = join(shared, 'data', 'conll2003', 'iob2_token_tag', 'train.txt');
  const vocabs = {
    cased: join(shared, 'models', 'bert-base-cased-vocab', 'vocab.txt'),
    uncased: join(shared, 'models', 'bert-base-uncased-vocab', 'vocab.txt'),
  };
  if (![wnut, conll, vocabs.cased, vocabs.uncased].every((p) => existsSync(p))) {
    console.log(`tokenizer bench skipped: shared data not found under ${shared}`);
    return [];
  }
  const sentences = [...readSentences(wnut, '\t'), ...readSentences(conll, ' ')];
  const texts = sentences.map((s) => s.join(' '));
  const words = sentences.reduce((n, s) => n + s.length, 0);
  console.log(`${sentences.length} sentences, ${words} words (WNUT-17 train + CoNLL-2003 train)`);
  const rows: Row[] = [];
  for (const [vocab, path] of Object.entries(vocabs)) {
    const modes: [string, (t: WordPieceTokenizer) => number][] = [
      ['encodeWords', (t) => sentences.reduce((n, s) => n + t.encodeWords(s).ids.length, 0)],
      ['encode(text)', (t) => texts.reduce((n, s) => n + t.encode(s).ids.length, 0)],
    ];
    for (const [mode, run] of modes) {
      const tok = WordPieceTokenizer.fromVocabFile(path, { doLowerCase: vocab === 'uncased' });
      for (const cache of ['cold', 'warm']) {
        const [seconds, tokens] = time(() => run(tok));
        const row = {
          vocab,
          mode,
          cache,
          seconds,
          sentencesPerS: sentences.length / seconds,
          wordsPerS: words / seconds,
          tokensPerS: tokens / seconds,
        };
        rows.push(row);
        console.log(
          `${vocab.padEnd(8)} ${mode.padEnd(13)} ${cache}: ${seconds.toFixed(3)} s, ` +
            `${Math.round(row.sentencesPerS).toLocaleString('en-US')} sentences/s, ` +
            `${Math.round(row.wordsPerS).toLocaleString('en-US')} words/s, ` +
            `${Math.round(row.tokensPerS).toLocaleString('en-US')} tokens/s (incl. [CLS]/[SEP])`,
        );
      }
    }
  }
  runTokenizerJsonBench(sentences);
  return rows;
}

// Run directly: node dist/bench/tokenizer.js
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runTokenizerBench();
