/** Runs the tokentune CLI in-process (or as a child process) with captured output, and writes small data sets for it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { buildVocab, syntheticNer } from '../../src/data/synthetic.js';
import type { Dataset } from '../../src/data/types.js';

const BIN = fileURLToPath(new URL('../../../bin/tokentune.js', import.meta.url));

export interface CliProcess {
  child: ChildProcess;
  out: string;
  err: string;
  exit: Promise<number | null>;
}

/** `node [nodeArgs] bin/tokentune.js args` as its own process with one kernel thread (the design is one worker per core); output collected. */
export function spawnCli(args: readonly string[], nodeArgs: readonly string[] = []): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
    env: { ...process.env, TOKENTUNE_THREADS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p: CliProcess = { child, out: '', err: '', exit: new Promise((r) => child.once('exit', (code) => r(code))) };
  child.stdout!.on('data', (c: Buffer) => (p.out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (p.err += c.toString()));
  return p;
}

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

export async function cli(argv: string[]): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await main(argv, { stdout, stderr });
  return { code, out, err };
}

export function conllText(d: Dataset): string {
  return d.sentences.map((s) => s.tokens.map((t, i) => `${t} ${s.tags[i]}\n`).join('')).join('\n') + '\n';
}

export interface CliWork {
  dir: string;
  train: string;
  validation: string;
  test: string;
  vocab: string;
  config: string;
  data: { train: Dataset; validation: Dataset; test: Dataset };
}

/** A temp folder with CoNLL splits, a (cased) vocab.txt and a tiny BERT config.json for training from scratch. */
export function cliWork(opts: { trainSentences?: number } = {}): CliWork {
  const dir = mkdtempSync(join(tmpdir(), 'tt-cli-'));
  const data = { train: syntheticNer(opts.trainSentences ?? 32, 1), validation: syntheticNer(8, 2), test: syntheticNer(8, 3) };
  const w: CliWork = {
    dir,
    data,
    train: join(dir, 'train.conll'),
    validation: join(dir, 'dev.conll'),
    test: join(dir, 'test.conll'),
    vocab: join(dir, 'vocab.txt'),
    config: join(dir, 'tiny.json'),
  };
  writeFileSync(w.train, conllText(data.train));
  writeFileSync(w.validation, conllText(data.validation));
  writeFileSync(w.test, conllText(data.test));
  const vocab = buildVocab([data.train, data.validation, data.test]);
  writeFileSync(w.vocab, vocab.join('\n') + '\n');
  writeFileSync(
    w.config,
    JSON.stringify({
      model_type: 'bert',
      vocab_size: vocab.length,
      hidden_size: 16,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      intermediate_size: 32,
      max_position_embeddings: 64,
      hidden_dropout_prob: 0,
      attention_probs_dropout_prob: 0,
    }),
  );
  mkdirSync(join(dir, 'empty'));
  return w;
}

/** Flags of a quick from-scratch run on cliWork's data (override or add after). */
export function quickTrainArgs(w: CliWork, out: string, extra: string[] = []): string[] {
  return [
    'train',
    '--config-name',
    w.config,
    '--tokenizer-name',
    w.vocab,
    '--train-file',
    w.train,
    '--output-dir',
    out,
    '--max-steps',
    '3',
    '--logging-steps',
    '1',
    '--save-strategy',
    'no',
    '--per-device-train-batch-size',
    '8',
    '--learning-rate',
    '1e-3',
    '--max-seq-length',
    '64',
    '--disable-tqdm',
    ...extra,
  ];
}

/** A writable that keeps what it is given, for commands that take an output stream (not a TTY). */
export class Sink extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}
