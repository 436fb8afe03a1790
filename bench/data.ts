/**
 * Data-layer throughput: sentences/s for read + tokenize + align (+ windows) of CoNLL-2003 train
 * and WNUT-17 train with the bert-base-cased vocabulary. Each timed run starts from a fresh
 * tokenizer and a fresh word cache, so the per-distinct-word tokenization cost is included.
 * Skips (returns `skipped`) when ../shared is absent.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WordPieceTokenizer } from '../src/tokenizers/index.js';
import { buildFeatures, buildLabelMap, readConll } from '../src/data/index.js';

export interface DataBenchRow {
  dataset: string;
  sentences: number;
  words: number;
  features: number;
  /** Median over runs, seconds. */
  readSeconds: number;
  alignSeconds: number;
  totalSeconds: number;
  sentencesPerSecond: number;
}

export interface DataBenchResult {
  name: 'data';
  skipped?: string;
  rows: DataBenchRow[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the benchmark, prints one line per dataset (bench/run.ts only calls it) and returns the figures. */
export function runDataBench(runs = 3, log: (line: string) => void = console.log): DataBenchResult {
  const res = measure(runs);
  if (res.skipped) log(`data bench skipped: ${res.skipped}`);
  for (const r of res.rows) {
    log(
      `${r.dataset}: ${r.sentences} sentences, ${r.words} words, ${r.features} features; read ${(r.readSeconds * 1000).toFixed(0)} ms, ` +
        `tokenize+align ${(r.alignSeconds * 1000).toFixed(0)} ms (median of ${runs}) -> ${Math.round(r.sentencesPerSecond)} sentences/s`,
    );
  }
  return res;
}

function measure(runs: number): DataBenchResult {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const shared = resolve(repoRoot, '..', 'shared');
  const vocab = join(shared, 'models/bert-base-cased-vocab/vocab.txt');
  if (!existsSync(vocab)) return { name: 'data', skipped: `shared data not found at ${shared}`, rows: [] };
  const files: [string, string][] = [
    ['conll2003 train (iob2_token_tag/train.txt)', join(shared, 'data/conll2003/iob2_token_tag/train.txt')],
    ['wnut17 train (wnut17train.conll)', join(shared, 'data/wnut17/wnut17train.conll')],
  ];
  const rows: DataBenchRow[] = [];
  for (const [name, path] of files) {
    const read: number[] = [];
    const align: number[] = [];
    let last: { sentences: number; words: number; features: number } | null = null;
    for (let r = 0; r < runs; r++) {
      const tok = WordPieceTokenizer.fromVocabFile(vocab, { doLowerCase: false });
      const t0 = performance.now();
      const data = readConll(path);
      const t1 = performance.now();
      const { features } = buildFeatures(data, tok, buildLabelMap([data]), { maxSeqLength: 512 });
      const t2 = performance.now();
      read.push((t1 - t0) / 1000);
      align.push((t2 - t1) / 1000);
      last = {
        sentences: data.sentences.length,
        words: data.sentences.reduce((s, x) => s + x.tokens.length, 0),
        features: features.length,
      };
    }
    const total = read.map((x, i) => x + align[i]!);
    rows.push({
      dataset: name,
      ...last!,
      readSeconds: median(read),
      alignSeconds: median(align),
      totalSeconds: median(total),
      sentencesPerSecond: last!.sentences / median(total),
    });
  }
  return { name: 'data', rows };
}

// Run directly: node dist/bench/data.js
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runDataBench();
